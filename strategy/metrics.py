"""Every figure the strategy register and the reputation reports show.

One module, so a KPI on an objective and the same number on a report are
the same query. Each figure is plain grouped SQL over the inbox's own
columns: the service-time durations (``first_response_service_minutes``,
``resolution_service_minutes``) are written on the conversation when those
events happen, with the channel's service window of that moment (a later
change to a window does not rewrite history), so nothing here re-runs the
clock or loads conversations into Python.

Percentiles use PostgreSQL's ``percentile_cont``; on SQLite, which has no
ordered-set aggregates, the same interpolation is read with two small
ordered queries (a count, then the one or two neighbouring values)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from inbox.models import Conversation, ConversationTag, Intent, Message, Sentiment, TopicDay, TopicDayTotal

# --- scope and period ---------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Half-open: ``start <= t < end``. ``prior_start`` is where the previous
    period starts when it is not simply one length back (a report's previous
    "30 local days" across a daylight-saving change)."""

    start: datetime
    end: datetime
    prior_start: datetime | None = None

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("A period must end after it starts.")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.prior_start or self.start - self.length, self.start)

    @classmethod
    def last_days(cls, days: int, *, now: datetime | None = None) -> Period:
        end = now or timezone.now()
        return cls(end - timedelta(days=days), end)


@dataclass(frozen=True)
class Scope:
    """Which conversations a figure covers: some social accounts (None: all)
    and optionally one department's queue."""

    account_ids: tuple[int, ...] | None = None
    department_id: int | None = None

    def conversations(self) -> QuerySet:
        qs = Conversation.objects.all()
        if self.account_ids is not None:
            qs = qs.filter(account_id__in=self.account_ids)
        if self.department_id is not None:
            qs = qs.filter(department_id=self.department_id)
        return qs

    def inbound_messages(self) -> QuerySet:
        qs = Message.objects.filter(direction=Message.Direction.INBOUND)
        if self.account_ids is not None:
            qs = qs.filter(account_id__in=self.account_ids)
        if self.department_id is not None:
            qs = qs.filter(conversation__department_id=self.department_id)
        return qs


# --- percentiles ----------------------------------------------------------------------------

class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY expr)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile(qs: QuerySet, field: str, fraction: float) -> float | None:
    """The continuous percentile of ``field`` over ``qs`` (rows where it is
    NULL are left out), as ``percentile_cont`` computes it; None when empty."""
    qs = qs.filter(**{f"{field}__isnull": False})
    if connections[qs.db].vendor == "postgresql":
        return qs.aggregate(value=PercentileCont(field, fraction))["value"]
    count = qs.count()
    if count == 0:
        return None
    position = fraction * (count - 1)
    low = math.floor(position)
    values = list(qs.order_by(field).values_list(field, flat=True)[low:low + 2])
    if len(values) == 1 or position == low:
        return float(values[0])
    return float(values[0]) + (float(values[1]) - float(values[0])) * (position - low)


# --- the figures ----------------------------------------------------------------------------

def inbound_volume(scope: Scope, period: Period) -> int:
    """Messages from customers that arrived in the period."""
    return scope.inbound_messages().filter(sent_at__gte=period.start, sent_at__lt=period.end).count()


def _opened_in(scope: Scope, period: Period) -> QuerySet:
    return scope.conversations().filter(opened_at__gte=period.start, opened_at__lt=period.end)


def first_response_minutes(scope: Scope, period: Period) -> dict:
    """Median and 90th percentile of the first response, in service minutes
    (inside the channels' service windows), over conversations opened in the
    period and answered; ``answered`` says how many."""
    answered = _opened_in(scope, period).filter(first_response_service_minutes__isnull=False)
    if connections[answered.db].vendor == "postgresql":
        # One scan for the three figures (bench/bench_strategy.py: three statements cost three scans).
        return answered.aggregate(median=PercentileCont("first_response_service_minutes", 0.5),
                                  p90=PercentileCont("first_response_service_minutes", 0.9),
                                  answered=Count("pk"))
    return {
        "median": percentile(answered, "first_response_service_minutes", 0.5),
        "p90": percentile(answered, "first_response_service_minutes", 0.9),
        "answered": answered.count(),
    }


