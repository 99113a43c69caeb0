"""Your own reply does not make a conversation unread for you; a
colleague's reply is news to the others."""

import pytest
from django.utils import timezone

from accounts.roles import Role
from inbox import services
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Message, Reply, TriageSettings
from inbox.selectors import with_unread
from security import services as security_services
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


def unread_for(user, conversation) -> bool:
    return with_unread(Conversation.objects.filter(pk=conversation.pk), user).get().is_unread


@pytest.mark.django_db
def test_a_sent_reply_leaves_the_conversation_read_for_its_author_only(make_member, admin_user,
                                                                        django_capture_on_commit_callbacks):
    service = DepartmentFactory(name="Customer service", slug="customer-service")
    triage = TriageSettings.current()
    triage.default_department = service
    triage.save()
    account = SocialAccountFactory(sandbox=True)
    account.departments.add(service)
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service, username="rita")
    colleague = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service, username="cora")
    security_services.grant_create(actor=admin_user, account=account, capability="reply", user=agent, reason="agent",
                                   reauthenticated_at=timezone.now())
    ingest_messages(account=account, source="test", items=[{
        "platform_message_id": "u1", "text": "Where is my parcel?", "sent_at": timezone.now().isoformat(),
        "thread_id": "u1", "author": {"id": "c1", "handle": "@customer"}}])
    conversation = Message.objects.get(platform_message_id="u1").conversation
    for person in (agent, colleague):
        services.conversation_mark_seen(user=person, conversation=conversation)
        assert not unread_for(person, conversation)

    with django_capture_on_commit_callbacks(execute=True):
        services.reply_submit(actor=agent, conversation=conversation, body="It's on its way, sorry for the wait.")

    assert Reply.objects.get(conversation=conversation).status == Reply.Status.SENT
    assert not unread_for(agent, conversation)
    assert unread_for(colleague, conversation)
