"""The parts of a strategy: objectives and their hand-entered KPI values,
segments, channel plans, campaigns and spend, decisions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.services import notify

from .. import kpis
from .. import permissions as perms
from ..models import (
    Campaign,
    ChannelPlan,
    Decision,
    KpiValue,
    Objective,
    Segment,
    Spend,
    Strategy,
    StrategyOwner,
)
from ._common import _audit, _check_accounts, _not_retired, _owner_of, _reason, _save

# --- objectives and KPI values ----------------------------------------------------------

def _check_objective(objective: Objective) -> None:
    errors = {}
    kpi = kpis.get(objective.kpi)
    if kpi is None:
        errors["kpi"] = _("Choose what the objective measures.")
    if objective.target is None:
        errors["target"] = _("An objective needs a target.")
    if objective.starts_on and objective.deadline and objective.deadline <= objective.starts_on:
        errors["deadline"] = _("The deadline must come after the start.")
    proactive = objective.category in Objective.PROACTIVE_CATEGORIES
    if objective.kind and objective.category and proactive != (objective.kind == Objective.Kind.PROACTIVE):
        errors["category"] = _("%(category)s is a %(kind)s objective.") % {
            "category": Objective.Category(objective.category).label,
            "kind": (_("proactive") if proactive else _("reactive"))}
    if errors:
        raise ValidationError(errors)




@transaction.atomic
def objective_create(*, actor: User, strategy: Strategy, owner: StrategyOwner, accounts=(), **fields) -> Objective:
    _owner_of(strategy, owner)
    perms.require(perms.can_add_part(actor, strategy, owner),
                  _("Owners add objectives for their own department; the accountable SMM and admins for anyone."))
    _check_accounts(strategy, accounts)
    objective = Objective(strategy=strategy, owner=owner, **fields)
    _check_objective(objective)
    _save(objective, actor, "objective added")
    objective.accounts.set(accounts)
    _audit(actor, "objective_added", objective, after={"strategy": strategy.pk, "kpi": objective.kpi,
                                                       "target": str(objective.target)})
    return objective


@transaction.atomic
def objective_update(*, actor: User, objective: Objective, reason: str, accounts=None, **changes) -> Objective:
    objective = Objective.objects.select_for_update().select_related("owner", "strategy").get(pk=objective.pk)
    perms.require(perms.can_edit_part(actor, objective), _("Only its owner edits this objective."))
    _not_retired(objective.strategy)
    reason = _reason(reason)
    before = {name: str(getattr(objective, name)) for name in changes}
    for name, value in changes.items():
        setattr(objective, name, value)
    _check_objective(objective)
    _save(objective, actor, reason)
    if accounts is not None:
        _check_accounts(objective.strategy, accounts)
        objective.accounts.set(accounts)
    _audit(actor, "objective_updated", objective, before=before,
           after={**{name: str(getattr(objective, name)) for name in changes}, "reason": reason})
    return objective




@transaction.atomic
def kpi_value_add(*, actor: User, objective: Objective, value: Decimal, measured_on: date, source: str) -> KpiValue:
    """A hand-entered value of a KPI the portal cannot see, by the owning department."""
    objective = Objective.objects.select_related("owner", "strategy").get(pk=objective.pk)
    in_department = Membership.objects.active().filter(user=actor, department=objective.owner.department_id).exists()
    perms.require(in_department or perms.can_edit_part(actor, objective),
                  _("Values are entered by the department that owns the objective."))
    _not_retired(objective.strategy)
    kpi = kpis.get(objective.kpi)
    if kpi is not None and kpi.computed:
        raise ValidationError({"value": _("The portal computes this KPI; it is not entered by hand.")})
    if not (source or "").strip():
        raise ValidationError({"source": _("Say where the figure comes from.")})
    if measured_on > timezone.localdate():
        raise ValidationError({"measured_on": _("A value cannot be measured in the future.")})
    row = KpiValue(objective=objective, value=value, measured_on=measured_on, source=source.strip(), entered_by=actor)
    _save(row, actor, "value entered")
    _audit(actor, "kpi_value_added", objective, after={"value": str(value), "measured_on": measured_on.isoformat(),
                                                       "source": row.source})
    return row


# --- segments, channel plans ------------------------------------------------------------

@transaction.atomic
def segment_create(*, actor: User, strategy: Strategy, owner: StrategyOwner, accounts=(), **fields) -> Segment:
    _owner_of(strategy, owner)
    perms.require(perms.can_add_part(actor, strategy, owner), _("Owners add segments for their own department."))
    _check_accounts(strategy, accounts)
    segment = Segment(strategy=strategy, owner=owner, **fields)
    _save(segment, actor, "segment added", validate_unique=True)
    segment.accounts.set(accounts)
    _audit(actor, "segment_added", segment, after={"strategy": strategy.pk, "name": segment.name})
    return segment


@transaction.atomic
def channel_plan_create(*, actor: User, strategy: Strategy, owner: StrategyOwner, segments=(), **fields) -> ChannelPlan:
    _owner_of(strategy, owner)
    perms.require(perms.can_add_part(actor, strategy, owner), _("Owners add channel plans for their own department."))
    account = fields.get("account")
    if account is not None:
        _check_accounts(strategy, [account])
    if any(segment.strategy_id != strategy.pk for segment in segments):
        raise ValidationError({"segments": _("Choose segments of this strategy.")})
    plan = ChannelPlan(strategy=strategy, owner=owner, **fields)
    _save(plan, actor, "channel plan added")
    plan.segments.set(segments)
    _audit(actor, "channel_plan_added", plan, after={"strategy": strategy.pk, "account": plan.account_id})
    return plan


# --- campaigns and spend ----------------------------------------------------------------

@transaction.atomic
def campaign_create(*, actor: User, strategy: Strategy, owner: StrategyOwner, accounts=(), **fields) -> Campaign:
    _owner_of(strategy, owner)
    perms.require(perms.can_add_part(actor, strategy, owner), _("Owners add campaigns for their own department."))
    _check_accounts(strategy, accounts)
    campaign = Campaign(strategy=strategy, owner=owner, **fields)
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise ValidationError({"ends_on": _("A campaign cannot end before it starts.")})
    if campaign.objective_id and campaign.objective.strategy_id != strategy.pk:
        raise ValidationError({"objective": _("Choose an objective of this strategy.")})
    _save(campaign, actor, "campaign added")
    campaign.accounts.set(accounts)
    _audit(actor, "campaign_added", campaign, after={"strategy": strategy.pk, "budget": str(campaign.budget),
                                                     "currency": campaign.currency})
    return campaign


def campaign_spent(campaign: Campaign) -> Decimal:
    return campaign.spend.aggregate(total=Sum("amount"))["total"] or Decimal("0")


@transaction.atomic
def spend_add(*, actor: User, campaign: Campaign, amount, currency: str, spent_on: date, note: str = "") -> Spend:
    """Money in the campaign's currency only; the accountable SMM is alerted
    once when spend passes 90% and once at 100% of the budget."""
    campaign = Campaign.objects.select_for_update().select_related("strategy", "owner").get(pk=campaign.pk)
    perms.require(perms.can_edit_part(actor, campaign), _("Only the campaign's owner records its spend."))
    _not_retired(campaign.strategy)
    try:
        amount = Decimal(str(amount))
    except Exception:
        raise ValidationError({"amount": _("Enter an amount such as 125.50.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("Spend is a positive amount.")})
    if currency != campaign.currency:
        raise ValidationError({"currency": _("This campaign is budgeted in %(currency)s; record spend in it.") % {
            "currency": campaign.currency}})
    spend = Spend(campaign=campaign, amount=amount, currency=currency, spent_on=spent_on, note=note,
                  entered_by=actor)
    _save(spend, actor, "spend recorded")
    _audit(actor, "spend_added", campaign, after={"amount": str(amount), "currency": currency,
                                                  "spent_on": spent_on.isoformat()})
    total = campaign_spent(campaign)
    for threshold, flag in ((Decimal("1.00"), "alerted_100"), (Decimal("0.90"), "alerted_90")):
        if campaign.budget and total >= campaign.budget * threshold:
            # Conditional update: of two spends crossing the line at once, one alerts.
            if Campaign.objects.filter(pk=campaign.pk, **{flag: False}).update(**{flag: True}):
                notify(recipient=campaign.strategy.accountable, kind="strategy.budget", level="alert",
                       url=f"/strategy/{campaign.strategy_id}/",
                       text=_("%(campaign)s has spent %(spent)s of %(budget)s %(currency)s (%(share)d%%).") % {
                           "campaign": campaign.name, "spent": total, "budget": campaign.budget,
                           "currency": campaign.currency, "share": int(100 * total / campaign.budget)})
            break
    return spend


# --- decisions -----------------------------------------------------------------------------

@transaction.atomic
def decision_add(*, actor: User, strategy: Strategy, decided_on: date, decided_by: User, title: str, rationale: str,
                 alternatives: str = "") -> Decision:
    perms.require(perms.can_edit_strategy(actor, strategy) or perms.can_change_status(actor, strategy),
                  _("The accountable social media manager, admins and executives record decisions."))
    decision = Decision(strategy=strategy, decided_on=decided_on, decided_by=decided_by, title=title,
                        rationale=rationale, alternatives=alternatives, recorded_by=actor)
    _save(decision, actor, "decision recorded")
    _audit(actor, "decision_added", strategy, after={"decision": decision.pk, "title": title})
    return decision


