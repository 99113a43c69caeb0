"""Regressions found in review: each would have lost a message, posted from
the wrong place, or let the wrong person act."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services import membership_end
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Reply
from inbox.services import (
    conversation_claim,
    conversation_set_intent,
    conversation_set_status,
    reply_approve,
    reply_send,
    reply_submit,
    retry_due_replies,
)
from inbox.settings_services import service_closure_add
from security import services as security
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


@pytest.fixture
def world(db, admin_user, make_member):
    service = DepartmentFactory(name="Customer service")
    from inbox.models import TriageSettings

    row = TriageSettings.current()
    row.default_department = service
    row.save()
    account = SocialAccountFactory()
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service)
    security.grant_create(actor=admin_user, account=account, capability="reply", user=agent, reason="x")
    return {"service": service, "account": account, "agent": User.objects.get(pk=agent.pk), "admin": admin_user}


def _ingest(account, pmid="1", text="Where is my parcel?", **extra):
    ingest_messages(account=account, items=[{"platform_message_id": pmid, "text": text,
                                             "sent_at": timezone.now().isoformat(),
                                             "author": {"id": "c", "handle": "@c"}, **extra}])
    return Conversation.objects.get(messages__platform_message_id=pmid)


@pytest.mark.django_db
def test_a_closure_on_a_channel_without_hours_keeps_it_open_otherwise(world):
    now = timezone.now()
    service_closure_add(actor=world["admin"], account=world["account"], starts_at=now + timedelta(days=30),
                        ends_at=now + timedelta(days=31), reason="holiday")
    conversation = _ingest(world["account"])
    assert conversation.first_response_due_at is not None


@pytest.mark.django_db
def test_nothing_is_posted_from_a_suspended_account(world, connector, django_capture_on_commit_callbacks):
    conversation = _ingest(world["account"])
    security.account_update(actor=world["admin"], account=world["account"], status="suspended")
    reply = Reply.objects.create(conversation=conversation, author=world["agent"], body="hi", status="approved")
    reply_send(reply.pk)
    reply.refresh_from_db()
    assert reply.status == "failed" and "Suspended" in reply.last_error and connector.calls == []


@pytest.mark.django_db
def test_an_unexpected_connector_error_is_retried_with_the_same_key(world, connector):
    conversation = _ingest(world["account"])
    connector.fail = RuntimeError("boom")
    reply = Reply.objects.create(conversation=conversation, author=world["agent"], body="hi", status="approved")
    reply_send(reply.pk)
    reply.refresh_from_db()
    assert reply.status == "approved" and "RuntimeError" in reply.last_error and reply.next_attempt_at
    connector.fail = None
    assert retry_due_replies(now=reply.next_attempt_at + timedelta(seconds=1)) == 1
    reply.refresh_from_db()
    assert reply.status == "sent" and [c["key"] for c in connector.calls] == [str(reply.idempotency_key)]


@pytest.mark.django_db
def test_a_reply_stuck_in_sending_is_picked_up_again(world, connector):
    conversation = _ingest(world["account"])
    reply = Reply.objects.create(conversation=conversation, author=world["agent"], body="hi", status="sending",
                                 next_attempt_at=timezone.now() - timedelta(minutes=1))
    assert retry_due_replies() == 1
    reply.refresh_from_db()
    assert reply.status == "sent" and [c["key"] for c in connector.calls] == [str(reply.idempotency_key)]
    assert retry_due_replies() == 0


@pytest.mark.django_db
def test_a_draft_in_a_conversation_that_became_sensitive_needs_a_specialist(world, make_member,
                                                                            django_capture_on_commit_callbacks):
    drafter = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=world["service"])
    security.grant_create(actor=world["admin"], account=world["account"], capability="draft", user=drafter,
                          reason="x")
    conversation = _ingest(world["account"])
    reply = reply_submit(actor=User.objects.get(pk=drafter.pk), conversation=conversation, body="Let me check")
    assert reply.status == "pending" and not reply.needs_specialist
    _ingest(world["account"], pmid="2", text="My lawyer will sue you", thread_id="1", in_reply_to="1")
    community = make_member(Role.COMMUNITY_MANAGER)
    security.grant_create(actor=world["admin"], account=world["account"], capability="reply", user=community,
                          reason="x")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        reply_approve(actor=User.objects.get(pk=community.pk), reply=reply)


@pytest.mark.django_db
def test_an_assignee_who_leaves_the_department_loses_the_conversation(world, client_for):
    conversation = _ingest(world["account"])
    conversation_claim(actor=world["agent"], conversation=conversation)
    client = client_for(world["agent"])
    assert client.get(reverse("inbox:conversation", args=[conversation.pk])).status_code == 200
    membership_end(actor=world["admin"], membership=world["agent"].memberships.get())
    assert client.get(reverse("inbox:conversation", args=[conversation.pk])).status_code == 404


@pytest.mark.django_db
def test_correcting_the_intent_keeps_the_pause_and_the_history(world):
    conversation = _ingest(world["account"], text="Where is order #123456?")
    conversation_set_status(actor=world["admin"], conversation=conversation, status="waiting")
    conversation = conversation_set_intent(actor=world["admin"], conversation=conversation, intent="complaint")
    assert conversation.sla_paused_at is not None and conversation.sla_next_check_at is None
    conversation = conversation_set_status(actor=world["admin"], conversation=conversation, status="resolved")
    conversation = conversation_set_intent(actor=world["admin"], conversation=conversation, intent="inquiry")
    assert conversation.resolved_at is not None and conversation.status == "resolved"


@pytest.mark.django_db
def test_resolved_straight_to_waiting_is_paused(world):
    conversation = _ingest(world["account"])
    conversation = conversation_set_status(actor=world["admin"], conversation=conversation, status="resolved")
    conversation = conversation_set_status(actor=world["admin"], conversation=conversation, status="waiting")
    assert conversation.sla_paused_at is not None and conversation.sla_next_check_at is None


@pytest.mark.django_db
def test_a_status_change_does_not_overwrite_a_message_ingested_meanwhile(world):
    stale = _ingest(world["account"])
    _ingest(world["account"], pmid="2", text="hello again", thread_id="1", in_reply_to="1")
    conversation_set_status(actor=world["admin"], conversation=stale, status="waiting")
    fresh = Conversation.objects.get(pk=stale.pk)
    assert fresh.message_count == 2 and fresh.last_message_preview == "hello again"


@pytest.mark.django_db
@pytest.mark.parametrize("url,params", [
    ("inbox:list", {"after": "9999-12-31T23:59:59-23:00|1"}),
    ("inbox:list", {"after": "0001-01-01T00:00:00+14:00|1"}),
    ("security:audit", {"since": "0001-01-01"}),
    ("security:audit", {"until": "9999-12-31"}),
])
def test_dates_out_of_range_are_a_400(world, client_for, url, params):
    world["admin"].time_zone = "Asia/Tokyo"
    world["admin"].save()
    assert client_for(world["admin"]).get(reverse(url), params).status_code == 400


@pytest.mark.django_db
def test_api_audit_filter_out_of_range_is_a_400(world, api_for):
    response = api_for(world["admin"]).get("/api/audit-events/", {"since": "0001-01-01T00:00:00+14:00"})
    assert response.status_code == 400 and "since" in response.json()


@pytest.mark.django_db
def test_escalation_to_sensitive_retargets_and_hands_over_to_the_specialists(world):
    specialists = DepartmentFactory(name="Specialist team", is_specialist_team=True)
    conversation = _ingest(world["account"], text="Thanks, great job!")
    conversation_claim(actor=world["agent"], conversation=conversation)
    praise_due = Conversation.objects.get(pk=conversation.pk).first_response_due_at
    _ingest(world["account"], pmid="2", text="Actually my lawyer will sue you", thread_id="1", in_reply_to="1")
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.is_sensitive and conversation.intent == "sensitive"
    assert conversation.department == specialists and conversation.assignee is None
    assert conversation.first_response_due_at == praise_due  # same 4 h target for "others", recomputed
    assert conversation.events.filter(kind="unassigned_escalation").exists()
