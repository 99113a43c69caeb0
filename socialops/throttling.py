"""DRF's throttles, allowing the request instead of failing it when the
cache they count in is unreachable (Redis down): an outage of the cache must
not turn every API call, reads included, into a 500. The outage is logged
once a minute (``socialops.cache.report_cache_outage``)."""

from rest_framework import throttling

from .cache import CACHE_ERRORS, report_cache_outage


class FailOpenThrottleMixin:
    """Put before a DRF throttle class: a cache error allows the request."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            report_cache_outage(f"API throttle {type(self).__name__}", exc)
            return True


class AnonRateThrottle(FailOpenThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpenThrottleMixin, throttling.UserRateThrottle):
    pass


class ScopedRateThrottle(FailOpenThrottleMixin, throttling.ScopedRateThrottle):
    pass
