"""Custody pages: who answers for each account's credentials, setting and
rotating secrets, reveal requests and their approval, the one-time reveal,
break-glass, and the signed-in user's TOTP setup.

Secrets enter through a password input and leave only in the response to a
successful reveal or break-glass POST, marked no-store; no GET ever carries
one."""

import base64
from base64 import b32encode
from datetime import timedelta

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from socialops.forms import apply_service_errors, submit
from socialops.views import render_invalid

from . import selectors, services
from .forms_custody import (
    BreakGlassForm,
    CredentialSetForm,
    CustodianAddForm,
    RevealCancelForm,
    RevealDecisionForm,
    RevealPerformForm,
    RevealRequestForm,
    TOTPConfirmForm,
)
from .models import Custodian, RevealRequest
from .permissions import (
    can_break_glass,
    can_manage_custody,
    can_set_credential,
    can_view_custody,
    is_custodian,
    is_security_admin,
)

OPEN_STATUSES = [RevealRequest.Status.PENDING, RevealRequest.Status.APPROVED]


def _has_confirmed_totp(user) -> bool:
    return user.totpdevice_set.filter(confirmed=True).exists()


def _require_custody_view(request) -> None:
    """Someone with no custody role at all sees a 403 for the whole area."""
    if not can_view_custody(request.user):
        raise PermissionDenied


def _custody_account(request, pk):
    """The account whose custody ``request.user`` may see, else 404."""
    _require_custody_view(request)
    account = get_object_or_404(selectors.accounts_visible_to(request.user), pk=pk)
    if not can_view_custody(request.user, account):
        # They may see the account elsewhere (a right, a department) but not its custody.
        raise Http404
    return account


def _render_secret(request, *, plaintext: str, visible_until, reveal: RevealRequest):
    """The one response that carries a plaintext secret: never stored by a
    browser or proxy, gone from the page when the window closes."""
    remaining = max(0, int((visible_until - timezone.now()).total_seconds()))
    response = render(request, "security/reveal_shown.html", {
        "secret": plaintext, "visible_until": visible_until, "remaining_seconds": remaining,
        "reveal": reveal, "credential": reveal.credential,
    })
    add_never_cache_headers(response)  # Cache-Control: ... no-store ...
    return response


# --- overview and account -------------------------------------------------

@login_required
def custody_overview(request):
    _require_custody_view(request)
    user = request.user
    return render(request, "security/custody.html", {
        "rows": selectors.custody_overview(user),
        "waiting": list(selectors.reveal_requests_waiting_for(user).order_by("created_at")),
        "my_open": list(selectors.reveal_requests_visible_to(user)
                        .filter(requester=user, status__in=OPEN_STATUSES).order_by("-created_at")),
        "executive_ids": selectors.executive_ids(),
    })


def _reveal_request_form(credential, data=None) -> RevealRequestForm:
    # One form per credential on the page: distinct ids keep the labels right.
    return RevealRequestForm(data, auto_id=f"id_reveal_{credential.pk}_%s")


def _account_context(request, account, *, custodian_form=None, credential_form=None, reveal_forms=None) -> dict:
    user = request.user
    custodians = list(account.custodians.filter(removed_at__isnull=True)
                      .select_related("user", "added_by").order_by("added_at"))
    executives = selectors.executive_ids()
    credentials = selectors.credentials_visible_to(user).filter(account=account).order_by("kind", "label")
    reveal_forms = reveal_forms or {}
    return {
        "account": account,
        "custodians": custodians,
        "executive_ids": executives,
        "at_risk": selectors.custody_risks(custodians, executives),
        "credential_rows": [
            {"credential": c, "reveal_form": reveal_forms.get(c.pk) or _reveal_request_form(c)} for c in credentials
        ],
        "open_reveals": list(
            selectors.reveal_requests_visible_to(user)
            .filter(credential__account=account, status__in=OPEN_STATUSES).order_by("created_at")
        ),
        "can_manage": can_manage_custody(user, account),
        "can_set": can_set_credential(user, account),
        "can_break_glass": can_break_glass(user),
        "custodian_form": custodian_form or CustodianAddForm(),
        "credential_form": credential_form or CredentialSetForm(),
    }


@login_required
def custody_account(request, pk):
    account = _custody_account(request, pk)
    return render(request, "security/custody_account.html", _account_context(request, account))


@login_required
@require_POST
def custodian_add(request, pk):
    account = _custody_account(request, pk)
    if not can_manage_custody(request.user, account):
        raise PermissionDenied
    form = CustodianAddForm(request.POST)
    if submit(form, lambda d: services.custodian_add(actor=request.user, account=account, user=d["user"])).ok:
        messages.success(request, _("%(user)s is now a custodian of %(account)s.")
                         % {"user": form.cleaned_data["user"], "account": account})
        return redirect("security:custody-account", pk=account.pk)
    return render_invalid(request, "security/custody_account.html",
                          _account_context(request, account, custodian_form=form))