def sla_attainment(scope: Scope, period: Period, *, now: datetime | None = None) -> dict:
    """Share of conversations answered within their first-response target.
    Judged: those answered, and those unanswered whose target has passed (by
    ``now``); an unanswered conversation still inside its target is not
    judged yet. ``share`` is None when nothing can be judged."""
    now = now or timezone.now()
    answered = Q(first_response_at__isnull=False)
    # Still open and past its target: a conversation closed without a reply (spam, a duplicate) is not judged.
    overdue = Q(first_response_at__isnull=True, first_response_due_at__lte=now,
                status__in=Conversation.OPEN_STATUSES)
    counts = _opened_in(scope, period).aggregate(
        on_time=Count("pk", filter=answered & Q(first_response_breached=False)),
        late=Count("pk", filter=answered & Q(first_response_breached=True)),
        overdue=Count("pk", filter=overdue),
    )
    judged = counts["on_time"] + counts["late"] + counts["overdue"]
    return {**counts, "judged": judged, "share": counts["on_time"] / judged if judged else None}


def complaint_resolution(scope: Scope, period: Period) -> dict:
    """Complaints opened in the period, how many are resolved (or closed),
    the rate, and the median resolution time in service minutes."""
    complaints = _opened_in(scope, period).filter(intent=Intent.COMPLAINT)
    aggregates = {"opened": Count("pk"), "resolved": Count("pk", filter=Q(resolved_at__isnull=False))}
    postgresql = connections[complaints.db].vendor == "postgresql"
    if postgresql:  # the median in the same scan
        aggregates["median_minutes"] = PercentileCont(
            "resolution_service_minutes", 0.5,
            filter=Q(resolved_at__isnull=False, resolution_service_minutes__isnull=False))
    counts = complaints.aggregate(**aggregates)
    if not postgresql:
        counts["median_minutes"] = percentile(complaints.filter(resolved_at__isnull=False),
                                              "resolution_service_minutes", 0.5)
    return {**counts, "rate": counts["resolved"] / counts["opened"] if counts["opened"] else None}


def sentiment(scope: Scope, period: Period) -> dict:
    """Inbound messages of the period by sentiment; ``negative_share`` and
    ``net`` (positive share minus negative share, -100..100) in percent."""
    counts = scope.inbound_messages().filter(sent_at__gte=period.start, sent_at__lt=period.end).aggregate(
        total=Count("pk"),
        positive=Count("pk", filter=Q(sentiment=Sentiment.POSITIVE)),
        neutral=Count("pk", filter=Q(sentiment=Sentiment.NEUTRAL)),
        negative=Count("pk", filter=Q(sentiment=Sentiment.NEGATIVE)),
    )
    total = counts["total"]
    return {
        **counts,
        "negative_share": 100 * counts["negative"] / total if total else None,
        "net": 100 * (counts["positive"] - counts["negative"]) / total if total else None,
    }


# --- the report's grouped figures ------------------------------------------------------------
#
# The reputation report reads each of these once per page, for the period and the previous
# period of the same length together (one scan over both, the rows tagged ``current``), so
# the number of queries is fixed whatever the period. Each returns grouped rows; the report
# adds them up (a few hundred rows at most, never one per conversation or message).

def _in_current(field: str, period: Period) -> Case:
    return Case(When(**{f"{field}__gte": period.start}, then=Value(True)), default=Value(False),
                output_field=BooleanField())


def _both(period: Period) -> Period:
    return Period(period.previous().start, period.end)


