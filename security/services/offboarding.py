"""Ending a person's access at once without losing anything."""


from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import twofactor
from accounts.models import Membership, User
from accounts.roles import Role
from accounts.services import membership_end, notify, sync_department_groups
from accounts.signin import end_sessions_and_tokens

from ..audit import audit_write
from ..hooks import OFFBOARDING_HOOKS
from ..models import (
    Credential,
    Custodian,
    PublishingGrant,
    RevealRequest,
    UserSession,
)
from ..permissions import (
    can_offboard,
)
from .custody import _force_rotation, custodian_remove, reveal_request_cancel
from .rights import grant_revoke

# --- sessions ---------------------------------------------------------------

def session_remember(*, user: User, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.update_or_create(session_key=session_key, defaults={"user": user})


# --- offboarding ----------------------------------------------------------

@transaction.atomic
def offboard_user(*, actor: User, user: User, reason: str, reauthenticated_at: datetime | None = None) -> dict:
    """Ends a person's access at once and loses nothing. One audit event per
    step; nothing they wrote or did is deleted. Returns what each step did.
    Needs ``reauthenticated_at`` within the re-authentication window (else
    ``ReauthRequired``)."""
    if not can_offboard(actor):
        raise PermissionDenied(_("Only admins offboard people."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required to offboard someone.")})
    if user.pk == actor.pk:
        raise ValidationError({"user": _("Nobody offboards themselves.")})
    twofactor.require_recent_reauth(reauthenticated_at, action=_("offboarding"))
    report: dict = {}

    def step(action, **after):
        report[action] = after
        audit_write(actor=actor, action=f"offboard.{action}", target_type="accounts.user",
                    target_id=str(user.pk), target_repr=str(user), after={"reason": reason, **after})

    now = timezone.now()
    user.is_active = False
    user.offboarded_at = now
    user.save(update_fields=["is_active", "offboarded_at"])
    # The other apps' steps (the inbox releases the leaver's conversations) run before the first audit write:
    # they lock their rows first and the audit chain's lock after, in the same order as every other writer
    # (a take-over locks the conversation, then audits). Taking the chain lock first here could deadlock with
    # a take-over of the same conversation. Their results are recorded last, as before.
    hook_results = [hook(actor=actor, user=user, reason=reason) for hook in OFFBOARDING_HOOKS]
    step("deactivate", is_active=False)

    revoked = 0
    for grant in PublishingGrant.objects.filter(user=user, revoked_at__isnull=True).select_related("account"):
        grant_revoke(actor=actor, grant=grant, reason=f"offboarding: {reason}", check_permission=False)
        revoked += 1
    # django-guardian ignores is_active on some paths: delete every object permission explicitly.
    from guardian.models import UserObjectPermission

    from ..models import SocialAccountUserObjectPermission

    deleted_perms = SocialAccountUserObjectPermission.objects.filter(user=user).delete()[0]
    deleted_perms += UserObjectPermission.objects.filter(user=user).delete()[0]
    # Group permissions stay: they belong to departments, and the person has left those groups.
    step("revoke_rights", grants_revoked=revoked, object_permissions_deleted=deleted_perms)

    ended = 0
    for membership in Membership.objects.active().filter(user=user):
        membership_end(actor=actor, membership=membership, at=now, check_permission=False)
        ended += 1
    sync_department_groups(user)
    user.groups.clear()
    step("end_memberships", memberships_ended=ended)

    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    stored_sessions_deleted = Session.objects.filter(session_key__in=keys).delete()[0]
    UserSession.objects.filter(user=user).delete()
    result = end_sessions_and_tokens(user=user)
    step("end_sessions", stored_sessions_deleted=stored_sessions_deleted, **result)

    cancelled = 0
    for request in RevealRequest.objects.filter(requester=user, status__in=[
            RevealRequest.Status.PENDING, RevealRequest.Status.APPROVED]).select_related("credential__account"):
        reveal_request_cancel(actor=actor, request=request, reason=f"offboarding: {reason}", check_permission=False)
        cancelled += 1
    step("cancel_reveals", reveal_requests_cancelled=cancelled)

    since = now - timedelta(days=settings.SOCIALOPS_OFFBOARD_REVEAL_LOOKBACK_DAYS)
    revealed = Credential.objects.filter(reveal_requests__requester=user, reveal_requests__revealed_at__gte=since)
    flagged = 0
    for credential in revealed.distinct():
        _force_rotation(credential, f"revealed by {user.get_username()}, who was offboarded")
        flagged += 1
    step("flag_revealed_credentials", credentials_due_for_rotation=flagged)

    removed, at_risk = 0, []
    from ..selectors import custody_risks

    for custodian in Custodian.objects.filter(user=user, removed_at__isnull=True).select_related("account"):
        custodian_remove(actor=actor, custodian=custodian, check_permission=False)
        removed += 1
        remaining = Custodian.objects.filter(account=custodian.account, removed_at__isnull=True).select_related("user")
        risks = custody_risks(list(remaining))
        if risks:
            at_risk.append(str(custodian.account))
            for admin in User.objects.filter(memberships__role=Role.ADMIN, memberships__ended_at__isnull=True,
                                             is_active=True).distinct():
                notify(recipient=admin, kind="custody.at_risk", level="alert", url="/custody/",
                       text=_("%(account)s is at risk after %(user)s left: %(risks)s")
                       % {"account": custodian.account, "user": user, "risks": "; ".join(risks)})
    step("remove_custodianships", custodianships_removed=removed, accounts_at_risk=at_risk)

    for name, result in hook_results:
        step(name, **result)
    return report
