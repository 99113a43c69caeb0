"""Every write to the strategy register: rights checked here, one audit
event each, and a version (django-simple-history) recording who changed
what and why. Pages and the API call these, never the models."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Membership, User
from accounts.roles import Role
from accounts.selectors import user_roles
from accounts.services import notify
from security.audit import audit_write

from . import kpis
from . import permissions as perms
from .models import (
    Brand,
    Campaign,
    ChannelPlan,
    Decision,
    KpiValue,
    Objective,
    Segment,
    Spend,
    Strategy,
    StrategyOwner,
    StrategyReview,
)
from .selectors import MINIMUM_OWNER_DEPARTMENTS, counting_owners

STATUS_TRANSITIONS = {
    Strategy.Status.DRAFT: {Strategy.Status.ACTIVE, Strategy.Status.RETIRED},
    Strategy.Status.ACTIVE: {Strategy.Status.UNDER_REVIEW, Strategy.Status.RETIRED},
    Strategy.Status.UNDER_REVIEW: {Strategy.Status.ACTIVE, Strategy.Status.RETIRED, Strategy.Status.DRAFT},
    Strategy.Status.RETIRED: set(),
}


def _audit(actor, action, target, *, before=None, after=None):
    audit_write(actor=actor, action=f"strategy.{action}",
                target_type=f"{target._meta.app_label}.{target._meta.model_name}", target_id=str(target.pk),
                target_repr=str(target)[:200], before=before, after=after)


def _save(instance, actor, reason: str, **kwargs):
    """Saves with the version's author and reason (django-simple-history)."""
    instance._history_user = actor
    instance._change_reason = (reason or "")[:100]
    instance.full_clean(**kwargs)
    instance.save()
    return instance


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why: every change to a strategy is kept with its reason.")})
    return reason


def _locked(strategy: Strategy) -> Strategy:
    return Strategy.objects.select_for_update().get(pk=strategy.pk)


# --- brands -----------------------------------------------------------------------------

@transaction.atomic
def brand_create(*, actor: User, name: str, slug: str, description: str = "", accounts=(), managers=()) -> Brand:
    """Admins and social media managers; a social media manager who creates
    a brand manages it."""
    perms.require(perms.can_create_strategy(actor), _("Social media managers and admins create brands."))
    brand = Brand(name=(name or "").strip(), slug=slug, description=description)
    _save(brand, actor, "created", validate_unique=True)
    brand.accounts.set(accounts)
    managers = list(managers)
    if Role.SOCIAL_MEDIA_MANAGER in user_roles(actor) and actor not in managers:
        managers.append(actor)
    brand.managers.set(managers)
    _audit(actor, "brand_created", brand, after={"name": brand.name, "accounts": [a.pk for a in accounts],
                                                 "managers": [m.pk for m in managers]})
    return brand


# --- strategies -------------------------------------------------------------------------

@transaction.atomic
def strategy_create(*, actor: User, brand: Brand, title: str, summary: str = "", accountable: User | None = None,
                    review_cadence_months: int = 3) -> Strategy:
    perms.require(perms.can_create_strategy(actor), _("Social media managers and admins start strategies."))
    if not perms.manages_brand(actor, brand):
        raise ValidationError({"brand": _("You do not manage %(brand)s: choose one of your brands.") % {
            "brand": brand}})
    accountable = accountable or actor
    if Role.SOCIAL_MEDIA_MANAGER not in user_roles(accountable) and Role.ADMIN not in user_roles(accountable):
        raise ValidationError({"accountable": _("The accountable person must be a social media manager.")})
    strategy = Strategy(brand=brand, title=(title or "").strip(), summary=summary, accountable=accountable,
                        review_cadence_months=review_cadence_months, created_by=actor,
                        next_review_on=timezone.localdate() + relativedelta(months=review_cadence_months))
    _save(strategy, actor, "created")
    _audit(actor, "created", strategy, after={"brand": brand.pk, "title": strategy.title,
                                              "accountable": accountable.pk})
    return strategy


