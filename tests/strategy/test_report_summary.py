"""Every sentence of the report's summary is true of the figures below it:
each sentence is matched against the summary's known shapes (a sentence of
an unknown shape fails the test), its numbers are read back and compared
with ``report.figures`` / ``report.tables`` as the page rounds them, for a
rise, a fall, a steady period and an empty one. The negative-rise driver
is checked against the messages themselves."""

import re

import pytest
from django.db.models import Count

from accounts.roles import Role
from inbox.models import Message, ServiceWindow
from strategy.reports import build_report, parse_request
from tests.security.factories import SocialAccountFactory
from tests.strategy.conftest import COMPLAINT, NOW, OCTOBER, PRAISE, QUESTION, at, opened

ANGRY_QUESTION = "Where is my parcel? The delivery is late and I am angry"  # simple query, negative


def pct(value) -> int:
    return round(value)


def minutes_text(value) -> str:
    return f"{round(value)}-minute" if value < 120 else f"{round(value / 60, 1)}-hour"


def _negative_growth(report):
    """Negative inbound messages per (channel, intent), now minus before, read from the messages."""
    request = report.request
    rows = (Message.objects.filter(direction="in", sentiment="negative", sent_at__gte=request.previous.start,
                                   sent_at__lt=request.period.end)
            .values("account_id", "intent", "sent_at"))
    growth: dict = {}
    for row in rows:
        key = (row["account_id"], row["intent"])
        growth[key] = growth.get(key, 0) + (1 if row["sent_at"] >= request.period.start else -1)
    return growth


