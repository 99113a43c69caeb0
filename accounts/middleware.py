"""Sign-in enforcement: the second factor on every signed-in request, and
the re-authentication redirect."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import twofactor

# Paths a signed-in person who still owes a second factor may reach.
_EXEMPT_PREFIXES = ("/static/", "/healthz", "/login/", "/logout/", "/password/reset/", "/i18n/")
SESSION_2FA_CHECK_KEY = "socialops_2fa_check"
# How long the "needs a second factor?" answer is kept in the session.
_RECHECK_SECONDS = 60


def _needs_second_factor(request) -> bool:
    """Cached in the session for a minute: it costs queries (roles, custody,
    rights) and changes rarely."""
    cached = request.session.get(SESSION_2FA_CHECK_KEY)
    now = time.time()
    if cached and now - cached[0] < _RECHECK_SECONDS:
        return cached[1]
    needed = twofactor.second_factor_needed(request.user)
    request.session[SESSION_2FA_CHECK_KEY] = [now, needed]
    return needed


def _next_url(request) -> str:
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return referer
    return reverse("dashboard")


def _redirect(request, url: str, message: str, code: str, *, tell: bool = True):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": code}, status=403)
    if request.headers.get("HX-Request"):
        response = JsonResponse({"detail": message}, status=403)
        response["HX-Redirect"] = url
        return response
    if tell:
        from django.contrib import messages

        messages.info(request, message)
    return redirect(url)


class SecondFactorMiddleware:
    """A signed-in person who must use a second factor (by role, rights or
    choice) and has not yet done so in this session reaches nothing but the
    verification step, or the enrolment when they have no authenticator
    yet. This covers every page, the session-authenticated API and the
    Django admin, whose own login form is not used."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # Pages shown while signing in is not finished hide the menus that would lead nowhere.
        request.signin_incomplete = False
        if user.is_authenticated and not user.is_verified() and _needs_second_factor(request):
            request.signin_incomplete = True
            if request.path.startswith(_EXEMPT_PREFIXES):
                return self.get_response(request)
            if twofactor.has_confirmed_device(user):
                url = reverse("login-verify")
                message = _("Enter the code from your authenticator app to continue.")
            else:
                url = reverse(settings.SOCIALOPS_SECOND_FACTOR_SETUP_URL_NAME)
                if request.path == url:
                    return self.get_response(request)
                reason = twofactor.requirement_reason(user) or _("you chose to use one")
                message = _("Set up an authenticator app to continue: you sign in with a second factor because "
                            "%(reason)s.") % {"reason": reason}
            # Straight from the login page the next page says it all; elsewhere, say why.
            came_from_login = request.headers.get("Referer", "").split("?")[0].endswith(reverse("login"))
            return _redirect(request, f"{url}?{urlencode({'next': _next_url(request)})}", message,
                             "second_factor_required", tell=not came_from_login or url != reverse("login-verify"))
        return self.get_response(request)

    def process_exception(self, request, exc):
        if isinstance(exc, twofactor.ReauthRequired) and not request.path.startswith("/api/"):
            from django.contrib import messages

            messages.warning(request, str(exc))
            url = f"{reverse('confirm-access')}?{urlencode({'next': _next_url(request)})}"
            return _redirect(request, url, str(exc), "reauth_required")
        return None
