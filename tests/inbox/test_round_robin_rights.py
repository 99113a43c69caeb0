"""Round robin by rights: a new conversation goes only to a member of its
department who can answer on its channel (send first, else draft for
approval), or stays in the queue; the turn moves fairly among those who
can; the rights are read once per batch."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ConversationEvent, QueueSettings, TriageSettings
from inbox.permissions import ReplyModes, reply_mode
from inbox.services import assign_round_robin
from security.models import Capability, SocialAccount
from security.permissions import capabilities_held, has_capability
from security.services import grant_create, grant_revoke
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

_counter = iter(range(10**6))


def items(count: int) -> list[dict]:
    """``count`` messages, each opening its own conversation."""
    batch = []
    for _ in range(count):
        n = next(_counter)
        batch.append({"platform_message_id": f"m{n}", "text": "hello, a question?",
                      "sent_at": datetime(2026, 11, 27, 10, n % 60, tzinfo=UTC).isoformat(),
                      "author": {"id": f"a{n}", "handle": f"@a{n}"}})
    return batch


def arrive(account, count: int) -> list[Conversation]:
    before = set(Conversation.objects.values_list("pk", flat=True))
    assert ingest_messages(account=account, items=items(count)).conversations_created == count
    return list(Conversation.objects.exclude(pk__in=before).order_by("pk"))


def grant(admin, account, capability, user=None, department=None):
    return grant_create(actor=admin, account=account, capability=capability, user=user, department=department,
                        reason="desk")


@pytest.fixture
def desk(admin_user, make_member):
    """A queue with round robin on and two people: Ana may reply on channel A
    only, Ben holds nothing."""
    department = DepartmentFactory(name="Desk")
    row = TriageSettings.current()
    row.default_department = department
    row.save()
    QueueSettings.objects.create(department=department, auto_assign=True)
    ana, ben = make_member(department=department), make_member(department=department)
    a, b = SocialAccountFactory(handle="@a@example.social"), SocialAccountFactory(handle="@b@example.social")
    grant(admin_user, a, "reply", user=ana)
    return {"admin": admin_user, "department": department, "ana": ana, "ben": ben, "a": a, "b": b}


def queue_pointer(department):
    return QueueSettings.objects.get(department=department).last_assigned_id


def test_each_conversation_goes_to_someone_who_can_answer_on_its_channel_or_stays_in_the_queue(desk):
    on_a = arrive(desk["a"], 3)
    assert [c.assignee_id for c in on_a] == [desk["ana"].pk] * 3
    assert queue_pointer(desk["department"]) == desk["ana"].pk

    on_b = arrive(desk["b"], 2)
    assert [c.assignee_id for c in on_b] == [None, None]
    assert not ConversationEvent.objects.filter(conversation__in=on_b, kind="auto_assigned").exists()
    assert ConversationEvent.objects.filter(conversation__in=on_a, kind="auto_assigned").count() == 3
    assert queue_pointer(desk["department"]) == desk["ana"].pk  # the turn did not move for B


def test_a_drafter_is_the_fallback_and_a_sender_is_preferred(desk):
    grant(desk["admin"], desk["b"], "draft", user=desk["ben"])
    grant(desk["admin"], desk["a"], "draft", user=desk["ben"])
    # On A Ana can send, Ben can only draft: Ana takes them all.
    assert {c.assignee_id for c in arrive(desk["a"], 3)} == {desk["ana"].pk}
    # On B nobody can send: Ben, who can draft for approval, takes them.
    on_b = arrive(desk["b"], 2)
    assert [c.assignee_id for c in on_b] == [desk["ben"].pk] * 2
    assert all(reply_mode(desk["ben"], c) == "approval" for c in on_b)


def test_a_department_draft_right_counts_for_every_member(desk):
    grant(desk["admin"], desk["b"], "draft", department=desk["department"])
    on_b = arrive(desk["b"], 4)
    assert [c.assignee_id for c in on_b] == [desk["ana"].pk, desk["ben"].pk] * 2


def test_the_turn_alternates_among_eligible_people_across_batches_and_channels(desk, make_member):
    cy = make_member(department=desk["department"])
    grant(desk["admin"], desk["a"], "reply", user=cy)
    ana, ben = desk["ana"], desk["ben"]
    first = arrive(desk["a"], 3)
    assert [c.assignee_id for c in first] == [ana.pk, cy.pk, ana.pk]
    assert arrive(desk["b"], 1)[0].assignee_id is None  # Ben is never given one, and B does not use a turn
    second = arrive(desk["a"], 2)
    assert [c.assignee_id for c in second] == [cy.pk, ana.pk]
    # Ben gains a right on B only: B goes to him, and A keeps alternating between Ana and Cy
    # (one turn per department: after Ben comes Cy, who would have been next on A anyway).
    grant(desk["admin"], desk["b"], "reply", user=ben)
    assert [c.assignee_id for c in arrive(desk["b"], 2)] == [ben.pk, ben.pk]
    assert [c.assignee_id for c in arrive(desk["a"], 3)] == [cy.pk, ana.pk, cy.pk]


def test_a_suspended_channel_gives_nobody_a_turn(desk):
    SocialAccount.objects.filter(pk=desk["a"].pk).update(status=SocialAccount.Status.SUSPENDED)
    assert [c.assignee_id for c in arrive(desk["a"], 2)] == [None, None]


def _unassigned(account, department, count):
    """``count`` conversations waiting in ``department``'s queue on ``account``."""
    QueueSettings.objects.filter(department=department).update(auto_assign=False)
    conversations = arrive(account, count)
    QueueSettings.objects.filter(department=department).update(auto_assign=True)
    assert all(c.assignee_id is None for c in conversations)
    return conversations