def check(report, sentence: str) -> str:
    """Asserts ``sentence`` is true of ``report``; returns the name of its shape."""
    f = report.figures
    if sentence == "No inbound messages arrived in this period or the one before.":
        assert (f["volume"].current, f["volume"].previous) == (0, 0)
        return "volume-none"
    if m := re.fullmatch(r"(\d+) inbound messages arrived; none in the previous period\.", sentence):
        assert (int(m[1]), f["volume"].previous) == (f["volume"].current, 0)
        return "volume-new"
    if m := re.fullmatch(r"Inbound volume held steady at (\d+) messages \((\d+) before\)\.", sentence):
        assert (int(m[1]), int(m[2])) == (f["volume"].current, f["volume"].previous)
        assert abs(f["volume"].change) < 5
        return "volume-steady"
    if m := re.fullmatch(r"Inbound volume (rose|fell) (\d+)% to (\d+) messages \((\d+) before\)\.", sentence):
        assert (int(m[3]), int(m[4])) == (f["volume"].current, f["volume"].previous)
        assert int(m[2]) == pct(abs(f["volume"].change))
        assert (m[1] == "rose") == (f["volume"].current > f["volume"].previous)
        return "volume-" + m[1]
    if m := re.fullmatch(r"Negative sentiment (?:was|held at) (\d+)% of inbound messages\.", sentence):
        assert int(m[1]) == pct(f["sentiment_negative"].current)
        if "held" in sentence:
            assert abs(f["sentiment_negative"].change) < 1 or pct(f["sentiment_negative"].previous) == int(m[1])
        return "negative-held"
    if m := re.fullmatch(r"Negative sentiment (rose|fell) from (\d+)% to (\d+)%(?:; (\d+)% of the increase in "
                         r"negative messages is (.+) on (.+))?\.", sentence):
        figure = f["sentiment_negative"]
        assert (int(m[2]), int(m[3])) == (pct(figure.previous), pct(figure.current))
        assert (m[1] == "rose") == (figure.current > figure.previous)
        if m[4]:
            assert m[1] == "rose"
            growth = _negative_growth(report)
            rise = sum(v for v in growth.values() if v > 0)
            names = report.facts["channel_names"]
            explained = [v for (account, intent), v in growth.items()
                         if names[account] == m[6] and intent == {"complaints": "complaint",
                                                                  "simple questions": "simple_query"}[m[5]]]
            assert explained and 100 * explained[0] / rise >= 50
            assert int(m[4]) == pct(100 * explained[0] / rise)
            return "negative-driver"
        return "negative-" + m[1]
    if m := re.fullmatch(r"First responses inside service hours took a ([\d.]+-(?:minute|hour)) median\.", sentence):
        assert m[1] == minutes_text(f["first_response_median"].current)
        return "response"
    if m := re.fullmatch(r"First responses inside service hours (improved|slowed) to a ([\d.]+-(?:minute|hour)) "
                         r"median \(([\d.]+) (minutes|hours) before\)\.", sentence):
        figure = f["first_response_median"]
        assert m[2] == minutes_text(figure.current)
        before = figure.previous if m[4] == "minutes" else figure.previous / 60
        assert float(m[3]) == pytest.approx(round(before, 0 if m[4] == "minutes" else 1))
        assert (m[1] == "improved") == (figure.current < figure.previous)
        return "response-" + m[1]
    if m := re.fullmatch(r"(\d+)% of conversations were answered within their SLA target(?: \((\d+)% before\))?"
                         r"(?:; (\d+) breach(?:es)?(?:, (\d+) of them in (.+))?)?\.", sentence):
        assert int(m[1]) == pct(f["sla_share"].current)
        if m[2]:
            assert int(m[2]) == pct(f["sla_share"].previous)
        if m[3]:
            assert int(m[3]) == f["breaches"].current
            rows = report.tables["sla_departments"].rows
            if not m[4]:  # one department only: no "of them in"
                assert len(rows) == 1
                return "sla"
            worst = [r for r in rows if r["name"] == m[5]]
            assert worst and worst[0]["breaches"] == int(m[4]) == max(r["breaches"] for r in rows)
        return "sla"
    if m := re.fullmatch(r"(\d+) complaints? opened, (\d+) resolved(?:; (\d+) still open(?:, the oldest for (\d+) "
                         r"days)?)?\.", sentence):
        assert (int(m[1]), int(m[2])) == (f["complaints_opened"].current, f["complaints_resolved"].current)
        if m[3]:
            assert int(m[3]) == f["complaints_open"].current
        if m[4]:
            assert int(m[4]) == report.facts["oldest_open_complaint_days"]
        return "complaints"
    if m := re.fullmatch(r"(\d+) messages \((\d+)%\) arrived while their channel was outside its service hours"
                         r"(?:, most on (.+) \((\d+)\))?\.", sentence):
        assert int(m[1]) == f["outside_hours"].current
        assert int(m[2]) == pct(100 * f["outside_hours"].current / f["volume"].current)
        if m[3]:
            row = [r for r in report.tables["channels"].rows if r["channel"] == m[3]][0]
            assert row["outside"] == int(m[4]) == max(r["outside"] for r in report.tables["channels"].rows)
        return "coverage"
    if m := re.fullmatch(r"Fastest-growing topic: “(.+)”, (?:from (\d+)% to|new this period in) (\d+)% of "
                         r"messages\.", sentence):
        top = report.tables["topics"].rows[0]
        assert top["term"] == m[1] and int(m[3]) == pct(top["share"])
        if m[2]:
            assert int(m[2]) == pct(top["previous_share"])
        return "topic"
    if m := re.fullmatch(r"Objectives: (\d+) of (\d+) on track(?:, (\d+) at risk)?(?:, (\d+) off track \((.+)\))?\.",
                         sentence):
        rows = report.tables["objectives"].rows
        progress = [r["progress"] for r in rows]
        assert (int(m[1]), int(m[2])) == (progress.count("on_track"), len(rows))
        assert int(m[3] or 0) == progress.count("at_risk")
        assert int(m[4] or 0) == progress.count("off_track")
        if m[5]:
            assert m[5] == ", ".join(r["objective"] for r in rows if r["progress"] == "off_track")
        return "objectives"
    raise AssertionError(f"A summary sentence of an unknown shape: {sentence!r}")


def shapes(report) -> list[str]:
    assert report.summary, "the summary is never empty"
    return [check(report, sentence) for sentence in report.summary]


@pytest.fixture
def viewer(make_member):
    return make_member(Role.EXECUTIVE, username="eve", time_zone="Europe/Madrid")


def report_for(user, params=OCTOBER):
    return build_report(user, parse_request(user, params, now=NOW), now=NOW)


