"""The conversation page without dead ends or silent surprises: taking over
and moving a colleague's conversation tells them, a mention nobody receives
is said, resolving with an unsent reply asks first, the reply's length is
checked against the channel's platform, the customer panel shows only what
the viewer may see, the reply block updates itself, and the page runs a
fixed number of queries however much the conversation holds."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from inbox import services
from inbox.ingest import ingest_messages
from inbox.limits import PLATFORM_REPLY_LIMITS, reply_limit
from inbox.models import Author, Conversation, Reply
from security.services import grant_create
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


def ingest(account, pmid, text, *, department, author="a1", handle="@dora", ago=timedelta(minutes=5), **extra):
    result = ingest_messages(account=account, items=[{
        "platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - ago).isoformat(),
        "author": {"id": author, "handle": handle, **extra}}])
    assert not result.errors, result.errors
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    conversation.refresh_from_db()
    return conversation


def grant(admin, account, capability, *, user):
    return grant_create(actor=admin, account=account, capability=capability, user=user, reason="desk",
                        reauthenticated_at=timezone.now())


def url(name, conversation):
    return reverse(f"inbox:{name}", args=[conversation.pk])


@pytest.fixture
def world(make_member, admin_user):
    care = DepartmentFactory(name="Customer care")
    billing = DepartmentFactory(name="Billing")
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    ana = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana",
                      last_name="Lead")
    carla = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="carla", first_name="Carla",
                        last_name="Care")
    bob = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=billing, username="bob", first_name="Bob",
                      last_name="Bills")
    conversation = ingest(account, "c1", "My heater arrived broken", department=care)
    return {"care": care, "billing": billing, "account": account, "ana": ana, "carla": carla, "bob": bob,
            "admin": admin_user, "conversation": conversation}


# --- take over and move: the person who loses it is told -----------------------------------------------

def test_taking_over_asks_first_then_tells_the_previous_assignee(world, client_for):
    conversation = services.conversation_claim(actor=world["ana"], conversation=world["conversation"])
    carla = client_for(world["carla"])
    response = carla.post(url("claim", conversation))
    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="take-over-confirm"' in html and "Ana Lead is handling this conversation." in html
    assert fresh_conversation(conversation).assignee == world["ana"]
    assert not Notification.objects.filter(recipient=world["ana"]).exists()

    response = carla.post(url("claim", conversation), {"take_over": "1", "holder": str(world["ana"].pk)})
    assert response.status_code == 302
    assert fresh_conversation(conversation).assignee == world["carla"]
    note = Notification.objects.get(recipient=world["ana"])
    assert "Carla Care took over your conversation" in note.text and note.url == f"/inbox/c/{conversation.pk}/"


def fresh_conversation(conversation):
    return Conversation.objects.get(pk=conversation.pk)


def test_moving_to_a_queue_the_assignee_is_not_in_tells_them(world, client_for):
    conversation = services.conversation_claim(actor=world["ana"], conversation=world["conversation"])
    response = client_for(world["carla"]).post(url("route", conversation), {"department": world["billing"].pk,
                                                                            "reason": "an invoice question"},
                                               follow=True)
    assert fresh_conversation(conversation).assignee is None
    note = Notification.objects.get(recipient=world["ana"])
    assert "Carla Care moved your conversation" in note.text and "Billing" in note.text
    assert "no longer assigned to you" in note.text
    # Carla cannot see the billing queue: she lands on the list, told who lost it
    assert response.redirect_chain[-1][0] == reverse("inbox:list")
    assert "Ana Lead is not in it, so it is no longer theirs; they have been told." in response.content.decode()


def test_moving_keeps_a_member_assignee_and_still_tells_them(world, make_member):
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=world["billing"], user=world["ana"])
    conversation = services.conversation_claim(actor=fresh(world["ana"]), conversation=world["conversation"])
    moved = services.conversation_route(actor=world["carla"], conversation=conversation,
                                        department=world["billing"])
    assert moved.previous_assignee is None and fresh_conversation(conversation).assignee == world["ana"]
    assert "it is still yours" in Notification.objects.get(recipient=world["ana"]).text


def test_moving_my_own_conversation_tells_nobody(world):
    conversation = services.conversation_claim(actor=world["carla"], conversation=world["conversation"])
    services.conversation_route(actor=world["carla"], conversation=conversation, department=world["billing"])
    assert not Notification.objects.exists()


# --- mentions -------------------------------------------------------------------------------------------

def test_a_mention_of_someone_who_cannot_see_it_is_said_not_dropped(world, client_for):
    conversation = world["conversation"]
    note = services.note_add(actor=world["carla"], conversation=conversation,
                             body="@ana and @bob: refund? Thanks @ana. And @nobody-here")
    assert list(note.mentions.all()) == [world["ana"]]
    assert note.not_notified == ["bob"] and note.unknown_mentions == ["nobody-here"]
    assert not Notification.objects.filter(recipient=world["bob"]).exists()

    response = client_for(world["carla"]).post(url("note", conversation), {"body": "@bob can you check?"},
                                               follow=True)
    html = response.content.decode()
    assert "Note added." in html
    assert "@bob cannot see this conversation and was not notified." in html
    assert not Notification.objects.filter(recipient=world["bob"]).exists()


# --- resolving with a reply not sent ---------------------------------------------------------------------

@pytest.mark.parametrize("state", [Reply.Status.PENDING_APPROVAL, Reply.Status.APPROVED, Reply.Status.SENDING,
                                   Reply.Status.FAILED])
def test_resolving_with_an_unsent_reply_is_refused_without_confirm(world, state):
    conversation = world["conversation"]
    Reply.objects.create(conversation=conversation, author=world["ana"], body="Refund on its way", status=state)
    with pytest.raises(services.ReplyOutstandingError) as refused:
        services.conversation_set_status(actor=world["carla"], conversation=conversation, status="resolved")
    assert "confirm" in refused.value.message_dict
    assert [r.status for r in refused.value.replies] == [state]
    assert fresh_conversation(conversation).status != "resolved"
    with pytest.raises(ValidationError):
        services.conversation_set_status(actor=world["carla"], conversation=conversation, status="closed")
    services.conversation_set_status(actor=world["carla"], conversation=conversation, status="resolved",
                                     confirm=True)
    assert fresh_conversation(conversation).status == "resolved"


def test_resolving_with_only_sent_or_returned_replies_needs_no_confirm(world):
    conversation = world["conversation"]
    Reply.objects.create(conversation=conversation, author=world["ana"], body="Done", status=Reply.Status.SENT,
                         sent_at=timezone.now())
    Reply.objects.create(conversation=conversation, author=world["ana"], body="Draft",
                         status=Reply.Status.RETURNED)
    services.conversation_set_status(actor=world["carla"], conversation=conversation, status="resolved")
    assert fresh_conversation(conversation).status == "resolved"
    # waiting on the customer is not a resolution: never asked
    Reply.objects.create(conversation=conversation, author=world["ana"], body="Again",
                         status=Reply.Status.PENDING_APPROVAL)
    services.conversation_set_status(actor=world["carla"], conversation=conversation, status="waiting")


def test_the_page_asks_with_the_replys_state_and_resolves_anyway(world, client_for):
    conversation = world["conversation"]
    Reply.objects.create(conversation=conversation, author=world["ana"], body="We will refund you",
                         status=Reply.Status.FAILED, last_error="No connector sends to x yet")
    carla = client_for(world["carla"])
    response = carla.post(url("status", conversation), {"status": "resolved"})
    assert response.status_code == 409
    html = response.content.decode()
    box = html[html.index('data-testid="resolve-confirm"'):]
    box = box[:box.index("</form>")]
    assert "Failed" in box and "We will refund you" in box and "No connector sends to x yet" in box
    assert 'name="confirm" value="1"' in box and "Resolve anyway" in box
    assert fresh_conversation(conversation).status != "resolved"
    response = carla.post(url("status", conversation), {"status": "resolved", "confirm": "1"})
    assert response.status_code == 302 and fresh_conversation(conversation).status == "resolved"


# --- the reply's length against the platform -------------------------------------------------------------

def test_the_limits_table_follows_the_platforms():
    assert PLATFORM_REPLY_LIMITS == {"mastodon": 500, "x": 280, "bluesky": 300, "facebook": 8000,
                                     "instagram": 2200, "linkedin": 1250, "youtube": 10_000, "tiktok": 150}
    assert reply_limit(SocialAccountFactory.build(platform="other")) == 10_000


@pytest.mark.parametrize("platform, limit", [("x", 280), ("mastodon", 500), ("facebook", 8000)])
def test_a_reply_over_the_platform_limit_is_a_400_naming_body_and_the_limit(world, client_for, api_for, connector,
                                                                             platform, limit):
    account = SocialAccountFactory(platform=platform)
    conversation = ingest(account, "p1", "Question?", department=world["care"])
    grant(world["admin"], account, "reply", user=world["carla"])
    client = client_for(world["carla"])
    html = client.get(url("conversation", conversation)).content.decode()
    assert f'data-limit="{limit}"' in html
    assert not re.search(r"<textarea[^>]*data-composer[^>]*maxlength", html)  # typing is never cut

    response = client.post(url("reply", conversation), {"body": "é" * (limit + 1)})
    assert response.status_code == 400
    errors = re.findall(r'<p class="field-error" data-field="body">([^<]+)</p>', response.content.decode())
    assert errors and f"at most {limit} characters" in errors[0] and "1 too many" in errors[0]
    assert not Reply.objects.exists()

    api = api_for(world["carla"])
    response = api.post(f"/api/conversations/{conversation.pk}/replies/", {"body": "x" * (limit + 1)},
                        format="json")
    assert response.status_code == 400 and f"at most {limit}" in str(response.json()["body"])

    # exactly the limit (a CR LF line break counts as one character) goes through
    body = "a" * (limit - 2) + "\r\nb"
    assert client.post(url("reply", conversation), {"body": body}).status_code == 302
    assert Reply.objects.count() == 1


def test_a_facebook_reply_longer_than_the_old_5000_cut_is_accepted(world, client_for, connector):
    account = SocialAccountFactory(platform="facebook")
    conversation = ingest(account, "f1", "Tell me everything", department=world["care"])
    grant(world["admin"], account, "draft", user=world["carla"])
    response = client_for(world["carla"]).post(url("reply", conversation), {"body": "y" * 6000})
    assert response.status_code == 302 and len(Reply.objects.get().body) == 6000


# --- the sensitive reply's flash says who reviews it -------------------------------------------------------

def test_a_sensitive_reply_says_the_specialist_team_reviews_it(world, client_for, make_member):
    specialists = DepartmentFactory(name="Trust and safety", is_specialist_team=True)
    conversation = ingest(world["account"], "s1", "Your heater caught fire, I am calling my lawyer",
                          department=specialists, author="s1")
    Conversation.objects.filter(pk=conversation.pk).update(is_sensitive=True)
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=specialists, username="gus")
    grant(world["admin"], world["account"], "reply", user=agent)
    response = client_for(agent).post(url("reply", conversation), {"body": "We are so sorry."}, follow=True)
    html = response.content.decode()
    assert "a specialist (Trust and safety) must review it" in html
    assert "a colleague with the reply or approve right will review it" not in html
    assert "Waiting for approval by a specialist" in html


# --- the customer panel ------------------------------------------------------------------------------------

def test_customer_panel_lists_only_earlier_conversations_the_viewer_may_see(world, client_for):
    other_channel = SocialAccountFactory(handle="@shop@example.social", display_name="Shop")
    seen = ingest(other_channel, "e1", "Where is my order from March?", department=world["care"],
                  ago=timedelta(days=30))
    hidden = ingest(world["account"], "e2", "Invoice 77 is wrong", department=world["billing"],
                    ago=timedelta(days=10))
    services.tag_add(actor=world["admin"], conversation=seen, name="late-delivery")
    services.tag_add(actor=world["admin"], conversation=hidden, name="secret-billing-tag")
    Author.objects.filter(pk=seen.author_id).update(followers=4321)
    html = client_for(world["carla"]).get(url("conversation", world["conversation"])).content.decode()
    panel = html[html.index('data-testid="customer-panel"'):]
    panel = panel[:panel.index("</section>")]
    assert "Where is my order from March?" in panel and "Shop" in panel
    assert f'href="{url("conversation", seen)}"' in panel
    assert "Invoice 77" not in panel and f'href="{url("conversation", hidden)}"' not in panel
    assert "late-delivery" in panel and "secret-billing-tag" not in panel
    assert "4321" in panel  # the follower count
    # someone in billing sees the other way round
    html = client_for(world["bob"]).get(url("conversation", hidden)).content.decode()
    panel = html[html.index('data-testid="customer-panel"'):]
    panel = panel[:panel.index("</section>")]
    assert "No earlier conversations you may see." in panel and "Where is my order" not in panel


# --- the reply block updates itself ---------------------------------------------------------------------

def test_the_reply_block_polls_while_a_reply_is_on_its_way_and_stops_after(world, client_for, connector):
    conversation = world["conversation"]
    reply = Reply.objects.create(conversation=conversation, author=world["carla"], body="On its way",
                                 status=Reply.Status.SENDING, approved_by=world["carla"], approved_at=timezone.now(),
                                 lease_until=timezone.now() + timedelta(minutes=2), attempts=1)
    client = client_for(world["carla"])
    html = client.get(url("conversation", conversation)).content.decode()
    poll = re.search(r'id="replies"[^>]*hx-get="([^"]+)"\s+hx-trigger="every 3s"', html)
    assert poll, "the block polls while a reply is being sent"
    poll_url = poll.group(1).replace("&amp;", "&")
    assert client.get(poll_url).status_code == 204  # nothing changed: nothing to swap

    Reply.objects.filter(pk=reply.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    services.reply_send(reply.pk)
    assert Reply.objects.get(pk=reply.pk).status == Reply.Status.SENT
    response = client.get(poll_url)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert 'data-testid="reply-sent"' in fragment and ">Sent<" in fragment
    assert "hx-trigger" not in fragment  # nothing left on its way: it stops asking


def test_the_reply_block_is_404_outside_the_viewers_queues_and_400_on_a_bad_since(world, client_for):
    conversation = world["conversation"]
    bob = client_for(world["bob"])
    assert bob.get(url("reply-states", conversation), {"since": "1"}).status_code == 404
    carla = client_for(world["carla"])
    response = carla.get(url("reply-states", conversation), {"since": "yesterday"})
    assert response.status_code == 400 and b"since" in response.content


def test_reply_block_runs_a_fixed_number_of_queries(world, client_for):
    conversation = world["conversation"]
    client = client_for(world["carla"])

    def count():
        client.get(url("reply-states", conversation), {"since": "1"})
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("reply-states", conversation), {"since": "1"}).status_code == 200
        return len(queries.captured_queries)

    Reply.objects.create(conversation=conversation, author=world["ana"], body="one",
                         status=Reply.Status.PENDING_APPROVAL)
    small = count()
    for n in range(6):
        Reply.objects.create(conversation=conversation, author=world["carla" if n % 2 else "ana"], body=f"r{n}",
                             status=Reply.Status.PENDING_APPROVAL if n % 2 else Reply.Status.FAILED)
    assert count() == small


# --- the page's shape -------------------------------------------------------------------------------------

def test_user_written_text_is_marked_dir_auto(world, client_for):
    services.note_add(actor=world["ana"], conversation=world["conversation"], body="ملاحظة: الطلب متأخر")
    html = client_for(world["carla"]).get(url("conversation", world["conversation"])).content.decode()
    assert re.search(r'<div class="msg-text" dir="auto">My heater arrived broken', html)
    assert re.search(r'<p dir="auto">ملاحظة: الطلب متأخر', html)
    assert re.search(r'<h1><bdi dir="auto">', html)


def test_the_reply_and_note_fields_offer_their_shortcuts(world, client_for):
    grant(world["admin"], world["account"], "reply", user=world["carla"])
    html = client_for(world["carla"]).get(url("conversation", world["conversation"])).content.decode()
    assert re.search(r'<textarea[^>]*data-shortcut="r"[^>]*data-shortcut-label="Write a reply"', html)
    assert re.search(r'<textarea[^>]*data-shortcut="n"[^>]*data-shortcut-label="Write an internal note"', html)
    assert "inbox/conversation.js" in html


def test_the_conversation_page_runs_a_fixed_number_of_queries_as_it_grows(world, client_for):
    conversation = world["conversation"]
    grant(world["admin"], world["account"], "reply", user=world["carla"])
    # one of everything first (a prefetch runs only once there is something to prefetch)
    services.note_add(actor=world["ana"], conversation=conversation, body="@carla first look")
    services.tag_add(actor=world["ana"], conversation=conversation, name="first")
    Reply.objects.create(conversation=conversation, author=world["ana"], body="first", status=Reply.Status.FAILED)
    client = client_for(world["carla"])
    page = url("conversation", conversation)
    client.get(page)
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200

    other_channel = SocialAccountFactory()
    for n in range(6):  # earlier conversations of the same customer, on two channels
        earlier = ingest(world["account"] if n % 2 else other_channel, f"old{n}", f"Earlier question {n}",
                         department=world["care"], ago=timedelta(days=n + 1))
        services.tag_add(actor=world["ana"], conversation=earlier, name=f"tag{n}")
    for n in range(5):  # a longer thread, notes with mentions, replies in every state, tags, history
        ingest_messages(account=world["account"], items=[{
            "platform_message_id": f"more{n}", "text": f"And another thing {n}", "thread_id": "c1",
            "sent_at": timezone.now().isoformat(), "author": {"id": "a1", "handle": "@dora"}}])
        services.note_add(actor=world["ana"], conversation=conversation, body=f"@carla look {n}")
        services.tag_add(actor=world["ana"], conversation=conversation, name=f"topic{n}")
        for state in (Reply.Status.PENDING_APPROVAL, Reply.Status.FAILED, Reply.Status.SENDING):
            Reply.objects.create(conversation=conversation, author=world["ana"], body=f"{state} {n}", status=state)
    assert conversation.messages.count() > 5
    with CaptureQueriesContext(connection) as large:
        response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="customer-conversation"') == 6 and "And another thing 4" in html
    import difflib
    assert len(large.captured_queries) == len(small.captured_queries), "\n".join(difflib.unified_diff(
        [q["sql"][:300] for q in small.captured_queries], [q["sql"][:300] for q in large.captured_queries]))


def test_the_api_refuses_resolving_with_an_unsent_reply_until_confirmed(world, api_for):
    conversation = world["conversation"]
    Reply.objects.create(conversation=conversation, author=world["ana"], body="Refund", status=Reply.Status.FAILED)
    api = api_for(world["carla"])
    address = f"/api/conversations/{conversation.pk}/status/"
    response = api.post(address, {"status": "resolved"}, format="json")
    assert response.status_code == 400 and "confirm" in response.json()
    assert fresh_conversation(conversation).status != "resolved"
    assert api.post(address, {"status": "resolved", "confirm": True}, format="json").status_code == 200
    assert fresh_conversation(conversation).status == "resolved"
