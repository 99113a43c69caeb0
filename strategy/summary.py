"""The plain-language summary at the top of the report, written by rules
from the report's own figures (no language model): each sentence reads
only figures the report shows below it, and says nothing when its figure
is missing. Numbers are rounded the way the page rounds them."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inbox.models import Intent

# A change smaller than this is "about the same" rather than a rise or a fall.
STEADY_PERCENT = 5
STEADY_POINTS = 1


def pct(value: float) -> str:
    return f"{round(value)}%"


def count(value: int) -> str:
    """A whole number with the locale's thousands separator: "270,125"."""
    return number_format(value, force_grouping=True)


def minutes(value: float) -> str:
    value = float(value)
    if value < 120:
        return _("%(n)s-minute") % {"n": round(value)}
    return _("%(n)s-hour") % {"n": round(value / 60, 1)}


def duration(value: float) -> str:
    """The same rounding as ``minutes``, as a noun: "25 minutes", "2.5 hours"."""
    value = float(value)
    if value < 120:
        return _("%(n)s minutes") % {"n": round(value)}
    return _("%(n)s hours") % {"n": round(value / 60, 1)}


def _volume(report) -> str | None:
    figure = report.figures["volume"]
    if not figure.current and not figure.previous:
        return _("No inbound messages arrived in this period or the one before.")
    if not figure.previous:
        return _("%(n)s inbound messages arrived; none in the previous period.") % {"n": count(figure.current)}
    change = figure.change
    if abs(change) < STEADY_PERCENT:
        return _("Inbound volume held steady at %(n)s messages (%(p)s before).") % {
            "n": count(figure.current), "p": count(figure.previous)}
    verb = _("rose") if change > 0 else _("fell")
    return _("Inbound volume %(verb)s %(pct)s to %(n)s messages (%(p)s before).") % {
        "verb": verb, "pct": pct(abs(change)), "n": count(figure.current), "p": count(figure.previous)}


def _negative(report) -> str | None:
    figure = report.figures["sentiment_negative"]
    if figure.current is None:
        return None
    if figure.previous is None:
        return _("Negative sentiment was %(c)s of inbound messages.") % {"c": pct(figure.current)}
    if abs(figure.current - figure.previous) < STEADY_POINTS or round(figure.current) == round(figure.previous):
        return _("Negative sentiment held at %(c)s of inbound messages.") % {"c": pct(figure.current)}
    verb = _("rose") if figure.current > figure.previous else _("fell")
    sentence = _("Negative sentiment %(verb)s from %(p)s to %(c)s") % {
        "verb": verb, "p": pct(figure.previous), "c": pct(figure.current)}
    driver = _rise_driver(report) if figure.current > figure.previous else None
    return sentence + (f"; {driver}." if driver else ".")


def _rise_driver(report) -> str | None:
    """Which channel and intent most of the rise in negative messages came
    from, when one combination explains at least half of it."""
    counts = report.facts.get("negative_by_channel_intent") or {}
    growth = {key: both[True] - both[False] for key, both in counts.items()}
    # The net rise in negative messages: a share of the negative messages can rise while their number falls,
    # and then no combination "explains the increase".
    rise = sum(growth.values())
    if rise <= 0 or not growth:
        return None
    (account_id, intent), top = max(growth.items(), key=lambda kv: (kv[1], -kv[0][0]))
    share = 100 * top / rise
    if not 50 <= share <= 100:
        return None
    report.facts["negative_driver"] = {"account_id": account_id, "intent": intent, "share": share,
                                       "messages": top, "rise": rise}
    name = report.facts["channel_names"].get(account_id, str(account_id))
    return _("%(share)s of the increase in negative messages is %(intent)s on %(channel)s") % {
        "share": pct(share), "intent": _intent_phrase(intent), "channel": name}


def _intent_phrase(intent: str) -> str:
    return {Intent.COMPLAINT: _("complaints"), Intent.SIMPLE_QUERY: _("simple questions"),
            Intent.INQUIRY: _("inquiries")}.get(intent, dict(Intent.choices).get(intent, intent).lower())


