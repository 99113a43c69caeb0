"""Every write about signing in: API tokens, ending sessions, the second
factor's enrolment and its four-eyes reset, password reset links. Pages,
the API, the Django admin and commands call these, so the same rules and
the same audit apply on every path."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, twofactor
from .models import ApiToken, SecondFactorReset, User, _new_session_stamp
from .roles import Role
from .selectors import is_admin


def _audit_user(actor, action: str, user: User, **after) -> None:
    audit.record(actor=actor, action=action, target=user, after=after)


# --- sessions and tokens ----------------------------------------------------

def end_sessions_and_tokens(*, user: User) -> dict:
    """Ends every session and API token of ``user`` at once: the session
    stamp is part of each session's hash, so every browser is signed out on
    its next request, wherever it is. Returns what ended (for the caller's
    audit event)."""
    User.objects.filter(pk=user.pk).update(session_stamp=_new_session_stamp())
    user.refresh_from_db(fields=["session_stamp"])
    tokens = ApiToken.objects.filter(user=user).delete()[0]
    return {"sessions_ended": True, "tokens_deleted": tokens}


@transaction.atomic
def sign_out_everywhere(*, actor: User, user: User, reason: str = "") -> dict:
    """The person themselves, or an admin for anyone ("end sessions")."""
    if actor.pk != user.pk and not is_admin(actor):
        raise PermissionDenied(_("Only admins end someone else's sessions."))
    result = end_sessions_and_tokens(user=user)
    _audit_user(actor, "auth.sessions_end", user, reason=(reason or "")[:300], **result)
    return result


@transaction.atomic
def api_token_create(*, actor: User, name: str, expires_in_days: int | None = None,
                     second_factor_verified: bool) -> tuple[ApiToken, str]:
    """Creates a named token with an expiry for ``actor`` and returns it with
    its plaintext, which is never stored and never shown again. Creating a
    token is a way in: people who sign in with a second factor must have
    used it (``second_factor_verified``)."""
    if not actor.is_active:
        raise PermissionDenied(_("This account is deactivated."))
    if twofactor.second_factor_needed(actor) and not second_factor_verified:
        raise PermissionDenied(_("Confirm your authenticator code before creating a token."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the token after where it is used, e.g. 'reporting script'.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    if ApiToken.objects.filter(user=actor, name__iexact=name).exists():
        raise ValidationError({"name": _("You already have a token with this name: revoke it or choose another.")})
    days = settings.SOCIALOPS_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.SOCIALOPS_TOKEN_MAX_DAYS:
        raise ValidationError({"expires_in_days": _("Choose between 1 and %(max)s days.")
                               % {"max": settings.SOCIALOPS_TOKEN_MAX_DAYS}})
    verified = second_factor_verified and twofactor.second_factor_needed(actor)
    token, plaintext = ApiToken.objects.create(user=actor, expiry=timedelta(days=days), name=name,
                                               second_factor_verified=verified)
    audit.record(actor=actor, action="token.create", target=token, target_type="accounts.apitoken",
                 target_id=token.token_key, after={"name": name, "expires": token.expiry.isoformat()})
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.pk and not is_admin(actor):
        raise PermissionDenied(_("People revoke their own tokens."))
    audit.record(actor=actor, action="token.revoke", target_type="accounts.apitoken", target_id=token.token_key,
                 target_repr=str(token), after={"name": token.name, "owner": token.user_id})
    token.delete()


# --- second factor --------------------------------------------------------

def reauthenticate(*, user: User, password: str, otp_token: str) -> datetime:
    """Checks password and, when the person has or needs one, a code from
    their second factor; returns the moment of the confirmation (for the
    session or the API token). Refusals are audited."""
    if not user.check_password(password or ""):
        audit.record(actor=user, action="auth.reauth_failed", target=user, after={"reason": "password"})
        raise ValidationError({"password": _("The password is not correct.")})
    if twofactor.second_factor_needed(user):
        if not twofactor.has_confirmed_device(user):
            raise ValidationError({"otp_token": _("Set up an authenticator app first (Security page).")})
        if twofactor.verify_code(user, otp_token) is None:
            audit.record(actor=user, action="auth.reauth_failed", target=user, after={"reason": "code"})
            raise ValidationError({"otp_token": _("The authenticator code is not correct or has been used.")})
    now = timezone.now()
    audit.record(actor=user, action="auth.reauth", target=user)
    return now


@transaction.atomic
def recovery_codes_regenerate(*, actor: User, reauthenticated_at: datetime | None) -> list[str]:
    twofactor.require_recent_reauth(reauthenticated_at, action=_("new recovery codes"))
    if not twofactor.has_confirmed_device(actor):
        raise ValidationError({"otp_token": _("Set up an authenticator app first.")})
    codes = twofactor.recovery_codes_generate(actor)
    _audit_user(actor, "second_factor.recovery_codes", actor, count=len(codes))
    return codes


@transaction.atomic
def second_factor_reset_request(*, actor: User, user: User, reason: str,
                                reauthenticated_at: datetime | None) -> SecondFactorReset:
    """An admin asks to remove ``user``'s second factor (a lost phone). It
    takes effect only when a second admin approves."""
    if not is_admin(actor):
        raise PermissionDenied(_("Only admins reset a second factor."))
    twofactor.require_recent_reauth(reauthenticated_at, action=_("resetting a second factor"))
    if user.pk == actor.pk:
        raise ValidationError({"user": _("Nobody resets their own second factor: ask another admin.")})
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Explain why (at least 10 characters): how was the identity checked?")})
    if SecondFactorReset.objects.filter(user=user, status=SecondFactorReset.Status.PENDING).exists():
        raise ValidationError({"user": _("A reset for this person is already waiting for a second admin.")})
    reset = SecondFactorReset.objects.create(user=user, requested_by=actor, reason=reason[:500])
    audit.record(actor=actor, action="second_factor.reset_request", target=reset,
                 after={"user": user.pk, "reason": reason})
    from .services import notify

    admins = User.objects.filter(is_active=True, memberships__role=Role.ADMIN, memberships__ended_at__isnull=True)
    for other in admins.exclude(pk__in=[actor.pk, user.pk]).distinct():
        if is_admin(other):
            notify(recipient=other, kind="second_factor.reset", level="warning",
                   text=_("%(actor)s asks to reset %(user)s's second factor: approve or reject it.")
                   % {"actor": actor, "user": user}, url=f"/people/{user.pk}/")
    return reset


@transaction.atomic
def second_factor_reset_decide(*, actor: User, reset: SecondFactorReset, approve: bool,
                               reauthenticated_at: datetime | None) -> SecondFactorReset:
    """A second admin (neither the requester nor the person) approves:
    every device of the person is removed and their sessions and tokens end;
    they enrol again at their next sign-in."""
    if not is_admin(actor):
        raise PermissionDenied(_("Only admins decide on a second-factor reset."))
    twofactor.require_recent_reauth(reauthenticated_at, action=_("approving a second-factor reset"))
    reset = SecondFactorReset.objects.select_for_update().select_related("user").get(pk=reset.pk)
    if reset.status != SecondFactorReset.Status.PENDING:
        raise ValidationError({"status": _("This reset is no longer waiting for a decision.")})
    if actor.pk in (reset.requested_by_id, reset.user_id):
        raise PermissionDenied(_("A second admin, not the one who asked nor the person, decides."))
    reset.status = SecondFactorReset.Status.APPROVED if approve else SecondFactorReset.Status.REJECTED
    reset.decided_by, reset.decided_at = actor, timezone.now()
    reset.save(update_fields=["status", "decided_by", "decided_at"])
    after = {"status": reset.status}
    if approve:
        from django_otp import devices_for_user

        removed = 0
        for device in list(devices_for_user(reset.user, confirmed=None)):
            device.delete()
            removed += 1
        after.update(devices_removed=removed, **end_sessions_and_tokens(user=reset.user))
    audit.record(actor=actor, action="second_factor.reset_" + ("approve" if approve else "reject"),
                 target=reset, before={"status": "pending"}, after=after)
    return reset


# --- passwords --------------------------------------------------------------

def password_reset_send(*, actor: User | None, user: User, request=None) -> bool:
    """Emails ``user`` a one-time link to choose a new password (the link
    still asks for the second factor). Admins use this instead of setting
    anyone's password. Returns whether an email went out (a person without
    an address gets none)."""
    if actor is not None and actor.pk != user.pk and not is_admin(actor):
        raise PermissionDenied(_("Only admins send someone a password reset link."))
    if not user.is_active or not user.email:
        return False
    form = PasswordResetForm({"email": user.email})
    form.is_valid()
    # Only this person, even when colleagues share an address.
    form.get_users = lambda email: [user]
    domain = request.get_host() if request is not None else settings.ALLOWED_HOSTS[0]
    form.save(domain_override=domain, use_https=request.is_secure() if request is not None else True,
              request=request, subject_template_name="registration/password_reset_subject.txt",
              email_template_name="registration/password_reset_email.txt")
    audit.record(actor=actor, action="auth.password_reset_sent", target=user)
    return True
