"""Social accounts, training records and publishing rights."""


from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts import twofactor
from accounts.models import Department, Membership, User

from ..models import (
    PERSONAL_CAPABILITIES,
    TRAINING_REQUIRED,
    Capability,
    PublishingGrant,
    SocialAccount,
    TrainingRecord,
)
from ..permissions import (
    can_manage_rights,
    has_capability,
    is_security_admin,
)
from ..selectors import has_valid_training
from ._common import _audit, _iso

# --- social accounts -------------------------------------------------------

@transaction.atomic
def account_create(*, actor: User, platform: str, handle: str, display_name: str = "",
                   departments=(), max_publishers: int = 3, rotation_days: int = 90) -> SocialAccount:
    if not is_security_admin(actor):
        raise PermissionDenied(_("Only admins add social accounts."))
    handle = handle.strip()
    if not handle:
        raise ValidationError({"handle": _("A handle is required.")})
    if SocialAccount.objects.filter(platform=platform, handle__iexact=handle).exists():
        raise ValidationError({"handle": _("This account is already registered.")})
    if max_publishers < 1:
        raise ValidationError({"max_publishers": _("At least one publisher must be allowed.")})
    account = SocialAccount(platform=platform, handle=handle, display_name=display_name,
                            owner_organisation=settings.SOCIALOPS_ORGANISATION_NAME,
                            max_publishers=max_publishers, rotation_days=rotation_days)
    account.full_clean()
    account.save()
    account.departments.set(departments)
    _audit(actor, "account.create", account, account=account,
           after={"platform": platform, "handle": handle, "departments": sorted(d.pk for d in departments),
                  "max_publishers": max_publishers, "rotation_days": rotation_days})
    return account


@transaction.atomic
def account_update(*, actor: User, account: SocialAccount, **changes) -> SocialAccount:
    if not is_security_admin(actor):
        raise PermissionDenied(_("Only admins change social accounts."))
    departments = changes.pop("departments", None)
    allowed = {"display_name", "max_publishers", "rotation_days", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in unknown})
    if "max_publishers" in changes and changes["max_publishers"] < 1:
        raise ValidationError({"max_publishers": _("At least one publisher must be allowed.")})
    fields = [f for f, v in changes.items() if getattr(account, f) != v]
    before = {f: getattr(account, f) for f in fields}
    for field in fields:
        setattr(account, field, changes[field])
    if "status" in fields:
        account.retired_at = timezone.now() if account.status == SocialAccount.Status.RETIRED else None
        fields.append("retired_at")
    if fields:
        account.save(update_fields=fields)
    if departments is not None:
        old = sorted(account.departments.values_list("pk", flat=True))
        new = sorted(d.pk for d in departments)
        if old != new:
            account.departments.set(departments)
            before["departments"], changes["departments"] = old, new
            fields.append("departments")
    if fields:
        _audit(actor, "account.update", account, account=account, before={k: _iso(v) for k, v in before.items()},
               after={f: _iso(changes[f]) for f in changes if f in fields or f == "departments"})
    return account


def account_retire(*, actor: User, account: SocialAccount) -> SocialAccount:
    return account_update(actor=actor, account=account, status=SocialAccount.Status.RETIRED)


# --- training --------------------------------------------------------------

@transaction.atomic
def training_record_create(*, actor: User, user: User, completed_on: date,
                           course: str = "Social media training", notes: str = "") -> TrainingRecord:
    if not is_security_admin(actor):
        raise PermissionDenied(_("Only admins record training."))
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": _("A training cannot be completed in the future.")})
    record = TrainingRecord.objects.create(user=user, completed_on=completed_on, course=course,
                                           notes=notes, recorded_by=actor)
    _audit(actor, "training.record", record, after={"user": user.pk, "course": course,
                                                     "completed_on": completed_on.isoformat()})
    return record


# --- publishing rights ------------------------------------------------------

# What a `manage` holder who is not an admin may pass on: never publish,
# approve or manage, so two managers cannot lift each other round the
# self-grant rule.
MANAGER_GRANTABLE = (Capability.DRAFT, Capability.REPLY)
# Grants that need a fresh password + second-factor confirmation.
REAUTH_REQUIRED = {Capability.PUBLISH, Capability.APPROVE, Capability.MANAGE}