@login_required
@require_POST
def custodian_remove(request, pk):
    _require_custody_view(request)
    custodian = get_object_or_404(Custodian.objects.select_related("account", "user"), pk=pk, removed_at__isnull=True)
    account = custodian.account
    if not can_view_custody(request.user, account):
        raise Http404
    if not can_manage_custody(request.user, account):
        raise PermissionDenied
    services.custodian_remove(actor=request.user, custodian=custodian)
    messages.success(request, _("%(user)s is no longer a custodian of %(account)s.")
                     % {"user": custodian.user, "account": account})
    remaining = list(account.custodians.filter(removed_at__isnull=True).select_related("user"))
    for risk in selectors.custody_risks(remaining):
        messages.warning(request, _("%(account)s is now at risk: %(risk)s") % {"account": account, "risk": risk})
    return redirect("security:custody-account", pk=account.pk)


@login_required
@require_POST
@sensitive_post_parameters("secret", "secret_confirm")
@sensitive_variables("data")
def credential_set(request, pk):
    account = _custody_account(request, pk)
    if not can_set_credential(request.user, account):
        raise PermissionDenied
    form = CredentialSetForm(request.POST)
    outcome = submit(form, lambda d: services.credential_set(actor=request.user, account=account, kind=d["kind"],
                                                            label=d["label"], secret=d["secret"]))
    if outcome.ok:
        # Redirect (never re-render): the response must not carry the secret back.
        messages.success(request, _("%(credential)s saved, encrypted. Nobody sees it without an approved "
                                    "reveal.") % {"credential": outcome.value})
        return redirect("security:custody-account", pk=account.pk)
    return render_invalid(request, "security/custody_account.html",
                          _account_context(request, account, credential_form=form))


# --- reveals --------------------------------------------------------------

@login_required
@require_POST
def reveal_request_create(request, pk):
    _require_custody_view(request)
    credential = get_object_or_404(selectors.credentials_visible_to(request.user), pk=pk)
    form = _reveal_request_form(credential, request.POST)
    outcome = submit(form, lambda d: services.reveal_request_create(actor=request.user, credential=credential,
                                                                   reason=d["reason"]))
    if outcome.ok:
        messages.success(request, _("Reveal requested: another custodian must approve it."))
        return redirect("security:reveal-detail", pk=outcome.value.pk)
    return render_invalid(request, "security/custody_account.html",
                          _account_context(request, credential.account, reveal_forms={credential.pk: form}))


def _reveal_context(request, reveal: RevealRequest, *, perform_form=None, decision_form=None,
                    cancel_form=None) -> dict:
    user = request.user
    account = reveal.credential.account
    is_open = reveal.status in OPEN_STATUSES
    is_requester = reveal.requester_id == user.pk
    approval_valid_until = None
    if reveal.status == RevealRequest.Status.APPROVED and reveal.decided_at:
        approval_valid_until = reveal.decided_at + timedelta(
            hours=settings.SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS)
    approval_expired = approval_valid_until is not None and approval_valid_until < timezone.now()
    return {
        "reveal": reveal,
        "credential": reveal.credential,
        "account": account,
        "is_requester": is_requester,
        "can_decide": (reveal.status == RevealRequest.Status.PENDING and not is_requester
                       and is_custodian(user, account)),
        "can_cancel": is_open and (is_requester or is_security_admin(user)),
        "can_reveal": reveal.status == RevealRequest.Status.APPROVED and is_requester and not approval_expired,
        "approval_expired": approval_expired,
        "has_totp": _has_confirmed_totp(user) if is_requester else False,
        "approval_valid_until": approval_valid_until,
        "perform_form": perform_form or RevealPerformForm(),
        "decision_form": decision_form or RevealDecisionForm(),
        "cancel_form": cancel_form or RevealCancelForm(),
    }


