"""Pages for social accounts and rights, My access, training, the audit log
and offboarding. Custody and reveals live in views_custody.py."""

import csv
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import twofactor
from accounts.models import User
from socialops.forms import submit
from socialops.text import spreadsheet_safe
from socialops.views import render_invalid

from . import selectors, services
from .display import describe_events, offboarding_summary
from .forms import (
    AuditFilterForm,
    GrantForm,
    OffboardForm,
    RevokeForm,
    SocialAccountEditForm,
    SocialAccountForm,
    TrainingRecordForm,
)
from .models import AuditEvent, PublishingGrant, TrainingRecord
from .permissions import can_manage_rights, can_offboard, can_view_all_accounts, can_view_audit, is_security_admin

AUDIT_PAGE_SIZE = 50


@login_required
def account_list(request):
    accounts = selectors.accounts_visible_to(request.user).prefetch_related("departments")
    return render(request, "security/account_list.html", {
        "accounts": accounts, "can_add": is_security_admin(request.user),
        "at_risk": selectors.accounts_at_risk() if is_security_admin(request.user) else [],
    })


@login_required
def account_form(request, pk=None):
    if not is_security_admin(request.user):
        raise PermissionDenied
    account = get_object_or_404(selectors.accounts_visible_to(request.user), pk=pk) if pk else None
    form_class = SocialAccountEditForm if account else SocialAccountForm
    if request.method == "POST":
        form = form_class(request.POST)
        outcome = submit(form, lambda d: services.account_update(actor=request.user, account=account, **d)
                         if account else services.account_create(actor=request.user, **d))
        if outcome.ok:
            messages.success(request, _("Account saved."))
            return redirect("security:account-detail", pk=outcome.value.pk)
        return render_invalid(request, "security/account_form.html", {"form": form, "account": account})
    initial = {}
    if account:
        initial = {"display_name": account.display_name, "departments": list(account.departments.all()),
                   "max_publishers": account.max_publishers, "rotation_days": account.rotation_days,
                   "status": account.status}
    return render(request, "security/account_form.html", {"form": form_class(initial=initial), "account": account})


def _account_context(request, account, grant_form=None):
    can_manage = can_manage_rights(request.user, account)
    # Who holds what (with reasons and training status) is for those who oversee or manage the channel;
    # everyone else sees their own rights on it.
    show_matrix = can_manage or can_view_all_accounts(request.user)
    return {
        "account": account,
        "matrix": selectors.rights_matrix(account) if show_matrix else None,
        "my_rights": [] if show_matrix else [r for r in selectors.my_access(request.user)
                                             if r["account"].pk == account.pk],
        "can_manage": can_manage,
        "grant_form": grant_form or GrantForm(actor=request.user, account=account),
        "revoke_form": RevokeForm(),
        "is_admin": is_security_admin(request.user),
    }


@login_required
def account_detail(request, pk):
    account = get_object_or_404(selectors.accounts_visible_to(request.user), pk=pk)
    return render(request, "security/account_detail.html", _account_context(request, account))


@login_required
@require_POST
def grant_create(request, pk):
    account = get_object_or_404(selectors.accounts_visible_to(request.user), pk=pk)
    if not can_manage_rights(request.user, account):
        raise PermissionDenied
    form = GrantForm(request.POST, actor=request.user, account=account)
    outcome = submit(form, lambda d: services.grant_create(
        actor=request.user, account=account, reauthenticated_at=twofactor.reauthenticated_at(request), **d))
    if outcome.ok:
        messages.success(request, _("%(cap)s granted to %(holder)s.")
                         % {"cap": outcome.value.get_capability_display(), "holder": outcome.value.holder})
        return redirect("security:account-detail", pk=account.pk)
    return render_invalid(request, "security/account_detail.html", _account_context(request, account, form))


@login_required
@require_POST
def grant_revoke(request, pk):
    grant = get_object_or_404(PublishingGrant.objects.select_related("account"), pk=pk)
    if not selectors.accounts_visible_to(request.user).filter(pk=grant.account_id).exists():
        raise Http404
    if not can_manage_rights(request.user, grant.account):
        raise PermissionDenied
    form = RevokeForm(request.POST, auto_id=f"id_revoke{grant.pk}_%s")
    if form.is_valid():
        services.grant_revoke(actor=request.user, grant=grant, reason=form.cleaned_data["reason"])
        messages.success(request, _("Right revoked."))
        return redirect("security:account-detail", pk=grant.account_id)
    context = _account_context(request, grant.account)
    # The refused revoke shows its error in the grant's own cell, opened, and in the summary on top.
    context.update({"revoke_form": form, "revoke_grant_id": grant.pk})
    return render_invalid(request, "security/account_detail.html", context)


