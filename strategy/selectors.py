"""Reads of the strategy register."""

from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Membership

from .models import Strategy, StrategyOwner

MINIMUM_OWNER_DEPARTMENTS = 2


def counting_owners(at=None) -> QuerySet[StrategyOwner]:
    """Owners that count towards the two-department rule now: ownership not
    ended, the person active and still an active member of that department
    (a department emptied or a person offboarded no longer counts)."""
    at = at or timezone.now()
    member = Membership.objects.active(at).filter(user=OuterRef("user"), department=OuterRef("department"))
    return StrategyOwner.objects.filter(ended_at__isnull=True, user__is_active=True).filter(Exists(member))


def owner_department_count(strategy: Strategy) -> int:
    return counting_owners().filter(strategy=strategy).values("department").distinct().count()


def with_owner_departments(qs: QuerySet[Strategy]) -> QuerySet[Strategy]:
    """Annotates ``owner_departments`` (distinct departments of the owners
    that count) and ``below_two`` (an active strategy owned by fewer than two
    departments: flagged on the register)."""
    per_strategy = (counting_owners().filter(strategy=OuterRef("pk")).order_by().values("strategy")
                    .annotate(n=Count("department", distinct=True)).values("n"))
    return qs.annotate(owner_departments=Coalesce(Subquery(per_strategy, output_field=IntegerField()), Value(0)))


def register(*, brand=None, status: str = "", department=None, review_due: bool = False,
             today: date | None = None) -> QuerySet[Strategy]:
    """The register's rows, with the filters the page offers (each indexed)."""
    qs = with_owner_departments(Strategy.objects.select_related("brand", "accountable"))
    if brand is not None:
        qs = qs.filter(brand=brand)
    if status:
        qs = qs.filter(status=status)
    if department is not None:
        qs = qs.filter(Exists(StrategyOwner.objects.filter(strategy=OuterRef("pk"), department=department,
                                                           ended_at__isnull=True)))
    if review_due:
        today = today or timezone.localdate()
        qs = qs.filter(status__in=[Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW], next_review_on__lte=today)
    return qs.order_by("brand__name", "title")


def flagged(qs: QuerySet[Strategy]) -> QuerySet[Strategy]:
    """Active strategies below the two-department rule (needs ``with_owner_departments``)."""
    return qs.filter(Q(status=Strategy.Status.ACTIVE), Q(owner_departments__lt=MINIMUM_OWNER_DEPARTMENTS))


# --- the pages' reads (register rows, the strategy document) ------------------------------

def _count_of(model, fk: str = "owner"):
    """A correlated COUNT per owner (a subquery, so several counts do not multiply each other's joins)."""
    rows = (model.objects.filter(**{fk: OuterRef("pk")}).order_by().values(fk)
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def current_owners(strategy_ids) -> QuerySet[StrategyOwner]:
    """Current owners of the given strategies with what each owns, and
    whether they count towards the two-department rule now: one query."""
    from .models import Campaign, ChannelPlan, Objective, Segment

    now = timezone.now()
    member = Membership.objects.active(now).filter(user=OuterRef("user"), department=OuterRef("department"))
    return (StrategyOwner.objects.filter(strategy_id__in=list(strategy_ids), ended_at__isnull=True)
            .select_related("user", "department")
            .annotate(counting=Exists(member), n_objectives=_count_of(Objective), n_segments=_count_of(Segment),
                      n_plans=_count_of(ChannelPlan), n_campaigns=_count_of(Campaign))
            .order_by("department__name", "user__username", "pk"))


def owners_by_department(owners) -> list[dict]:
    """Owners grouped per department, side by side: who, and how many
    objectives, segments, channel plans and campaigns the department owns."""
    groups: dict[int, dict] = {}
    for owner in owners:
        group = groups.setdefault(owner.department_id, {
            "department": owner.department, "owners": [], "objectives": 0, "segments": 0, "plans": 0,
            "campaigns": 0, "counting": False})
        group["owners"].append(owner)
        group["objectives"] += owner.n_objectives
        group["segments"] += owner.n_segments
        group["plans"] += owner.n_plans
        group["campaigns"] += owner.n_campaigns
        group["counting"] = group["counting"] or owner.counting
    return list(groups.values())


def register_rows(strategies) -> list[dict]:
    """The register's rows: each strategy with its owners by department and
    the two-department flag; one extra query whatever the number of rows."""
    strategies = list(strategies)
    per_strategy: dict[int, list] = {}
    for owner in current_owners([s.pk for s in strategies]):
        per_strategy.setdefault(owner.strategy_id, []).append(owner)
    today = timezone.localdate()
    rows = []
    for strategy in strategies:
        departments = owners_by_department(per_strategy.get(strategy.pk, []))
        counting = [g["department"].name for g in departments if g["counting"]]
        rows.append({
            "strategy": strategy, "departments": departments, "counting_departments": counting,
            "flagged": (strategy.status == Strategy.Status.ACTIVE
                        and strategy.owner_departments < MINIMUM_OWNER_DEPARTMENTS),
            "review_overdue": (strategy.next_review_on is not None and strategy.next_review_on < today
                               and strategy.status in (Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW)),
        })
    return rows


def window_is_always_open(account) -> bool:
    """The inbox's reading of a channel's service window: no window, a
    24/7 window, or periods covering every minute of every weekday."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        window = account.service_window
    except ObjectDoesNotExist:
        return True
    if window.always_open:
        return True
    covered: dict[int, int] = {}
    for period in window.periods.all():
        covered[period.weekday] = covered.get(period.weekday, 0) + (period.closes_minute - period.opens_minute)
    return len(covered) == 7 and all(minutes >= 1440 for minutes in covered.values())


def channel_plans_for_page(strategy: Strategy):
    """The strategy's channel plans with their account, its service window
    (periods) and the departments staffing its inbox, in a fixed number of queries."""
    return (strategy.channel_plans.select_related("account", "account__service_window", "owner__user",
                                                  "owner__department")
            .prefetch_related("account__service_window__periods", "account__departments", "segments"))


def campaigns_with_spend(strategy: Strategy):
    from django.db.models import DecimalField, Sum

    from .models import MONEY, Spend

    spent = (Spend.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
             .annotate(total=Sum("amount")).values("total"))
    return (strategy.campaigns.select_related("owner__user", "owner__department", "objective")
            .prefetch_related("accounts")
            .annotate(spent=Coalesce(Subquery(spent, output_field=DecimalField(**MONEY)),
                                     Value(0, output_field=DecimalField(**MONEY)))))


def computed_kpi_series(objective, *, account_ids, end, points: int = 6) -> list:
    """A computed KPI over consecutive equal slices of the objective's time
    so far (at most ``points``, none shorter than a week): its sparkline.
    Every figure comes from ``strategy.kpis`` (and so ``strategy.metrics``);
    slices without data are left out."""
    from datetime import timedelta

    from . import kpis
    from .progress import instant

    start = instant(objective.starts_on)
    if end <= start:
        return []
    slices = max(1, min(points, int((end - start) / timedelta(days=7))))
    step = (end - start) / slices
    series = []
    for i in range(slices):
        value = kpis.compute(objective.kpi, account_ids=account_ids, start=start + i * step,
                             end=start + (i + 1) * step)
        if value is not None:
            series.append(value)
    return series
