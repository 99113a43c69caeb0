"""The reputation report: a period and a scope in, every figure executives
review out, each next to the previous period of the same length.

The figures come from ``strategy.metrics`` (grouped queries run once per
report, whatever the period) and are arranged here into headline figures
and tables. The page, the PDF, the CSV files, the weekly digest and the
API all render the one ``Report`` this module builds, so they cannot
disagree. Who sees which scope is decided here too: executives and admins
everything, social media managers the brands they manage, everyone else
their own departments' part."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Department, User
from accounts.roles import Role
from accounts.selectors import user_roles
from inbox.models import Intent, Sentiment
from security.models import SocialAccount
from security.permissions import active_department_ids

from . import kpis, metrics
from .models import Brand, Objective, Strategy
from .progress import objective_figures
from .templatetags.report_tags import minutes_text

PRESETS = {"7d": 7, "30d": 30, "90d": 90}
WEEKLY_AFTER = 92  # days: longer periods are shown a week per row and per chart point
MAX_CUSTOM_DAYS = 731  # two years, a leap day included
EARLIEST_DAY = date(2000, 1, 1)  # inbox.ingest refuses messages sent before 2000


class ReportInputError(ValueError):
    """Input the report cannot be built from: ``field`` names the parameter,
    ``status`` is 400 (malformed, unknown) or 403 (a scope the viewer may not see)."""

    def __init__(self, field: str, message: str, *, status: int = 400):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


# --- scope ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportScope:
    kind: str                    # organisation, brand, account, department
    id: int | None
    label: str
    account_ids: tuple[int, ...] | None = None
    department_id: int | None = None

    @property
    def key(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"

    @property
    def metrics(self) -> metrics.Scope:
        return metrics.Scope(account_ids=self.account_ids, department_id=self.department_id)


def sees_everything(user) -> bool:
    return bool(_roles(user) & {Role.ADMIN, Role.EXECUTIVE})


def _roles(user) -> set[str]:
    if not (user and user.is_authenticated and user.is_active):
        return set()
    return user_roles(user)


def _account_label(account: SocialAccount) -> str:
    return account.display_name or account.handle


def _brand_scope(brand: Brand, account_ids) -> ReportScope:
    return ReportScope("brand", brand.pk, _("Brand %(name)s") % {"name": brand.name}, account_ids=tuple(account_ids))


def report_scopes_for(user) -> list[ReportScope]:
    """Every scope ``user`` may open, widest first (the first is the default)."""
    roles = _roles(user)
    if not roles:
        return []
    scopes: list[ReportScope] = []
    everything = sees_everything(user)
    if everything:
        scopes.append(ReportScope("organisation", None, _("Whole organisation")))
    brands = Brand.objects.prefetch_related("accounts").order_by("name")
    if not everything:
        brands = brands.filter(managers=user) if Role.SOCIAL_MEDIA_MANAGER in roles else brands.none()
    seen_accounts: dict[int, SocialAccount] = {}
    for brand in brands:
        accounts = sorted(brand.accounts.all(), key=lambda a: a.pk)
        scopes.append(_brand_scope(brand, [a.pk for a in accounts]))
        seen_accounts.update({a.pk: a for a in accounts})
    if everything:
        seen_accounts = {a.pk: a for a in SocialAccount.objects.all()}
    for account in sorted(seen_accounts.values(), key=lambda a: _account_label(a).lower()):
        scopes.append(ReportScope("account", account.pk, _("Channel %(name)s") % {"name": _account_label(account)},
                                  account_ids=(account.pk,)))
    departments = Department.objects.order_by("name")
    if not everything:
        departments = departments.filter(pk__in=active_department_ids(user))
    for department in departments:
        scopes.append(ReportScope("department", department.pk,
                                  _("Department %(name)s") % {"name": department.name},
                                  department_id=department.pk))
    return scopes


def _parse_scope(user, value: str) -> ReportScope:
    scopes = report_scopes_for(user)
    if not scopes:
        raise PermissionDenied
    if not value:
        return scopes[0]
    for scope in scopes:
        if scope.key == value:
            return scope
    kind, _sep, ident = value.partition(":")
    models = {"brand": Brand, "account": SocialAccount, "department": Department}
    if value == "organisation" or kind in models and ident.isascii() and ident.isdigit() and len(ident) < 12:
        # Only someone who may see every scope learns that an id does not exist; others get the same 403 either way.
        if (value != "organisation" and sees_everything(user)
                and not models[kind].objects.filter(pk=int(ident)).exists()):
            raise ReportInputError("scope", _("There is no %(kind)s with id %(id)s.") % {"kind": kind, "id": ident})
        raise ReportInputError("scope", _("You may not see the report for this scope."), status=403)
    raise ReportInputError("scope", _("Unknown scope: use organisation, brand:<id>, account:<id> or "
                                      "department:<id>."))


# --- period -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRequest:
    period: metrics.Period
    previous: metrics.Period
    period_label: str
    previous_label: str
    preset: str
    tz: ZoneInfo
    scope: ReportScope
    days: tuple[date, ...]          # the local days the period covers, for the daily series
    params: tuple[tuple[str, str], ...] = ()

    def query_string(self) -> str:
        return urlencode(self.params)


def viewer_tz(user) -> ZoneInfo:
    name = getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _parse_date(params, name: str) -> date:
    value = (params.get(name) or "").strip()
    if not value:
        raise ReportInputError(name, _("Enter a date (YYYY-MM-DD)."))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportInputError(name, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value[:40]}) from None


def _label_range(first: date, last: date) -> str:
    if first == last:
        return date_format(first, "j M Y")
    return f"{date_format(first, 'j M Y')} – {date_format(last, 'j M Y')}"


def parse_request(user, params: Mapping[str, str], *, now: datetime | None = None) -> ReportRequest:
    """The report's period (in the viewer's time zone, whole local days) and
    scope from query parameters; ``ReportInputError`` names what is wrong."""
    tz = viewer_tz(user)
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    # A week by default: what the weekly digest covers, and what an executive reviews on a Monday.
    preset = (params.get("period") or "7d").strip()
    if preset in PRESETS:
        first, last = today - timedelta(days=PRESETS[preset]), today - timedelta(days=1)
        label = _("Last %(n)s days (%(range)s)") % {"n": PRESETS[preset], "range": _label_range(first, last)}
    elif preset == "month":
        value = (params.get("month") or "").strip()
        try:
            first = date.fromisoformat(value + "-01") if len(value) == 7 else None
        except ValueError:
            first = None
        if first is None:
            raise ReportInputError("month", _("Choose a month as YYYY-MM."))
        if first > today:
            raise ReportInputError("month", _("This month has not started yet."))
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = min(following - timedelta(days=1), today)
        label = date_format(first, "F Y") + (_(" (to date)") if last == today else "")
    elif preset == "custom":
        first, last = _parse_date(params, "start"), _parse_date(params, "end")
        if last < first:
            raise ReportInputError("end", _("The period must end on or after its first day."))
        if first > today:
            raise ReportInputError("start", _("The period lies in the future."))
        if last > today:
            raise ReportInputError("end", _("The period ends in the future (today is %(today)s).")
                                   % {"today": today.isoformat()})
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise ReportInputError("start", _("A custom period may be at most two years long."))
        label = _label_range(first, last)
    else:
        raise ReportInputError("period", _("Choose 7d, 30d, 90d, month or custom."))
    if first < EARLIEST_DAY:  # nothing is stored before then (and year 1 would overflow the previous period)
        raise ReportInputError("month" if preset == "month" else "start",
                               _("The period must start in %(year)s or later.") % {"year": EARLIEST_DAY.year})
    start = _midnight(first, tz)
    end = _midnight(last + timedelta(days=1), tz)
    if last == today:  # a period that includes today ends now
        end = min(end, now)
    span = (last - first).days + 1
    prior_first = first - timedelta(days=span)
    prior_start = _midnight(prior_first, tz)
    if end < _midnight(last + timedelta(days=1), tz):
        # To date: the previous period is as long as the part of today that has passed, not whole days more.
        prior_start = start - (end - start)
        prior_first = prior_start.astimezone(tz).date()
    period = metrics.Period(start, end, prior_start=prior_start)
    scope = _parse_scope(user, (params.get("scope") or "").strip())
    # Only what the period uses travels on (the form sends every field).
    used = {"month": ("period", "month"), "custom": ("period", "start", "end")}.get(preset, ("period",))
    kept = [(k, (params.get(k) or "").strip()) for k in used]
    kept = [(k, v) for k, v in kept if v] + [("scope", scope.key)]
    return ReportRequest(
        period=period, previous=period.previous(), period_label=label,
        previous_label=_label_range(prior_first, first - timedelta(days=1)), preset=preset, tz=tz, scope=scope,
        days=tuple(first + timedelta(days=i) for i in range(span)), params=tuple(kept))


def digest_request(user, *, now: datetime) -> ReportRequest:
    """The weekly digest's report: the last 7 days, the person's widest scope."""
    return parse_request(user, {"period": "7d"}, now=now)


# --- the report -------------------------------------------------------------------------------

@dataclass
class Figure:
    """A headline figure and the same figure in the previous period."""

    key: str
    label: str
    current: float | int | None
    previous: float | int | None
    kind: str = "int"          # int, pct (0..100), minutes
    better: str = "higher"     # higher, lower, none
    url: str | None = None

    @property
    def change(self) -> float | None:
        """Percent change against the previous period (percentage points for shares)."""
        if self.current is None or self.previous is None:
            return None
        if self.kind in ("pct", "points"):  # shares and net sentiment: the difference in points
            return self.current - self.previous
        if self.previous == 0:
            return None
        return 100 * (self.current - self.previous) / self.previous

    @property
    def arrow(self) -> str:
        if self.current is None or self.previous is None or self.current == self.previous:
            return "flat"
        return "up" if self.current > self.previous else "down"

    @property
    def improved(self) -> bool | None:
        if self.arrow == "flat" or self.better == "none":
            return None
        return (self.arrow == "up") == (self.better == "higher")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, pct, minutes, date, status


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict]
    empty: str = ""
    note: str = ""
    collapse: bool = False  # long tables under a chart start folded on the page (always open in print)


@dataclass
class Report:
    request: ReportRequest
    generated_at: datetime
    viewer: User
    limited: bool                              # sees only their department's part
    figures: dict[str, Figure] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    series: dict[str, list] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # what the summary sentences were built from

    def table(self, key: str) -> Table | None:
        return self.tables.get(key)


def _share(part, whole) -> float | None:
    return 100 * part / whole if whole else None


class _Links:
    """Drill-down URLs into the inbox, filtered as the figure was counted.
    The inbox applies the viewer's own visibility on top."""

    def __init__(self, request: ReportRequest):
        self.base = reverse("inbox:list")
        scope = request.scope
        self.common = [("status", "all")]
        # Channels always as ``accounts`` (a list the inbox checks against what the viewer may see, without
        # refusing a channel that is not "theirs": a department's conversations can come from any channel).
        if scope.kind == "account":
            self.common.append(("accounts", str(scope.id)))
        elif scope.kind == "brand":
            # A brand with no channel yet: "0" matches no conversation (an empty value would match all).
            self.common.append(("accounts", ",".join(str(a) for a in scope.account_ids) or "0"))
        elif scope.kind == "department":
            self.common.append(("department", str(scope.id)))
        self.opened = [("opened_from", request.period.start.isoformat()),
                       ("opened_to", request.period.end.isoformat())]
        self.arrived = [("arrived_from", request.period.start.isoformat()),
                        ("arrived_to", request.period.end.isoformat())]

    def _url(self, pairs) -> str:
        # A later pair replaces an earlier one of the same name (a row's channel narrows the brand's channels).
        return f"{self.base}?{urlencode(list(dict(pairs).items()))}"

    def opened_in(self, **filters) -> str:
        pairs = self.common + self.opened
        if "status" in filters:
            pairs = [p for p in pairs if p[0] != "status"]
        return self._url(pairs + [(k, str(v)) for k, v in filters.items()])

    def arrived_between(self, first: date, last: date, tz) -> str:
        """Conversations with a message that arrived on the local days ``first`` to ``last``."""
        return self._url(self.common + [("arrived_from", _midnight(first, tz).isoformat()),
                                        ("arrived_to", _midnight(last + timedelta(days=1), tz).isoformat())])

    def arrived_in(self, *, day: date | None = None, tz=None, **filters) -> str:
        pairs = self.common
        if day is not None:
            pairs = pairs + [("arrived_from", _midnight(day, tz).isoformat()),
                             ("arrived_to", _midnight(day + timedelta(days=1), tz).isoformat())]
        else:
            pairs = pairs + self.arrived
        return self._url(pairs + [(k, str(v)) for k, v in filters.items()])


