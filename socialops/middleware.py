"""Cross-cutting request handling: request ids, absolute session expiry,
the viewer's time zone."""

import contextvars
import logging
import re
import time
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth import logout
from django.utils import timezone

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SESSION_LOGIN_AT_KEY = "socialops_login_at"
SESSION_SEEN_AT_KEY = "socialops_seen_at"
# The idle timeout is refreshed at most this often: a write per minute, not per request.
SESSION_REFRESH_SECONDS = 60


def current_request_id() -> str:
    return _request_id.get()


def current_client_ip() -> str | None:
    return _client_ip.get()


class RequestIdMiddleware:
    """Tags each request with an id (the proxy's X-Request-ID when it is
    well-formed) so logs and audit events can be tied to one request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        ip_token = _client_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
            _client_ip.reset(ip_token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id()
        return True


class AbsoluteSessionExpiryMiddleware:
    """Ends a session a fixed time after login, however active it is, and
    keeps the idle timeout (SESSION_COOKIE_AGE) sliding: touching the
    session at most once a minute makes Django save it with a fresh expiry,
    without a database write on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            session = request.session
            login_at = session.get(SESSION_LOGIN_AT_KEY)
            now = time.time()
            if login_at is None:
                session[SESSION_LOGIN_AT_KEY] = now
            elif now - login_at > settings.SOCIALOPS_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return self.get_response(request)
            if now - session.get(SESSION_SEEN_AT_KEY, 0) > SESSION_REFRESH_SECONDS:
                session[SESSION_SEEN_AT_KEY] = now
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Shows times in the viewer's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = getattr(request.user, "time_zone", "") if request.user.is_authenticated else ""
        if tz_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)
