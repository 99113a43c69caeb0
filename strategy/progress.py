"""An objective's current KPI value and where it stands against its target.

Computed KPIs come from ``strategy.kpis`` (and so from ``strategy.metrics``)
over the objective's accounts (its brand's accounts when it names none),
from its start to today or its deadline, whichever is first; KPIs the
portal cannot see take the latest value entered by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

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


def _instant(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def objective_figures(objective: Objective, *, now: datetime | None = None) -> ObjectiveFigures:
    now = now or timezone.now()
    start = _instant(objective.starts_on)
    deadline = _instant(objective.deadline)
    end = min(now, deadline)
    span = (deadline - start).total_seconds()
    elapsed = 0.0 if span <= 0 else min(max((now - start).total_seconds() / span, 0.0), 1.0)
    kpi = kpis.get(objective.kpi)
    current, source = None, ""
    if kpi is not None and kpi.computed:
        if end > start:
            account_ids = [a.pk for a in objective.accounts.all()] or list(
                objective.strategy.brand.accounts.values_list("pk", flat=True))
            current = kpis.compute(objective.kpi, account_ids=account_ids, start=start, end=end)
        source = "computed"
    else:
        latest = objective.manual_values.order_by("-measured_on", "-id").first()
        if latest is not None:
            current, source = latest.value, latest.source
    status = kpis.progress(baseline=objective.baseline, target=objective.target, current=current,
                           direction=objective.direction, elapsed=elapsed)
    return ObjectiveFigures(current=current, progress=status, elapsed=elapsed, measured_to=end, source=source)