def build_report(user, request: ReportRequest, *, now: datetime | None = None) -> Report:
    """Every figure of the report for ``request``, as ``user`` may see it."""
    now = now or timezone.now()
    limited = (not sees_everything(user) and request.scope.kind == "department"
               and Role.SOCIAL_MEDIA_MANAGER not in _roles(user))
    report = Report(request=request, generated_at=now, viewer=user, limited=limited)
    scope, period = request.scope.metrics, request.period
    links = _Links(request)
    accounts = {a.pk: a for a in SocialAccount.objects.all()}
    departments = {d.pk: d for d in Department.objects.all()}
    intent_labels = dict(Intent.choices)

    # --- messages: volume, sentiment, coverage gaps --------------------------------------
    by_day = metrics.messages_by_day(scope, period, request.tz)
    by_channel = metrics.messages_by_channel(scope, period)
    totals = {True: defaultdict(int), False: defaultdict(int)}
    for row in by_channel:
        bucket = totals[row["current"]]
        bucket["all"] += row["n"]
        bucket[row["sentiment"]] += row["n"]
        if row["outside"]:
            bucket["outside"] += row["n"]
    cur, prev = totals[True], totals[False]
    report.figures["volume"] = Figure("volume", _("Inbound messages"), cur["all"], prev["all"], better="none",
                                      url=links.arrived_in())
    for key, label, better in ((Sentiment.POSITIVE, _("Positive"), "higher"),
                               (Sentiment.NEUTRAL, _("Neutral"), "none"),
                               (Sentiment.NEGATIVE, _("Negative"), "lower")):
        report.figures[f"sentiment_{key}"] = Figure(
            f"sentiment_{key}", label, _share(cur[key], cur["all"]), _share(prev[key], prev["all"]), kind="pct",
            better=better, url=links.arrived_in(msg_sentiment=key))
    net = {c: (_share(t[Sentiment.POSITIVE] - t[Sentiment.NEGATIVE], t["all"])) for c, t in totals.items()}
    report.figures["net_sentiment"] = Figure("net_sentiment", _("Net sentiment"), net[True], net[False],
                                             kind="points", better="higher")
    report.figures["outside_hours"] = Figure(
        "outside_hours", _("Arrived outside service hours"), cur["outside"], prev["outside"], better="none",
        url=links.arrived_in(outside_hours=1))

    # A day per row (and per point in the charts) up to WEEKLY_AFTER days; beyond, a week per row (from
    # Monday, the first and last weeks cut by the period), so a two-year report stays readable and quick to draw.
    weekly = len(request.days) > WEEKLY_AFTER
    buckets: dict[date, dict] = {}
    bucket_end: dict[date, date] = {}
    for day in request.days:
        key = max(day - timedelta(days=day.weekday()), request.days[0]) if weekly else day
        buckets.setdefault(key, defaultdict(int))
        bucket_end[key] = day
    for row in by_day:
        day = row["day"]
        if not row["current"] or not request.days[0] <= day <= request.days[-1]:
            continue
        key = max(day - timedelta(days=day.weekday()), request.days[0]) if weekly else day
        buckets[key][row["sentiment"]] += row["n"]
        buckets[key]["all"] += row["n"]
    day_rows = []
    for day, counts in buckets.items():
        link = links.arrived_between(day, bucket_end[day], request.tz)
        day_rows.append({
            "day": day, "messages": counts["all"],
            "positive": _share(counts[Sentiment.POSITIVE], counts["all"]),
            "neutral": _share(counts[Sentiment.NEUTRAL], counts["all"]),
            "negative": _share(counts[Sentiment.NEGATIVE], counts["all"]),
            "links": {"messages": link} if counts["all"] else {},
        })
    title = _("Inbound messages and sentiment per week") if weekly else _(
        "Inbound messages and sentiment per day")
    report.tables["days"] = Table("days", title, [
        Column("day", _("Week from") if weekly else _("Day"), "date"), Column("messages", _("Messages"), "int"),
        Column("positive", _("Positive"), "pct"), Column("neutral", _("Neutral"), "pct"),
        Column("negative", _("Negative"), "pct")], day_rows, collapse=len(day_rows) > 14)
    report.series["per"] = "week" if weekly else "day"

    channel_counts: dict[int, dict] = defaultdict(lambda: {True: defaultdict(int), False: defaultdict(int)})
    intent_messages: dict[tuple, dict] = defaultdict(lambda: {True: 0, False: 0})
    for row in by_channel:
        bucket = channel_counts[row["account_id"]][row["current"]]
        bucket["all"] += row["n"]
        bucket[row["sentiment"]] += row["n"]
        if row["outside"]:
            bucket["outside"] += row["n"]
        if row["sentiment"] == Sentiment.NEGATIVE:
            intent_messages[(row["account_id"], row["intent"])][row["current"]] += row["n"]
    channel_rows = []
    for account_id, both in channel_counts.items():
        c, p = both[True], both[False]
        name = _account_label(accounts[account_id]) if account_id in accounts else str(account_id)
        channel_rows.append({
            "channel": name, "account_id": account_id, "messages": c["all"], "previous": p["all"],
            "change": Figure("", "", c["all"], p["all"]).change,
            "negative": _share(c[Sentiment.NEGATIVE], c["all"]), "outside": c["outside"],
            "outside_share": _share(c["outside"], c["all"]),
            "links": {"messages": links.arrived_in(accounts=account_id),
                      "outside": links.arrived_in(accounts=account_id, outside_hours=1)},
        })
    channel_rows.sort(key=lambda r: (-r["messages"], r["channel"].lower()))
    report.tables["channels"] = Table("channels", _("Inbound messages per channel"), [
        Column("channel", _("Channel")), Column("messages", _("Messages"), "int"),
        Column("previous", _("Previous period"), "int"), Column("change", _("Change"), "change"),
        Column("negative", _("Negative"), "pct"), Column("outside", _("Outside service hours"), "int"),
        Column("outside_share", _("Share outside hours"), "pct")], channel_rows,
        empty=_("No messages arrived in this period."))
    report.facts["negative_by_channel_intent"] = {
        (accounts[a].pk if a in accounts else a, i): v for (a, i), v in intent_messages.items()}
    report.facts["channel_names"] = {a: _account_label(acc) for a, acc in accounts.items()}

    # --- conversations: intents, complaints, SLA, breaches, special ---------------------------
    grouped = metrics.conversations_grouped(scope, period, now=now)
    by_intent: dict[str, dict] = defaultdict(lambda: {True: defaultdict(int), False: defaultdict(int)})
    by_dept: dict = defaultdict(lambda: defaultdict(int))
    by_account: dict = defaultdict(lambda: defaultdict(int))
    conv_totals = {True: defaultdict(int), False: defaultdict(int)}
    oldest_open = None
    count_keys = ("opened", "resolved", "open_now", "open_over_1d", "open_over_3d", "open_over_7d", "on_time",
                  "late", "overdue", "breached", "influencer", "sensitive")
    for row in grouped:
        current = row["current"]
        for key in count_keys:
            by_intent[row["intent"]][current][key] += row[key]
            conv_totals[current][key] += row[key]
            if current:
                by_dept[row["department_id"]][key] += row[key]
                by_account[row["account_id"]][key] += row[key]
        if current and row["intent"] == Intent.COMPLAINT and row["oldest_open"] is not None:
            oldest_open = min(oldest_open or row["oldest_open"], row["oldest_open"])
    ct, pt = conv_totals[True], conv_totals[False]

    intent_rows = []
    for intent, both in by_intent.items():
        if not both[True]["opened"] and not both[False]["opened"]:
            continue
        intent_rows.append({"intent": intent_labels.get(intent, intent), "key": intent,
                            "conversations": both[True]["opened"], "previous": both[False]["opened"],
                            "share": _share(both[True]["opened"], ct["opened"]),
                            "change": Figure("", "", both[True]["opened"], both[False]["opened"]).change,
                            "links": {"conversations": links.opened_in(intent=intent)}})
    intent_rows.sort(key=lambda r: (-r["conversations"], r["intent"]))
    report.tables["intents"] = Table("intents", _("Top intents (conversations opened)"), [
        Column("intent", _("Intent")), Column("conversations", _("Conversations"), "int"),
        Column("share", _("Share"), "pct"), Column("previous", _("Previous period"), "int"),
        Column("change", _("Change"), "change")], intent_rows, empty=_("No conversations opened in this period."))

    complaints = {c: by_intent[Intent.COMPLAINT][c] for c in (True, False)}
    report.figures["complaints_opened"] = Figure(
        "complaints_opened", _("Complaints opened"), complaints[True]["opened"], complaints[False]["opened"],
        better="lower", url=links.opened_in(intent=Intent.COMPLAINT))
    report.figures["complaints_resolved"] = Figure(
        "complaints_resolved", _("Complaints resolved"), complaints[True]["resolved"], complaints[False]["resolved"],
        better="higher", url=links.opened_in(intent=Intent.COMPLAINT, resolved=1))
    report.figures["complaints_open"] = Figure(
        "complaints_open", _("Complaints still open"), complaints[True]["open_now"], complaints[False]["open_now"],
        better="lower", url=links.opened_in(intent=Intent.COMPLAINT, status="open"))
    c_open = complaints[True]
    report.tables["complaint_age"] = Table("complaint_age", _("Age of the complaints still open"), [
        Column("age", _("Open for")), Column("complaints", _("Complaints"), "int")], [
        {"age": _("less than a day"), "complaints": c_open["open_now"] - c_open["open_over_1d"]},
        {"age": _("1 to 3 days"), "complaints": c_open["open_over_1d"] - c_open["open_over_3d"]},
        {"age": _("3 to 7 days"), "complaints": c_open["open_over_3d"] - c_open["open_over_7d"]},
        {"age": _("more than 7 days"), "complaints": c_open["open_over_7d"]},
    ])
    report.facts["oldest_open_complaint_days"] = (now - oldest_open).days if oldest_open else None

    judged = {c: t["on_time"] + t["late"] + t["overdue"] for c, t in conv_totals.items()}
    overall = metrics.response_percentiles(scope, period, "current")
    report.figures["first_response_median"] = Figure(
        "first_response_median", _("First response, median (service time)"),
        overall.get(True, {}).get(0.5), overall.get(False, {}).get(0.5), kind="minutes", better="lower",
        url=links.opened_in(first_response="answered"))
    report.figures["first_response_p90"] = Figure(
        "first_response_p90", _("First response, 90th percentile (service time)"),
        overall.get(True, {}).get(0.9), overall.get(False, {}).get(0.9), kind="minutes", better="lower",
        url=links.opened_in(first_response="answered"))
    report.figures["sla_share"] = Figure(
        "sla_share", _("Answered within the SLA target"), _share(ct["on_time"], judged[True]),
        _share(pt["on_time"], judged[False]), kind="pct", better="higher",
        url=links.opened_in(first_response="on_time"))
    report.figures["breaches"] = Figure("breaches", _("SLA breaches"), ct["breached"], pt["breached"],
                                        better="lower", url=links.opened_in(breached=1))

    def sla_rows(groups, percentiles, label_of, link_key):
        rows = []
        for key, t in groups.items():
            if not t["opened"]:
                continue
            j = t["on_time"] + t["late"] + t["overdue"]
            filters = {link_key: key} if key is not None else {}
            rows.append({
                "name": label_of(key), "conversations": t["opened"],
                "median": percentiles.get(key, {}).get(0.5), "p90": percentiles.get(key, {}).get(0.9),
                "judged": j, "sla": _share(t["on_time"], j), "breaches": t["breached"],
                "links": {"conversations": links.opened_in(**filters) if key is not None else None,
                          "breaches": links.opened_in(breached=1, **filters) if key is not None else None},
            })
        rows.sort(key=lambda r: (-r["conversations"], str(r["name"]).lower()))
        return rows

    sla_columns = [Column("name", _("Name")), Column("conversations", _("Conversations"), "int"),
                   Column("median", _("First response, median"), "minutes"),
                   Column("p90", _("90th percentile"), "minutes"), Column("sla", _("Within SLA"), "pct"),
                   Column("breaches", _("Breaches"), "int")]
    dept_percentiles = metrics.response_percentiles(scope, period, "department_id")
    report.tables["sla_departments"] = Table(
        "sla_departments", _("Response and SLA per department"),
        [Column("name", _("Department"))] + sla_columns[1:],
        sla_rows(by_dept, dept_percentiles,
                 lambda k: departments[k].name if k in departments else _("No department"), "department"),
        empty=_("No conversations opened in this period."))
    account_percentiles = metrics.response_percentiles(scope, period, "account_id")
    report.tables["sla_channels"] = Table(
        "sla_channels", _("Response and SLA per channel"), [Column("name", _("Channel"))] + sla_columns[1:],
        sla_rows(by_account, account_percentiles,
                 lambda k: _account_label(accounts[k]) if k in accounts else str(k), "accounts"),
        empty=_("No conversations opened in this period."))
    report.tables["sla_intents"] = Table(
        "sla_intents", _("Answered within each SLA target (per intent)"),
        [Column("name", _("Intent")), Column("judged", _("Judged"), "int"), Column("sla", _("Within SLA"), "pct"),
         Column("breaches", _("Breaches"), "int")],
        sla_rows({k: v[True] for k, v in by_intent.items()}, {}, lambda k: intent_labels.get(k, k), "intent"))

    special = metrics.special_response(scope, period)
    report.figures["influencer"] = Figure("influencer", _("Influencer conversations"), ct["influencer"],
                                          pt["influencer"], better="none", url=links.opened_in(influencer=1))
    report.figures["sensitive"] = Figure("sensitive", _("Sensitive conversations"), ct["sensitive"],
                                         pt["sensitive"], better="none", url=links.opened_in(sensitive=1))
    report.facts["special_median"] = special
    handler_rows = metrics.handlers(scope, period)
    report.tables["handlers"] = Table("handlers", _("Influencer and sensitive conversations: who handled them"), [
        Column("person", _("Handled by")), Column("influencer", _("Influencer"), "int"),
        Column("sensitive", _("Sensitive"), "int"), Column("median", _("First response, median"), "minutes")], [
        {"person": (f"{r['assignee__first_name']} {r['assignee__last_name']}".strip() or r["assignee__username"])
         if r["assignee_id"] else _("Nobody yet"),
         "influencer": r["influencer"], "sensitive": r["sensitive"], "median": r["median"]} for r in handler_rows],
        empty=_("No influencer or sensitive conversations in this period."),
        note=_("Median first response: influencer %(i)s, sensitive %(s)s (service minutes).") % {
            "i": minutes_text(special["influencer"]), "s": minutes_text(special["sensitive"])})

    # --- tags and topics ------------------------------------------------------------------------
    tag_counts: dict[str, dict] = defaultdict(lambda: {True: 0, False: 0})
    for row in metrics.tags_grouped(scope, period):
        tag_counts[row["name"]][row["current"]] += row["n"]
    tag_rows = sorted(({"tag": name, "conversations": c[True], "previous": c[False],
                        "change": Figure("", "", c[True], c[False]).change,
                        "links": {"conversations": links.opened_in(tag=name)}}
                       for name, c in tag_counts.items() if c[True]),
                      key=lambda r: (-r["conversations"], r["tag"].lower()))[:10]
    report.tables["tags"] = Table("tags", _("Top tags"), [
        Column("tag", _("Tag")), Column("conversations", _("Conversations"), "int"),
        Column("previous", _("Previous period"), "int"), Column("change", _("Change"), "change")], tag_rows,
        empty=_("No tagged conversations in this period."))
    topics = metrics.topic_growth(scope, period, totals=(cur["all"], prev["all"]))
    report.tables["topics"] = Table("topics", _("Fastest-growing topics"), [
        Column("term", _("Term")), Column("share", _("Share of messages"), "pct"),
        Column("previous_share", _("Previous period"), "pct"), Column("messages", _("Messages"), "int")], [
        {"term": t["term"], "messages": t["cur"], "share": _share(t["cur"], cur["all"]),
         "previous_share": _share(t["prev"], prev["all"])} for t in topics],
        empty=_("No term grew against the previous period."),
        note=_("Share of inbound messages mentioning the term; counted per day in the organisation's time zone."))

    # --- objectives -------------------------------------------------------------------------------
    if limited:
        report.hidden.append(_("Objectives and the organisation's totals are shown to executives, admins and "
                               "social media managers; you see your department's part."))
    else:
        report.tables["objectives"] = _objectives_table(request, now)

    report.series["volume"] = [(r["day"], r["messages"]) for r in day_rows]
    from .summary import summarise

    report.summary = summarise(report)
    return report