@pytest.mark.django_db
def test_a_rise_every_sentence_is_true(october):
    report = report_for(october["executive"])
    assert shapes(report) == ["volume-rose", "negative-driver", "response-slowed", "sla", "complaints", "coverage",
                              "topic", "objectives"]
    # Both channels' complaints rose by 2 negative messages: Madrid's half of the rise is named.
    assert "50% of the increase in negative messages is complaints on Acme Madrid" in report.summary[1]
    assert report.summary[3].endswith("7 breaches, 5 of them in Customer service.")


@pytest.mark.django_db
def test_a_fall_every_sentence_is_true(channel, viewer):
    account = channel["account"]
    for n in range(6):  # September: six complaints
        opened(account, 100 + n, at(7 + n, 10, month=9), COMPLAINT)
    opened(account, 1, at(6, 10), COMPLAINT)
    opened(account, 2, at(7, 10), PRAISE)
    report = report_for(viewer)
    kinds = shapes(report)
    assert kinds[:2] == ["volume-fell", "negative-fell"]
    assert report.summary[0] == "Inbound volume fell 67% to 2 messages (6 before)."
    assert report.summary[1] == "Negative sentiment fell from 100% to 50%."
    assert "negative-driver" not in kinds


@pytest.mark.django_db
def test_a_steady_period_says_so(channel, viewer):
    account = channel["account"]
    for n, (day, text) in enumerate([(7, COMPLAINT), (8, QUESTION), (9, COMPLAINT), (10, QUESTION)]):
        opened(account, 100 + n, at(day, 10, month=9), text)
        opened(account, 200 + n, at(day, 10), text)
    report = report_for(viewer)
    kinds = shapes(report)
    assert kinds[:2] == ["volume-steady", "negative-held"]
    assert report.summary[:2] == ["Inbound volume held steady at 4 messages (4 before).",
                                  "Negative sentiment held at 50% of inbound messages."]


@pytest.mark.django_db
def test_an_empty_period_says_only_what_is_true(viewer, channel):
    report = report_for(viewer)
    assert shapes(report) == ["volume-none"]
    assert not any("0%" in sentence or "None" in sentence for sentence in report.summary)


@pytest.fixture
def two_channels(channel):
    other = SocialAccountFactory(platform="mastodon", handle="@acme_lisbon", display_name="Acme Lisbon",
                                 sandbox=True)
    ServiceWindow.objects.create(account=other, time_zone="Europe/Lisbon", always_open=True)
    channel["account"].display_name = "Acme Madrid"
    channel["account"].save(update_fields=["display_name"])
    return channel["account"], other


@pytest.mark.django_db
def test_no_driver_is_named_when_no_channel_and_intent_explains_half_the_rise(two_channels, viewer):
    madrid, lisbon = two_channels
    opened(madrid, 100, at(8, 10, month=9), QUESTION)
    opened(madrid, 1, at(6, 10), COMPLAINT)
    opened(madrid, 2, at(7, 10), ANGRY_QUESTION)
    opened(lisbon, 3, at(8, 10), COMPLAINT)
    report = report_for(viewer)
    growth = _negative_growth(report)
    assert sorted(growth.values()) == [1, 1, 1]  # each a third of the rise
    assert "negative-rose" in shapes(report)
    assert not any("of the increase" in sentence for sentence in report.summary)


@pytest.mark.django_db
def test_the_driver_is_named_when_one_channel_and_intent_explains_most_of_the_rise(two_channels, viewer):
    madrid, lisbon = two_channels
    opened(madrid, 100, at(8, 10, month=9), QUESTION)
    for n in range(3):
        opened(lisbon, 1 + n, at(6 + n, 10), COMPLAINT)
    opened(madrid, 10, at(9, 10), ANGRY_QUESTION)
    report = report_for(viewer)
    assert "negative-driver" in shapes(report)
    assert "75% of the increase in negative messages is complaints on Acme Lisbon" in report.summary[1]
    counts = Message.objects.filter(sentiment="negative").values("account_id").annotate(n=Count("pk"))
    assert {r["account_id"]: r["n"] for r in counts} == {lisbon.pk: 3, madrid.pk: 1}
