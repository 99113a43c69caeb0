"""SLA clocks on conversations: due times inside service hours, warnings at
80%, breaches escalated to the department lead, pause while waiting."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from accounts.models import Notification
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ServicePeriod, ServiceWindow, SlaPolicy, TriageSettings
from inbox.services import conversation_set_status, sla_sweep
from tests.accounts.factories import DepartmentFactory, UserFactory
from tests.security.factories import SocialAccountFactory

MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture
def setup(db):
    lead = UserFactory(username="lead", email="lead@example.org")
    service = DepartmentFactory(name="Customer service", slug="customer-service", lead=lead)
    row = TriageSettings.current()
    row.default_department = service
    row.save()
    account = SocialAccountFactory()
    window = ServiceWindow.objects.create(account=account, time_zone="Europe/Madrid")
    for weekday in range(5):
        ServicePeriod.objects.create(window=window, weekday=weekday, opens_minute=9 * 60, closes_minute=17 * 60)
    return {"account": account, "lead": lead, "service": service}


def _ingest(account, text, sent_at: datetime, pmid="1"):
    ingest_messages(account=account, items=[{"platform_message_id": pmid, "text": text,
                                             "sent_at": sent_at.isoformat(), "author": {"id": "c", "handle": "@c"}}])
    return Conversation.objects.get(messages__platform_message_id=pmid)


@pytest.mark.django_db
def test_simple_query_on_friday_afternoon_is_due_monday_morning(setup):
    conversation = _ingest(setup["account"], "What are your opening hours?",
                           datetime(2026, 11, 27, 16, 45, tzinfo=MADRID))
    assert conversation.intent == "simple_query"
    assert conversation.first_response_due_at == datetime(2026, 11, 30, 9, 15, tzinfo=MADRID)
    # warning at 80% of 30 service minutes: 24 minutes = 15 before close + 9 on Monday
    assert conversation.first_response_warn_at == datetime(2026, 11, 30, 9, 9, tzinfo=MADRID)


@pytest.mark.django_db
def test_admin_policy_overrides_the_default(setup):
    SlaPolicy.objects.create(intent="complaint", first_response_minutes=60, resolution_minutes=600)
    conversation = _ingest(setup["account"], "This is terrible, my order never arrived",
                           datetime(2026, 11, 26, 10, 0, tzinfo=MADRID))
    assert conversation.first_response_due_at == datetime(2026, 11, 26, 11, 0, tzinfo=MADRID)


@pytest.mark.django_db
def test_sweep_warns_then_breaches_once_and_escalates(setup, django_capture_on_commit_callbacks):
    conversation = _ingest(setup["account"], "What are your opening hours?",
                           datetime(2026, 11, 26, 10, 0, tzinfo=MADRID))
    before_warn = datetime(2026, 11, 26, 10, 20, tzinfo=MADRID)
    assert sla_sweep(now=before_warn) == {"warned": 0, "breached": 0, "checked": 0}
    at_warn = datetime(2026, 11, 26, 10, 25, tzinfo=MADRID)
    assert sla_sweep(now=at_warn)["warned"] == 1
    assert sla_sweep(now=at_warn)["warned"] == 0  # idempotent
    # nobody has taken it: the queue's lead is warned, once
    assert Notification.objects.filter(recipient=setup["lead"], kind="sla.warning").count() == 1
    conversation.refresh_from_db()
    assert conversation.sla_warned and not conversation.sla_breached
    assert conversation.sla_next_check_at == conversation.first_response_due_at

    after_due = datetime(2026, 11, 26, 10, 31, tzinfo=MADRID)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=after_due)["breached"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=after_due + timedelta(hours=1))["breached"] == 0  # once only
    conversation.refresh_from_db()
    assert conversation.sla_breached and conversation.sla_next_check_at is None
    alert = Notification.objects.get(recipient=setup["lead"], kind="sla.breached")
    assert "first response" in alert.text
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lead@example.org"]
    assert list(conversation.events.values_list("kind", flat=True)).count("sla_breached") == 1


@pytest.mark.django_db
def test_waiting_on_customer_pauses_the_resolution_clock(setup, admin_user, monkeypatch):
    from django.utils import timezone

    conversation = _ingest(setup["account"], "My order #123456 is late, where is it?",
                           datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))  # Monday
    resolution_due = conversation.resolution_due_at
    admin_user.memberships.update(started_at=datetime(2020, 1, 1, tzinfo=MADRID))
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 23, 10, 0, tzinfo=MADRID))
    conversation_set_status(actor=admin_user, conversation=conversation, status="waiting")
    conversation.refresh_from_db()
    assert conversation.sla_paused_at is not None and conversation.sla_next_check_at is None
    # the customer answers one service day later (Tuesday 10:00): the deadline moves by 8 service hours
    ingest_messages(account=setup["account"], items=[{
        "platform_message_id": "2", "text": "It is order #123456", "thread_id": "1", "in_reply_to": "1",
        "sent_at": datetime(2026, 11, 24, 10, 0, tzinfo=MADRID).isoformat(), "author": {"id": "c", "handle": "@c"}}])
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.sla_paused_at is None
    from inbox.clock import service_minutes_between, spec_for_account

    moved = service_minutes_between(spec_for_account(setup["account"]), resolution_due,
                                    conversation.resolution_due_at)
    assert moved == 8 * 60


@pytest.mark.django_db
def test_sweep_uses_the_index_not_a_scan(setup, django_assert_max_num_queries):
    for n in range(30):
        _ingest(setup["account"], "hello?", datetime(2026, 11, 26, 10, 0, tzinfo=MADRID), pmid=f"p{n}")
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # 30 rows: make the planner show the usable index
        cursor.execute("EXPLAIN QUERY PLAN SELECT id FROM inbox_conversation WHERE sla_next_check_at <= %s"
                       if connection.vendor == "sqlite" else
                       "EXPLAIN SELECT id FROM inbox_conversation WHERE sla_next_check_at <= %s",
                       [datetime(2026, 11, 26, 10, 0, tzinfo=MADRID)])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "conv_sla_sweep" in plan


@pytest.mark.django_db
def test_after_a_late_first_response_the_resolution_clock_is_watched(setup):
    from inbox import sla
    from inbox.clock import spec_for_account

    conversation = _ingest(setup["account"], "What are your opening hours?",
                           datetime(2026, 11, 26, 10, 0, tzinfo=MADRID))
    sla_sweep(now=datetime(2026, 11, 26, 11, 0, tzinfo=MADRID))
    conversation.refresh_from_db()
    assert conversation.sla_breached
    answered = datetime(2026, 11, 26, 11, 30, tzinfo=MADRID)
    sla.record_first_response(conversation, at=answered, spec=spec_for_account(setup["account"]))
    conversation.save()
    assert conversation.first_response_breached and not conversation.sla_breached
    assert conversation.sla_next_check_at == conversation.resolution_warn_at
    result = sla_sweep(now=conversation.resolution_due_at + timedelta(minutes=1))
    assert result["breached"] == 1
    conversation.refresh_from_db()
    assert conversation.sla_breached and conversation.first_response_breached
