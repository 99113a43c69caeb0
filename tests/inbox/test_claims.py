"""Claims, take-overs and reassignment, and the rule that ingest and the SLA
sweep never undo an agent's work (issue 8, items 4 and 5).

These run on SQLite and PostgreSQL, one transaction after the other. Where
a race matters they replay the interleaving that broke: a claim, a
resolution or the sweep's flag committed *between* ingest reading a
conversation and writing it (or between the sweep reading a row and
flagging it). The same races with real concurrent transactions are in
test_concurrency.py (PostgreSQL)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from inbox import services
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ConversationEvent, ServiceWindow, TriageSettings
from inbox.services import ConversationHeldError, conversation_assign, conversation_claim, sla_sweep
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


def item(pmid, *, thread=None, text="Saw your post about the new store.", ago=timedelta(hours=3, minutes=30),
         author="c1"):
    """A message the triage files as "other": warned 3 h 12 min after it, due at 4 h."""
    return {"platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - ago).isoformat(),
            "thread_id": thread or pmid, "author": {"id": author, "handle": f"@{author}"}}


@pytest.fixture
def world(make_member, admin_user):
    care = DepartmentFactory(name="Customer care")
    settings_row = TriageSettings.current()
    settings_row.default_department = care
    settings_row.save()
    account = SocialAccountFactory(handle="@care@example.social")
    ServiceWindow.objects.create(account=account, always_open=True)
    ana = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana",
                      last_name="Holder")
    bob = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="bob", first_name="Bob",
                      last_name="Taker")
    cleo = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="cleo", first_name="Cleo",
                       last_name="Third")
    result = ingest_messages(account=account, items=[item("1")])
    assert result.created == 1, result.errors
    return {"care": care, "account": account, "ana": ana, "bob": bob, "cleo": cleo, "admin": admin_user,
            "conversation": Conversation.objects.get()}


def notes_for(user, kind="conversation.reassigned"):
    return list(Notification.objects.filter(recipient=user, kind=kind).values_list("text", flat=True))


# --- the service: claim, refusal, take-over, reassignment ---------------------------------------------------------


def test_a_free_conversation_is_claimed_and_opened(world):
    claimed = conversation_claim(actor=world["ana"], conversation=world["conversation"])
    stored = Conversation.objects.get()
    assert claimed.assignee_id == stored.assignee_id == world["ana"].pk
    assert stored.status == "open"
    event = stored.events.get(kind="assigned")
    assert event.actor == world["ana"] and event.data == {"before": None, "assignee": world["ana"].pk}


def test_a_claim_on_a_stale_copy_is_refused_naming_who_holds_it(world):
    """The race of the issue, one step after the other: Bob's page was loaded before Ana claimed it."""
    stale = Conversation.objects.get()
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    with pytest.raises(ConversationHeldError) as refused:
        conversation_claim(actor=world["bob"], conversation=stale)
    assert refused.value.holder == world["ana"]
    assert refused.value.messages == ["Ana Holder is handling this conversation."]
    assert Conversation.objects.get().assignee == world["ana"]
    assert not notes_for(world["ana"])
    assert not ConversationEvent.objects.filter(kind="taken_over").exists()


def test_claiming_what_is_already_mine_changes_nothing(world):
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    assert ConversationEvent.objects.filter(kind="assigned").count() == 1


def test_a_take_over_records_the_previous_assignee_and_tells_them(world):
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    taken = conversation_claim(actor=world["bob"], conversation=world["conversation"], take_over=True)
    assert taken.previous_assignee == world["ana"]
    assert Conversation.objects.get().assignee == world["bob"]
    event = ConversationEvent.objects.get(kind="taken_over")
    assert event.actor == world["bob"] and event.data == {"before": world["ana"].pk, "assignee": world["bob"].pk}
    assert notes_for(world["ana"]) == ["Bob Taker took over your conversation with @c1"]


def test_a_take_over_confirmed_for_someone_else_is_asked_again(world):
    """Bob confirmed taking it from Ana, but Cleo took it meanwhile: Bob is asked about Cleo."""
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    conversation_claim(actor=world["cleo"], conversation=world["conversation"], take_over=True)
    with pytest.raises(ConversationHeldError) as refused:
        conversation_claim(actor=world["bob"], conversation=world["conversation"], take_over=True,
                           expected_holder_id=world["ana"].pk)
    assert refused.value.holder == world["cleo"]
    assert Conversation.objects.get().assignee == world["cleo"]


def test_assigning_oneself_is_a_claim(world):
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    with pytest.raises(ConversationHeldError):
        conversation_assign(actor=world["bob"], conversation=world["conversation"], assignee=world["bob"])
    assert Conversation.objects.get().assignee == world["ana"]
    conversation_assign(actor=world["bob"], conversation=world["conversation"], assignee=world["bob"],
                        take_over=True)
    assert Conversation.objects.get().assignee == world["bob"]
    assert notes_for(world["ana"]) == ["Bob Taker took over your conversation with @c1"]


