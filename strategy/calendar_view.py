"""The calendar's grid: which days (and hours) a month or a week shows, each post's chip on its day in the
viewer's time zone, the cadence guide per channel and the slots outside a channel's service hours.

Plain data in, plain data out (posts, accounts, plans already read by the view): no request and no query here,
so the page costs the same number of queries whatever the number of posts."""

from __future__ import annotations

import bisect
import calendar as pycalendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.clock import WindowSpec, open_intervals, spec_for_account

from .models import Post
from .services.posts import EDITABLE

VIEWS = ("month", "week", "list")
# A busy month must stay readable and cheap to draw: a day cell shows a few chips and "+N more", an hour slot
# fewer, and the list (what a phone and a screen reader get) at most LIST_LIMIT posts with a note saying so.
MAX_PER_DAY, MAX_PER_SLOT, LIST_LIMIT = 4, 3, 300
State = Post.State
# What the cadence guide counts as "scheduled": posts on their way out or already out.
COUNTED = frozenset({State.APPROVED, State.SCHEDULED, State.PUBLISHING, State.PUBLISHED})
TONES = {State.DRAFT: "draft", State.IN_REVIEW: "review", State.APPROVED: "approved", State.SCHEDULED: "scheduled",
         State.PUBLISHING: "publishing", State.PUBLISHED: "published", State.FAILED: "failed",
         State.CANCELLED: "cancelled"}


def account_name(account) -> str:
    return account.display_name or account.handle


def short_handle(handle: str) -> str:
    """``@acme@example.social`` -> ``@acme``: the instance is in the account's full name."""
    if handle.startswith("@") and "@" in handle[1:]:
        return "@" + handle[1:].split("@", 1)[0]
    return handle


