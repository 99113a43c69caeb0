"""Every write of the security app: social accounts, publishing rights,
training records, custody, credentials, reveals, offboarding.

Each service checks the actor's permission, changes what it must inside one
transaction, and writes the audit event there too. Pages, API and commands
all call these."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import match_token
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework.authtoken.models import Token

from accounts.models import Department, Membership, User
from accounts.roles import Role
from accounts.services import membership_end, notify, sync_department_groups

from . import vault
from .audit import audit_write
from .hooks import OFFBOARDING_HOOKS
from .models import (
    PERSONAL_CAPABILITIES,
    TRAINING_REQUIRED,
    Capability,
    Credential,
    Custodian,
    PublishingGrant,
    RevealRequest,
    SocialAccount,
    TrainingRecord,
    UserSession,
)
from .permissions import (
    can_break_glass,
    can_manage_custody,
    can_manage_rights,
    can_offboard,
    can_set_credential,
    is_custodian,
    is_security_admin,
)
from .selectors import has_valid_training


def _audit(actor, action, target=None, *, account=None, before=None, after=None, **extra):
    audit_write(
        actor=actor, action=action,
        target_type=f"{target._meta.app_label}.{target._meta.model_name}" if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target) if target is not None else "",
        account_id=account.pk if account is not None else None,
        before=before, after=after, **extra,
    )


def _iso(value):
    return value.isoformat() if isinstance(value, datetime | date) else value


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

def _are_colleagues(actor: User, user: User) -> bool:
    from accounts.selectors import workgroups_visible_to

    return Membership.objects.active().filter(user=user, workgroup__in=workgroups_visible_to(actor)).exists()


def _grant_holder_group(department: Department) -> Group:
    from accounts.services import department_group

    return department_group(department)


@transaction.atomic
def grant_create(*, actor: User, account: SocialAccount, capability: str, reason: str,
                 user: User | None = None, department: Department | None = None,
                 expires_at: datetime | None = None) -> PublishingGrant:
    """Grants ``capability`` on ``account`` to a person or (for draft) a
    department, on record. Refuses with a ValidationError naming the field:
    self-grants, missing or stale training for publish/approve, more
    publishers than the account allows, duplicates, expiry in the past."""
    if not can_manage_rights(actor, account):
        raise PermissionDenied(_("You may not grant rights on this account."))
    try:
        capability = Capability(capability)
    except ValueError:
        raise ValidationError({"capability": _("Unknown capability.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required: grants are on record.")})
    if (user is None) == (department is None):
        raise ValidationError({"user": _("Grant to one person or one department.")})
    if department is not None and capability in PERSONAL_CAPABILITIES:
        raise ValidationError({"department": _("Only draft may go to a department; %(cap)s goes to named people.")
                               % {"cap": capability.label}})
    if user is not None:
        if user.pk == actor.pk:
            raise ValidationError({"user": _("Nobody grants rights to themselves.")})
        if not user.is_active:
            raise ValidationError({"user": _("This person has been deactivated.")})
        if not is_security_admin(actor) and not _are_colleagues(actor, user):
            raise ValidationError({"user": _("Choose someone from your own workgroups; an admin grants to others.")})
        if capability in TRAINING_REQUIRED and not has_valid_training(user):
            raise ValidationError({"user": _(
                "%(user)s has no social media training on record from the last %(days)s days: "
                "record one before granting %(cap)s.") % {
                "user": user, "days": settings.SOCIALOPS_TRAINING_VALIDITY_DAYS, "cap": capability.label}})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    if account.status == SocialAccount.Status.RETIRED:
        raise ValidationError({"account": _("This account is retired.")})

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
                                           expires_at=expires_at)
    if user is not None:
        assign_perm(capability.perm, user, account)
    else:
        assign_perm(capability.perm, _grant_holder_group(department), account)
    _audit(actor, "grant.create", grant, account=account,
           after={"capability": capability.value, "user": user.pk if user else None,
                  "department": department.pk if department else None, "reason": reason,
                  "expires_at": _iso(expires_at)})
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
    """Revokes a grant; it stops working on the very next request."""
    if check_permission and not can_manage_rights(actor, grant.account):
        raise PermissionDenied(_("You may not revoke rights on this account."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required to revoke a right.")})
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


# --- custody --------------------------------------------------------------

@transaction.atomic
def custodian_add(*, actor: User, account: SocialAccount, user: User) -> Custodian:
    if not can_manage_custody(actor, account):
        raise PermissionDenied(_("Only admins appoint custodians."))
    if not user.is_active:
        raise ValidationError({"user": _("This person has been deactivated.")})
    if Custodian.objects.filter(account=account, user=user, removed_at__isnull=True).exists():
        raise ValidationError({"user": _("%(user)s is already a custodian of this account.") % {"user": user}})
    try:
        with transaction.atomic():
            custodian = Custodian.objects.create(account=account, user=user, added_by=actor)
    except IntegrityError:  # a concurrent double submit
        raise ValidationError({"user": _("%(user)s is already a custodian of this account.") % {"user": user}})
    _audit(actor, "custodian.add", custodian, account=account, after={"user": user.pk})
    return custodian


@transaction.atomic
def custodian_remove(*, actor: User | None, custodian: Custodian, check_permission: bool = True) -> Custodian:
    if check_permission and not can_manage_custody(actor, custodian.account):
        raise PermissionDenied(_("Only admins remove custodians."))
    if custodian.removed_at is not None:
        return custodian
    custodian.removed_at = timezone.now()
    custodian.removed_by = actor
    custodian.save(update_fields=["removed_at", "removed_by"])
    # Their open requests on this account end with their custody (unless another role still allows them).
    if not _may_ask_for_reveal(custodian.user, custodian.account):
        for open_request in RevealRequest.objects.filter(
                requester=custodian.user, credential__account=custodian.account,
                status__in=[RevealRequest.Status.PENDING, RevealRequest.Status.APPROVED]):
            reveal_request_cancel(actor=actor, request=open_request, reason="no longer a custodian",
                                  check_permission=False)
    _audit(actor, "custodian.remove", custodian, account=custodian.account,
           before={"user": custodian.user_id, "removed_at": None},
           after={"removed_at": custodian.removed_at.isoformat()})
    return custodian


# --- credentials ----------------------------------------------------------

@transaction.atomic
def credential_set(*, actor: User, account: SocialAccount, kind: str, secret: str, label: str = "") -> Credential:
    """Stores a new secret, or rotates the existing one of that kind. The
    secret is encrypted before it touches the database; it is never audited."""
    if not can_set_credential(actor, account):
        raise PermissionDenied(_("Only admins and the account's custodians set credentials."))
    if kind not in Credential.Kind.values:
        raise ValidationError({"kind": _("Unknown credential kind.")})
    if not secret:
        raise ValidationError({"secret": _("The secret cannot be empty.")})
    credential = Credential.objects.select_for_update().filter(account=account, kind=kind, label=label).first()
    now = timezone.now()
    if credential is None:
        credential = Credential.objects.create(account=account, kind=kind, label=label,
                                               ciphertext=vault.encrypt(secret), set_by=actor, last_rotated_at=now)
        _audit(actor, "credential.create", credential, account=account, after={"kind": kind, "label": label})
    else:
        before = {"last_rotated_at": credential.last_rotated_at.isoformat(),
                  "rotation_forced_at": _iso(credential.rotation_forced_at)}
        credential.ciphertext = vault.encrypt(secret)
        credential.set_by = actor
        credential.last_rotated_at = now
        credential.rotation_forced_at = None
        credential.rotation_forced_reason = ""
        credential.save(update_fields=["ciphertext", "set_by", "last_rotated_at", "rotation_forced_at",
                                       "rotation_forced_reason"])
        _audit(actor, "credential.rotate", credential, account=account, before=before,
               after={"last_rotated_at": now.isoformat(), "rotation_forced_at": None})
    return credential


def _force_rotation(credential: Credential, reason: str) -> None:
    if credential.rotation_forced_at is None:
        credential.rotation_forced_at = timezone.now()
        credential.rotation_forced_reason = reason[:200]
        credential.save(update_fields=["rotation_forced_at", "rotation_forced_reason"])


def credential_for_connector(*, account: SocialAccount, kind: str, label: str = "") -> str:
    """The one internal door through which connectors read a secret, so
    people publish through their rights without ever seeing it."""
    credential = Credential.objects.select_related("account").get(account=account, kind=kind, label=label)
    Credential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
    return vault.decrypt(credential.ciphertext, label=f"#{credential.pk} ({credential})")


def rotate_vault_keys() -> int:
    """Re-encrypts every secret under the newest vault key. Returns the
    number of credentials rewritten. Raises CredentialDecryptError naming the
    first credential no configured key can open, changing nothing."""
    rewritten = 0
    with transaction.atomic():
        for credential in Credential.objects.select_for_update().select_related("account").order_by("pk"):
            credential.ciphertext = vault.rotate(credential.ciphertext, label=f"#{credential.pk} ({credential})")
            credential.save(update_fields=["ciphertext"])
            rewritten += 1
        audit_write(actor=None, action="vault.rotate_keys", after={"credentials": rewritten})
    return rewritten


# --- reveals --------------------------------------------------------------

def _require_second_factor(user: User, password: str, otp_token: str) -> None:
    if not user.check_password(password or ""):
        raise ValidationError({"password": _("The password is not correct.")})
    if not user.totpdevice_set.filter(confirmed=True).exists():
        raise ValidationError({"otp_token": _("Set up a TOTP authenticator before revealing a secret.")})
    if match_token(user, (otp_token or "").strip()) is None:
        raise ValidationError({"otp_token": _("The authenticator code is not correct or has been used.")})


def _may_ask_for_reveal(user: User, account: SocialAccount) -> bool:
    return user.is_active and (is_custodian(user, account) or is_security_admin(user)
                               or user.memberships.active().filter(role=Role.EXECUTIVE).exists())


@transaction.atomic
def reveal_request_create(*, actor: User, credential: Credential, reason: str) -> RevealRequest:
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Explain why the secret is needed (at least 10 characters).")})
    if not _may_ask_for_reveal(actor, credential.account):
        raise PermissionDenied(_("Only custodians, admins and executives may ask to reveal a secret."))
    if RevealRequest.objects.filter(credential=credential, requester=actor, status__in=[
            RevealRequest.Status.PENDING, RevealRequest.Status.APPROVED]).exists():
        raise ValidationError({"credential": _("You already have an open request for this credential.")})
    request = RevealRequest.objects.create(credential=credential, requester=actor, reason=reason)
    _audit(actor, "reveal.request", request, account=credential.account,
           after={"credential": credential.pk, "reason": reason})
    for custodian in Custodian.objects.filter(account=credential.account, removed_at__isnull=True,
                                              user__is_active=True).exclude(user=actor).select_related("user"):
        notify(recipient=custodian.user, kind="reveal.request", level="warning",
               text=_("%(user)s asks to reveal %(credential)s: %(reason)s")
               % {"user": actor, "credential": credential, "reason": reason}, url="/custody/")
    return request


@transaction.atomic
def reveal_request_decide(*, actor: User, request: RevealRequest, approve: bool, note: str = "") -> RevealRequest:
    """A custodian other than the requester approves or rejects."""
    request = RevealRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RevealRequest.Status.PENDING:
        raise ValidationError({"status": _("This request is no longer waiting for a decision.")})
    if request.requester_id == actor.pk:
        raise PermissionDenied(_("Nobody approves their own reveal request."))
    if not is_custodian(actor, request.credential.account):
        raise PermissionDenied(_("Only a custodian of this account decides on reveals."))
    request.status = RevealRequest.Status.APPROVED if approve else RevealRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note[:500]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _audit(actor, "reveal.approve" if approve else "reveal.reject", request, account=request.credential.account,
           before={"status": RevealRequest.Status.PENDING}, after={"status": request.status, "note": note})
    notify(recipient=request.requester, kind="reveal.decision",
           text=_("Your request to reveal %(credential)s was %(status)s.")
           % {"credential": request.credential, "status": request.get_status_display().lower()}, url="/custody/")
    return request


@transaction.atomic
def reveal_request_cancel(*, actor: User | None, request: RevealRequest, reason: str = "",
                          check_permission: bool = True) -> RevealRequest:
    if check_permission and actor is not None and actor.pk != request.requester_id and not is_security_admin(actor):
        raise PermissionDenied(_("Only the requester or an admin cancels a request."))
    if request.status not in (RevealRequest.Status.PENDING, RevealRequest.Status.APPROVED):
        return request
    before = {"status": request.status}
    request.status = RevealRequest.Status.CANCELLED
    request.decision_note = reason[:500]
    request.save(update_fields=["status", "decision_note"])
    _audit(actor, "reveal.cancel", request, account=request.credential.account, before=before,
           after={"status": request.status, "reason": reason})
    return request


def reveal_perform(*, actor: User, request: RevealRequest, password: str, otp_token: str) -> tuple[str, datetime]:
    """Shows an approved secret once to its requester, after password and
    TOTP. Returns (plaintext, visible_until). The credential becomes due for
    rotation.

    The checks that must leave a trace when they fail (an approval that has
    expired, a wrong authenticator code counted by django-otp's throttling)
    run outside the reveal's transaction, so a refusal does not roll them back."""
    request = RevealRequest.objects.select_related("credential__account").get(pk=request.pk)
    if request.requester_id != actor.pk:
        raise PermissionDenied(_("Only the requester may reveal."))
    if not _may_ask_for_reveal(actor, request.credential.account):
        raise PermissionDenied(_("You are no longer a custodian, admin or executive for this account."))
    if request.status != RevealRequest.Status.APPROVED:
        raise ValidationError({"status": _("This request is not approved (or was already revealed).")})
    approval_valid_until = request.decided_at + timedelta(hours=settings.SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS)
    if timezone.now() > approval_valid_until:
        with transaction.atomic():
            expired = RevealRequest.objects.filter(pk=request.pk, status=RevealRequest.Status.APPROVED).update(
                status=RevealRequest.Status.EXPIRED)
            if expired:
                _audit(actor, "reveal.expire", request, account=request.credential.account,
                       before={"status": "approved"}, after={"status": "expired"})
        raise ValidationError({"status": _("The approval has expired: ask again.")})
    _require_second_factor(actor, password, otp_token)
    with transaction.atomic():
        request = RevealRequest.objects.select_for_update().select_related("credential__account").get(pk=request.pk)
        if request.status != RevealRequest.Status.APPROVED:  # revealed by a concurrent call meanwhile
            raise ValidationError({"status": _("This request is not approved (or was already revealed).")})
        credential = request.credential
        plaintext = vault.decrypt(credential.ciphertext, label=f"#{credential.pk} ({credential})")
        now = timezone.now()
        request.status = RevealRequest.Status.REVEALED
        request.revealed_at = now
        request.visible_until = now + timedelta(minutes=settings.SOCIALOPS_REVEAL_VISIBLE_MINUTES)
        request.save(update_fields=["status", "revealed_at", "visible_until"])
        _force_rotation(credential, f"revealed to {actor.get_username()}")
        _audit(actor, "reveal.perform", request, account=credential.account, before={"status": "approved"},
               after={"status": "revealed", "credential": credential.pk, "rotation_due": True})
    return plaintext, request.visible_until


def break_glass(*, actor: User, credential: Credential, reason: str, password: str,
                otp_token: str) -> tuple[str, datetime, RevealRequest]:
    """An executive reveals alone in an emergency. Every custodian and admin
    is alerted at once, in the portal and by email; the credential becomes
    due for rotation. The second factor is checked before the transaction so
    django-otp's failure count survives a refusal."""
    if not can_break_glass(actor):
        raise PermissionDenied(_("Only executives may break the glass."))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Explain the emergency (at least 10 characters).")})
    _require_second_factor(actor, password, otp_token)
    with transaction.atomic():
        return _break_glass_reveal(actor, credential, reason)


def _break_glass_reveal(actor: User, credential: Credential, reason: str) -> tuple[str, datetime, RevealRequest]:
    now = timezone.now()
    visible_until = now + timedelta(minutes=settings.SOCIALOPS_REVEAL_VISIBLE_MINUTES)
    request = RevealRequest.objects.create(
        credential=credential, requester=actor, reason=reason, is_break_glass=True,
        status=RevealRequest.Status.REVEALED, decided_by=actor, decided_at=now, revealed_at=now,
        visible_until=visible_until, decision_note="break-glass",
    )
    plaintext = vault.decrypt(credential.ciphertext, label=f"#{credential.pk} ({credential})")
    _force_rotation(credential, f"break-glass by {actor.get_username()}")
    _audit(actor, "reveal.break_glass", request, account=credential.account,
           after={"credential": credential.pk, "reason": reason, "rotation_due": True})
    alerted = set()
    custodians = User.objects.filter(custodianships__account=credential.account,
                                     custodianships__removed_at__isnull=True, is_active=True)
    admins = User.objects.filter(memberships__role=Role.ADMIN, memberships__ended_at__isnull=True, is_active=True)
    text = _("BREAK-GLASS: %(user)s revealed %(credential)s alone. Reason: %(reason)s. Rotate it now.") % {
        "user": actor, "credential": credential, "reason": reason}
    for person in list(custodians) + list(admins):
        if person.pk in alerted or person.pk == actor.pk:
            continue
        alerted.add(person.pk)
        notify(recipient=person, kind="reveal.break_glass", level="alert", text=text, url="/custody/")
        if person.email:
            # The alert names the credential, never its value.
            send_mail(subject="[SocialOps] Break-glass reveal", message=text,
                      from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[person.email], fail_silently=True)
    return plaintext, visible_until, request


# --- the user's own second factor ---------------------------------------------

def totp_device_pending(*, user: User):
    """The authenticator being set up: one unconfirmed device, reused on reload."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = user.totpdevice_set.filter(confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


@transaction.atomic
def totp_device_confirm(*, actor: User, device, password: str, otp_token: str):
    """Confirms ``device`` for its owner: the password (a stolen session alone
    cannot attach a phone) and a current code from the app."""
    if device.user_id != actor.pk:
        raise PermissionDenied(_("People set up their own authenticator."))
    if not actor.check_password(password or ""):
        raise ValidationError({"password": _("The password is not correct.")})
    if not device.verify_token((otp_token or "").strip()):
        raise ValidationError({"otp_token": _("The code is not correct. Check the time on your phone, wait for "
                                              "the next code and try again.")})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    actor.totpdevice_set.filter(confirmed=False).delete()
    _audit(actor, "totp.confirm", device)
    return device


# --- sessions ---------------------------------------------------------------

def session_remember(*, user: User, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.update_or_create(session_key=session_key, defaults={"user": user})


# --- offboarding ----------------------------------------------------------

@transaction.atomic
def offboard_user(*, actor: User, user: User, reason: str) -> dict:
    """Ends a person's access at once and loses nothing. One audit event per
    step; nothing they wrote or did is deleted. Returns what each step did."""
    if not can_offboard(actor):
        raise PermissionDenied(_("Only admins offboard people."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A reason is required to offboard someone.")})
    if user.pk == actor.pk:
        raise ValidationError({"user": _("Nobody offboards themselves.")})
    report: dict = {}

    def step(action, **after):
        report[action] = after
        audit_write(actor=actor, action=f"offboard.{action}", target_type="accounts.user",
                    target_id=str(user.pk), target_repr=str(user), after={"reason": reason, **after})

    now = timezone.now()
    user.is_active = False
    user.offboarded_at = now
    user.save(update_fields=["is_active", "offboarded_at"])
    step("deactivate", is_active=False)

    revoked = 0
    for grant in PublishingGrant.objects.filter(user=user, revoked_at__isnull=True).select_related("account"):
        grant_revoke(actor=actor, grant=grant, reason=f"offboarding: {reason}", check_permission=False)
        revoked += 1
    # django-guardian ignores is_active on some paths: delete every object permission explicitly.
    from guardian.models import UserObjectPermission

    from .models import SocialAccountUserObjectPermission

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
    sessions = Session.objects.filter(session_key__in=keys).delete()[0]
    UserSession.objects.filter(user=user).delete()
    tokens = Token.objects.filter(user=user).delete()[0]
    step("end_sessions", sessions_ended=sessions, tokens_deleted=tokens)

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
    from .selectors import custody_risks

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

    for hook in OFFBOARDING_HOOKS:
        name, result = hook(actor=actor, user=user, reason=reason)
        step(name, **result)
    return report
