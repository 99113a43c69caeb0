"""The one ingest service: idempotent, keeps the valid part of a batch,
groups messages into conversations, reopens resolved ones."""

import pytest

from inbox.ingest import ingest_messages
from inbox.models import Conversation, Message
from inbox.services import conversation_set_status
from tests.security.factories import SocialAccountFactory


def item(pmid, text="Hello?", *, author="a1", sent_at="2026-11-27T10:00:00Z", **extra):
    return {"platform_message_id": pmid, "text": text, "sent_at": sent_at,
            "author": {"id": author, "handle": f"@{author}", "display_name": author.upper()}, **extra}


@pytest.fixture
def account(db):
    return SocialAccountFactory()


@pytest.mark.django_db
def test_same_batch_three_times_is_one_copy(account):
    batch = [item(str(n), f"message {n}", author=f"a{n % 3}") for n in range(20)]
    first = ingest_messages(account=account, items=batch)
    second = ingest_messages(account=account, items=batch)
    third = ingest_messages(account=account, items=batch)
    assert (first.created, second.created, third.created) == (20, 0, 0)
    assert second.duplicates == third.duplicates == 20
    assert Message.objects.count() == 20
    assert sum(Conversation.objects.values_list("message_count", flat=True)) == 20


@pytest.mark.django_db
def test_duplicates_inside_one_batch_count_once(account):
    result = ingest_messages(account=account, items=[item("1"), item("1"), item("2")])
    assert result.created == 2 and result.duplicates == 1


@pytest.mark.django_db
def test_bad_items_are_reported_and_good_ones_kept(account):
    batch = [item("ok-1"), {"text": "no id"}, item("ok-2", sent_at="yesterday"), "nonsense",
             item("ok-3", author="x", kind="carrier-pigeon"), item("ok-4", sent_at="2026-11-27T10:00:00"),
             {**item("ok-5"), "author": {"id": "z", "handle": "@z", "followers": -3}}, item("ok-6")]
    result = ingest_messages(account=account, items=batch)
    assert result.created == 2
    errors = {(e.index, e.field) for e in result.errors}
    assert {(1, "platform_message_id"), (2, "sent_at"), (3, "non_field_errors"), (4, "kind"), (5, "sent_at"),
            (6, "author.followers")} <= errors
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == {"ok-1", "ok-6"}
    assert result.as_dict()["rejected"] == 6


@pytest.mark.django_db
def test_text_is_stored_exactly_as_received(account):
    hostile = '<script>alert("x")</script> & <img src=x onerror=1> 🙂 \u202e'
    ingest_messages(account=account, items=[item("1", hostile)])
    assert Message.objects.get().text == hostile


@pytest.mark.django_db
def test_grouping_by_thread_and_direct_messages(account):
    ingest_messages(account=account, items=[
        item("t1", "Is my order #12345 shipped?"),
        item("t2", "Any news?", in_reply_to="t1", thread_id="t1", sent_at="2026-11-27T11:00:00Z"),
        item("d1", "Private question", kind="direct", author="b"),
        item("d2", "Another private one", kind="direct", author="b", sent_at="2026-11-27T12:00:00Z"),
        item("other", "Unrelated", author="c"),
    ])
    keys = dict(Conversation.objects.values_list("thread_key", "message_count"))
    assert keys == {"thread:t1": 2, "dm:b": 2, "thread:other": 1}
    thread = Conversation.objects.get(thread_key="thread:t1")
    assert thread.last_message_preview == "Any news?"


@pytest.mark.django_db
def test_new_message_reopens_a_resolved_conversation(account, admin_user):
    ingest_messages(account=account, items=[item("1", "My parcel is late")])
    conversation = Conversation.objects.get()
    conversation_set_status(actor=admin_user, conversation=conversation, status="resolved")
    from django.utils import timezone

    later = (timezone.now() + timezone.timedelta(minutes=5)).isoformat()  # after the resolution, whatever today is
    result = ingest_messages(account=account, items=[item("2", "Still late!", in_reply_to="1", thread_id="1",
                                                            sent_at=later)])
    conversation.refresh_from_db()
    assert result.conversations_reopened == 1
    assert conversation.status == "open" and conversation.resolved_at is None
    assert conversation.events.filter(kind="reopened").exists()


@pytest.mark.django_db
def test_ingest_works_in_bulk_not_per_message(account, django_assert_max_num_queries):
    # Bulk statements are split only by the database's parameter limit (SQLite's is small),
    # so 300 messages with new authors and threads cost a few dozen statements, never one per message.
    with django_assert_max_num_queries(60):
        result = ingest_messages(account=account, items=[item(f"b{n}", author=f"b{n}") for n in range(300)])
    assert result.created == 300


@pytest.mark.django_db
def test_an_older_message_does_not_reopen_a_resolved_conversation(account, admin_user):
    ingest_messages(account=account, items=[item("1", "My parcel is late")])
    conversation = Conversation.objects.get()
    conversation_set_status(actor=admin_user, conversation=conversation, status="resolved")
    # a late webhook retry of something sent before the resolution
    ingest_messages(account=account, items=[item("0", "earlier", thread_id="1", sent_at="2026-11-27T09:00:00Z")])
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.message_count == 2


@pytest.mark.django_db
@pytest.mark.parametrize("value,ok,verified", [("false", True, False), ("true", True, True), (False, True, False),
                                               ("maybe", False, None), ([], False, None)])
def test_verified_flag_is_read_strictly(account, value, ok, verified):
    from inbox.models import Author

    result = ingest_messages(account=account, items=[{**item("1"), "author": {"id": "v", "handle": "@v",
                                                                              "verified": value}}])
    assert (result.created == 1) is ok
    if ok:
        assert Author.objects.get(external_id="v").verified is verified
    else:
        assert result.errors[0].field == "author.verified"


@pytest.mark.django_db
def test_oversized_batch_reports_every_item_left_out(account):
    from inbox import ingest

    items = [item(str(n), author=f"a{n}") for n in range(ingest.MAX_BATCH + 3)]
    result = ingest_messages(account=account, items=items)
    assert result.created == ingest.MAX_BATCH
    assert [e.index for e in result.errors] == [ingest.MAX_BATCH, ingest.MAX_BATCH + 1, ingest.MAX_BATCH + 2]


@pytest.mark.django_db
def test_every_minute_schedules_exist_after_migrate():
    from django_q.models import Schedule

    from inbox.tasks import ensure_schedules

    ensure_schedules()
    ensure_schedules()
    funcs = sorted(Schedule.objects.filter(func__startswith="inbox.").values_list("func", flat=True))
    assert funcs == ["inbox.tasks.poll_all_accounts", "inbox.tasks.retry_replies_task", "inbox.tasks.sla_sweep_task"]
