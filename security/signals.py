"""Receivers that write the audit log for what lower layers and Django's
auth announce."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.audit import audit_event

from .audit import audit_write
from .services import session_remember


@receiver(audit_event)
def write_structure_event(sender, *, actor, action, target_type, target_id, target_repr, before, after, **kwargs):
    audit_write(actor=actor, action=action, target_type=target_type, target_id=target_id,
                target_repr=target_repr, before=before, after=after)


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    session_remember(user=user, session_key=session_key)
    audit_write(actor=user, action="auth.login", target_type="accounts.user", target_id=str(user.pk),
                target_repr=str(user))


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_write(actor=user, action="auth.logout", target_type="accounts.user", target_id=str(user.pk),
                    target_repr=str(user))


@receiver(user_login_failed)
def audit_login_failure(sender, credentials, request=None, **kwargs):
    # Django already masks the password in ``credentials``; keep only the username.
    username = str((credentials or {}).get("username", ""))[:150]
    audit_write(actor=None, actor_name=username or "unknown", action="auth.login_failed",
                target_type="accounts.user", target_id=username, target_repr=username)