def _local_midnights(start: datetime, end: datetime, tz) -> list[datetime]:
    """The local midnights (in ``tz``) from the one at or before ``start`` up to ``end``."""
    day, bounds = start.astimezone(tz).date(), []
    while (midnight := datetime.combine(day, time.min, tzinfo=tz)) < end:
        bounds.append(midnight)
        day += timedelta(days=1)
    return bounds


def messages_by_day(scope: Scope, period: Period, tz) -> list[dict]:
    """Inbound messages per local day (in ``tz``) and sentiment, for the
    period and the previous one: rows of ``current``, ``day``, ``sentiment``, ``n``.

    On PostgreSQL the day is found with ``width_bucket`` over the local
    midnights (worked out here, daylight-saving changes included) rather than
    a time-zone conversion of every row: a third of the time at a million messages."""
    both = _both(period)
    messages = scope.inbound_messages().filter(sent_at__gte=both.start, sent_at__lt=both.end)
    if connections[messages.db].vendor != "postgresql":
        return list(
            messages.annotate(current=_in_current("sent_at", period), day=TruncDate("sent_at", tzinfo=tz))
            .values("current", "day", "sentiment").annotate(n=Count("pk")).order_by())
    bounds = _local_midnights(both.start, both.end, tz)
    bucket = RawSQL('width_bucket("inbox_message"."sent_at", %s::timestamptz[])', (bounds,),
                    output_field=IntegerField())
    rows = messages.annotate(bucket=bucket).values("bucket", "sentiment").annotate(n=Count("pk")).order_by()
    return [{"current": bounds[r["bucket"] - 1] >= period.start, "day": bounds[r["bucket"] - 1].date(),
             "sentiment": r["sentiment"], "n": r["n"]} for r in rows]


def messages_by_channel(scope: Scope, period: Period) -> list[dict]:
    """Inbound messages per channel, sentiment, intent and whether they
    arrived outside the channel's service window, for both periods: rows of
    ``current``, ``account_id``, ``sentiment``, ``intent``, ``outside``, ``n``."""
    both = _both(period)
    return list(
        scope.inbound_messages().filter(sent_at__gte=both.start, sent_at__lt=both.end)
        .annotate(current=_in_current("sent_at", period), outside=F("outside_service_hours"))
        .values("current", "account_id", "sentiment", "intent", "outside").annotate(n=Count("pk")).order_by()
    )


def conversations_grouped(scope: Scope, period: Period, *, now: datetime) -> list[dict]:
    """Conversations opened in either period per channel, department and
    intent, with every count the report shows (SLA judgement as in
    ``sla_attainment``, breaches, influencer and sensitive, resolution, what
    is still open now and how old)."""
    both = _both(period)
    answered = Q(first_response_at__isnull=False)
    is_open = Q(status__in=Conversation.OPEN_STATUSES)
    overdue = Q(first_response_at__isnull=True, first_response_due_at__lte=now) & is_open
    return list(
        scope.conversations().filter(opened_at__gte=both.start, opened_at__lt=both.end)
        .annotate(current=_in_current("opened_at", period))
        .values("current", "account_id", "department_id", "intent")
        .annotate(
            opened=Count("pk"),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
            open_now=Count("pk", filter=is_open),
            open_over_1d=Count("pk", filter=is_open & Q(opened_at__lt=now - timedelta(days=1))),
            open_over_3d=Count("pk", filter=is_open & Q(opened_at__lt=now - timedelta(days=3))),
            open_over_7d=Count("pk", filter=is_open & Q(opened_at__lt=now - timedelta(days=7))),
            oldest_open=Min("opened_at", filter=is_open),
            on_time=Count("pk", filter=answered & Q(first_response_breached=False)),
            late=Count("pk", filter=answered & Q(first_response_breached=True)),
            overdue=Count("pk", filter=overdue),
            breached=Count("pk", filter=Q(sla_breached=True) | Q(first_response_breached=True)),
            influencer=Count("pk", filter=Q(is_influencer=True)),
            sensitive=Count("pk", filter=Q(is_sensitive=True)),
        ).order_by()
    )