PROGRESS_LABELS = {"on_track": _("On track"), "at_risk": _("At risk"), "off_track": _("Off track"),
                   None: _("No value yet")}


def _objectives_table(request: ReportRequest, now: datetime) -> Table:
    scope = request.scope
    objectives = (Objective.objects.filter(strategy__status__in=[Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW])
                  .select_related("strategy__brand", "owner__department")
                  .prefetch_related("accounts", "strategy__brand__accounts", "manual_values")
                  .order_by("deadline", "pk"))
    if scope.kind == "brand":
        objectives = objectives.filter(strategy__brand_id=scope.id)
    elif scope.kind == "account":
        objectives = objectives.filter(strategy__brand__accounts=scope.id).distinct()
    elif scope.kind == "department":
        objectives = objectives.filter(owner__department_id=scope.id)
    rows = []
    for objective in objectives:
        figures = objective_figures(objective, now=now)
        kpi = kpis.get(objective.kpi)
        rows.append({
            "objective": objective.title, "strategy": str(objective.strategy.brand),
            "kpi": str(kpi.label) if kpi else objective.kpi, "unit": str(kpi.unit) if kpi else "",
            "current": figures.current, "target": objective.target, "progress": figures.progress,
            "progress_label": str(PROGRESS_LABELS.get(figures.progress, "")),
            "elapsed": round(100 * figures.elapsed), "deadline": objective.deadline,
            "links": {"objective": reverse("strategy:detail", args=[objective.strategy_id])
                      + f"#objective-{objective.pk}"},
        })
    return Table("objectives", _("Objectives: KPI against target"), [
        Column("objective", _("Objective")), Column("strategy", _("Brand")), Column("kpi", _("KPI")),
        Column("current", _("Now"), "number"), Column("target", _("Target"), "number"),
        Column("progress_label", _("Status"), "status"), Column("deadline", _("Deadline"), "date")], rows,
        empty=_("No active objective in this scope."))
