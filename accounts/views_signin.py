"""Sign-in pages: the second-factor step, confirm access (re-authentication),
the person's own Security page (second factor, recovery codes, API tokens,
sign out everywhere), password change and reset, and an admin's sign-in
actions on someone else (end sessions, reset link, second-factor reset)."""

import django_otp
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from socialops.forms import apply_service_errors, submit
from socialops.views import render_invalid

from . import audit, signin, twofactor
from .forms_signin import (
    ApiTokenForm,
    ConfirmAccessForm,
    DecisionForm,
    ReasonForm,
    SecondFactorForm,
    SetPasswordWithSecondFactorForm,
)
from .models import ApiToken, SecondFactorReset, User
from .selectors import is_admin


def _safe_next(request, default="dashboard") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse(default)


def _mark_reauthenticated(request, at=None) -> None:
    request.session[twofactor.SESSION_REAUTH_AT_KEY] = (at or timezone.now()).isoformat()


@login_required
@sensitive_post_parameters("otp_token")
def login_verify(request):
    """The second step of signing in: a code from the authenticator app or a
    recovery code."""
    user = request.user
    if user.is_verified() or not twofactor.has_confirmed_device(user):
        return redirect(_safe_next(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = twofactor.throttled_seconds(user)
        if wait:
            form.add_error("otp_token", _("Too many wrong codes: wait %(n)s seconds, then enter the code your app "
                                          "shows.") % {"n": wait})
            return render_invalid(request, "registration/login_verify.html",
                                  {"form": form, "next": _safe_next(request)})
        device = twofactor.verify_code(user, form.cleaned_data["otp_token"])
        if device is not None:
            django_otp.login(request, device)
            _mark_reauthenticated(request)
            recovery = device.__class__.__name__ == "StaticDevice"
            audit.record(actor=user, action="auth.second_factor", target=user,
                         after={"method": "recovery_code" if recovery else "totp"})
            if recovery:
                messages.warning(request, _("You signed in with a recovery code; %(n)s are left. "
                                            "Make new ones on your Security page if you are running low.")
                                 % {"n": twofactor.recovery_codes_left(user)})
            return redirect(_safe_next(request))
        audit.record(actor=user, action="auth.second_factor_failed", target=user)
        form.add_error("otp_token", _("The code is not correct or has been used. Wait for the next code and "
                                      "try again."))
        return render_invalid(request, "registration/login_verify.html", {"form": form, "next": _safe_next(request)})
    return render(request, "registration/login_verify.html", {"form": form, "next": _safe_next(request)})


@login_required
@sensitive_post_parameters("password", "otp_token")
def confirm_access(request):
    """Password (and second factor) again before the most sensitive actions:
    granting publish, approve or manage, approving a reveal, offboarding,
    break-glass. Valid for a few minutes."""
    form = ConfirmAccessForm(request.POST or None)
    needs_code = twofactor.second_factor_needed(request.user)
    if not needs_code:
        del form.fields["otp_token"]
    context = {"form": form, "next": _safe_next(request),
               "minutes": int(twofactor.reauth_window().total_seconds() // 60)}
    if request.method == "POST":
        outcome = submit(form, lambda d: signin.reauthenticate(
            user=request.user, password=d["password"], otp_token=d.get("otp_token", "")))
        if outcome.ok:
            _mark_reauthenticated(request, outcome.value)
            messages.success(request, _("Access confirmed for %(minutes)s minutes: repeat the action.")
                             % {"minutes": context["minutes"]})
            return redirect(context["next"])
        return render_invalid(request, "registration/confirm_access.html", context)
    return render(request, "registration/confirm_access.html", context)


def _security_context(request, **extra):
    user = request.user
    return {
        "required_reason": twofactor.requirement_reason(user),
        "has_device": twofactor.has_confirmed_device(user),
        "recovery_left": twofactor.recovery_codes_left(user),
        "tokens": ApiToken.objects.filter(user=user).order_by("-created"),
        "token_form": ApiTokenForm(),
        "now": timezone.now(),
        **extra,
    }


def _no_store(response):
    add_never_cache_headers(response)
    return response


@login_required
def my_security(request):
    return render(request, "accounts/my_security.html", _security_context(request))


@login_required
@require_POST
def token_create(request):
    form = ApiTokenForm(request.POST)
    verified = request.user.is_verified() or not twofactor.second_factor_needed(request.user)
    outcome = submit(form, lambda d: signin.api_token_create(
        actor=request.user, name=d["name"], expires_in_days=d["expires_in_days"], second_factor_verified=verified))
    if not outcome.ok:
        return render_invalid(request, "accounts/my_security.html", _security_context(request, token_form=form))
    token, plaintext = outcome.value
    # The only response that ever carries the token: not stored by browsers or proxies.
    return _no_store(render(request, "accounts/my_security.html",
                            _security_context(request, new_token=token, new_token_plaintext=plaintext)))


@login_required
@require_POST
def token_revoke(request, token_key):
    token = ApiToken.objects.filter(user=request.user, token_key=token_key).first()
    if token is None:
        messages.error(request, _("That token no longer exists."))
    else:
        signin.api_token_revoke(actor=request.user, token=token)
        messages.success(request, _("Token \u201c%(name)s\u201d revoked: it stops working now.") % {"name": token.name})
    return redirect("my-security")


@login_required
@require_POST
def recovery_codes(request):
    try:
        codes = signin.recovery_codes_regenerate(actor=request.user,
                                                 reauthenticated_at=twofactor.reauthenticated_at(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("my-security")
    return _no_store(render(request, "accounts/my_security.html", _security_context(request, new_codes=codes)))


@login_required
@require_POST
def sign_out_everywhere(request):
    signin.sign_out_everywhere(actor=request.user, user=request.user, reason="from the Security page")
    # The stamp changed: this session ended too. Sign in again.
    from django.contrib.auth import logout

    logout(request)
    messages.success(request, _("Signed out everywhere: every session and API token has ended."))
    return redirect("login")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page; the new password ends every other session (the session
    hash covers it) and every API token (User.save), and is audited."""

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(actor=self.request.user, action="auth.password_change", target=self.request.user)
        messages.success(self.request, _("Password changed: your other sessions and all API tokens have ended."))
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordWithSecondFactorForm
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        signin.end_sessions_and_tokens(user=form.user)
        audit.record(actor=form.user, action="auth.password_reset", target=form.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """The same message whether or not the address is known."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


# --- an admin's actions on someone's sign-in ---------------------------------

def _admin_person(request, pk) -> User:
    if not is_admin(request.user):
        raise PermissionDenied
    return get_object_or_404(User, pk=pk)


@login_required
@require_POST
def person_end_sessions(request, pk):
    person = _admin_person(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    result = signin.sign_out_everywhere(actor=request.user, user=person, reason=reason)
    messages.success(request, _("%(user)s is signed out everywhere (%(n)s API tokens ended).")
                     % {"user": person, "n": result["tokens_deleted"]})
    return redirect("person-detail", pk=person.pk)


@login_required
@require_POST
def person_password_reset(request, pk):
    person = _admin_person(request, pk)
    if signin.password_reset_send(actor=request.user, user=person, request=request):
        messages.success(request, _("A password reset link went to %(user)s's email address.") % {"user": person})
    else:
        messages.error(request, _("%(user)s has no email address (or is deactivated): no link was sent.")
                       % {"user": person})
    return redirect("person-detail", pk=person.pk)


@login_required
@require_POST
def person_second_factor_reset(request, pk):
    person = _admin_person(request, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            signin.second_factor_reset_request(actor=request.user, user=person, reason=form.cleaned_data["reason"],
                                               reauthenticated_at=twofactor.reauthenticated_at(request))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Reset requested: a second admin must approve it."))
            return redirect("person-detail", pk=person.pk)
    messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("person-detail", pk=person.pk)


@login_required
@require_POST
def second_factor_reset_decide(request, pk):
    reset = get_object_or_404(SecondFactorReset, pk=pk)
    _admin_person(request, reset.user_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("decision: choose approve or reject."))
        return redirect("person-detail", pk=reset.user_id)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        signin.second_factor_reset_decide(actor=request.user, reset=reset, approve=approve,
                                          reauthenticated_at=twofactor.reauthenticated_at(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Second factor removed: they set up a new one at their next sign-in.")
                         if approve else _("Reset rejected."))
    return redirect("person-detail", pk=reset.user_id)