def test_a_lead_reassigning_tells_the_previous_assignee(world):
    stale = Conversation.objects.get()
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    conversation_assign(actor=world["admin"], conversation=stale, assignee=world["cleo"])
    stored = Conversation.objects.get()
    assert stored.assignee == world["cleo"]
    event = stored.events.filter(kind="assigned").last()
    assert event.data == {"before": world["ana"].pk, "assignee": world["cleo"].pk}  # read under the lock
    assert len(notes_for(world["ana"])) == 1 and "to Cleo Third" in notes_for(world["ana"])[0]
    assert notes_for(world["cleo"], "conversation.assigned")
    conversation_assign(actor=world["admin"], conversation=stored, assignee=None)
    assert Conversation.objects.get().assignee is None
    assert notes_for(world["cleo"]) == [f"{world['admin']} returned your conversation with @c1 to the queue"]


def test_moving_to_another_queue_keeps_a_claim_made_meanwhile(world, make_member):
    stale = Conversation.objects.get()
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    other = DepartmentFactory(name="Sales")
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=other, user=world["ana"])
    services.conversation_route(actor=world["admin"], conversation=stale, department=other, reason="sales lead")
    stored = Conversation.objects.get()
    assert stored.department == other and stored.assignee == world["ana"]


# --- the pages: refusal, confirmation, take-over --------------------------------------------------------------------


def test_the_page_asks_before_taking_over_and_the_holder_is_told(world, client_for):
    conversation = world["conversation"]
    conversation_claim(actor=world["ana"], conversation=conversation)
    client = client_for(world["bob"])
    html = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'data-testid="claim"' in html and "Take over…" in html

    response = client.post(reverse("inbox:claim", args=[conversation.pk]))
    assert response.status_code == 409
    html = response.content.decode()
    assert "Ana Holder is handling this conversation." in html
    assert "Take over from Ana Holder? They will be told." in html and 'data-testid="take-over"' in html
    assert Conversation.objects.get().assignee == world["ana"] and not notes_for(world["ana"])

    response = client.post(reverse("inbox:claim", args=[conversation.pk]),
                           {"take_over": "1", "holder": str(world["ana"].pk)})
    assert response.status_code == 302
    assert Conversation.objects.get().assignee == world["bob"]
    assert notes_for(world["ana"]) == ["Bob Taker took over your conversation with @c1"]
    html = client.get(response["Location"]).content.decode()
    assert "Ana Holder has been told" in html
    assert "Taken over" in html and "from Ana Holder to Bob Taker" in html


def test_the_page_confirmation_names_whoever_holds_it_now(world, client_for):
    conversation = world["conversation"]
    conversation_claim(actor=world["ana"], conversation=conversation)
    conversation_claim(actor=world["cleo"], conversation=conversation, take_over=True)
    client = client_for(world["bob"])
    response = client.post(reverse("inbox:claim", args=[conversation.pk]),
                           {"take_over": "1", "holder": str(world["ana"].pk)})
    assert response.status_code == 409 and "Take over from Cleo Third?" in response.content.decode()
    assert Conversation.objects.get().assignee == world["cleo"]


def test_the_assign_form_choosing_oneself_asks_too(world, client_for):
    conversation = world["conversation"]
    conversation_claim(actor=world["ana"], conversation=conversation)
    response = client_for(world["bob"]).post(reverse("inbox:assign", args=[conversation.pk]),
                                             {"assignee": world["bob"].pk})
    assert response.status_code == 409 and "Take over from Ana Holder?" in response.content.decode()
    assert Conversation.objects.get().assignee == world["ana"]
    response = client_for(world["bob"]).post(reverse("inbox:assign", args=[conversation.pk]),
                                             {"assignee": world["cleo"].pk})
    assert response.status_code == 302 and Conversation.objects.get().assignee == world["cleo"]
    assert len(notes_for(world["ana"])) == 1


# --- the API: 409 naming the holder, take_over: true -------------------------------------------------------------