def _are_colleagues(actor: User, user: User) -> bool:
    from accounts.selectors import workgroups_visible_to

    return Membership.objects.active().filter(user=user, workgroup__in=workgroups_visible_to(actor)).exists()


def _department_in_workgroups(actor: User, department: Department) -> bool:
    """Whether ``department`` sits in one of ``actor``'s workgroups.

    A workgroup has no departments of its own: a Membership row joins a
    person, the department they represent and the workgroup they sit in. So a
    department is "in" a workgroup exactly when it has an active membership
    there, the same test ``_are_colleagues`` applies to a person (an active
    membership in one of the workgroups the actor belongs to or supervises).
    A department whose people merely belong to the actor's workgroups under
    another department's flag does not qualify: the grant would reach the
    whole department, and the workgroup has nobody speaking for it."""
    from accounts.selectors import workgroups_visible_to

    return Membership.objects.active().filter(
        department=department, workgroup__in=workgroups_visible_to(actor)).exists()


def grantable_capabilities(actor: User, account: SocialAccount) -> list[Capability]:
    """What ``actor`` may grant on ``account``: everything for admins, draft
    and reply for the account's `manage` holders, nothing for anyone else.
    The grant form offers these; ``grant_create`` enforces the same rule."""
    if is_security_admin(actor):
        return list(Capability)
    if has_capability(actor, Capability.MANAGE, account):
        return list(MANAGER_GRANTABLE)
    return []


def _grant_holder_group(department: Department) -> Group:
    from accounts.services import department_group

    return department_group(department)


