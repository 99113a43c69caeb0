"""Pages of the strategy register: the register, a strategy read like a
document with the forms its reader may use, the version history and the
comparison of two versions. Views are thin: reads in ``selectors``, writes
through ``services`` with ``socialops.forms.submit`` (a refusal is a 400
with the error next to the field; a right missing is a 403)."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Membership
from accounts.roles import Role
from socialops.forms import submit
from socialops.views import render_invalid

from . import kpis, selectors, services, versions
from . import permissions as perms
from .forms import (
    BrandEditForm,
    BrandForm,
    CampaignForm,
    ChannelPlanForm,
    CompareForm,
    DecisionForm,
    KpiValueForm,
    ObjectiveEditForm,
    ObjectiveForm,
    OwnerForm,
    ReasonForm,
    RegisterFilterForm,
    ReviewForm,
    SegmentForm,
    SpendForm,
    StatusForm,
    StrategyCreateForm,
    StrategyEditForm,
)
from .models import Brand, Campaign, ChannelPlan, Objective, Strategy, StrategyOwner
from .progress import objective_figures

NAV = {"nav_current": "strategy:register"}


def _strategy(request, pk) -> Strategy:
    perms.require_read(request.user)
    return get_object_or_404(Strategy.objects.select_related("brand", "accountable"), pk=pk)


# --- what the strategy page shows -------------------------------------------------------

PROGRESS_LABELS = {"on_track": (_lazy("On track"), "ok"), "at_risk": (_lazy("At risk"), "warn"),
                   "off_track": (_lazy("Off track"), "bad")}


def _share(part: Decimal, whole: Decimal) -> float:
    return 0.0 if not whole else float(part / whole)


def _progress_share(objective, current) -> float:
    """How far along from the baseline to the target the current value is, 0..1."""
    if current is None:
        return 0.0
    if objective.baseline is not None and objective.target != objective.baseline:
        share = _share(current - objective.baseline, objective.target - objective.baseline)
    elif objective.direction == Objective.Direction.HIGHER:
        share = _share(current, objective.target) if objective.target else 1.0
    else:
        share = _share(objective.target, current) if current else 1.0
    return min(max(share, 0.0), 1.0)


def _sparkline(values) -> str:
    """SVG polyline points (100 x 24) for a KPI's values, oldest first."""
    if len(values) < 2:
        return ""
    numbers = [float(v) for v in values]
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    step = 100 / (len(numbers) - 1)
    return " ".join(f"{i * step:.1f},{22 - 20 * (n - low) / span:.1f}" for i, n in enumerate(numbers))


def _objective_rows(request, strategy, objectives, *, my_departments, kpi_forms):
    rows = []
    brand_accounts = [a.pk for a in strategy.brand.accounts.all()]
    for objective in objectives:
        objective.strategy = strategy  # the page's strategy: no query per objective for its brand
        figures = objective_figures(objective)
        kpi = kpis.get(objective.kpi)
        manual = list(objective.manual_values.all())
        may_enter = (kpi is not None and not kpi.computed
                     and (objective.owner.department_id in my_departments
                          or perms.can_edit_part(request.user, objective)))
        if kpi is not None and kpi.computed:
            account_ids = [a.pk for a in objective.accounts.all()] or brand_accounts
            series = selectors.computed_kpi_series(objective, account_ids=account_ids, end=figures.measured_to)
        else:
            series = [v.value for v in manual]
        label, tone = PROGRESS_LABELS.get(figures.progress, (_lazy("No value yet"), ""))
        share = _progress_share(objective, figures.current)
        rows.append({
            "objective": objective, "figures": figures, "kpi": kpi, "unit": kpi.unit if kpi else "",
            "progress_label": label, "progress_tone": tone, "bar": round(100 * share),
            "expected": round(100 * figures.elapsed) if objective.baseline is not None else None,
            "values": manual, "last_value": manual[-1] if manual else None,
            "series": series, "sparkline": _sparkline(series),
            "can_edit": perms.can_edit_part(request.user, objective),
            "kpi_form": (kpi_forms.get(objective.pk) or KpiValueForm(auto_id=f"id_kpi{objective.pk}_%s"))
            if may_enter else None,
        })
    return rows


