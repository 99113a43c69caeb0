"""The one metrics module, on hand-made data with known answers: first
responses that cross a weekend, a public holiday and a lunch break count
only service time; a conversation with no response; an empty period; the
same figures on SQLite and PostgreSQL (the suite runs on both)."""

from datetime import datetime

import pytest

from inbox.models import Conversation
from strategy import metrics
from tests.security.factories import SocialAccountFactory
from tests.strategy.conftest import MADRID, answered, at, opened, resolved

__all__ = ["answered", "at", "opened"]  # also read by the browser journey


@pytest.fixture
def december(channel, monkeypatch, django_capture_on_commit_callbacks):
    account, agent = channel["account"], channel["agent"]
    weekend = opened(account, 1, at(2, 17, 30))   # Friday 17:30 -> Monday 09:30: 30 + 30 = 60 min
    holiday = opened(account, 2, at(9, 17, 50))   # Friday 17:50 -> Tuesday 09:10, Monday 12th a holiday: 20 min
    lunch = opened(account, 3, at(14, 12, 50))    # Wednesday 12:50 -> 14:20 across lunch: 10 + 20 = 30 min
    opened(account, 4, at(15, 10, 0))             # Thursday, never answered
    answered(weekend, agent, at(5, 9, 30), monkeypatch, django_capture_on_commit_callbacks)
    answered(holiday, agent, at(13, 9, 10), monkeypatch, django_capture_on_commit_callbacks)
    answered(lunch, agent, at(14, 14, 20), monkeypatch, django_capture_on_commit_callbacks)
    return channel


def whole(account) -> tuple[metrics.Scope, metrics.Period]:
    return metrics.Scope(account_ids=(account.pk,)), metrics.Period(at(1, 0), at(31, 0))


@pytest.mark.django_db
def test_first_response_counts_only_service_time_across_weekend_holiday_and_lunch(december):
    answered_minutes = sorted(Conversation.objects.filter(first_response_service_minutes__isnull=False)
                              .values_list("first_response_service_minutes", flat=True))
    assert answered_minutes == [20, 30, 60]
    figures = metrics.first_response_minutes(*whole(december["account"]))
    assert figures["answered"] == 3
    assert figures["median"] == pytest.approx(30)
    assert figures["p90"] == pytest.approx(54)  # percentile_cont: 30 + 0.8 * (60 - 30)


@pytest.mark.django_db
def test_sla_attainment_judges_answered_and_overdue_conversations(december):
    # Simple queries: 30 service minutes. 60 is late, 20 and 30 on time, the unanswered one is overdue.
    figures = metrics.sla_attainment(*whole(december["account"]), now=at(20, 12))
    assert (figures["on_time"], figures["late"], figures["overdue"]) == (2, 1, 1)
    assert figures["share"] == pytest.approx(0.5)
    # Before the unanswered one's target passed, it is not judged yet.
    early = metrics.sla_attainment(*whole(december["account"]), now=at(15, 10, 10))
    assert early["overdue"] == 0 and early["share"] == pytest.approx(2 / 3)


@pytest.mark.django_db
def test_an_empty_period_has_no_figures_rather_than_zeros(december):
    scope = metrics.Scope(account_ids=(december["account"].pk,))
    empty = metrics.Period(datetime(2026, 1, 1, tzinfo=MADRID), datetime(2026, 2, 1, tzinfo=MADRID))
    assert metrics.inbound_volume(scope, empty) == 0
    assert metrics.first_response_minutes(scope, empty) == {"median": None, "p90": None, "answered": 0}
    assert metrics.sla_attainment(scope, empty)["share"] is None
    assert metrics.sentiment(scope, empty)["net"] is None


@pytest.mark.django_db
def test_scope_and_period_bound_every_figure(december, channel):
    other = SocialAccountFactory(platform="mastodon", handle="@elsewhere", sandbox=True)
    opened(other, 9, at(7, 10), sentiment_text="I love this brand, thank you so much!")
    scope, period = whole(december["account"])
    assert metrics.inbound_volume(scope, period) == 4
    assert metrics.inbound_volume(metrics.Scope(), period) == 5
    assert metrics.inbound_volume(scope, metrics.Period(at(2, 0), at(10, 0))) == 2
    assert metrics.sentiment(metrics.Scope(account_ids=(other.pk,)), period)["positive"] == 1


@pytest.mark.django_db
def test_percentile_matches_percentile_cont_on_every_database(channel):
    # Unsorted values with ties; percentile_cont's answers computed by hand.
    account = channel["account"]
    for n, minutes in enumerate([5, 1, 9, 3, 3, 7]):
        conversation = opened(account, 100 + n, at(2, 10, n))
        Conversation.objects.filter(pk=conversation.pk).update(first_response_service_minutes=minutes)
    qs = Conversation.objects.filter(account=account)
    assert metrics.percentile(qs, "first_response_service_minutes", 0.5) == pytest.approx(4.0)
    assert metrics.percentile(qs, "first_response_service_minutes", 0.9) == pytest.approx(8.0)
    assert metrics.percentile(qs, "first_response_service_minutes", 0.0) == pytest.approx(1.0)
    assert metrics.percentile(qs, "first_response_service_minutes", 1.0) == pytest.approx(9.0)
    assert metrics.percentile(qs.none(), "first_response_service_minutes", 0.5) is None


@pytest.mark.django_db
def test_complaint_resolution_rate_and_median_in_service_time(channel, monkeypatch):
    account, agent = channel["account"], channel["agent"]
    complaint = "This is terrible, my order never arrived and nobody answers"
    # Friday 17:00 -> Monday 10:00: 60 + 60 = 120 service minutes (the weekend does not count)
    first = opened(account, 21, at(2, 17, 0), text=complaint)
    # Tuesday 12:30 -> 14:30, across lunch: 30 + 30 = 60 service minutes
    second = opened(account, 22, at(6, 12, 30), text=complaint)
    opened(account, 23, at(7, 9, 0), text=complaint)  # still open
    assert {c.intent for c in Conversation.objects.all()} == {"complaint"}
    assert resolved(first, agent, at(5, 10, 0), monkeypatch).resolution_service_minutes == pytest.approx(120)
    assert resolved(second, agent, at(6, 14, 30), monkeypatch).resolution_service_minutes == pytest.approx(60)

    figures = metrics.complaint_resolution(*whole(account))
    assert (figures["opened"], figures["resolved"]) == (3, 2)
    assert figures["rate"] == pytest.approx(2 / 3)
    assert figures["median_minutes"] == pytest.approx(90)


@pytest.mark.django_db
def test_a_conversation_closed_without_a_reply_is_not_judged_as_missed(december):
    account = december["account"]
    unanswered = Conversation.objects.get(account=account, first_response_at__isnull=True)
    Conversation.objects.filter(pk=unanswered.pk).update(status=Conversation.Status.CLOSED)  # spam, closed unanswered
    figures = metrics.sla_attainment(*whole(account), now=at(20, 12))
    assert (figures["on_time"], figures["late"], figures["overdue"]) == (2, 1, 0)
    assert figures["share"] == pytest.approx(2 / 3)
