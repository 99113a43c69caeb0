"""The reputation report's figures on a hand-computed world (the ``october``
fixture in conftest.py), built through the real ingest, reply, status and
SLA-sweep paths. The suite runs on SQLite and on PostgreSQL: the same
expected numbers on both prove the SQLite fallbacks agree with PostgreSQL.

The world, 1-29 October 2026 (Madrid) against 2-30 September; now is
Friday 30 October 12:00. Channel A (Madrid business hours 09-13, 14-18,
Spanish holidays) routes to Customer service, channel B (24/7) to Returns.

  conv  chan  opened (local)        intent     first response (service min)          SLA      breached  other
  c1    A     Fri 2 Oct 17:30      simple     Mon 09:30: 30+30 = 60 (weekend)       late     yes       -
  c2    A     Fri 9 Oct 17:50      simple     Tue 09:10: 10+10 = 20 (Mon 12 hol.)   on time  yes(res.) -
  c3    A     Fri 23 Oct 17:00     complaint  Mon 26 10:00: 60+60 = 120 (DST)       on time  no        resolved, tagged
  c4    A     Wed 14 Oct 20:00     complaint  none (a follow-up Thu 15 10:00)       overdue  yes       2 tags
  c6    A     Sat 17 Oct 11:00     praise     Mon 09:45: 45                         on time  yes(res.) influencer
  c7    A     Tue 20 Oct 10:00     sensitive  none                                  overdue  yes       sensitive
  c8    B     Mon 26 Oct 22:00     complaint  00:30: 150                            on time  no        -
  c9    B     Sat 24 Oct 23:00     simple     Sun 25 04:00 (clocks back): 360       late     yes       -
  c10   B     Wed 28 Oct 09:00     complaint  none                                  overdue  yes       -
  September, A: p1 simple answered in 10 (on time, resolution breached), p2 complaint answered in 40 and
  resolved (tag delivery), p3 praise never answered (overdue).

Inbound messages: 10 in October (c4 has two), 3 in September. Outside service hours: c4's first
(Wednesday 20:00) and c6's (Saturday)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from inbox.models import Conversation, Message
from security.models import SocialAccount
from strategy import metrics
from strategy.reports import build_report, parse_request
from tests.strategy.conftest import NOW, OCTOBER, at, opened


def report_for(user, params=OCTOBER, now=NOW):
    return build_report(user, parse_request(user, params, now=now), now=now)


def figures(report) -> dict:
    return {key: (f.current, f.previous) for key, f in report.figures.items()}


def approx(value):
    return pytest.approx(value, abs=1e-6)


@pytest.mark.django_db
def test_the_fixture_is_what_the_hand_computation_assumes(october):
    c = october["c"]
    minutes = {n: Conversation.objects.get(pk=c[n].pk).first_response_service_minutes for n in c}
    # Weekend, holiday, daylight-saving change on a business-hours channel and on a 24/7 one.
    assert minutes == {1: 60, 2: 20, 3: 120, 4: None, 6: 45, 7: None, 8: 150, 9: 360, 10: None}
    outside = set(Message.objects.filter(direction="in", outside_service_hours=True)
                  .values_list("platform_message_id", flat=True))
    assert outside == {"m4", "m6"}
    assert {c[n].pk for n in c if Conversation.objects.get(pk=c[n].pk).department == october["returns"]} == {
        c[8].pk, c[9].pk, c[10].pk}


@pytest.mark.django_db
def test_every_headline_figure_and_its_previous_period(october):
    report = report_for(october["executive"])
    f = report.figures
    assert report.request.period.start == at(1, 0) and report.request.period.end == at(30, 0)
    assert report.request.previous.start == at(2, 0, month=9)

    assert figures(report)["volume"] == (10, 3)
    assert f["volume"].change == approx(700 / 3) and f["volume"].arrow == "up"
    assert (f["sentiment_positive"].current, f["sentiment_neutral"].current, f["sentiment_negative"].current) == (
        approx(10), approx(40), approx(50))
    assert f["sentiment_negative"].previous == approx(100 / 3)
    # Shares change in percentage points, and a rise in negative sentiment is a worsening.
    assert f["sentiment_negative"].change == approx(50 - 100 / 3)
    assert f["sentiment_negative"].arrow == "up" and f["sentiment_negative"].improved is False
    # Net sentiment: (1 - 5) / 10 now, (1 - 1) / 3 before; its change is in points too (not a % of 0).
    assert figures(report)["net_sentiment"] == (approx(-40), approx(0))
    assert f["net_sentiment"].change == approx(-40) and f["net_sentiment"].arrow == "down"
    assert figures(report)["outside_hours"] == (2, 0)

    assert figures(report)["complaints_opened"] == (4, 1)
    assert figures(report)["complaints_resolved"] == (1, 1)
    assert f["complaints_resolved"].change == 0 and f["complaints_resolved"].arrow == "flat"
    assert figures(report)["complaints_open"] == (3, 0)
    assert f["complaints_open"].change is None  # no percentage of zero

    # Answered in October: 20, 45, 60, 120, 150, 360 -> median (60 + 120) / 2, p90 150 + 0.5 * 210.
    # September: 10, 40 -> median 25, p90 10 + 0.9 * 30.
    assert figures(report)["first_response_median"] == (approx(90), approx(25))
    assert figures(report)["first_response_p90"] == (approx(255), approx(37))
    assert f["first_response_median"].arrow == "up" and f["first_response_median"].improved is False
    # On time c2 c3 c6 c8; late c1 c9; overdue c4 c7 c10 -> 4 / 9. September: 2 of 3.
    assert figures(report)["sla_share"] == (approx(400 / 9), approx(200 / 3))
    assert f["sla_share"].change == approx(400 / 9 - 200 / 3) and f["sla_share"].improved is False
    assert figures(report)["breaches"] == (7, 2)
    assert figures(report)["influencer"] == (1, 0)
    assert figures(report)["sensitive"] == (1, 0)


@pytest.mark.django_db
def test_volume_sentiment_and_coverage_per_day_and_per_channel(october):
    report = report_for(october["executive"])
    days = {row["day"]: row for row in report.tables["days"].rows}
    assert list(days) == [date(2026, 10, d) for d in range(1, 30)]  # every local day, empty ones included
    assert {d.day: row["messages"] for d, row in days.items() if row["messages"]} == {
        2: 1, 9: 1, 14: 1, 15: 1, 17: 1, 20: 1, 23: 1, 24: 1, 26: 1, 28: 1}
    assert days[date(2026, 10, 17)]["positive"] == 100 and days[date(2026, 10, 14)]["negative"] == 100
    assert days[date(2026, 10, 1)]["negative"] is None  # no messages: no share rather than 0%

    channels = {row["channel"]: row for row in report.tables["channels"].rows}
    assert list(channels) == ["Acme Madrid", "Acme Lisbon"]
    madrid, lisbon = channels["Acme Madrid"], channels["Acme Lisbon"]
    assert (madrid["messages"], madrid["previous"], madrid["outside"]) == (7, 3, 2)
    assert madrid["negative"] == approx(300 / 7) and madrid["outside_share"] == approx(200 / 7)
    assert madrid["change"] == approx(400 / 3)
    assert (lisbon["messages"], lisbon["previous"], lisbon["outside"], lisbon["change"]) == (3, 0, 0, None)
    assert lisbon["negative"] == approx(200 / 3)


@pytest.mark.django_db
def test_days_are_the_viewers_local_days(october, make_member):
    tokyo = make_member(Role.EXECUTIVE, username="kenji", time_zone="Asia/Tokyo")
    report = report_for(tokyo)
    assert report.request.period.start == datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    per_day = {row["day"].day: row["messages"] for row in report.tables["days"].rows if row["messages"]}
    # Madrid evenings are the next morning in Tokyo: c1 17:30 -> 3rd 00:30, c4 20:00 -> 15th 03:00
    # (with its follow-up that afternoon), c8 Monday 22:00 CET -> Tuesday 06:00, c9 23:00 CEST -> 06:00.
    assert per_day == {3: 1, 10: 1, 15: 2, 17: 1, 20: 1, 24: 1, 25: 1, 27: 1, 28: 1}
    assert report.figures["volume"].current == 10


@pytest.mark.django_db
def test_intents_tags_topics_and_complaint_ages(october):
    report = report_for(october["executive"])
    intents = [(r["key"], r["conversations"], r["previous"], round(r["share"], 2))
               for r in report.tables["intents"].rows]
    assert intents == [("complaint", 4, 1, 44.44), ("simple_query", 3, 1, 33.33), ("praise", 1, 1, 11.11),
                       ("sensitive", 1, 0, 11.11)]
    assert [(r["tag"], r["conversations"], r["previous"], r["change"]) for r in report.tables["tags"].rows] == [
        ("delivery", 2, 1, 100.0), ("=cmd()", 1, 0, None)]
    # The complaint's words: in 4 of 10 messages now, 1 of 3 before.
    topics = report.tables["topics"].rows
    assert topics and topics[0]["term"] == "answers"
    assert {r["term"] for r in topics} >= {"order", "terrible", "arrived"}
    assert all((r["messages"], round(r["share"], 2), round(r["previous_share"], 2)) == (4, 40.0, 33.33)
               for r in topics)
    # The whole organisation reads the rollup added up over channels (TopicDayTotal); naming every channel reads
    # the per-channel rows (TopicDay): the same topics.
    every_channel = metrics.Scope(account_ids=tuple(SocialAccount.objects.values_list("pk", flat=True)))
    period = report.request.period
    assert metrics.topic_growth(every_channel, period, totals=(10, 3)) == metrics.topic_growth(
        metrics.Scope(), period, totals=(10, 3)) != []
    # Open complaints at Friday 30 October 12:00: c10 (2 days), c8 (3.6 days), c4 (15.7 days).
    ages = [r["complaints"] for r in report.tables["complaint_age"].rows]
    assert ages == [0, 1, 1, 1]
    assert report.facts["oldest_open_complaint_days"] == 15


@pytest.mark.django_db
def test_response_time_sla_and_breaches_per_department_and_channel(october):
    report = report_for(october["executive"])
    departments = {r["name"]: r for r in report.tables["sla_departments"].rows}
    service, returns = departments["Customer service"], departments["Returns"]
    # Customer service answered 20, 45, 60, 120: median 52.5, p90 60 + 0.7 * 60.
    assert (service["conversations"], service["median"], service["p90"]) == (6, approx(52.5), approx(102))
    assert (service["judged"], service["sla"], service["breaches"]) == (6, approx(50), 5)
    assert (returns["conversations"], returns["median"], returns["p90"]) == (3, approx(255), approx(339))
    assert (returns["judged"], returns["sla"], returns["breaches"]) == (3, approx(100 / 3), 2)
    channels = {r["name"]: (r["conversations"], r["median"], r["sla"], r["breaches"])
                for r in report.tables["sla_channels"].rows}
    assert channels == {"Acme Madrid": (6, approx(52.5), approx(50), 5),
                        "Acme Lisbon": (3, approx(255), approx(100 / 3), 2)}
    per_intent = {r["name"]: (r["judged"], r["sla"], r["breaches"]) for r in report.tables["sla_intents"].rows}
    assert per_intent["Complaint"] == (4, approx(50), 2) and per_intent["Simple query"] == (3, approx(100 / 3), 3)


@pytest.mark.django_db
def test_influencer_and_sensitive_conversations_and_who_handled_them(october):
    report = report_for(october["executive"])
    rita = october["rita"]
    rows = {r["person"]: (r["influencer"], r["sensitive"], r["median"]) for r in report.tables["handlers"].rows}
    assert rows == {rita.get_full_name() or rita.username: (1, 0, approx(45)), "Nobody yet": (0, 1, None)}
    assert report.facts["special_median"] == {"influencer": approx(45), "sensitive": None}


@pytest.mark.django_db
def test_objectives_against_their_targets(october):
    report = report_for(october["executive"])
    rows = {r["objective"]: (float(r["current"]), r["progress"]) for r in report.tables["objectives"].rows}
    # Median first response since 1 October on the brand's channels is 90 minutes; the SLA share 4 / 9.
    # 16% of the way from 1 October to 31 March: the straight line from 240 to 60 expects ~211 (90 is
    # ahead: on track); from 95 expects ~89 (90 is 1 behind, within 10%: at risk); the SLA line from 50
    # to 90 expects ~56.5 (44.4 is off track).
    assert rows == {"Answer faster": (90, "on_track"), "Answer a bit faster": (90, "at_risk"),
                    "Keep the SLA": (44.44, "off_track")}


@pytest.mark.django_db
def test_a_department_scope_counts_only_that_departments_conversations(october):
    params = {**OCTOBER, "scope": f"department:{october['returns'].pk}"}
    report = report_for(october["executive"], params)
    assert figures(report)["volume"] == (3, 0)
    assert figures(report)["complaints_opened"] == (2, 0)
    assert figures(report)["first_response_median"] == (approx(255), None)
    assert figures(report)["breaches"] == (2, 0)
    assert [r["name"] for r in report.tables["sla_departments"].rows] == ["Returns"]
    account = report_for(october["executive"], {**OCTOBER, "scope": f"account:{october['a'].pk}"})
    assert figures(account)["volume"] == (7, 3) and figures(account)["outside_hours"] == (2, 0)


@pytest.mark.django_db
def test_an_empty_period_shows_dashes_not_errors(october, client_for):
    params = {"period": "custom", "start": "2025-03-01", "end": "2025-03-31"}
    report = report_for(october["executive"], params)
    assert figures(report)["volume"] == (0, 0)
    for key in ("sentiment_negative", "net_sentiment", "first_response_median", "first_response_p90", "sla_share"):
        assert figures(report)[key] == (None, None), key
        assert report.figures[key].change is None and report.figures[key].arrow == "flat"
    assert report.tables["channels"].rows == [] and report.tables["topics"].rows == []
    assert all(r["complaints"] == 0 for r in report.tables["complaint_age"].rows)
    page = client_for(october["executive"]).get("/strategy/reports/", params)
    assert page.status_code == 200
    html = page.content.decode()
    median = html.split('data-figure="first_response_median"')[1].split("</div>")[0]
    assert "–" in median and "0 min" not in median
    assert "No messages arrived in this period." in html


@pytest.mark.django_db
@pytest.mark.parametrize("values, fraction, expected", [
    ([7], 0.5, 7), ([7], 0.9, 7),                    # a single value
    ([5, 1, 9], 0.5, 5), ([5, 1, 9], 0.9, 8.2),     # odd: the middle one; 5 + 0.8 * (9 - 5)
    ([4, 1, 3, 2], 0.5, 2.5), ([4, 1, 3, 2], 0.9, 3.7),  # even: between the two middle ones
    ([2, 2, 2, 10], 0.5, 2), ([1, 3, 3, 7, 100, 9], 0.9, 54.5), ([1, 3], 0.0, 1), ([1, 3], 1.0, 3),
])
def test_grouped_percentiles_equal_percentile_cont(channel, values, fraction, expected):
    account = channel["account"]
    for n, minutes in enumerate(values):
        conversation = opened(account, 500 + n, at(2, 10, n))
        Conversation.objects.filter(pk=conversation.pk).update(first_response_service_minutes=minutes)
    opened(account, 499, at(2, 9, 0))  # unanswered: left out
    qs = Conversation.objects.filter(account=account)
    result = metrics.grouped_percentiles(qs, "account_id", "first_response_service_minutes", (fraction,))
    assert result == {account.pk: {fraction: approx(expected)}}
    assert metrics.percentile(qs, "first_response_service_minutes", fraction) == approx(expected)


@pytest.mark.django_db
def test_grouped_percentiles_keep_groups_apart(channel):
    account = channel["account"]
    groups = {"a": [10, 40, 20], "b": [5, 6], "c": [9]}
    n = 0
    for subject, values in groups.items():
        for minutes in values:
            conversation = opened(account, 600 + n, at(2, 10, n))
            Conversation.objects.filter(pk=conversation.pk).update(first_response_service_minutes=minutes,
                                                                   subject=subject)
            n += 1
    qs = Conversation.objects.all()
    assert metrics.grouped_percentiles(qs, "subject", "first_response_service_minutes", (0.5, 0.9)) == {
        "a": {0.5: approx(20), 0.9: approx(36)}, "b": {0.5: approx(5.5), 0.9: approx(5.9)},
        "c": {0.5: approx(9), 0.9: approx(9)}}
    assert metrics.grouped_percentiles(qs.none(), "subject", "first_response_service_minutes", (0.5,)) == {}


@pytest.mark.django_db
def test_the_number_of_queries_does_not_depend_on_the_period(october):
    user = october["executive"]
    counts = {}
    for name, params in {"7d": {"period": "7d"}, "90d": {"period": "90d"}, "october": OCTOBER,
                         "two years": {"period": "custom", "start": "2024-10-30", "end": "2026-10-29"}}.items():
        request = parse_request(user, params, now=NOW)
        with CaptureQueriesContext(connection) as queries:
            build_report(user, request, now=NOW)
        counts[name] = len(queries)
    assert len(set(counts.values())) == 1, counts


@pytest.mark.django_db
def test_a_brand_without_channels_has_an_empty_report_not_an_error(october, client_for):
    from strategy.models import Brand

    empty = Brand.objects.create(name="Empty brand", slug="empty")
    params = {**OCTOBER, "scope": f"brand:{empty.pk}"}
    report = report_for(october["executive"], params)
    assert figures(report)["volume"] == (0, 0) and figures(report)["first_response_median"] == (None, None)
    assert report.tables["handlers"].rows == []
    client = client_for(october["executive"])
    assert client.get("/strategy/reports/", params).status_code == 200
    inbox = client.get(report.figures["complaints_opened"].url)  # the link to its 0 complaints lists none
    assert inbox.status_code == 200 and 'data-testid="conversation-row"' not in inbox.content.decode()


@pytest.mark.django_db
def test_a_later_message_and_a_status_change_show_in_the_next_report(october):
    before = report_for(october["executive"])
    opened(october["a"], 30, at(29, 11, 0), "Still waiting, this is awful", thread=4)  # c4 again
    from inbox.services import conversation_set_status

    conversation_set_status(actor=october["lena"], conversation=Conversation.objects.get(pk=october["c"][10].pk),
                            status="resolved", confirm=True)
    after = report_for(october["executive"])
    assert after.figures["volume"].current == before.figures["volume"].current + 1
    assert after.figures["complaints_resolved"].current == before.figures["complaints_resolved"].current + 1
    assert after.figures["complaints_open"].current == before.figures["complaints_open"].current - 1


@pytest.mark.django_db
def test_the_previous_period_is_the_same_number_of_local_days_across_a_clock_change(october):
    # October has 31 local days but 745 hours (clocks go back on the 25th); the previous period is
    # 31 local days from 31 August midnight, not 745 hours back (30 August 23:00).
    request = parse_request(october["executive"], {"period": "month", "month": "2026-10"}, now=at(2, 12, month=11))
    assert (request.period.start, request.period.end) == (at(1, 0), at(1, 0, month=11))
    assert request.period.end.astimezone(UTC) - request.period.start.astimezone(UTC) == timedelta(days=31, hours=1)
    assert (request.previous.start, request.previous.end) == (at(31, 0, month=8), at(1, 0))
    report = build_report(october["executive"], request, now=at(2, 12, month=11))
    assert figures(report)["volume"] == (10, 3)


@pytest.mark.django_db
def test_the_page_runs_the_same_number_of_queries_for_any_period(october, client_for):
    client = client_for(october["executive"])
    client.get("/strategy/reports/", OCTOBER)  # the session and the first-visit work, out of the count
    counts = {}
    for name, params in {"90d": {"period": "90d"}, "month": {"period": "month", "month": "2026-10"},
                         "two years": {"period": "custom", "start": "2024-11-01", "end": "2026-10-31"}}.items():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/strategy/reports/", params).status_code == 200
        counts[name] = len(queries)
    assert len(set(counts.values())) == 1, counts


def test_net_sentiment_changes_are_shown_in_points_not_percent():
    from strategy.reports import Figure
    from strategy.templatetags.report_tags import figure_change

    net = Figure("net_sentiment", "Net sentiment", -40.0, -10.0, kind="points", better="higher")
    assert net.change == approx(-30) and net.improved is False  # not +300% of -10
    assert figure_change(net) == "−30.0 pts"
    assert figure_change(Figure("net_sentiment", "Net sentiment", 5.0, 0.0, kind="points")) == "+5.0 pts"