def _weekly_hours(account) -> list[tuple[str, str]]:
    try:
        window = account.service_window
    except ObjectDoesNotExist:
        return []
    week: dict[str, list[str]] = {}
    for period in window.periods.all():
        week.setdefault(period.get_weekday_display(), []).append(period.label)
    return [(day, ", ".join(labels)) for day, labels in week.items()]


def _plan_rows(strategy, plans):
    rows, warnings, staffing = [], [], set()
    for plan in plans:
        account = plan.account
        try:
            window = account.service_window
        except ObjectDoesNotExist:
            window = None
        always = selectors.window_is_always_open(account)
        departments = list(account.departments.all())
        staffing.update(d.pk for d in departments)
        disagreement = ""
        if plan.promised_coverage == ChannelPlan.Coverage.ALWAYS and not always:
            disagreement = _("The plan promises 24/7 but the inbox watches %(account)s only in its service hours: "
                             "extend the service window or promise business hours.") % {"account": account}
        elif plan.promised_coverage == ChannelPlan.Coverage.BUSINESS_HOURS and always:
            disagreement = _("The plan promises business hours but the inbox watches %(account)s 24/7: "
                             "say which is meant.") % {"account": account}
        if not departments:
            warnings.append(_("Nobody staffs the inbox of %(account)s: attach a department to it.") % {
                "account": account})
        rows.append({"plan": plan, "window": window, "always": always, "hours": [] if always else
                     _weekly_hours(account), "departments": departments, "disagreement": disagreement})
    if len(rows) > len(staffing) and staffing:
        warnings.insert(0, _(
            "%(brand)s plans %(plans)s channels, but the departments staffing their inboxes cover %(staff)s: "
            "choose one or two channels that fit the audience rather than all of them.") % {
            "brand": strategy.brand, "plans": len(rows), "staff": len(staffing)})
    return rows, warnings


def _campaign_rows(request, strategy, campaigns, *, money, spend_forms):
    rows = []
    for campaign in campaigns:
        share = _share(campaign.spent, campaign.budget) if campaign.budget else (1.0 if campaign.spent else 0.0)
        tone = "bad" if share >= 1 else "warn" if share >= 0.9 else "ok"
        may_spend = money and perms.can_edit_part(request.user, campaign)
        rows.append({"campaign": campaign, "share": round(100 * share), "bar": round(100 * min(share, 1.0)),
                     "tone": tone, "spend_form": (spend_forms.get(campaign.pk) or SpendForm(
                         auto_id=f"id_spend{campaign.pk}_%s", initial={"currency": campaign.currency}))
                     if may_spend else None})
    return rows


