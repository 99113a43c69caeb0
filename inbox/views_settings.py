"""Inbox configuration pages and the coverage page (who covers what, when)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Department
from security.models import SocialAccount
from security.selectors import accounts_visible_to
from socialops.forms import submit
from socialops.views import render_invalid

from . import settings_services as svc
from .clock import NeverOpenError, is_open_at, open_intervals, spec_for_account
from .forms_settings import (
    ClosureForm,
    QueueAutoAssignForm,
    RoutingRuleForm,
    SensitiveTermForm,
    ServiceWindowForm,
    SlaPolicyForm,
    TriageSettingsForm,
)
from .models import QueueSettings, RoutingRule, SensitiveTerm, ServiceWindow, SlaPolicy, TriageSettings
from .permissions import can_manage_routing
from .sla import DEFAULT_TARGETS, OTHER_TARGETS


@login_required
def coverage(request):
    """Every channel, its service hours in its own time zone, open now or
    when it opens next, and which departments work it."""
    now = timezone.now()
    viewer_tz = timezone.get_current_timezone()
    accounts = (accounts_visible_to(request.user).exclude(status=SocialAccount.Status.RETIRED)
                .select_related("service_window").prefetch_related("service_window__periods",
                                                                   "service_window__closures", "departments"))
    rows = []
    for account in accounts:
        spec = spec_for_account(account)
        try:
            open_now = is_open_at(spec, now)
            next_open = None if open_now else next(open_intervals(spec, now))[0]
        except (NeverOpenError, StopIteration):
            open_now, next_open = False, None
        window = getattr(account, "service_window", None)
        week = {}
        if window is not None and not window.always_open:
            for period in window.periods.all():
                week.setdefault(period.get_weekday_display(), []).append(period)
        # The channel's clock is its own zone's; the viewer's clock goes beside it only when it reads otherwise
        # (the template's date filter would turn every time into the viewer's zone: the zone is given explicitly).
        channel_wall = now.astimezone(spec.tz).replace(tzinfo=None)
        rows.append({"account": account, "window": window, "open_now": open_now, "next_open": next_open,
                     "always_open": spec.always_open, "week": week, "tz": spec.tz, "tz_name": spec.time_zone,
                     "local_now": now.astimezone(spec.tz),
                     "viewer_differs": channel_wall != now.astimezone(viewer_tz).replace(tzinfo=None)})
    return render(request, "inbox/coverage.html",
                  {"rows": rows, "can_configure": svc.can_configure_inbox(request.user), "now": now,
                   "viewer_tz_name": str(viewer_tz)})


def _window_initial(window: ServiceWindow | None) -> dict:
    if window is None:
        return {"time_zone": "UTC", "always_open": True}
    initial = {"time_zone": window.time_zone, "always_open": window.always_open,
               "holiday_country": window.holiday_country}
    by_day: dict[int, list] = {}
    for period in window.periods.all():
        by_day.setdefault(period.weekday, []).append((period.opens_minute, period.closes_minute))
    for index, day in enumerate(svc.WEEKDAYS):
        initial[day] = svc.format_periods(by_day.get(index, []))
    return initial


@login_required
def service_window(request, account_pk):
    if not svc.can_configure_inbox(request.user):
        raise PermissionDenied
    account = get_object_or_404(accounts_visible_to(request.user), pk=account_pk)
    window = ServiceWindow.objects.filter(account=account).prefetch_related("periods", "closures").first()
    form = ServiceWindowForm(request.POST or None, initial=_window_initial(window))
    if request.method == "POST":
        if submit(form, lambda d: svc.service_window_save(
                actor=request.user, account=account, time_zone=d["time_zone"], always_open=d["always_open"],
                holiday_country=d["holiday_country"], week={day: d[day] for day in svc.WEEKDAYS})).ok:
            messages.success(request, _("Service hours saved. New SLA clocks follow them."))
            return redirect("inbox:coverage")
        return render_invalid(request, "inbox/service_window.html", {
            "form": form, "account": account, "window": window, "closure_form": ClosureForm()})
    return render(request, "inbox/service_window.html", {"form": form, "account": account, "window": window,
                                                         "closure_form": ClosureForm()})


@login_required
@require_POST
def closure_add(request, account_pk):
    if not svc.can_configure_inbox(request.user):
        raise PermissionDenied
    account = get_object_or_404(accounts_visible_to(request.user), pk=account_pk)
    form = ClosureForm(request.POST)
    if submit(form, lambda d: svc.service_closure_add(actor=request.user, account=account, **d)).ok:
        messages.success(request, _("Closure added."))
        return redirect("inbox:service-window", account_pk=account.pk)
    window = ServiceWindow.objects.filter(account=account).first()
    return render_invalid(request, "inbox/service_window.html", {
        "form": ServiceWindowForm(initial=_window_initial(window)), "account": account, "window": window,
        "closure_form": form})


@login_required
def sla_policies(request):
    if not svc.can_configure_inbox(request.user):
        raise PermissionDenied
    form = SlaPolicyForm(request.POST or None)
    if request.method == "POST" and submit(form, lambda d: svc.sla_policy_save(actor=request.user, **d)).ok:
        messages.success(request, _("SLA targets saved."))
        return redirect("inbox:sla-policies")
    policies = SlaPolicy.objects.select_related("account").order_by("intent", "account_id")
    defaults = [(label, DEFAULT_TARGETS.get(value, OTHER_TARGETS)) for value, label in SlaPolicy._meta.get_field(
        "intent").choices]
    context = {"form": form, "policies": policies, "defaults": defaults}
    if request.method == "POST":
        return render_invalid(request, "inbox/sla_policies.html", context)
    return render(request, "inbox/sla_policies.html", context)


@login_required
def triage_settings(request):
    if not svc.can_configure_inbox(request.user):
        raise PermissionDenied
    row = TriageSettings.current()
    form = TriageSettingsForm(request.POST if request.POST.get("form") == "settings" else None, initial={
        "influencer_followers": row.influencer_followers, "verified_is_influencer": row.verified_is_influencer,
        "default_department": row.default_department})
    term_form = SensitiveTermForm(request.POST if request.POST.get("form") == "term" else None)
    queue_form = None
    if request.method == "POST" and request.POST.get("form") == "queue":
        queue_form = QueueAutoAssignForm(request.POST)
        if submit(queue_form, lambda d: svc.queue_auto_assign_set(
                actor=request.user, department=d["department"], enabled=d["auto_assign"])).ok:
            messages.success(request, _("Queue settings saved."))
            return redirect("inbox:triage-settings")
    elif request.method == "POST":
        if request.POST.get("form") == "settings":
            outcome = submit(form, lambda d: svc.triage_settings_save(actor=request.user, **d))
        else:
            outcome = submit(term_form, lambda d: svc.sensitive_term_add(actor=request.user, **d))
        if outcome.ok:
            messages.success(request, _("Triage settings saved."))
            return redirect("inbox:triage-settings")
    auto = set(QueueSettings.objects.filter(auto_assign=True).values_list("department_id", flat=True))
    queues = [(d, d.pk in auto) for d in Department.objects.order_by("name")]
    context = {"form": form, "term_form": term_form, "terms": SensitiveTerm.objects.all(), "queues": queues,
               "queue_form": queue_form}
    if request.method == "POST":
        return render_invalid(request, "inbox/triage_settings.html", context)
    return render(request, "inbox/triage_settings.html", context)


@login_required
def routing_rules(request, pk=None):
    if not can_manage_routing(request.user):
        raise PermissionDenied
    rule = get_object_or_404(RoutingRule, pk=pk) if pk else None
    form = RoutingRuleForm(request.POST or None, instance=rule)
    if request.method == "POST":
        if request.POST.get("delete") and rule is not None:
            svc.routing_rule_delete(actor=request.user, rule=rule)
            messages.success(request, _("Rule deleted."))
            return redirect("inbox:routing-rules")
        if submit(form, lambda d: svc.routing_rule_save(actor=request.user, rule=rule,
                                                        **{f: d[f] for f in form.Meta.fields})).ok:
            messages.success(request, _("Routing rule saved."))
            return redirect("inbox:routing-rules")
    rules = RoutingRule.objects.select_related("department", "account")
    context = {"form": form, "rules": rules, "rule": rule}
    if request.method == "POST":
        return render_invalid(request, "inbox/routing_rules.html", context)
    return render(request, "inbox/routing_rules.html", context)
