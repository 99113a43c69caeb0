"""Custodians, credentials, reveals, break-glass and the user's own second factor."""


from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import match_token

from accounts import twofactor
from accounts.models import User
from accounts.roles import Role
from accounts.services import notify

from .. import vault
from ..audit import audit_write
from ..models import (
    Credential,
    Custodian,
    RevealRequest,
    SocialAccount,
)
from ..permissions import (
    can_break_glass,
    can_manage_custody,
    can_set_credential,
    is_custodian,
    is_security_admin,
)
from ._common import _audit, _iso

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
def reveal_request_decide(*, actor: User, request: RevealRequest, approve: bool, note: str = "",
                          reauthenticated_at: datetime | None = None) -> RevealRequest:
    """A custodian other than the requester approves or rejects. Approving
    also needs ``reauthenticated_at`` within the re-authentication window
    (else ``ReauthRequired``); rejecting does not."""
    request = RevealRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != RevealRequest.Status.PENDING:
        raise ValidationError({"status": _("This request is no longer waiting for a decision.")})
    if request.requester_id == actor.pk:
        raise PermissionDenied(_("Nobody approves their own reveal request."))
    if not is_custodian(actor, request.credential.account):
        raise PermissionDenied(_("Only a custodian of this account decides on reveals."))
    if approve:
        twofactor.require_recent_reauth(reauthenticated_at, action=_("approving a reveal"))
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
                otp_token: str, reauthenticated_at: datetime | None = None) -> tuple[str, datetime, RevealRequest]:
    """An executive reveals alone in an emergency. Every custodian and admin
    is alerted at once, in the portal and by email; the credential becomes
    due for rotation. Needs ``reauthenticated_at`` within the
    re-authentication window (else ``ReauthRequired``) on top of the password
    and code given with the request. The second factor is checked before the
    transaction so django-otp's failure count survives a refusal."""
    if not can_break_glass(actor):
        raise PermissionDenied(_("Only executives may break the glass."))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Explain the emergency (at least 10 characters).")})
    twofactor.require_recent_reauth(reauthenticated_at, action=_("break-glass"))
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