def document_context(request, strategy, *, status_form=None, owner_form=None, end_forms=None, objective_form=None,
                     kpi_forms=None, segment_form=None, plan_form=None, campaign_form=None, spend_forms=None,
                     decision_form=None, review_form=None) -> dict:
    """Everything the strategy page shows, and the forms its reader may use
    (a refused one passed in, bound, in place of the blank one)."""
    user = request.user
    end_forms, kpi_forms, spend_forms = end_forms or {}, kpi_forms or {}, spend_forms or {}
    can_edit = perms.can_edit_strategy(user, strategy)
    can_status = perms.can_change_status(user, strategy)
    money = perms.can_see_money(user, strategy)
    owners = list(selectors.current_owners([strategy.pk]))
    for owner in owners:
        owner.end_form = end_forms.get(owner.pk) or ReasonForm(auto_id=f"id_end{owner.pk}_%s")
    departments = selectors.owners_by_department(owners)
    counting = [g["department"].name for g in departments if g["counting"]]
    adds_parts = can_edit or any(o.user_id == user.pk for o in owners)
    my_departments = set(Membership.objects.active().filter(user=user).values_list("department_id", flat=True))
    objectives = (strategy.objectives.select_related("owner__user", "owner__department")
                  .prefetch_related("accounts", "manual_values"))
    plans, plan_warnings = _plan_rows(strategy, selectors.channel_plans_for_page(strategy))
    part = {"strategy": strategy, "actor": user}
    today = timezone.localdate()
    live = strategy.status in (Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW)
    return {
        "strategy": strategy, "can_edit": can_edit, "can_status": can_status, "money": money,
        "can_review": can_edit or can_status, "adds_parts": adds_parts,
        "departments": departments, "counting_departments": counting,
        "flagged": strategy.status == Strategy.Status.ACTIVE and len(counting) < selectors.MINIMUM_OWNER_DEPARTMENTS,
        "review_overdue": live and strategy.next_review_on is not None and strategy.next_review_on < today,
        "objectives": _objective_rows(request, strategy, objectives, my_departments=my_departments,
                                      kpi_forms=kpi_forms),
        "plans": plans, "plan_warnings": plan_warnings,
        "segments": strategy.segments.select_related("owner__user", "owner__department").prefetch_related("accounts"),
        "campaigns": _campaign_rows(request, strategy, selectors.campaigns_with_spend(strategy), money=money,
                                    spend_forms=spend_forms),
        "decisions": strategy.decisions.select_related("decided_by", "recorded_by"),
        "reviews": strategy.reviews.select_related("reviewed_by"),
        "status_form": status_form or (StatusForm(strategy=strategy) if can_status else None),
        "owner_form": owner_form or (OwnerForm() if can_edit else None),
        "objective_form": objective_form or (ObjectiveForm(**part) if adds_parts else None),
        "segment_form": segment_form or (SegmentForm(**part) if adds_parts else None),
        "plan_form": plan_form or (ChannelPlanForm(**part) if adds_parts else None),
        "campaign_form": campaign_form or (CampaignForm(**part) if adds_parts else None),
        "decision_form": decision_form or (DecisionForm() if can_edit or can_status else None),
        "review_form": review_form or (ReviewForm() if can_edit or can_status else None),
        "end_forms": end_forms, "kpi_forms": kpi_forms, "spend_forms": spend_forms,
    }


# --- the register ----------------------------------------------------------------------

@login_required
@require_GET
def register_page(request):
    perms.require_read(request.user)
    form = RegisterFilterForm(request.GET or None)
    filters = {}
    if form.is_bound:
        if not form.is_valid():
            return render_invalid(request, "strategy/register.html", {
                "form": form, "rows": [], "can_create": perms.can_create_strategy(request.user), **NAV})
        data = form.cleaned_data
        filters = {"brand": data.get("brand"), "status": data.get("status") or "",
                   "department": data.get("department"), "review_due": bool(data.get("review_due"))}
    rows = selectors.register_rows(selectors.register(**filters))
    return render(request, "strategy/register.html", {
        "form": form, "rows": rows, "filtered": any(filters.values()),
        "can_create": perms.can_create_strategy(request.user), **NAV})


@login_required
@require_http_methods(["GET", "POST"])
def strategy_new(request):
    perms.require(perms.can_create_strategy(request.user), _("Social media managers and admins start strategies."))
    form = StrategyCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST":
        outcome = submit(form, lambda d: services.strategy_create(actor=request.user, **d))
        if outcome.ok:
            messages.success(request, _("Strategy drafted. Add owners from at least two departments to activate it."))
            return redirect("strategy:detail", pk=outcome.value.pk)
        return render_invalid(request, "strategy/strategy_form.html", {"form": form, **NAV})
    return render(request, "strategy/strategy_form.html", {"form": form, **NAV})


# --- the strategy as a document ----------------------------------------------------------

@login_required
@require_GET
def strategy_detail(request, pk):
    strategy = _strategy(request, pk)
    return render(request, "strategy/detail.html", {**document_context(request, strategy), **NAV})


def _refused(request, strategy, **forms):
    """Re-shows the strategy page with the refused form in place, opened, as a 400."""
    return render_invalid(request, "strategy/detail.html", {**document_context(request, strategy, **forms), **NAV})


def _back(request, strategy, message, anchor=""):
    messages.success(request, message)
    return redirect(reverse("strategy:detail", args=[strategy.pk]) + anchor)


