"""The guards of the reply services (inbox.services.replies), tested on the
services themselves, called directly: the pages and the API repeat some of
them, which let a deliberate bug in the service go unnoticed.

Each refusal is set up so that the guard under test is the only thing that
can refuse: the actor sees the conversation and holds the rights that would
otherwise let them through."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.roles import Role
from inbox import services
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Message, Reply
from security import services as security_services
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory


def grant(admin, account, capability, user):
    if capability in ("approve", "publish"):
        TrainingRecordFactory(user=user, recorded_by=admin)
    security_services.grant_create(actor=admin, account=account, capability=capability, user=user, reason="test",
                                   reauthenticated_at=timezone.now())


def conversation_in(account, department, n, *, is_sensitive=False) -> Conversation:
    result = ingest_messages(account=account, source="test", items=[{
        "platform_message_id": f"guard-{n}", "text": f"Question number {n}?", "sent_at": timezone.now().isoformat(),
        "kind": "mention", "thread_id": f"guard-thread-{n}",
        "author": {"id": f"a-{n}", "handle": f"@person{n}@example.social", "followers": 3}}])
    assert result.created == 1, result.as_dict()
    conversation = Message.objects.get(account=account, platform_message_id=f"guard-{n}").conversation
    Conversation.objects.filter(pk=conversation.pk).update(department=department, is_sensitive=is_sensitive)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def dept(db):
    return DepartmentFactory()


@pytest.fixture
def account(dept):
    account = SocialAccountFactory()
    account.departments.add(dept)
    return account


@pytest.fixture
def conversation(account, dept):
    return conversation_in(account, dept, 1)


@pytest.fixture
def member(make_member, dept):
    """Someone of the conversation's department: sees its queue."""

    def _member(role=Role.DEPARTMENT_REPRESENTATIVE, **kwargs):
        return make_member(role, department=dept, **kwargs)

    return _member


def submit(author, conversation, body="Thanks, we are on it.") -> Reply:
    return services.reply_submit(actor=fresh(author), conversation=conversation, body=body)


@pytest.mark.django_db
def test_an_author_holding_draft_and_approve_cannot_approve_their_own_reply(admin_user, member, account,
                                                                            conversation, connector):
    author = member()
    grant(admin_user, account, "draft", author)
    grant(admin_user, account, "approve", author)
    reply = submit(author, conversation)
    assert reply.status == Reply.Status.PENDING_APPROVAL  # approve is not reply: it still waits
    with pytest.raises(PermissionDenied):
        services.reply_approve(actor=fresh(author), reply=reply)
    with pytest.raises(PermissionDenied):
        services.reply_return(actor=fresh(author), reply=reply, comment="looks fine to me")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.PENDING_APPROVAL and reply.approved_by is None


@pytest.mark.django_db
def test_an_author_holding_draft_and_reply_sends_at_once_so_nothing_waits_for_themselves(
        admin_user, member, account, conversation, connector):
    author = member()
    grant(admin_user, account, "draft", author)
    grant(admin_user, account, "reply", author)
    assert submit(author, conversation).status == Reply.Status.APPROVED


@pytest.mark.django_db
def test_someone_without_reply_or_approve_cannot_approve(admin_user, member, account, conversation, connector):
    author, drafter = member(), member()
    grant(admin_user, account, "draft", author)
    grant(admin_user, account, "draft", drafter)  # sees the conversation, may draft, may not approve
    reply = submit(author, conversation)
    for actor in (drafter, member()):
        with pytest.raises(PermissionDenied):
            services.reply_approve(actor=fresh(actor), reply=reply)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.PENDING_APPROVAL

    approver = member()
    grant(admin_user, account, "approve", approver)
    approved = services.reply_approve(actor=fresh(approver), reply=reply)
    assert approved.status == Reply.Status.APPROVED and approved.approved_by == approver


@pytest.mark.django_db
def test_an_approver_who_cannot_see_the_conversation_cannot_approve(admin_user, make_member, member, account,
                                                                    conversation, connector):
    author = member()
    grant(admin_user, account, "draft", author)
    reply = submit(author, conversation)
    elsewhere = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=DepartmentFactory())  # another queue
    grant(admin_user, account, "approve", elsewhere)
    with pytest.raises(PermissionDenied):
        services.reply_approve(actor=fresh(elsewhere), reply=reply)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.PENDING_APPROVAL


@pytest.mark.django_db
def test_a_reply_is_approved_only_once(admin_user, member, account, conversation, connector):
    author, approver = member(), member()
    grant(admin_user, account, "draft", author)
    grant(admin_user, account, "approve", approver)
    reply = submit(author, conversation)
    services.reply_approve(actor=fresh(approver), reply=reply)
    with pytest.raises(ValidationError) as exc:
        services.reply_approve(actor=fresh(approver), reply=reply)
    assert "status" in exc.value.message_dict


@pytest.mark.django_db
def test_a_sensitive_conversation_needs_a_specialist(admin_user, make_member, account, connector):
    specialists = DepartmentFactory(is_specialist_team=True)
    conversation = conversation_in(account, specialists, 2, is_sensitive=True)
    author = make_member(Role.COMMUNITY_MANAGER)  # sees every queue
    grant(admin_user, account, "reply", author)
    reply = submit(author, conversation)
    # `reply` alone does not send in a sensitive conversation: it waits for a specialist
    assert reply.status == Reply.Status.PENDING_APPROVAL and reply.needs_specialist

    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)  # sees every queue, holds reply and approve
    grant(admin_user, account, "reply", manager)
    grant(admin_user, account, "approve", manager)
    with pytest.raises(PermissionDenied):
        services.reply_approve(actor=fresh(manager), reply=reply)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.PENDING_APPROVAL

    specialist = make_member(Role.SPECIALIST, department=specialists)
    grant(admin_user, account, "approve", specialist)
    approved = services.reply_approve(actor=fresh(specialist), reply=reply)
    assert approved.status == Reply.Status.APPROVED and approved.approved_by == specialist


@pytest.mark.django_db
def test_a_conversation_that_became_sensitive_after_the_draft_needs_a_specialist(admin_user, member, account,
                                                                                 conversation, connector):
    author, approver = member(), member()
    grant(admin_user, account, "draft", author)
    grant(admin_user, account, "approve", approver)
    reply = submit(author, conversation)
    assert not reply.needs_specialist
    Conversation.objects.filter(pk=conversation.pk).update(is_sensitive=True)
    with pytest.raises(PermissionDenied):
        services.reply_approve(actor=fresh(approver), reply=Reply.objects.get(pk=reply.pk))
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.PENDING_APPROVAL


@pytest.mark.django_db
def test_submitting_needs_a_right_and_sight_of_the_conversation(admin_user, make_member, member, account,
                                                                conversation, connector):
    with pytest.raises(PermissionDenied):
        submit(member(), conversation)  # sees it, holds no right
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=DepartmentFactory())
    grant(admin_user, account, "reply", outsider)  # holds the right, does not see the queue
    with pytest.raises(PermissionDenied):
        submit(outsider, conversation)
    author = member()
    grant(admin_user, account, "draft", author)
    with pytest.raises(ValidationError) as exc:
        submit(author, conversation, body="   ")
    assert "body" in exc.value.message_dict
    assert not Reply.objects.exists()