def test_the_api_refuses_with_a_409_and_takes_over_on_request(world, api_for):
    conversation = world["conversation"]
    conversation_claim(actor=world["ana"], conversation=conversation)
    client = api_for(fresh(world["bob"]))
    response = client.post(f"/api/conversations/{conversation.pk}/claim/", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["assignee"] == ["Ana Holder is handling this conversation."]
    assert body["holder"]["id"] == world["ana"].pk and "take_over" in body["take_over"]
    assert Conversation.objects.get().assignee == world["ana"]

    response = client.post(f"/api/conversations/{conversation.pk}/assign/", {"assignee": world["bob"].pk},
                           format="json")
    assert response.status_code == 409

    response = client.post(f"/api/conversations/{conversation.pk}/claim/", {"take_over": True}, format="json")
    assert response.status_code == 200 and response.json()["assignee"]["id"] == world["bob"].pk
    assert notes_for(world["ana"]) == ["Bob Taker took over your conversation with @c1"]
    assert ConversationEvent.objects.filter(kind="taken_over").count() == 1


# --- ingest owns only its fields --------------------------------------------------------------------------------


def _between_read_and_write(monkeypatch, action):
    """Runs ``action`` inside ingest, after it has read the conversations and
    before it writes them: the moment an agent's commit used to be lost."""
    original = services.assign_round_robin

    def round_robin_then_act(conversations):
        assigned = original(conversations)
        action()
        return assigned

    monkeypatch.setattr(services, "assign_round_robin", round_robin_then_act)


def test_ingest_does_not_undo_a_claim_a_resolution_or_a_warning_made_meanwhile(world, monkeypatch):
    claimed = world["conversation"]
    ingest_messages(account=world["account"], items=[item("2")])
    resolved = Conversation.objects.get(thread_key="thread:2")
    resolved_at = timezone.now()

    def agents_and_sweep():
        Conversation.objects.filter(pk=claimed.pk).update(assignee=world["ana"], status="open", sla_warned=True)
        Conversation.objects.filter(pk=resolved.pk).update(status="resolved", resolved_at=resolved_at,
                                                           sla_next_check_at=None)

    _between_read_and_write(monkeypatch, agents_and_sweep)
    # Sent before the resolution: not a reason to reopen.
    result = ingest_messages(account=world["account"], items=[
        item("1a", thread="1", text="still there?", ago=timedelta(minutes=10)),
        item("2a", thread="2", text="and this one?", ago=timedelta(minutes=10))])
    assert result.created == 2
    claimed, resolved = Conversation.objects.get(pk=claimed.pk), Conversation.objects.get(pk=resolved.pk)
    assert claimed.assignee == world["ana"] and claimed.sla_warned
    assert resolved.status == "resolved" and resolved.resolved_at == resolved_at
    assert claimed.message_count == resolved.message_count == 2
    assert claimed.last_message_preview == "still there?"


def test_ingest_between_two_sweeps_does_not_warn_twice(world, monkeypatch):
    """The sweep warns while ingest is running: the next sweep must not warn again."""
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    _between_read_and_write(monkeypatch, lambda: sla_sweep())
    ingest_messages(account=world["account"], items=[item("1a", thread="1", ago=timedelta(minutes=1))])
    monkeypatch.undo()
    sla_sweep()
    assert Notification.objects.filter(recipient=world["ana"], kind="sla.warning").count() == 1
    assert ConversationEvent.objects.filter(kind="sla_warning").count() == 1
    assert Conversation.objects.get().sla_warned


def test_a_sweep_flags_only_if_nobody_flagged_first(world, monkeypatch):
    """Another sweep (or anyone) set the flag after this sweep read the row: no second warning."""
    conversation_claim(actor=world["ana"], conversation=world["conversation"])
    from inbox import sla

    original = sla.set_next_check

    def flagged_meanwhile(conversation):
        Conversation.objects.filter(pk=conversation.pk).update(sla_warned=True)
        original(conversation)

    monkeypatch.setattr(sla, "set_next_check", flagged_meanwhile)
    assert sla_sweep()["warned"] == 0
    assert not Notification.objects.filter(kind="sla.warning").exists()
    assert not ConversationEvent.objects.filter(kind="sla_warning").exists()


def test_an_older_message_counts_but_keeps_the_newest_preview(world):
    ingest_messages(account=world["account"], items=[item("1b", thread="1", text="newest", ago=timedelta(minutes=1))])
    newest_at = Conversation.objects.get().last_message_at
    ingest_messages(account=world["account"], items=[item("1a", thread="1", text="late", ago=timedelta(hours=1))])
    stored = Conversation.objects.get()
    assert stored.message_count == 3 and stored.last_message_preview == "newest"
    assert stored.last_message_at == newest_at


def test_ingest_into_existing_conversations_stays_bulk(world, django_assert_max_num_queries):
    ingest_messages(account=world["account"], items=[item(f"t{n}", author=f"a{n}") for n in range(100)])
    Conversation.objects.filter(thread_key__in=[f"thread:t{n}" for n in range(0, 100, 2)]).update(
        status="resolved", resolved_at=timezone.now() - timedelta(hours=4))
    more = [item(f"t{n}-{k}", thread=f"t{n}", author=f"a{n}", ago=timedelta(minutes=k + 1))
            for n in range(100) for k in range(3)]
    with django_assert_max_num_queries(60):
        result = ingest_messages(account=world["account"], items=more)
    assert result.created == 300 and result.conversations_reopened == 50
    assert set(Conversation.objects.filter(thread_key__startswith="thread:t")
               .values_list("message_count", flat=True)) == {4}