@transaction.atomic
def grant_create(*, actor: User, account: SocialAccount, capability: str, reason: str,
                 user: User | None = None, department: Department | None = None,
                 expires_at: datetime | None = None, allows_own_posts: bool = False,
                 reauthenticated_at: datetime | None = None) -> PublishingGrant:
    """Grants ``capability`` on ``account`` to a person or (for draft) a
    department, on record.

    Admins grant anything; a `manage` holder who is not an admin grants only
    draft and reply, and only to people and departments of their own
    workgroups (see ``_department_in_workgroups``). Refuses with a
    ValidationError naming the field: a capability the actor may not grant,
    a holder outside their workgroups, self-grants, missing or stale training
    for publish/approve, more publishers than the account allows, duplicates,
    expiry in the past. Publish, approve and manage also need
    ``reauthenticated_at`` within the re-authentication window (else
    ``ReauthRequired``), checked after the rules so a refused grant is
    answered with its reason first."""
    if not can_manage_rights(actor, account):
        raise PermissionDenied(_("You may not grant rights on this account."))
    try:
        capability = Capability(capability)
    except ValueError:
        raise ValidationError({"capability": _("Unknown capability.")})
    admin = is_security_admin(actor)
    if not admin and capability == Capability.MANAGE:
        raise ValidationError({"capability": _("Only admins grant manage.")})
    if not admin and capability not in MANAGER_GRANTABLE:
        raise ValidationError({"capability": _(
            "As a manager of this account you grant draft and reply; ask an admin for %(cap)s.")
            % {"cap": capability.label}})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required: grants are on record.")})
    if (user is None) == (department is None):
        raise ValidationError({"user": _("Grant to one person or one department.")})
    if department is not None and capability in PERSONAL_CAPABILITIES:
        raise ValidationError({"department": _("Only draft may go to a department; %(cap)s goes to named people.")
                               % {"cap": capability.label}})
    if department is not None and not admin and not _department_in_workgroups(actor, department):
        raise ValidationError({"department": _(
            "Choose a department represented in your own workgroups; an admin grants to others.")})
    if user is not None:
        if user.pk == actor.pk:
            raise ValidationError({"user": _("Nobody grants rights to themselves.")})
        if not user.is_active:
            raise ValidationError({"user": _("This person has been deactivated.")})
        if not admin and not _are_colleagues(actor, user):
            raise ValidationError({"user": _("Choose someone from your own workgroups; an admin grants to others.")})
        if capability in TRAINING_REQUIRED and not has_valid_training(user):
            raise ValidationError({"user": _(
                "%(user)s has no social media training on record from the last %(days)s days: "
                "record one before granting %(cap)s.") % {
                "user": user, "days": settings.SOCIALOPS_TRAINING_VALIDITY_DAYS, "cap": capability.label}})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    if allows_own_posts and capability != Capability.PUBLISH:
        raise ValidationError({"allows_own_posts": _(
            "Only a publish right can allow publishing one's own posts without a second approval.")})
    if account.status == SocialAccount.Status.RETIRED:
        raise ValidationError({"account": _("This account is retired.")})
    if capability in REAUTH_REQUIRED:
        twofactor.require_recent_reauth(reauthenticated_at, action=_("granting %(cap)s") % {"cap": capability.label})

    # Lock the account row so two admins cannot both take the last publisher seat.
    SocialAccount.objects.select_for_update().filter(pk=account.pk).first()
    open_grants = PublishingGrant.objects.filter(account=account, capability=capability, revoked_at__isnull=True)
    existing = open_grants.filter(user=user) if user else open_grants.filter(department=department)
    if existing.current().exists():
        raise ValidationError({"capability": _("This right is already granted.")})
    # An expired but unrevoked grant is closed now, so the new one is the only open row.
    for stale in existing:
        stale.revoked_at, stale.revoke_reason = timezone.now(), "expired; replaced by a new grant"
        stale.revoked_by = actor
        stale.save(update_fields=["revoked_at", "revoke_reason", "revoked_by"])
    if capability == Capability.PUBLISH:
        publishers = open_grants.current().count()
        if publishers >= account.max_publishers:
            raise ValidationError({"capability": _(
                "%(account)s already has %(n)s of %(max)s publishers: revoke one or raise the limit.")
                % {"account": account, "n": publishers, "max": account.max_publishers}})

    grant = PublishingGrant.objects.create(account=account, capability=capability, user=user,
                                           department=department, granted_by=actor, reason=reason,
                                           expires_at=expires_at, allows_own_posts=allows_own_posts)
    if user is not None:
        assign_perm(capability.perm, user, account)
    else:
        assign_perm(capability.perm, _grant_holder_group(department), account)
    _audit(actor, "grant.create", grant, account=account,
           after={"capability": capability.value, "user": user.pk if user else None,
                  "department": department.pk if department else None, "reason": reason,
                  "expires_at": _iso(expires_at), "allows_own_posts": allows_own_posts})
    return grant


def _remove_guardian_perm(grant: PublishingGrant) -> None:
    perm = Capability(grant.capability).perm
    if grant.user_id:
        remove_perm(perm, grant.user, grant.account)
    else:
        remove_perm(perm, _grant_holder_group(grant.department), grant.account)


@transaction.atomic
def grant_revoke(*, actor: User | None, grant: PublishingGrant, reason: str,
                 check_permission: bool = True) -> PublishingGrant:
    """Revokes a grant; it stops working on the very next request. A
    ``manage`` holder revokes what they may grant (draft and reply); publish,
    approve and manage are revoked by admins (or offboarding)."""
    if check_permission and not can_manage_rights(actor, grant.account):
        raise PermissionDenied(_("You may not revoke rights on this account."))
    if check_permission and not is_security_admin(actor) and grant.capability not in MANAGER_GRANTABLE:
        raise PermissionDenied(_("Only admins revoke %(cap)s.") % {"cap": Capability(grant.capability).label})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required to revoke a right.")})
    # Two people revoking at once: one revokes, the other finds it done.
    grant = PublishingGrant.objects.select_for_update(of=("self",)).select_related(
        "account", "user", "department").get(pk=grant.pk)
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.revoke_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    _remove_guardian_perm(grant)
    _audit(actor, "grant.revoke", grant, account=grant.account, before={"revoked_at": None},
           after={"revoked_at": grant.revoked_at.isoformat(), "reason": reason})
    return grant