@login_required
@sensitive_post_parameters("password", "otp_token")
@sensitive_variables("plaintext", "data")
def reveal_detail(request, pk):
    """GET shows the request (never the secret). POST is the requester's
    reveal: password + TOTP; the secret is in that response only."""
    reveal = get_object_or_404(selectors.reveal_requests_visible_to(request.user), pk=pk)
    if request.method != "POST":
        return render(request, "security/reveal.html", _reveal_context(request, reveal))
    if reveal.requester_id != request.user.pk:
        raise PermissionDenied
    form = RevealPerformForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            plaintext, visible_until = services.reveal_perform(
                actor=request.user, request=reveal, password=data["password"], otp_token=data["otp_token"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            reveal.refresh_from_db()
            return _render_secret(request, plaintext=plaintext, visible_until=visible_until, reveal=reveal)
    reveal.refresh_from_db()
    return render_invalid(request, "security/reveal.html", _reveal_context(request, reveal, perform_form=form))


@login_required
@require_POST
def reveal_decide(request, pk):
    reveal = get_object_or_404(selectors.reveal_requests_visible_to(request.user), pk=pk)
    if reveal.requester_id == request.user.pk or not is_custodian(request.user, reveal.credential.account):
        raise PermissionDenied
    form = RevealDecisionForm(request.POST)
    outcome = submit(form, lambda d: services.reveal_request_decide(
        actor=request.user, request=reveal, approve=d["decision"] == "approve", note=d["note"],
        reauthenticated_at=twofactor.reauthenticated_at(request)))
    if outcome.ok:
        approved = outcome.value.status == RevealRequest.Status.APPROVED
        messages.success(request, _("Reveal approved.") if approved else _("Reveal rejected."))
        return redirect("security:reveal-detail", pk=reveal.pk)
    reveal.refresh_from_db()
    return render_invalid(request, "security/reveal.html", _reveal_context(request, reveal, decision_form=form))


@login_required
@require_POST
def reveal_cancel(request, pk):
    reveal = get_object_or_404(selectors.reveal_requests_visible_to(request.user), pk=pk)
    if reveal.requester_id != request.user.pk and not is_security_admin(request.user):
        raise PermissionDenied
    form = RevealCancelForm(request.POST)
    if not form.is_valid():
        return render_invalid(request, "security/reveal.html", _reveal_context(request, reveal, cancel_form=form))
    services.reveal_request_cancel(actor=request.user, request=reveal, reason=form.cleaned_data["reason"])
    messages.success(request, _("Reveal request cancelled."))
    return redirect("security:reveal-detail", pk=reveal.pk)


@login_required
@sensitive_post_parameters("password", "otp_token")
@sensitive_variables("plaintext", "data")
def break_glass(request, pk):
    """An executive's emergency reveal, alone. A separate page so it is
    never one click away from an ordinary request."""
    if not can_break_glass(request.user):
        raise PermissionDenied
    credential = get_object_or_404(selectors.credentials_visible_to(request.user), pk=pk)
    custodians = list(credential.account.custodians.filter(removed_at__isnull=True).select_related("user"))
    form = BreakGlassForm(request.POST or None)
    context = {"credential": credential, "account": credential.account, "form": form, "custodians": custodians,
               "has_totp": _has_confirmed_totp(request.user)}
    if request.method != "POST":
        return render(request, "security/break_glass.html", context)
    if form.is_valid():
        data = form.cleaned_data
        try:
            plaintext, visible_until, reveal = services.break_glass(
                actor=request.user, credential=credential, reason=data["reason"], password=data["password"],
                otp_token=data["otp_token"], reauthenticated_at=twofactor.reauthenticated_at(request))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _render_secret(request, plaintext=plaintext, visible_until=visible_until, reveal=reveal)
    return render_invalid(request, "security/break_glass.html", context)


# --- TOTP -------------------------------------------------------------------

def _safe_next_url(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return ""


def _qr_data_uri(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _grouped_base32(device: TOTPDevice) -> str:
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
@login_required
@sensitive_post_parameters("otp_token", "password")
def totp_setup(request):
    """One authenticator per person: an unconfirmed device is created once
    and reused on reload, confirmed with a code from the app."""
    user = request.user
    confirmed = user.totpdevice_set.filter(confirmed=True).order_by("pk").first()
    if confirmed is not None:
        return render(request, "security/totp.html", {"confirmed": confirmed})
    device = services.totp_device_pending(user=user)
    form = TOTPConfirmForm(request.POST or None)
    next_url = _safe_next_url(request)
    if request.method == "POST" and submit(form, lambda d: services.totp_device_confirm(
            actor=user, device=device, password=d["password"], otp_token=d["otp_token"])).ok:
        from accounts import twofactor

        django_otp.login(request, device)
        request.session[twofactor.SESSION_REAUTH_AT_KEY] = timezone.now().isoformat()
        codes = twofactor.recovery_codes_generate(user)
        messages.success(request, _("Authenticator set up: signing in and reveals will ask for a code from it."))
        response = render(request, "security/totp.html", {"confirmed": device, "recovery_codes": codes,
                                                          "next": next_url})
        add_never_cache_headers(response)  # the page carries the recovery codes
        return response
    context = {"device": device, "form": form, "qr_data_uri": _qr_data_uri(device.config_url),
               "secret_base32": _grouped_base32(device), "next": next_url}
    response = (render_invalid(request, "security/totp.html", context) if request.method == "POST"
                else render(request, "security/totp.html", context))
    add_never_cache_headers(response)  # the page carries the TOTP seed
    return response
