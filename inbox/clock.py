"""Service-time arithmetic: SLA clocks that run only while a channel is
watched.

A ``WindowSpec`` is a plain description of a service window (time zone,
periods per weekday in local minutes, holidays, closures), so the arithmetic
can be tested without a database. Open intervals are built per local day and
converted to UTC through zoneinfo, which handles daylight-saving changes: a
period on a 25-hour day is an hour longer, a local time skipped in spring
simply never happens."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib

MAX_DAYS_AHEAD = 800  # a window with no opening at all must not loop forever


class NeverOpenError(Exception):
    """The window has no open time in the horizon searched."""


@dataclass(frozen=True)
class WindowSpec:
    time_zone: str = "UTC"
    always_open: bool = False
    # weekday (0 = Monday) -> ((opens_minute, closes_minute), ...)
    periods: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closures: tuple[tuple[datetime, datetime], ...] = ()
    extra_holidays: frozenset[date] = frozenset()

    def __hash__(self):
        return hash((self.time_zone, self.always_open, tuple(sorted(self.periods.items())), self.holiday_country,
                     self.holiday_subdivision, self.closures, self.extra_holidays))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@lru_cache(maxsize=256)
def _holiday_calendar(country: str, subdivision: str, year: int):
    try:
        return holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        return {}


def is_holiday(spec: WindowSpec, day: date) -> bool:
    if day in spec.extra_holidays:
        return True
    if not spec.holiday_country:
        return False
    return day in _holiday_calendar(spec.holiday_country, spec.holiday_subdivision, day.year)


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= 1440:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)


def _offset(instant: datetime, tz: ZoneInfo) -> timedelta:
    return instant.astimezone(tz).utcoffset()


def _transition(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (lo, hi] whose UTC offset differs from lo's (to the minute)."""
    base = _offset(lo, tz)
    lo_min, hi_min = 0, int((hi - lo).total_seconds() // 60)
    while hi_min - lo_min > 1:
        mid = (lo_min + hi_min) // 2
        if _offset(lo + timedelta(minutes=mid), tz) == base:
            lo_min = mid
        else:
            hi_min = mid
    return lo + timedelta(minutes=hi_min)


@lru_cache(maxsize=8192)
def period_intervals(day: date, opens: int, closes: int, tz: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC intervals during which the local wall clock of ``day`` reads a
    time in [opens, closes). Usually one interval; on a daylight-saving day a
    local time may not exist (spring: the period starts when the clock jumps)
    or exist twice (autumn: the repeated hour counts twice, possibly as a
    second interval)."""
    midnight = datetime.combine(day, time(0))
    local_start = midnight + timedelta(minutes=opens)
    local_end = midnight + timedelta(minutes=closes)
    lo = (local_start - timedelta(hours=27)).replace(tzinfo=UTC)
    hi = (local_end + timedelta(hours=27)).replace(tzinfo=UTC)
    segments = []
    cursor = lo
    for _ in range(4):  # at most a couple of transitions in ~3 days
        if _offset(cursor, tz) == _offset(hi, tz) and _offset(cursor + (hi - cursor) / 2, tz) == _offset(hi, tz):
            segments.append((cursor, hi, _offset(cursor, tz)))
            break
        change = _transition(cursor, hi, tz)
        segments.append((cursor, change, _offset(cursor, tz)))
        cursor = change
    intervals = []
    for seg_start, seg_end, offset in segments:
        local_seg_start = (seg_start + offset).replace(tzinfo=None)
        local_seg_end = (seg_end + offset).replace(tzinfo=None)
        a, b = max(local_start, local_seg_start), min(local_end, local_seg_end)
        if a < b:
            intervals.append(((a - offset).replace(tzinfo=UTC), (b - offset).replace(tzinfo=UTC)))
    return tuple(sorted(intervals))


def _subtract_closures(start: datetime, end: datetime, closures) -> list[tuple[datetime, datetime]]:
    pieces = [(start, end)]
    for c_start, c_end in closures:
        next_pieces = []
        for a, b in pieces:
            if c_end <= a or c_start >= b:
                next_pieces.append((a, b))
                continue
            if a < c_start:
                next_pieces.append((a, c_start))
            if c_end < b:
                next_pieces.append((c_end, b))
        pieces = next_pieces
    return pieces


def open_intervals(
    spec: WindowSpec, start: datetime, end: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals in UTC that end after ``start`` (clipped to it), in
    order, until ``end`` (or without end)."""
    start = start.astimezone(UTC)
    if spec.always_open:
        for a, b in _subtract_closures(start, end or datetime.max.replace(tzinfo=UTC), sorted(spec.closures)):
            yield a, b
        return
    tz = spec.tz
    closures = sorted(spec.closures)
    day = start.astimezone(tz).date() - timedelta(days=1)  # a period may run over local midnight in UTC terms
    for _ in range(MAX_DAYS_AHEAD):
        if end is not None and _local(day, 0, tz).astimezone(UTC) >= end:
            return
        if not is_holiday(spec, day):
            for opens, closes in spec.periods.get(day.weekday(), ()):
                for a, b in period_intervals(day, opens, closes, tz):
                    if b <= start:
                        continue
                    a = max(a, start)
                    if end is not None:
                        if a >= end:
                            return
                        b = min(b, end)
                    yield from _subtract_closures(a, b, closures)
        day += timedelta(days=1)
    if end is None:
        raise NeverOpenError("The service window has no open time in the next two years.")


def add_service_minutes(spec: WindowSpec, start: datetime, minutes: float) -> datetime:
    """The instant when ``minutes`` of service time have passed since
    ``start``. Friday 16:45 + 30 min in a 9:00-17:00 window is Monday 9:15."""
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        # zero minutes: due at the next open instant
        for a, _b in open_intervals(spec, start):
            return a
    for a, b in open_intervals(spec, start):
        span = b - a
        if span >= remaining:
            return a + remaining
        remaining -= span
    raise NeverOpenError("The service window has no open time in the next two years.")


def add_service_minutes_many(spec: WindowSpec, start: datetime, targets: list[float]) -> list[datetime]:
    """``add_service_minutes`` for several targets in one walk over the
    window (the SLA clocks need four deadlines from the same start)."""
    order = sorted(range(len(targets)), key=lambda i: targets[i])
    results: list[datetime | None] = [None] * len(targets)
    pending = iter(order)
    current = next(pending, None)
    elapsed = timedelta(0)
    for a, b in open_intervals(spec, start):
        while current is not None:
            wanted = timedelta(minutes=max(targets[current], 0))
            if wanted == timedelta(0) or elapsed + (b - a) >= wanted:
                results[current] = a + (wanted - elapsed) if wanted > elapsed else a
                current = next(pending, None)
            else:
                break
        if current is None:
            return results  # type: ignore[return-value]
        elapsed += b - a
    raise NeverOpenError("The service window has no open time in the next two years.")


def service_minutes_between(spec: WindowSpec, start: datetime, end: datetime) -> float:
    """Minutes of service time between two instants (0 if end <= start)."""
    if end <= start:
        return 0.0
    total = timedelta(0)
    for a, b in open_intervals(spec, start, end):
        total += b - a
    return total.total_seconds() / 60


def is_open_at(spec: WindowSpec, instant: datetime) -> bool:
    for a, b in open_intervals(spec, instant, instant + timedelta(minutes=1)):
        return a <= instant < b
    return False


def spec_for_account(account) -> WindowSpec:
    """The WindowSpec of an account's service window (24/7 when it has none)."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        window = account.service_window
    except (ObjectDoesNotExist, AttributeError):  # no window: the channel is always watched
        window = None
    if window is None:
        return WindowSpec(always_open=True)
    periods: dict[int, list[tuple[int, int]]] = {}
    for period in window.periods.all():
        periods.setdefault(period.weekday, []).append((period.opens_minute, period.closes_minute))
    closures = tuple((c.starts_at.astimezone(UTC), c.ends_at.astimezone(UTC)) for c in window.closures.all())
    return WindowSpec(
        time_zone=window.time_zone,
        always_open=window.always_open,
        periods={k: tuple(sorted(v)) for k, v in periods.items()},
        holiday_country=window.holiday_country,
        holiday_subdivision=window.holiday_subdivision,
        closures=closures,
    )
