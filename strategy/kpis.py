"""The KPIs an objective can measure: those the portal computes from its own
data (through ``strategy.metrics``, the one place figures come from) and
those entered by hand (followers, site traffic, sales, hires)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from . import metrics


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    better: str  # "higher" or "lower": the natural direction, suggested on the form
    compute: Callable[[metrics.Scope, metrics.Period], float | None] | None = None

    @property
    def computed(self) -> bool:
        return self.compute is not None


def _share(value: float | None) -> float | None:
    return None if value is None else 100 * value


COMPUTED = [
    Kpi("inbound_volume", _("Inbound messages"), _("messages"), "higher",
        lambda scope, period: metrics.inbound_volume(scope, period)),
    Kpi("first_response_median", _("First response, median (service time)"), _("minutes"), "lower",
        lambda scope, period: metrics.first_response_minutes(scope, period)["median"]),
    Kpi("first_response_p90", _("First response, 90th percentile (service time)"), _("minutes"), "lower",
        lambda scope, period: metrics.first_response_minutes(scope, period)["p90"]),
    Kpi("sla_attainment", _("Answered within the SLA target"), "%", "higher",
        lambda scope, period: _share(metrics.sla_attainment(scope, period)["share"])),
    Kpi("complaint_resolution_rate", _("Complaints resolved"), "%", "higher",
        lambda scope, period: _share(metrics.complaint_resolution(scope, period)["rate"])),
    Kpi("complaint_resolution_median", _("Complaint resolution, median (service time)"), _("minutes"), "lower",
        lambda scope, period: metrics.complaint_resolution(scope, period)["median_minutes"]),
    Kpi("negative_share", _("Negative sentiment share"), "%", "lower",
        lambda scope, period: metrics.sentiment(scope, period)["negative_share"]),
    Kpi("net_sentiment", _("Net sentiment"), _("points"), "higher",
        lambda scope, period: metrics.sentiment(scope, period)["net"]),
]
MANUAL = [
    Kpi("followers", _("Followers"), _("followers"), "higher"),
    Kpi("site_traffic", _("Site visits from social"), _("visits"), "higher"),
    Kpi("sales", _("Sales from social"), _("sales"), "higher"),
    Kpi("hires", _("Hires from social"), _("hires"), "higher"),
    Kpi("other_manual", _("Other figure, entered by hand"), "", "higher"),
]
KPIS = {kpi.key: kpi for kpi in COMPUTED + MANUAL}
CHOICES = [(kpi.key, kpi.label) for kpi in COMPUTED + MANUAL]


def get(key: str) -> Kpi | None:
    return KPIS.get(key)


def compute(key: str, *, account_ids, start: datetime, end: datetime) -> Decimal | None:
    """The KPI's value over the accounts and period, rounded to two places;
    None when there is nothing to measure (no data, or a manual KPI)."""
    kpi = KPIS.get(key)
    if kpi is None or not kpi.computed:
        return None
    value = kpi.compute(metrics.Scope(account_ids=tuple(account_ids)), metrics.Period(start, end))
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


AT_RISK_MARGIN = Decimal("0.10")


def expected_value(*, baseline: Decimal | None, target: Decimal, elapsed: float) -> Decimal:
    """Where the KPI should be by now: on the straight line from the baseline
    at the start to the target at the deadline (the target itself when there
    is no baseline)."""
    if baseline is None:
        return target
    elapsed_d = Decimal(str(min(max(elapsed, 0.0), 1.0)))
    return baseline + (target - baseline) * elapsed_d


def progress(*, baseline: Decimal | None, target: Decimal, current: Decimal | None, direction: str,
             elapsed: float) -> str | None:
    """The objective's status, by an explicit rule: "on_track" when the
    current value is at or past the expected value (``expected_value``: the
    straight line from baseline to target), "at_risk" when it falls short by
    at most 10% of that expected value, "off_track" beyond; None without a
    current value. Reaching the target is always on track."""
    if current is None:
        return None
    sign = Decimal(1) if direction == "higher" else Decimal(-1)
    if sign * (current - target) >= 0:
        return "on_track"
    expected = expected_value(baseline=baseline, target=target, elapsed=elapsed)
    shortfall = sign * (expected - current)
    if shortfall <= 0:
        return "on_track"
    margin = abs(expected) * AT_RISK_MARGIN or abs(target - (baseline or 0)) * AT_RISK_MARGIN
    return "at_risk" if shortfall <= margin else "off_track"
