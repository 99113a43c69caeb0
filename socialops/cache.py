"""The cache (Redis when ``REDIS_URL`` is set) may go away. Nothing the
portal keeps there is worth a 500: API throttle history, who is viewing a
conversation, the per-person limit of the denied-access audit. While it is
down, these degrade to "allowed, nothing remembered", and the outage is
logged once a minute, not once per request.

``FailSoftRedisCache`` is the production cache backend: Django's Redis cache
whose calls answer like a miss when Redis cannot be reached, and which stops
trying for a few seconds after a failure so that every request does not wait
for a connection timeout. ``socialops.throttling`` guards DRF's throttles
the same way whatever the backend."""

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

REPORT_EVERY_SECONDS = 60

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a requirement
    CACHE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
else:
    # OSError covers the builtin ConnectionError and TimeoutError.
    CACHE_ERRORS = (OSError, RedisError)

_lock = threading.Lock()
_last_report: dict[str, float] = {}
_unreported: dict[str, int] = {}


def _clock() -> float:
    return time.monotonic()


def report_cache_outage(what: str, exc: BaseException, *, detail: str = "") -> None:
    """Logs that the cache failed for ``what``, at most once a minute per
    ``what``, saying how many failures went unlogged since the last line."""
    now = _clock()
    with _lock:
        last = _last_report.get(what)
        if last is not None and now - last < REPORT_EVERY_SECONDS:
            _unreported[what] = _unreported.get(what, 0) + 1
            return
        _last_report[what] = now
        unreported = _unreported.pop(what, 0)
    logger.warning("The cache is unavailable (%s: %s%s); %s goes on without it (allowed, nothing remembered). "
                   "%d more failure(s) since the last report; reported at most once a minute.",
                   type(exc).__name__, exc, f", on {detail}" if detail else "", what, unreported)


def reset_outage_reports() -> None:
    """Forgets when outages were last logged (tests)."""
    with _lock:
        _last_report.clear()
        _unreported.clear()


_MISSING = object()


class FailSoftRedisCache(RedisCache):
    """Django's Redis cache, answering like a miss while Redis is down: reads
    return the default, writes do nothing, ``add`` and ``touch`` say False,
    ``incr`` counts from zero. ``OPTIONS`` should bound the socket timeouts
    (``socket_connect_timeout``, ``socket_timeout``; see settings.base)."""

    # After a failure, how long to answer without trying Redis again.
    retry_after_seconds = 5.0
    _down_until: dict[str, float] = {}

    def _key_of_servers(self) -> str:
        return ",".join(self._servers)

    def _attempt(self, operation: str, call, fallback):
        key = self._key_of_servers()
        if self._down_until.get(key, 0.0) > _clock():
            return fallback
        try:
            return call()
        except CACHE_ERRORS as exc:
            self._down_until[key] = _clock() + self.retry_after_seconds
            report_cache_outage("every user of the cache", exc, detail=f"cache.{operation}")
            return fallback

    def add(self, key, value, timeout=_MISSING, version=None):
        args = () if timeout is _MISSING else (timeout,)
        return self._attempt("add", lambda: super(FailSoftRedisCache, self).add(key, value, *args, version=version),
                             False)

    def get(self, key, default=None, version=None):
        return self._attempt("get", lambda: super(FailSoftRedisCache, self).get(key, default, version=version),
                             default)

    def set(self, key, value, timeout=_MISSING, version=None):
        args = () if timeout is _MISSING else (timeout,)
        return self._attempt("set", lambda: super(FailSoftRedisCache, self).set(key, value, *args, version=version),
                             None)

    def touch(self, key, timeout=_MISSING, version=None):
        args = () if timeout is _MISSING else (timeout,)
        return self._attempt("touch", lambda: super(FailSoftRedisCache, self).touch(key, *args, version=version),
                             False)

    def delete(self, key, version=None):
        return self._attempt("delete", lambda: super(FailSoftRedisCache, self).delete(key, version=version), False)

    def get_many(self, keys, version=None):
        return self._attempt("get_many", lambda: super(FailSoftRedisCache, self).get_many(keys, version=version), {})

    def has_key(self, key, version=None):
        return self._attempt("has_key", lambda: super(FailSoftRedisCache, self).has_key(key, version=version), False)

    def incr(self, key, delta=1, version=None):
        return self._attempt("incr", lambda: super(FailSoftRedisCache, self).incr(key, delta, version=version),
                             delta)

    def set_many(self, data, timeout=_MISSING, version=None):
        args = () if timeout is _MISSING else (timeout,)
        return self._attempt("set_many",
                             lambda: super(FailSoftRedisCache, self).set_many(data, *args, version=version),
                             list(data))

    def delete_many(self, keys, version=None):
        return self._attempt("delete_many",
                             lambda: super(FailSoftRedisCache, self).delete_many(keys, version=version), None)

    def clear(self):
        return self._attempt("clear", lambda: super(FailSoftRedisCache, self).clear(), False)