@login_required
@require_http_methods(["GET", "POST"])
def strategy_edit(request, pk):
    strategy = _strategy(request, pk)
    perms.require(perms.can_edit_strategy(request.user, strategy),
                  _("Only the accountable social media manager and admins edit the strategy itself."))
    initial = {"title": strategy.title, "summary": strategy.summary, "accountable": strategy.accountable,
               "review_cadence_months": strategy.review_cadence_months, "next_review_on": strategy.next_review_on}
    form = StrategyEditForm(request.POST or None, initial=initial)
    context = {"form": form, "strategy": strategy, **NAV}
    if request.method == "POST":
        def action(data):
            reason = data.pop("reason")
            changes = {name: value for name, value in data.items() if initial.get(name) != value}
            if not changes:
                return strategy
            return services.strategy_update(actor=request.user, strategy=strategy, reason=reason, **changes)

        if submit(form, action).ok:
            return _back(request, strategy, _("Strategy saved; the previous version is kept."))
        return render_invalid(request, "strategy/strategy_form.html", context)
    return render(request, "strategy/strategy_form.html", context)


@login_required
@require_POST
def status_change(request, pk):
    strategy = _strategy(request, pk)
    perms.require(perms.can_change_status(request.user, strategy),
                  _("Only the accountable social media manager, admins and executives change a strategy's status."))
    form = StatusForm(request.POST, strategy=strategy)
    outcome = submit(form, lambda d: services.strategy_set_status(actor=request.user, strategy=strategy, **d))
    if outcome.ok:
        return _back(request, strategy, _("The strategy is now %(status)s.") % {
            "status": outcome.value.get_status_display().lower()})
    return _refused(request, strategy, status_form=form)


@login_required
@require_POST
def owner_add(request, pk):
    strategy = _strategy(request, pk)
    perms.require(perms.can_edit_strategy(request.user, strategy),
                  _("Only the accountable social media manager and admins choose the owners."))
    form = OwnerForm(request.POST)
    outcome = submit(form, lambda d: services.owner_add(actor=request.user, strategy=strategy, **d))
    if outcome.ok:
        return _back(request, strategy, _("%(owner)s now owns parts of this strategy.") % {"owner": outcome.value},
                     "#owners")
    return _refused(request, strategy, owner_form=form)


@login_required
@require_POST
def owner_end(request, pk, owner_pk):
    strategy = _strategy(request, pk)
    owner = get_object_or_404(StrategyOwner, pk=owner_pk, strategy=strategy)
    perms.require(perms.can_edit_strategy(request.user, strategy),
                  _("Only the accountable social media manager and admins choose the owners."))
    form = ReasonForm(request.POST, auto_id=f"id_end{owner.pk}_%s")
    if submit(form, lambda d: services.owner_end(actor=request.user, owner=owner, **d)).ok:
        return _back(request, strategy, _("%(owner)s no longer owns parts of this strategy.") % {"owner": owner},
                     "#owners")
    return _refused(request, strategy, end_forms={owner.pk: form})


def _require_part_writer(request, strategy):
    """Adding a part: the accountable SMM and admins, or a current owner (for themselves)."""
    perms.require(perms.can_edit_strategy(request.user, strategy) or perms.owns_part_of(request.user, strategy),
                  _("Owners add parts for their own department; the accountable SMM and admins for anyone."))


