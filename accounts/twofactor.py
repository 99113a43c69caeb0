"""The second factor: who must have one, checking a code, recovery codes,
and the re-authentication window.

Devices are django-otp's: a TOTP authenticator (``otp_totp``) and a set of
single-use recovery codes (``otp_static``). A person who must have a second
factor signs in with password *and* a code on every path (the login page,
API token creation, the Django admin behind the same login); everyone else
may opt in, and once they have a device it is asked for too.

Higher layers add their own reasons to require a second factor through
``REQUIREMENT_CHECKS`` (security: custodians and holders of publish,
approve or manage), so this layer never imports them."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from .roles import Role

# Each check takes a user and returns a reason (text) when that user must
# have a second factor, or "" when it does not apply.
REQUIREMENT_CHECKS: list[Callable] = []

RECOVERY_CODE_COUNT = 10
SESSION_REAUTH_AT_KEY = "socialops_reauth_at"


def reauth_window() -> timedelta:
    return timedelta(seconds=settings.SOCIALOPS_REAUTH_SECONDS)


def _role_reason(user) -> str:
    from .selectors import user_roles

    if user.is_superuser or user.is_staff:
        return _("you can open the Django admin")
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return _("you are an admin")
    if Role.EXECUTIVE in roles:
        return _("you are an executive")
    return ""


def requirement_reason(user) -> str:
    """Why ``user`` must sign in with a second factor ("" when optional)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    cached = getattr(user, "_socialops_2fa_reason", None)
    if cached is None:
        cached = _role_reason(user)
        for check in REQUIREMENT_CHECKS:
            if cached:
                break
            cached = check(user) or ""
        user._socialops_2fa_reason = cached
    return cached


def has_confirmed_device(user) -> bool:
    return user.totpdevice_set.filter(confirmed=True).exists()


def second_factor_needed(user) -> bool:
    """Whether signing in as ``user`` asks for a code: required by role or
    rights, or chosen by the person (a confirmed authenticator)."""
    return bool(requirement_reason(user)) or has_confirmed_device(user)


def verify_code(user, code: str):
    """The device that accepts ``code`` (a TOTP code or an unused recovery
    code, which is then spent), or None. Failures count in django-otp's
    throttling, so guessing is slowed down per device."""
    from django_otp import match_token

    code = (code or "").strip().replace(" ", "").lower()
    if not code or len(code) > 32:
        return None
    return match_token(user, code)


def throttled_seconds(user) -> int:
    """How long django-otp still refuses every code after wrong ones (0 when
    a code may be tried now), so a person is told to wait rather than that a
    right code is wrong."""
    from django_otp import devices_for_user

    wait = 0
    for device in devices_for_user(user):
        if hasattr(device, "verify_is_allowed"):
            allowed, data = device.verify_is_allowed()
            locked_until = (data or {}).get("locked_until")
            if not allowed and locked_until:
                wait = max(wait, int((locked_until - timezone.now()).total_seconds()) + 1)
    return wait


def recovery_codes_generate(user) -> list[str]:
    """Replaces ``user``'s recovery codes with a fresh set and returns them:
    shown once, each usable once in place of an authenticator code."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device, _created = StaticDevice.objects.get_or_create(user=user, name="Recovery codes",
                                                          defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- re-authentication ---------------------------------------------------

def is_recent(verified_at: datetime | None) -> bool:
    return verified_at is not None and timezone.now() - verified_at <= reauth_window()


def reauthenticated_at(request) -> datetime | None:
    """When the caller last confirmed password + second factor: the API
    token's own stamp for token calls, the session's for pages and session
    API calls."""
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "reauthenticated_at"):
        return auth.reauthenticated_at
    session = getattr(request, "session", None)
    value = session.get(SESSION_REAUTH_AT_KEY) if session is not None else None
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class ReauthRequired(PermissionDenied):
    """The action needs a fresh password + second-factor confirmation. Pages
    answer it with a redirect to the confirm-access page, the API with a 403
    whose code is ``reauth_required``."""

    code = "reauth_required"


def require_recent_reauth(reauthenticated_at: datetime | None, *, action: str) -> None:
    """The guard every sensitive service calls with the caller's proof of a
    recent re-authentication (``reauthenticated_at(request)``)."""
    if not is_recent(reauthenticated_at):
        minutes = int(reauth_window().total_seconds() // 60)
        raise ReauthRequired(_("Confirm your password and authenticator code first: %(action)s needs a "
                               "confirmation from the last %(minutes)s minutes.")
                             % {"action": action, "minutes": minutes})