def tags_grouped(scope: Scope, period: Period) -> list[dict]:
    """Conversations opened in either period per tag: ``current``, ``name``, ``n``."""
    both = _both(period)
    links = ConversationTag.objects.filter(conversation__opened_at__gte=both.start,
                                           conversation__opened_at__lt=both.end)
    if scope.account_ids is not None:
        links = links.filter(conversation__account_id__in=scope.account_ids)
    if scope.department_id is not None:
        links = links.filter(conversation__department_id=scope.department_id)
    # Through the join, not an IN (subquery): one scan; a (conversation, tag) pair is unique, so no DISTINCT.
    return list(
        links.annotate(current=_in_current("conversation__opened_at", period), name=F("tag__name"))
        .values("current", "name").annotate(n=Count("conversation_id")).order_by()
    )


def topic_growth(scope: Scope, period: Period, *, totals: tuple[int, int], limit: int = 8) -> list[dict]:
    """The terms whose share of inbound messages grew most against the
    previous period (``inbox.TopicDay``, or ``TopicDayTotal`` for the whole organisation; counted per day in the
    organisation's time zone, so the period is read as whole local days).
    ``totals`` is (current, previous) inbound messages. Rows of ``term``,
    ``current``, ``previous`` (messages) ordered by the growth of the share."""
    current_total, previous_total = totals
    # Run even for an empty period (it then finds no term with 3 messages): the query count stays fixed.
    org_tz = ZoneInfo(settings.TIME_ZONE)
    start_day = period.start.astimezone(org_tz).date()
    prev_day = period.previous().start.astimezone(org_tz).date()
    # The last day the period touches (an end at midnight belongs to the day before): as many days as before.
    end_day = (period.end - timedelta(microseconds=1)).astimezone(org_tz).date()
    if scope.account_ids is None and scope.department_id is None:
        # The whole organisation: the rollup already added up over channels and departments (a quarter of the rows).
        rows = TopicDayTotal.objects.filter(day__gte=prev_day, day__lte=end_day)
    else:
        rows = TopicDay.objects.filter(day__gte=prev_day, day__lte=end_day)
        if scope.account_ids is not None:
            rows = rows.filter(account_id__in=scope.account_ids)
        if scope.department_id is not None:
            rows = rows.filter(department_key=scope.department_id)
    growth = (ExpressionWrapper(F("cur") * 1.0 / (current_total or 1), output_field=FloatField())
              - ExpressionWrapper(F("prev") * 1.0 / (previous_total or 1), output_field=FloatField()))
    return list(
        rows.values("term")
        .annotate(cur=Sum("messages", filter=Q(day__gte=start_day), default=0),
                  prev=Sum("messages", filter=Q(day__lt=start_day), default=0))
        .filter(cur__gte=3)
        .annotate(growth=growth).filter(growth__gt=0)
        .order_by("-growth", "term")
        .values("term", "cur", "prev")[:limit]
    )


def handlers(scope: Scope, period: Period) -> list[dict]:
    """Influencer and sensitive conversations opened in the period per
    assignee: ``assignee_id`` (and ``assignee__first_name``,
    ``assignee__last_name``, ``assignee__username``), ``influencer``, ``sensitive``, ``answered``
    and the median first response (service minutes) of those answered."""
    qs = (scope.conversations().filter(opened_at__gte=period.start, opened_at__lt=period.end)
          .filter(Q(is_influencer=True) | Q(is_sensitive=True)))
    # The assignee's names come with the counts: no second query for them, whatever the period.
    rows = {r["assignee_id"]: r for r in qs.values(
        "assignee_id", "assignee__first_name", "assignee__last_name", "assignee__username").annotate(
        influencer=Count("pk", filter=Q(is_influencer=True)),
        sensitive=Count("pk", filter=Q(is_sensitive=True)),
        answered=Count("pk", filter=Q(first_response_service_minutes__isnull=False))).order_by()}
    medians = grouped_percentiles(qs, "assignee_id", "first_response_service_minutes", (0.5,))
    for key, row in rows.items():
        row["median"] = medians.get(key, {}).get(0.5)
    return sorted(rows.values(), key=lambda r: -(r["influencer"] + r["sensitive"]))