@login_required
@require_POST
def objective_add(request, pk):
    strategy = _strategy(request, pk)
    _require_part_writer(request, strategy)
    form = ObjectiveForm(request.POST, strategy=strategy, actor=request.user)
    outcome = submit(form, lambda d: services.objective_create(actor=request.user, strategy=strategy, **d))
    if outcome.ok:
        return _back(request, strategy, _("Objective added."), "#objectives")
    return _refused(request, strategy, objective_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request, pk, objective_pk):
    strategy = _strategy(request, pk)
    objective = get_object_or_404(Objective.objects.select_related("owner", "strategy__brand")
                                  .prefetch_related("accounts"), pk=objective_pk, strategy=strategy)
    perms.require(perms.can_edit_part(request.user, objective), _("Only its owner edits this objective."))
    fields = ["title", "kind", "category", "kpi", "baseline", "target", "direction", "starts_on", "deadline"]
    initial = {name: getattr(objective, name) for name in fields}
    initial["accounts"] = list(objective.accounts.all())
    form = ObjectiveEditForm(request.POST or None, initial=initial, objective=objective)
    context = {"form": form, "strategy": strategy, "objective": objective, **NAV}
    if request.method == "POST":
        def action(data):
            reason = data.pop("reason")
            accounts = data.pop("accounts")
            changes = {name: value for name, value in data.items() if initial.get(name) != value}
            same_accounts = {a.pk for a in accounts} == {a.pk for a in initial["accounts"]}
            return services.objective_update(actor=request.user, objective=objective, reason=reason,
                                             accounts=None if same_accounts else list(accounts), **changes)

        if submit(form, action).ok:
            return _back(request, strategy, _("Objective saved; the previous version is kept."), "#objectives")
        return render_invalid(request, "strategy/objective_form.html", context)
    return render(request, "strategy/objective_form.html", context)


@login_required
@require_POST
def kpi_value_add(request, pk, objective_pk):
    strategy = _strategy(request, pk)
    objective = get_object_or_404(Objective, pk=objective_pk, strategy=strategy)
    form = KpiValueForm(request.POST, auto_id=f"id_kpi{objective.pk}_%s")
    if submit(form, lambda d: services.kpi_value_add(actor=request.user, objective=objective, **d)).ok:
        return _back(request, strategy, _("Value recorded."), f"#objective-{objective.pk}")
    return _refused(request, strategy, kpi_forms={objective.pk: form})


def _part_view(form_class, service, context_key, message, anchor):
    @login_required
    @require_POST
    def view(request, pk):
        strategy = _strategy(request, pk)
        _require_part_writer(request, strategy)
        form = form_class(request.POST, strategy=strategy, actor=request.user)
        if submit(form, lambda d: service(actor=request.user, strategy=strategy, **d)).ok:
            return _back(request, strategy, message, anchor)
        return _refused(request, strategy, **{context_key: form})

    return view


segment_add = _part_view(SegmentForm, services.segment_create, "segment_form", _lazy("Segment added."), "#segments")
plan_add = _part_view(ChannelPlanForm, services.channel_plan_create, "plan_form", _lazy("Channel plan added."),
                      "#channels")
campaign_add = _part_view(CampaignForm, services.campaign_create, "campaign_form", _lazy("Campaign added."),
                          "#campaigns")


@login_required
@require_POST
def spend_add(request, pk, campaign_pk):
    strategy = _strategy(request, pk)
    campaign = get_object_or_404(Campaign.objects.select_related("owner"), pk=campaign_pk, strategy=strategy)
    perms.require(perms.can_see_money(request.user, strategy) and perms.can_edit_part(request.user, campaign),
                  _("Only the campaign's owner records its spend."))
    form = SpendForm(request.POST, auto_id=f"id_spend{campaign.pk}_%s")
    if submit(form, lambda d: services.spend_add(actor=request.user, campaign=campaign, **d)).ok:
        return _back(request, strategy, _("Spend recorded."), "#campaigns")
    return _refused(request, strategy, spend_forms={campaign.pk: form})


@login_required
@require_POST
def decision_add(request, pk):
    strategy = _strategy(request, pk)
    perms.require(perms.can_edit_strategy(request.user, strategy) or perms.can_change_status(request.user, strategy),
                  _("The accountable social media manager, admins and executives record decisions."))
    form = DecisionForm(request.POST)
    if submit(form, lambda d: services.decision_add(actor=request.user, strategy=strategy, **d)).ok:
        return _back(request, strategy, _("Decision recorded."), "#decisions")
    return _refused(request, strategy, decision_form=form)