@dataclass(frozen=True)
class Range:
    """The days a view shows, ``start`` included, ``end`` excluded, in the viewer's time zone."""

    view: str
    anchor: date
    start: date
    end: date
    tz: ZoneInfo

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=self.tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    @property
    def previous(self) -> date:
        if self.view == "week":
            return self.anchor - timedelta(days=7)
        return (self.anchor.replace(day=1) - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        if self.view == "week":
            return self.anchor + timedelta(days=7)
        return (self.anchor.replace(day=28) + timedelta(days=4)).replace(day=1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def range_for(view: str, anchor: date, tz: ZoneInfo) -> Range:
    """A week runs Monday to Sunday; a month (and the list) shows the whole weeks its days fall in."""
    if view == "week":
        start = week_start(anchor)
        return Range(view, anchor, start, start + timedelta(days=7), tz)
    first = anchor.replace(day=1)
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    return Range(view, anchor, week_start(first), week_start(last) + timedelta(days=7), tz)


# --- the chips ---------------------------------------------------------------------------------------------------

@dataclass
class Chip:
    post: Post
    local: datetime
    handles: list[tuple[str, str]]  # (platform, short handle)
    author: str
    warnings: list[str]
    detail_url: str = ""

    @property
    def pk(self) -> int:
        return self.post.pk

    @property
    def tone(self) -> str:
        return TONES.get(self.post.state, "draft")

    @property
    def state_label(self) -> str:
        return self.post.get_state_display()

    @property
    def time_label(self) -> str:
        return self.local.strftime("%H:%M")

    @property
    def date_value(self) -> str:
        return self.local.date().isoformat()

    @property
    def movable(self) -> bool:
        return self.post.state in EDITABLE


class OpenHours:
    """When each channel is watched between two instants, worked out once per page from the inbox's own
    service-time arithmetic (``inbox.clock``), then asked per post or per slot with a binary search."""

    def __init__(self, accounts: Iterable, start: datetime, end: datetime):
        self.names: dict[int, str] = {}
        self._starts: dict[int, list[datetime]] = {}
        self._ends: dict[int, list[datetime]] = {}
        self._always: set[int] = set()
        self._handles: dict[int, tuple[str, str]] = {}
        self.start, self.end = start.astimezone(UTC), end.astimezone(UTC)
        for account in accounts:
            self.add(account, spec_for_account(account))

    def add(self, account, spec: WindowSpec) -> None:
        self.names[account.pk] = account_name(account)
        if spec.always_open and not spec.closures:
            self._always.add(account.pk)
            return
        intervals = list(open_intervals(spec, self.start, self.end))
        self._starts[account.pk] = [a for a, _b in intervals]
        self._ends[account.pk] = [b for _a, b in intervals]

    def is_open(self, account_id: int, instant: datetime) -> bool:
        if account_id in self._always or account_id not in self.names:
            return True
        starts = self._starts[account_id]
        i = bisect.bisect_right(starts, instant.astimezone(UTC)) - 1
        return i >= 0 and instant < self._ends[account_id][i]

    def handle(self, account) -> tuple[str, str]:
        """(platform, short handle), worked out once per account."""
        if account.pk not in self._handles:
            self._handles[account.pk] = (account.get_platform_display(), short_handle(account.handle))
        return self._handles[account.pk]

    def closed(self, account_ids: Iterable[int], instant: datetime) -> list[str]:
        return [self.names[a] for a in account_ids if not self.is_open(a, instant)]


def chip_for(post: Post, tz: ZoneInfo, hours: OpenHours, detail_url: str = "") -> Chip:
    accounts = [t.account for t in post.targets.all()]
    warnings = [_("Outside %(account)s's service hours: replies will wait.") % {"account": name}
                for name in hours.closed([a.pk for a in accounts], post.scheduled_at)]
    author = post.author.get_full_name() or post.author.username
    return Chip(post=post, local=post.scheduled_at.astimezone(tz), handles=[hours.handle(a) for a in accounts],
                author=author, warnings=warnings, detail_url=detail_url)


# --- the cadence guide -------------------------------------------------------------------------------------------

@dataclass
class Cadence:
    account_id: int
    name: str
    planned: int
    scheduled: int

    @property
    def text(self) -> str:
        planned = ngettext("%(count)d a week planned", "%(count)d a week planned", self.planned) % {
            "count": self.planned}
        return _("%(planned)s, %(scheduled)d scheduled") % {"planned": planned, "scheduled": self.scheduled}

    @property
    def tone(self) -> str:
        if self.scheduled >= self.planned:
            return "ok"
        return "warn"


def cadence_by_week(accounts: list, planned: dict[int, int], counted: Iterable[tuple[int, datetime]],
                    weeks: list[date], tz: ZoneInfo) -> dict[date, list[Cadence]]:
    """For each week (its Monday), each shown channel with a plan: posts a week planned and posts counted.
    ``counted``: (account id, scheduled time) of the posts in ``COUNTED`` states."""
    counts: dict[tuple[int, date], int] = defaultdict(int)
    for account_id, when in counted:
        counts[(account_id, week_start(when.astimezone(tz).date()))] += 1
    return {week: [Cadence(a.pk, account_name(a), planned[a.pk], counts[(a.pk, week)])
                   for a in accounts if a.pk in planned] for week in weeks}


# --- the grids ---------------------------------------------------------------------------------------------------

@dataclass
class Day:
    day: date
    in_month: bool
    is_today: bool
    is_past: bool
    chips: list[Chip] = field(default_factory=list)
    more: int = 0  # chips not drawn in the cell
    more_query: str = ""  # where they are (set by the view)


@dataclass
class WeekRow:
    start: date
    days: list[Day]
    cadence: list[Cadence]


@dataclass
class Slot:
    day: date
    hour: int
    closed: list[str]
    chips: list[Chip] = field(default_factory=list)
    more: int = 0

    @property
    def time_value(self) -> str:
        return f"{self.hour:02d}:00"


@dataclass
class HourRow:
    hour: int
    slots: list[Slot]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


@dataclass
class Counts:
    """How many posts the range holds per local day and per (day, hour) slot, counted in SQL: the page loads
    only the chips it draws, so "+N more" comes from these."""

    by_day: dict = field(default_factory=dict)
    by_slot: dict = field(default_factory=dict)
    total: int = 0


def _days(rng: Range, chips: list[Chip], today: date, counts: Counts | None = None,
          limit: int = MAX_PER_DAY) -> list[Day]:
    by_day: dict[date, list[Chip]] = defaultdict(list)
    for chip in chips:
        by_day[chip.local.date()].append(chip)
    days = []
    for d in rng.days:
        found = by_day.get(d, [])
        total = counts.by_day.get(d, len(found)) if counts is not None else len(found)
        days.append(Day(day=d, in_month=rng.view == "week" or d.month == rng.anchor.month, is_today=d == today,
                        is_past=d < today, chips=found[:limit], more=max(0, total - len(found[:limit]))))
    return days


def month_rows(rng: Range, chips: list[Chip], today: date, cadence: dict[date, list[Cadence]],
               counts: Counts | None = None) -> list[WeekRow]:
    days = _days(rng, chips, today, counts)
    return [WeekRow(start=days[i].day, days=days[i:i + 7], cadence=cadence.get(days[i].day, []))
            for i in range(0, len(days), 7)]


def week_days(rng: Range, chips: list[Chip], today: date, counts: Counts | None = None) -> list[Day]:
    return _days(rng, chips, today, counts)


def week_hours(rng: Range, chips: list[Chip], hours: OpenHours, account_ids: list[int],
               counts: Counts | None = None) -> list[HourRow]:
    """24 rows of 7 slots; a slot is marked when one of the shown channels is not watched at its start."""
    by_slot: dict[tuple[date, int], list[Chip]] = defaultdict(list)
    for chip in chips:
        by_slot[(chip.local.date(), chip.local.hour)].append(chip)
    rows = []
    for hour in range(24):
        slots = []
        for day in rng.days:
            start = datetime.combine(day, time(hour), tzinfo=rng.tz)
            found = by_slot.get((day, hour), [])
            total = counts.by_slot.get((day, hour), len(found)) if counts is not None else len(found)
            slots.append(Slot(day=day, hour=hour, closed=hours.closed(account_ids, start),
                              chips=found[:MAX_PER_SLOT], more=max(0, total - len(found[:MAX_PER_SLOT]))))
        rows.append(HourRow(hour=hour, slots=slots))
    return rows


def list_days(chips: list[Chip], today: date) -> list[Day]:
    """Only the days with posts, in order, the first ``LIST_LIMIT`` posts: what a phone and a screen reader get."""
    by_day: dict[date, list[Chip]] = defaultdict(list)
    for chip in chips[:LIST_LIMIT]:
        by_day[chip.local.date()].append(chip)
    return [Day(day=d, in_month=True, is_today=d == today, is_past=d < today, chips=by_day[d])
            for d in sorted(by_day)]


def moved_time(post: Post, day: date, new_time: time | None, tz: ZoneInfo) -> datetime:
    """The instant a post moved to ``day`` gets: ``new_time`` when given, else the local time of day it had for
    the viewer (09:00 for a post without a time), in the viewer's time zone."""
    from .forms_posts import local_to_aware

    if new_time is None:
        new_time = post.scheduled_at.astimezone(tz).time().replace(second=0, microsecond=0) \
            if post.scheduled_at else time(9)
    # A wall-clock time the clocks jump over is refused (ValidationError), one they pass twice takes the first.
    when, _twice = local_to_aware(day, new_time, str(tz))
    return when