def special_response(scope: Scope, period: Period) -> dict:
    """The median first response (service minutes) of the influencer and of
    the sensitive conversations opened in the period."""
    qs = _opened_in(scope, period)
    return {name: grouped_percentiles(qs.filter(**{field: True}), field, "first_response_service_minutes",
                                      (0.5,)).get(True, {}).get(0.5)
            for name, field in (("influencer", "is_influencer"), ("sensitive", "is_sensitive"))}


def response_percentiles(scope: Scope, period: Period, group: str) -> dict:
    """Median and 90th percentile of the first response (service minutes) per
    ``group`` ("department_id", "account_id", or "current" for the period and
    the previous one), over conversations opened in the period(s) and answered."""
    if group == "current":
        both = _both(period)
        qs = (scope.conversations().filter(opened_at__gte=both.start, opened_at__lt=both.end)
              .annotate(current=_in_current("opened_at", period)))
    else:
        qs = _opened_in(scope, period)
    return grouped_percentiles(qs, group, "first_response_service_minutes", (0.5, 0.9))


def grouped_percentiles(qs: QuerySet, group: str, field: str, fractions: tuple[float, ...]) -> dict:
    """``{group value: {fraction: percentile_cont}}`` in one query: PostgreSQL's
    ``percentile_cont`` per group; elsewhere (SQLite) the same interpolation
    from the one or two neighbouring rows each group needs, picked in SQL
    with window functions."""
    qs = qs.filter(**{f"{field}__isnull": False})
    if connections[qs.db].vendor == "postgresql":
        rows = qs.values(group).annotate(
            **{f"p{i}": PercentileCont(field, f) for i, f in enumerate(fractions)}).order_by()
        return {r[group]: {f: r[f"p{i}"] for i, f in enumerate(fractions)} for r in rows}
    try:
        inner, params = (qs.annotate(pick_g=F(group), pick_v=F(field)).values_list("pick_g", "pick_v")
                         .order_by().query.sql_with_params())
    except EmptyResultSet:  # a query that cannot match (a brand with no channels: account_id IN ())
        return {}
    picks = " OR ".join(
        f"(rn - 1 BETWEEN CAST({f!r} * (cnt - 1) AS INTEGER) "
        f"AND CAST({f!r} * (cnt - 1) AS INTEGER) + ({f!r} * (cnt - 1) > CAST({f!r} * (cnt - 1) AS INTEGER)))"
        for f in fractions)
    # Only the queryset's own compiled SQL (its values stay parameters) and float literals go in.
    sql = (f"SELECT pick_g, pick_v, rn, cnt FROM (SELECT pick_g, pick_v, "  # noqa: S608
           f"ROW_NUMBER() OVER (PARTITION BY pick_g ORDER BY pick_v) AS rn, "
           f"COUNT(*) OVER (PARTITION BY pick_g) AS cnt FROM ({inner}) AS src) AS ranked WHERE {picks}")
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    by_group: dict = {}
    for g, v, rn, cnt in fetched:
        by_group.setdefault(g, {"cnt": cnt, "values": {}})["values"][rn - 1] = float(v)
    result = {}
    for g, data in by_group.items():
        cnt, values = data["cnt"], data["values"]
        result[g] = {}
        for f in fractions:
            position = f * (cnt - 1)
            low = math.floor(position)
            if position == low:
                result[g][f] = values[low]
            else:
                result[g][f] = values[low] + (values[low + 1] - values[low]) * (position - low)
    return result