@login_required
@require_POST
def review_complete(request, pk):
    strategy = _strategy(request, pk)
    perms.require(perms.can_edit_strategy(request.user, strategy) or perms.can_change_status(request.user, strategy),
                  _("The accountable social media manager, admins and executives complete reviews."))
    form = ReviewForm(request.POST)
    outcome = submit(form, lambda d: services.review_complete(actor=request.user, strategy=strategy, **d))
    if outcome.ok:
        return _back(request, strategy, _("Review recorded; the next one is due on %(date)s.") % {
            "date": outcome.value.next_review_on.isoformat()}, "#reviews")
    return _refused(request, strategy, review_form=form)


# --- versions --------------------------------------------------------------------------

def _history_context(request, strategy, compare_form=None):
    return {"strategy": strategy, "changes": versions.timeline(strategy),
            "compare_form": compare_form or CompareForm(), **NAV}


@login_required
@require_GET
def history(request, pk):
    strategy = _strategy(request, pk)
    return render(request, "strategy/history.html", _history_context(request, strategy))


@login_required
@require_GET
def compare(request, pk):
    strategy = _strategy(request, pk)
    form = CompareForm(request.GET)
    if not form.is_valid():
        return render_invalid(request, "strategy/history.html", _history_context(request, strategy, form))
    earlier, later = form.moments["from"], form.moments["to"]
    differences = versions.compare(strategy, earlier, later,
                                   include_money=perms.can_see_money(request.user, strategy))
    return render(request, "strategy/compare.html", {
        "strategy": strategy, "differences": differences, "earlier": earlier, "later": later, **NAV})



# --- brands ------------------------------------------------------------------------------

@login_required
@require_GET
def brands_page(request):
    perms.require_read(request.user)
    user = request.user
    is_admin = Role.ADMIN in perms._roles(user)
    brands = list(Brand.objects.annotate(strategy_count=Count("strategies"))
                  .prefetch_related("accounts", "managers").order_by("name"))
    for brand in brands:
        # manages_brand without a query per brand: the managers are prefetched.
        brand.can_edit = is_admin or (Role.SOCIAL_MEDIA_MANAGER in perms._roles(user)
                                      and any(m.pk == user.pk for m in brand.managers.all()))
    return render(request, "strategy/brands.html", {
        "brands": brands, "can_create": perms.can_create_strategy(user), **NAV})


@login_required
@require_http_methods(["GET", "POST"])
def brand_new(request):
    perms.require(perms.can_create_strategy(request.user), _("Social media managers and admins create brands."))
    form = BrandForm(request.POST or None)
    context = {"form": form, **NAV}
    if request.method == "POST":
        outcome = submit(form, lambda d: services.brand_create(actor=request.user, **d))
        if outcome.ok:
            messages.success(request, _("Brand %(brand)s created.") % {"brand": outcome.value})
            return redirect("strategy:brands")
        return render_invalid(request, "strategy/brand_form.html", context)
    return render(request, "strategy/brand_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def brand_edit(request, pk):
    perms.require_read(request.user)
    brand = get_object_or_404(Brand, pk=pk)
    perms.require(perms.manages_brand(request.user, brand), _("Only admins and the brand's managers change a brand."))
    initial = {"description": brand.description, "accounts": list(brand.accounts.all()),
               "managers": list(brand.managers.all())}
    form = BrandEditForm(request.POST or None, initial=initial, brand=brand)
    context = {"form": form, "brand": brand, **NAV}
    if request.method == "POST":
        def action(data):
            same = {name: {o.pk for o in data[name]} == {o.pk for o in initial[name]}
                    for name in ("accounts", "managers")}
            # A textarea posts CRLF and the form strips: neither alone is a change of the description.
            description = data["description"].replace("\r\n", "\n")
            same["description"] = description == initial["description"].replace("\r\n", "\n").strip()
            return services.brand_update(
                actor=request.user, brand=brand, reason=data["reason"],
                accounts=None if same["accounts"] else list(data["accounts"]),
                managers=None if same["managers"] else list(data["managers"]),
                description=None if same["description"] else description)

        if submit(form, action).ok:
            messages.success(request, _("Brand %(brand)s saved; the previous version is kept.") % {"brand": brand})
            return redirect("strategy:brands")
        return render_invalid(request, "strategy/brand_form.html", context)
    return render(request, "strategy/brand_form.html", context)
