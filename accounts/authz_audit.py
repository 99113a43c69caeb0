"""Failed authorisation, audited: every 403 a signed-in person meets (a page
raising ``PermissionDenied``, ``ReauthRequired`` included, or an API call
refused by DRF) becomes an ``authz.denied`` event in the hash chain with the
person, the path, the method, the object (the URL's kwargs) and the reason.

A scan must not flood the log: per person, at most ``LIMIT`` events per
``WINDOW`` seconds are written; what is dropped is counted in the cache and
written as one ``authz.denied_suppressed`` event (how many, which window)
once the window has ended, at the next allowed write or by the hourly
audit checkpoint task, whichever comes first. The cache being down never
fails a request: the event is then written without the limit."""

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from socialops.api import DENIED_REASON_ATTR
from socialops.cache import report_cache_outage

from . import audit

logger = logging.getLogger(__name__)

LIMIT = getattr(settings, "SOCIALOPS_AUTHZ_AUDIT_LIMIT", 20)
WINDOW = getattr(settings, "SOCIALOPS_AUTHZ_AUDIT_WINDOW_SECONDS", 600)
DENIED_ACTION = "authz.denied"
SUPPRESSED_ACTION = "authz.denied_suppressed"
_DEFAULT_REASON = "permission denied (no reason given)"
_PREFIX = "socialops:authz-denied"
_PENDING_KEY = f"{_PREFIX}:pending"
# Counters outlive their window long enough for the hourly task to report them.
_COUNTER_TTL = WINDOW + 2 * 3600
# URL kwargs whose values must not reach the audit log (reset links carry tokens in the path).
_SECRET_KWARG_PARTS = ("token", "secret", "key", "code", "uid", "password")


def _now() -> float:
    return timezone.now().timestamp()


def reason_of(exc: BaseException) -> str:
    return (str(exc).strip() or _DEFAULT_REASON)[:300]


class AuthzDeniedAuditMiddleware:
    """Placed right after the second-factor middleware: it sees what the
    views answer, and records outside the view's transaction, so a rolled
    back request still leaves its denial in the log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        reason = getattr(request, DENIED_REASON_ATTR, None)
        if reason is not None or response.status_code == 403:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                try:
                    record_denied(request, user, reason or _response_reason(response))
                except Exception:  # auditing a refusal must never turn it into a 500
                    logger.exception("Could not audit a denied request to %s", request.path)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            setattr(request, DENIED_REASON_ATTR, reason_of(exception))
        return None


def _response_reason(response) -> str:
    return f"{response.status_code} {getattr(response, 'reason_phrase', '') or ''}".strip() + " (no reason given)"


def _object_and_path(request) -> tuple[dict, str, str, str]:
    match = getattr(request, "resolver_match", None)
    kwargs = dict(match.kwargs) if match else {}
    view = (match.view_name or "") if match else ""
    path = request.path
    safe = {}
    for name, value in kwargs.items():
        if any(part in name.lower() for part in _SECRET_KWARG_PARTS):
            path = path.replace(str(value), "[redacted]") if str(value) else path
            safe[name] = "[redacted]"
        else:
            safe[name] = str(value)[:100]
    object_id = safe.get("pk") or safe.get("id") or next(iter(safe.values()), "")
    return safe, path[:500], view[:64], object_id


def record_denied(request, user, reason: str) -> bool:
    """Writes one ``authz.denied`` event unless ``user`` is over the limit
    (then the denial is only counted); returns whether it was written."""
    if not _admit(user.pk):
        return False
    kwargs, path, view, object_id = _object_and_path(request)
    audit.record(actor=user, action=DENIED_ACTION, target_type=view or "path", target_id=object_id,
                 after={"path": path, "method": request.method, "view": view, "object": kwargs,
                        "reason": reason})
    return True


# --- the per-person limit --------------------------------------------------------

def _counter_key(user_id: int, window: int) -> str:
    return f"{_PREFIX}:{user_id}:{window}"


def _admit(user_id: int) -> bool:
    """Counts one denial for ``user_id``; True while within the limit. Also
    reports finished windows first, so their summary precedes new events."""
    try:
        window = int(_now() // WINDOW)
        key = _counter_key(user_id, window)
        cache.add(key, 0, timeout=_COUNTER_TTL)
        count = cache.incr(key)
        if count == LIMIT + 1:
            _remember_pending(user_id, window)
    except Exception as error:
        report_cache_outage("the denied-access audit's per-person limit (every denial is recorded)", error)
        return True
    if count <= LIMIT:
        report_suppressed()
    return count <= LIMIT


def _remember_pending(user_id: int, window: int) -> None:
    # Read-modify-write: a concurrent update may drop an entry, which is then
    # reported by nobody; the counter itself stays exact.
    pending = cache.get(_PENDING_KEY) or []
    if [user_id, window] not in pending:
        cache.set(_PENDING_KEY, [*pending, [user_id, window]], timeout=_COUNTER_TTL)


def report_suppressed() -> int:
    """Writes one ``authz.denied_suppressed`` event per person and finished
    window in which denials were dropped; returns how many. Never raises."""
    try:
        pending = cache.get(_PENDING_KEY) or []
        if not pending:
            return 0
        current = int(_now() // WINDOW)
        finished = [entry for entry in pending if entry[1] < current]
        if not finished:
            return 0
        remaining = [entry for entry in (cache.get(_PENDING_KEY) or []) if entry not in finished]
        cache.set(_PENDING_KEY, remaining, timeout=_COUNTER_TTL)
        written = 0
        for user_id, window in finished:
            key = _counter_key(user_id, window)
            dropped = (cache.get(key) or 0) - LIMIT
            # ``add`` succeeds once per window, so two reporters never both write it.
            if dropped > 0 and cache.add(f"{key}:reported", 1, timeout=_COUNTER_TTL):
                _write_suppressed(user_id, window, dropped)
                written += 1
        return written
    except Exception as error:
        report_cache_outage("the report of suppressed denials (retried by the hourly checkpoint)", error)
        return 0


def _write_suppressed(user_id: int, window: int, dropped: int) -> None:
    user = get_user_model().objects.filter(pk=user_id).first()
    start = datetime.fromtimestamp(window * WINDOW, tz=UTC)
    end = datetime.fromtimestamp((window + 1) * WINDOW, tz=UTC)
    audit.record(actor=user, action=SUPPRESSED_ACTION, target_type="accounts.user", target_id=str(user_id),
                 after={"dropped": dropped, "limit": LIMIT, "window_seconds": WINDOW,
                        "window_start": start.isoformat(), "window_end": end.isoformat()})
