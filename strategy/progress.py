"""An objective's current KPI value and where it stands against its target.

Computed KPIs come from ``strategy.kpis`` (and so from ``strategy.metrics``)
over the objective's accounts (its brand's accounts when it names none),
from its start to today or its deadline, whichever is first; KPIs the
portal cannot see take the latest value entered by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from . import kpis
from .models import Objective


@dataclass
class ObjectiveFigures:
    current: Decimal | None
    progress: str | None      # on_track / at_risk / off_track, None without a value
    elapsed: float            # share of the objective's time gone, 0..1
    measured_to: datetime
    source: str               # "computed", or the hand-entered value's source


def instant(day) -> datetime:
    """Midnight of ``day`` in the organisation's time zone (``TIME_ZONE``):
    an objective's period is the same whoever looks at it, page or API."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _elapsed(start: datetime, deadline: datetime, at: datetime) -> float:
    span = (deadline - start).total_seconds()
    return 0.0 if span <= 0 else min(max((at - start).total_seconds() / span, 0.0), 1.0)


def objective_figures(objective: Objective, *, now: datetime | None = None) -> ObjectiveFigures:
    now = now or timezone.now()
    start = instant(objective.starts_on)
    deadline = instant(objective.deadline)
    end = min(now, deadline)
    elapsed = _elapsed(start, deadline, now)
    kpi = kpis.get(objective.kpi)
    current, source = None, ""
    if kpi is not None and kpi.computed:
        if end > start:
            account_ids = [a.pk for a in objective.accounts.all()] or [
                a.pk for a in objective.strategy.brand.accounts.all()]
            current = kpis.compute(objective.kpi, account_ids=account_ids, start=start, end=end)
        source = "computed"
    else:
        # Prefetched by list pages (``manual_values``): the latest is picked here, without a query each.
        values = sorted(objective.manual_values.all(), key=lambda v: (v.measured_on, v.pk))
        latest = values[-1] if values else None
        if latest is not None:
            current, source = latest.value, latest.source
            # Judged where the line was when it was measured, not where it is today.
            elapsed = _elapsed(start, deadline, min(instant(latest.measured_on), now))
    status = kpis.progress(baseline=objective.baseline, target=objective.target, current=current,
                           direction=objective.direction, elapsed=elapsed)
    return ObjectiveFigures(current=current, progress=status, elapsed=elapsed, measured_to=end, source=source)
