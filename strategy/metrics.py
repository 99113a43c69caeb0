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
from datetime import datetime, timedelta

from django.db import connections
from django.db.models import Aggregate, Count, FloatField, Q, QuerySet
from django.utils import timezone

from inbox.models import Conversation, Intent, Message, Sentiment

# --- scope and period ---------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Half-open: ``start <= t < end``."""

    start: datetime
    end: datetime

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("A period must end after it starts.")

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - self.length, self.start)

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