@login_required
def my_access(request):
    return render(request, "security/my_access.html", {
        "rows": selectors.my_access(request.user),
        "training": TrainingRecord.objects.filter(user=request.user).first(),
        "training_valid": selectors.has_valid_training(request.user),
    })


@login_required
def training(request):
    if not is_security_admin(request.user):
        raise PermissionDenied
    form = TrainingRecordForm(request.POST or None)
    if request.method == "POST" and submit(form, lambda d: services.training_record_create(
            actor=request.user, **d)).ok:
        messages.success(request, _("Training recorded."))
        return redirect("security:training")
    records = TrainingRecord.objects.select_related("user", "recorded_by")[:200]
    context = {"form": form, "records": records, "valid_since": TrainingRecord.valid_since()}
    if request.method == "POST":
        return render_invalid(request, "security/training.html", context)
    return render(request, "security/training.html", context)


def _audit_queryset(request, form):
    qs = AuditEvent.objects.all()
    data = form.cleaned_data
    if data.get("actor"):
        qs = qs.filter(actor_name__iexact=data["actor"].strip())
    if data.get("action"):
        qs = qs.filter(action__startswith=data["action"].strip())
    if data.get("account"):
        qs = qs.filter(account_id=data["account"])
    tz = timezone.get_current_timezone()
    if data.get("since"):
        qs = qs.filter(created_at__gte=datetime.combine(data["since"], time.min, tzinfo=tz))
    if data.get("until"):
        qs = qs.filter(created_at__lt=datetime.combine(data["until"], time.max, tzinfo=tz))
    return qs.order_by("-id")


@login_required
def audit(request):
    if not can_view_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render_invalid(request, "security/audit.html", {"form": form, "events": [], "next_before": None,
                                                               "refused": True})
    if not request.GET:
        form = AuditFilterForm({})
        form.is_valid()
    qs = _audit_queryset(request, form)
    if form.cleaned_data.get("before"):
        qs = qs.filter(id__lt=form.cleaned_data["before"])  # keyset: no deep offsets
    events = list(qs[: AUDIT_PAGE_SIZE + 1])
    next_before = events[AUDIT_PAGE_SIZE - 1].pk if len(events) > AUDIT_PAGE_SIZE else None
    query = request.GET.copy()
    query.pop("before", None)
    return render(request, "security/audit.html", {
        "form": form, "events": describe_events(events[:AUDIT_PAGE_SIZE]), "next_before": next_before,
        "query": query.urlencode(), "show_raw": is_security_admin(request.user),
    })


class _Echo:
    def write(self, value):
        return value


@login_required
def audit_csv(request):
    if not can_view_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or {})
    if not form.is_valid():
        # Same refusal as the page: the filter form with the reason on the field, nothing downloaded.
        return render_invalid(request, "security/audit.html", {"form": form, "events": [], "next_before": None,
                                                               "refused": True})
    qs = _audit_queryset(request, form)
    writer = csv.writer(_Echo())
    header = ["id", "created_at", "actor", "action", "target_type", "target_id", "target", "account_id",
              "before", "after", "request_id", "ip_address", "hash"]

    def rows():
        yield writer.writerow(header)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow([spreadsheet_safe(v) for v in (
                e.pk, e.created_at.isoformat(), e.actor_name, e.action, e.target_type, e.target_id,
                e.target_repr, e.account_id or "", e.before, e.after, e.request_id, e.ip_address or "", e.hash)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


@login_required
def offboard(request, pk):
    if not can_offboard(request.user):
        raise PermissionDenied
    person = get_object_or_404(User, pk=pk)
    form = OffboardForm(request.POST or None)
    if request.method == "POST":
        outcome = submit(form, lambda d: services.offboard_user(
            actor=request.user, user=person, reason=d["reason"],
            reauthenticated_at=twofactor.reauthenticated_at(request)))
        if outcome.ok:
            return render(request, "security/offboard_done.html", {
                "person": person, "steps": offboarding_summary(outcome.value),
                "show_raw": is_security_admin(request.user)})
        return render_invalid(request, "security/offboard.html", {"person": person, "form": form})
    return render(request, "security/offboard.html", {"person": person, "form": form})