@transaction.atomic
def strategy_update(*, actor: User, strategy: Strategy, reason: str, **changes) -> Strategy:
    """Title, summary, the accountable SMM, the review cadence."""
    strategy = _locked(strategy)
    perms.require(perms.can_edit_strategy(actor, strategy),
                  _("Only the accountable social media manager and admins edit the strategy itself."))
    reason = _reason(reason)
    allowed = {"title", "summary", "accountable", "review_cadence_months", "next_review_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    before = {name: str(getattr(strategy, name)) for name in changes}
    for name, value in changes.items():
        setattr(strategy, name, value)
    _save(strategy, actor, reason)
    _audit(actor, "updated", strategy, before=before,
           after={**{name: str(getattr(strategy, name)) for name in changes}, "reason": reason})
    return strategy


@transaction.atomic
def strategy_set_status(*, actor: User, strategy: Strategy, status: str, reason: str) -> Strategy:
    """Only the accountable SMM, admins and executives. Becoming active
    needs owners from at least two departments (the channel is not owned by
    marketing alone)."""
    strategy = _locked(strategy)
    perms.require(perms.can_change_status(actor, strategy),
                  _("Only the accountable social media manager, admins and executives change a strategy's status."))
    reason = _reason(reason)
    if status not in Strategy.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == strategy.status:
        return strategy
    if status not in STATUS_TRANSITIONS[strategy.status]:
        raise ValidationError({"status": _("A %(from)s strategy cannot become %(to)s.") % {
            "from": strategy.get_status_display().lower(), "to": Strategy.Status(status).label.lower()}})
    if status == Strategy.Status.ACTIVE:
        departments = sorted(counting_owners().filter(strategy=strategy)
                             .values_list("department__name", flat=True).distinct())
        if len(departments) < MINIMUM_OWNER_DEPARTMENTS:
            owned = ", ".join(departments) or _("no department")
            raise ValidationError({"status": _(
                "A strategy becomes active only when owners from at least two departments share it; "
                "it is owned by %(owned)s. Add an owner from another department first.") % {"owned": owned}})
    before = strategy.status
    strategy.status = status
    _save(strategy, actor, reason)
    _audit(actor, "status_changed", strategy, before={"status": before}, after={"status": status, "reason": reason})
    return strategy


# --- owners -----------------------------------------------------------------------------

@transaction.atomic
def owner_add(*, actor: User, strategy: Strategy, user: User, department: Department,
              responsibility: str = "") -> StrategyOwner:
    strategy = _locked(strategy)
    perms.require(perms.can_edit_strategy(actor, strategy),
                  _("Only the accountable social media manager and admins choose the owners."))
    if not user.is_active:
        raise ValidationError({"user": _("%(user)s is not an active member.") % {"user": user}})
    if not Membership.objects.active().filter(user=user, department=department).exists():
        raise ValidationError({"department": _("%(user)s is not a member of %(department)s.") % {
            "user": user, "department": department}})
    if strategy.owners.filter(user=user, department=department, ended_at__isnull=True).exists():
        raise ValidationError({"user": _("%(user)s already owns parts of this strategy for %(department)s.") % {
            "user": user, "department": department}})
    owner = StrategyOwner(strategy=strategy, user=user, department=department, responsibility=responsibility)
    _save(owner, actor, "owner added")
    _audit(actor, "owner_added", strategy, after={"user": user.pk, "department": department.pk})
    return owner


@transaction.atomic
def owner_end(*, actor: User, owner: StrategyOwner, reason: str) -> StrategyOwner:
    owner = StrategyOwner.objects.select_for_update().get(pk=owner.pk)
    perms.require(perms.can_edit_strategy(actor, owner.strategy),
                  _("Only the accountable social media manager and admins choose the owners."))
    reason = _reason(reason)
    if owner.ended_at is None:
        owner.ended_at = timezone.now()
        _save(owner, actor, reason)
        _audit(actor, "owner_ended", owner.strategy, after={"user": owner.user_id, "reason": reason})
    return owner


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


def _owner_of(strategy: Strategy, owner: StrategyOwner) -> StrategyOwner:
    if owner.strategy_id != strategy.pk or owner.ended_at is not None:
        raise ValidationError({"owner": _("Choose a current owner of this strategy.")})
    return owner


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


def _check_accounts(strategy: Strategy, accounts) -> None:
    brand_accounts = set(strategy.brand.accounts.values_list("pk", flat=True))
    outside = [str(a) for a in accounts if a.pk not in brand_accounts]
    if outside:
        raise ValidationError({"accounts": _("Not a channel of %(brand)s: %(accounts)s.") % {
            "brand": strategy.brand, "accounts": ", ".join(outside)}})


@transaction.atomic
def kpi_value_add(*, actor: User, objective: Objective, value: Decimal, measured_on: date, source: str) -> KpiValue:
    """A hand-entered value of a KPI the portal cannot see, by the owning department."""
    objective = Objective.objects.select_related("owner", "strategy").get(pk=objective.pk)
    in_department = Membership.objects.active().filter(user=actor, department=objective.owner.department_id).exists()
    perms.require(in_department or perms.can_edit_part(actor, objective),
                  _("Values are entered by the department that owns the objective."))
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


# --- decisions and reviews --------------------------------------------------------------

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


@transaction.atomic
def review_complete(*, actor: User, strategy: Strategy, changes: str) -> StrategyReview:
    """Records who reviewed and what changed, and sets the next review date
    from the cadence."""
    strategy = _locked(strategy)
    perms.require(perms.can_edit_strategy(actor, strategy) or perms.can_change_status(actor, strategy),
                  _("The accountable social media manager, admins and executives complete reviews."))
    if not (changes or "").strip():
        raise ValidationError({"changes": _("Say what the review changed, or why nothing needed to.")})
    today = timezone.localdate()
    next_on = today + relativedelta(months=strategy.review_cadence_months)
    review = StrategyReview.objects.create(strategy=strategy, reviewed_by=actor, changes=changes.strip(),
                                           next_review_on=next_on)
    Strategy.objects.filter(pk=strategy.pk).update(next_review_on=next_on, review_due_reminded_on=None,
                                                   review_overdue_reminded_on=None, updated_at=timezone.now())
    _audit(actor, "reviewed", strategy, after={"next_review_on": next_on.isoformat(), "changes": changes[:500]})
    return review


def send_review_reminders(*, today: date | None = None, due_within_days: int = 7) -> dict:
    """Reminds the accountable SMM and the owners, in the portal and by
    email, once when a review is due within ``due_within_days`` and once when
    it is overdue. Each reminder is claimed with a conditional update, so a
    duplicated run sends nothing twice."""
    from django.core.mail import send_mail

    today = today or timezone.localdate()
    sent = {"due": 0, "overdue": 0}
    live = Strategy.objects.filter(status__in=[Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW],
                                   next_review_on__isnull=False)
    batches = (
        ("overdue", live.filter(next_review_on__lt=today, review_overdue_reminded_on__isnull=True),
         "review_overdue_reminded_on"),
        ("due", live.filter(next_review_on__gte=today, next_review_on__lte=today + relativedelta(days=due_within_days),
                            review_due_reminded_on__isnull=True), "review_due_reminded_on"),
    )
    for kind, qs, flag in batches:
        for strategy in qs.select_related("accountable"):
            if not Strategy.objects.filter(pk=strategy.pk, **{f"{flag}__isnull": True}).update(**{flag: today}):
                continue
            people = {strategy.accountable, *(o.user for o in counting_owners().filter(strategy=strategy)
                                              .select_related("user"))}
            if kind == "overdue":
                text = _("The review of %(strategy)s was due on %(date)s.")
            else:
                text = _("The review of %(strategy)s is due on %(date)s.")
            text = text % {"strategy": strategy, "date": strategy.next_review_on.isoformat()}
            for person in people:
                if not person.is_active:
                    continue
                notify(recipient=person, kind=f"strategy.review_{kind}", text=text, url=f"/strategy/{strategy.pk}/",
                       level="alert" if kind == "overdue" else "info")
                if person.email:
                    send_mail(subject=text, message=text, from_email=None, recipient_list=[person.email],
                              fail_silently=True)
            sent[kind] += 1
    return sent