def test_the_number_of_queries_does_not_grow_with_the_number_of_conversations(desk):
    grant(desk["admin"], desk["b"], "draft", department=desk["department"])
    counts = []
    for size in (2, 40):
        batch = _unassigned(desk["a"], desk["department"], size) + _unassigned(desk["b"], desk["department"], size)
        with CaptureQueriesContext(connection) as queries:
            assert assign_round_robin(batch) == 2 * size
        counts.append(len(queries))
        assert Conversation.objects.filter(pk__in=[c.pk for c in batch], assignee__isnull=True).count() == 0
    assert counts[0] == counts[1], counts


def test_the_batch_answers_agree_with_the_door(desk, make_member):
    """``capabilities_held`` and ``ReplyModes`` give, for many people at once,
    what ``has_capability`` and ``reply_mode`` give one by one."""
    admin, a, b, ana, ben = desk["admin"], desk["a"], desk["b"], desk["ana"], desk["ben"]
    specialist = make_member(Role.SPECIALIST, department=desk["department"])
    grant(admin, a, "reply", user=specialist)
    grant(admin, b, "draft", department=desk["department"])
    grant(admin, b, "reply", user=ben)
    grant_revoke(actor=admin, grant=grant(admin, a, "draft", user=ben), reason="done")
    people = [ana, ben, specialist, admin]
    accounts = [a, b]
    held = capabilities_held(people, accounts, list(Capability))
    for user in people:
        for account in accounts:
            for capability in Capability:
                fresh = type(user).objects.get(pk=user.pk)
                assert ((user.pk, account.pk, capability.value) in held) == has_capability(
                    fresh, capability, account), (user, account, capability)
    conversations = arrive(a, 1) + arrive(b, 1)
    Conversation.objects.filter(pk=conversations[0].pk).update(is_sensitive=True)
    conversations = list(Conversation.objects.filter(pk__in=[c.pk for c in conversations]).order_by("pk"))
    modes = ReplyModes(people, accounts)
    for user in people:
        for conversation in conversations:
            fresh = type(user).objects.get(pk=user.pk)
            assert modes.mode(user.pk, conversation) == reply_mode(fresh, conversation), (user, conversation)