def _first_response(report) -> str | None:
    figure = report.figures["first_response_median"]
    if figure.current is None:
        return None
    # Compared as they read: "2.2-hour" against "2.2 hours" is no change.
    if figure.previous is None or minutes(figure.current) == minutes(figure.previous):
        return _("First responses inside service hours took a %(m)s median.") % {"m": minutes(figure.current)}
    verb = _("improved") if figure.current < figure.previous else _("slowed")
    return _("First responses inside service hours %(verb)s to a %(m)s median (%(p)s before).") % {
        "verb": verb, "m": minutes(figure.current), "p": duration(figure.previous)}


def _sla(report) -> str | None:
    figure = report.figures["sla_share"]
    if figure.current is None:
        return None
    breaches = report.figures["breaches"].current
    sentence = _("%(c)s of conversations were answered within their SLA target") % {"c": pct(figure.current)}
    if figure.previous is not None:
        sentence += _(" (%(p)s before)") % {"p": pct(figure.previous)}
    if breaches:
        rows = [r for r in report.tables["sla_departments"].rows if r["breaches"]]
        worst = max(rows, key=lambda r: (r["breaches"], str(r["name"]))) if rows else None
        if worst is not None and len(report.tables["sla_departments"].rows) == 1:
            sentence += ngettext("; %(n)s breach", "; %(n)s breaches", breaches) % {"n": breaches}
        elif worst is not None:
            sentence += _("; %(n)s breaches, %(w)s of them in %(dept)s") % {
                "n": breaches, "w": worst["breaches"], "dept": worst["name"]}
    return sentence + "."


def _complaints(report) -> str | None:
    opened = report.figures["complaints_opened"].current
    if not opened:
        return None
    resolved = report.figures["complaints_resolved"].current
    still_open = report.figures["complaints_open"].current
    sentence = ngettext("%(o)s complaint opened, %(r)s resolved", "%(o)s complaints opened, %(r)s resolved",
                        opened) % {"o": count(opened), "r": count(resolved)}
    oldest = report.facts.get("oldest_open_complaint_days")
    if still_open:
        sentence += _("; %(n)s still open") % {"n": still_open}
        if oldest is not None:
            sentence += _(", the oldest for %(d)s days") % {"d": oldest}
    return sentence + "."


def _coverage(report) -> str | None:
    figure = report.figures["outside_hours"]
    volume = report.figures["volume"].current
    if not figure.current or not volume:
        return None
    rows = sorted(report.tables["channels"].rows, key=lambda r: (-r["outside"], r["channel"]))
    sentence = _("%(n)s messages (%(s)s) arrived while their channel was outside its service hours") % {
        "n": count(figure.current), "s": pct(100 * figure.current / volume)}
    if rows and 2 * rows[0]["outside"] > figure.current:  # "most" only when it is more than half
        sentence += _(", most on %(channel)s (%(m)s)") % {"channel": rows[0]["channel"],
                                                          "m": count(rows[0]["outside"])}
    return sentence + "."


def _objectives(report) -> str | None:
    table = report.tables.get("objectives")
    if table is None or not table.rows:
        return None
    off = [r for r in table.rows if r["progress"] == "off_track"]
    at_risk = [r for r in table.rows if r["progress"] == "at_risk"]
    on = [r for r in table.rows if r["progress"] == "on_track"]
    sentence = _("Objectives: %(on)s of %(n)s on track") % {"on": len(on), "n": len(table.rows)}
    if at_risk:
        sentence += _(", %(n)s at risk") % {"n": len(at_risk)}
    if off:
        sentence += _(", %(n)s off track (%(names)s)") % {
            "n": len(off), "names": ", ".join(r["objective"] for r in off[:3])}
    return sentence + "."


def _topics(report) -> str | None:
    rows = report.tables["topics"].rows
    if not rows or rows[0]["share"] is None:
        return None
    top = rows[0]
    if top["previous_share"]:
        return _("Fastest-growing topic: “%(t)s”, from %(p)s to %(c)s of messages.") % {
            "t": top["term"], "p": pct(top["previous_share"]), "c": pct(top["share"])}
    return _("Fastest-growing topic: “%(t)s”, new this period in %(c)s of messages.") % {
        "t": top["term"], "c": pct(top["share"])}


RULES = [_volume, _negative, _first_response, _sla, _complaints, _coverage, _topics, _objectives]


def summarise(report) -> list[str]:
    return [sentence for rule in RULES if (sentence := rule(report))]
