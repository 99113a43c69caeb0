from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.ingest import ingest_messages
from inbox.models import Conversation
from inbox.services import conversation_claim
from inbox.templatetags.inbox_clock import sla_chip
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


@pytest.mark.django_db
def test_my_work_lists_my_conversations_with_their_clock(make_member, client_for):
    service = DepartmentFactory(name="Customer service")
    rep = make_member(department=service)
    account = SocialAccountFactory()
    ingest_messages(account=account, items=[{"platform_message_id": "1", "text": "Where is my order #123456?",
                                             "sent_at": timezone.now().isoformat(),
                                             "author": {"id": "c", "handle": "@carla", "display_name": "Carla"}}])
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(department=service)
    conversation.refresh_from_db()
    conversation_claim(actor=rep, conversation=conversation)
    html = client_for(rep).get(reverse("dashboard")).content.decode()
    assert 'data-testid="panel-my-work"' in html and "Carla" in html and "due in" in html


def _conv(**fields):
    defaults = {"status": "open", "first_response_due_at": timezone.now() + timedelta(minutes=12),
                "first_response_at": None, "sla_paused_at": None, "sla_warned": False, "sla_breached": False}
    from security.models import SocialAccount

    return Conversation(account=SocialAccount(platform="mastodon", handle="@x"), **{**defaults, **fields})


@pytest.mark.django_db
def test_sla_chip_states():
    now = timezone.now()
    assert "due in 12 min" in sla_chip(_conv(first_response_due_at=now + timedelta(minutes=12, seconds=5)), now)
    assert 'class="chip warn"' in sla_chip(_conv(sla_warned=True), now)
    late = sla_chip(_conv(first_response_at=now, first_response_breached=True,
                          resolution_due_at=now + timedelta(hours=30)), now)
    assert "first response was late" in late
    breached = sla_chip(_conv(first_response_due_at=now - timedelta(hours=3), sla_breached=True), now)
    assert 'class="chip bad"' in breached and "overdue by 3 h" in breached
    assert "paused" in sla_chip(_conv(sla_paused_at=now), now)
    assert sla_chip(_conv(status="resolved"), now) == ""
