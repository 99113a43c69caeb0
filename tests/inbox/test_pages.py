"""The inbox pages: who sees what, filters and keyset pagination, escaping,
replying with and without rights, approvals, notes, saved replies, presence."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from inbox.connectors.base import ConnectorError
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Message, Reply, SavedReply, ServiceWindow
from inbox.services import sla_sweep
from security.services import grant_create
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


# --- helpers ----------------------------------------------------------------

def ingest(account, pmid, text, *, department=None, ago=timedelta(minutes=5), author="a1", handle="@ana",
           followers=0):
    result = ingest_messages(account=account, items=[{
        "platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - ago).isoformat(),
        "author": {"id": author, "handle": handle, "followers": followers}}])
    assert not result.errors, result.errors
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    if department is not None:
        Conversation.objects.filter(pk=conversation.pk).update(department=department)
        conversation.refresh_from_db()
    return conversation


def grant(admin, account, capability, *, user=None, department=None):
    return grant_create(actor=admin, account=account, capability=capability, user=user, department=department,
                        reason="x", reauthenticated_at=timezone.now())


def page(client, conversation, **params):
    return client.get(reverse("inbox:conversation", args=[conversation.pk]), params)


def submit_label(html):
    match = re.search(r'data-testid="reply-submit">([^<]+)<', html)
    return match.group(1) if match else None


@pytest.fixture
def world(make_member, admin_user):
    care = DepartmentFactory(name="Customer care")
    marketing = DepartmentFactory(name="Marketing")
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="rita", first_name="Rita",
                      last_name="Service")
    return {"care": care, "marketing": marketing, "account": account, "rep": rep, "admin": admin_user}


# --- access -----------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, world):
    conversation = ingest(world["account"], "1", "hello", department=world["care"])
    for url in (reverse("inbox:list"), reverse("inbox:conversation", args=[conversation.pk]),
                reverse("inbox:saved-replies")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    # A poll is answered 401, so the page that polls never swaps the sign-in page into itself.
    assert client.get(reverse("inbox:presence", args=[conversation.pk])).status_code == 401
    response = client.post(reverse("inbox:claim", args=[conversation.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_list_shows_only_my_departments_conversations(world, client_for):
    mine = ingest(world["account"], "1", "about my parcel", department=world["care"], author="a1", handle="@ana")
    theirs = ingest(world["account"], "2", "about a campaign", department=world["marketing"], author="b1",
                    handle="@bruno")
    client = client_for(world["rep"])
    html = client.get(reverse("inbox:list")).content.decode()
    assert "@ana" in html and "about my parcel" in html
    assert "@bruno" not in html and "about a campaign" not in html
    assert page(client, mine).status_code == 200
    assert page(client, theirs).status_code == 404
    assert client.post(reverse("inbox:claim", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("inbox:presence", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.assignee_id is None


def test_empty_state_says_what_to_do_next(world, client_for):
    html = client_for(world["rep"]).get(reverse("inbox:list")).content.decode()
    assert "No conversations yet: connect a social account or import messages" in html


def test_queues_show_counts(world, client_for):
    ingest(world["account"], "1", "one", department=world["care"], author="a1")
    ingest(world["account"], "2", "two", department=world["care"], author="a2")
    html = client_for(world["rep"]).get(reverse("inbox:list")).content.decode()
    queues = html[html.index('data-testid="queues"'):html.index("</nav>", html.index('data-testid="queues"'))]
    assert re.search(r'data-queue="all"[^>]*>All I may see <span class="count">2</span>', queues)
    assert re.search(r'data-queue="unassigned"[^>]*>Unassigned <span class="count">2</span>', queues)
    assert "Customer care" in queues


# --- filters and pagination ----------------------------------------------

def test_filters_overdue_and_intent(world, client_for):
    late = ingest(world["account"], "1", "What are your opening hours?", department=world["care"],
                  ago=timedelta(hours=2), author="a1", handle="@late")
    complaint = ingest(world["account"], "2", "My order arrived broken, I want a refund", department=world["care"],
                       author="a2", handle="@angry")
    sla_sweep()
    late.refresh_from_db()
    complaint.refresh_from_db()
    assert late.sla_breached and complaint.intent == "complaint"
    client = client_for(world["rep"])

    html = client.get(reverse("inbox:list"), {"overdue": "1"}).content.decode()
    assert "@late" in html and "@angry" not in html
    assert "overdue by" in html and 'class="chip clock bad"' in html

    html = client.get(reverse("inbox:list"), {"intent": "complaint"}).content.decode()
    assert "@angry" in html and "@late" not in html
    assert "due in" in html

    html = client.get(reverse("inbox:list"), {"queue": "overdue"}).content.decode()
    assert "@late" in html and "@angry" not in html


@pytest.mark.parametrize("params, field", [
    ({"intent": "nonsense"}, "intent"),
    ({"overdue": "banana"}, "overdue"),
    ({"priority": "9"}, "priority"),
    ({"department": "999999"}, "department"),
    ({"after": "garbage"}, "after"),
    ({"queue": "elsewhere"}, "queue"),
])
def test_bad_filter_value_is_a_400_next_to_the_field(world, client_for, params, field):
    response = client_for(world["rep"]).get(reverse("inbox:list"), params)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def _make_conversations(account, department, n, start=0):
    items = [{"platform_message_id": f"m{i}", "text": f"Question number {i}",
              "sent_at": (timezone.now() - timedelta(minutes=i % 7)).isoformat(),
              "author": {"id": f"u{i}", "handle": f"@person{i}"}} for i in range(start, start + n)]
    result = ingest_messages(account=account, items=items)
    assert not result.errors
    Conversation.objects.filter(account=account).update(department=department)


def _row_ids(html):
    return [int(x) for x in re.findall(r'data-testid="conversation-row" data-conversation="(\d+)"', html)]


def test_keyset_pagination_walks_every_conversation_once(world, client_for):
    _make_conversations(world["account"], world["care"], 60)
    no_due = list(Conversation.objects.order_by("id").values_list("pk", flat=True)[:3])
    Conversation.objects.filter(pk__in=no_due).update(first_response_due_at=None)
    client = client_for(world["rep"])
    first = client.get(reverse("inbox:list"))
    html = first.content.decode()
    ids = _row_ids(html)
    assert len(ids) == 50
    more = re.search(r'href="([^"]+)" data-testid="more"', html).group(1).replace("&amp;", "&")
    assert "after=" in more and "offset" not in more and "page=" not in more
    second = client.get(more)
    assert second.status_code == 200
    rest = _row_ids(second.content.decode())
    assert len(rest) == 10 and not set(ids) & set(rest)
    assert sorted(ids + rest) == sorted(Conversation.objects.values_list("pk", flat=True))
    assert rest[-3:] == no_due  # no due time: last, by id
    assert 'data-testid="more"' not in second.content.decode()
    # the due times come in order
    due = dict(Conversation.objects.values_list("pk", "first_response_due_at"))
    dues = [due[i] for i in ids + rest if due[i] is not None]
    assert dues == sorted(dues)


def test_pagination_keeps_the_filters(world, client_for):
    _make_conversations(world["account"], world["care"], 55)
    html = client_for(world["rep"]).get(reverse("inbox:list"), {"priority": "2", "status": "open"}).content.decode()
    more = re.search(r'href="([^"]+)" data-testid="more"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(more).query)
    assert query["priority"] == ["2"] and query["status"] == ["open"] and query["after"]


def test_list_query_count_does_not_grow_with_rows(world, client_for, make_member):
    ServiceWindow.objects.create(account=world["account"], time_zone="Asia/Jakarta", always_open=True)
    _make_conversations(world["account"], world["care"], 5)
    colleague = make_member(department=world["care"], username="bob")
    Conversation.objects.filter(pk__in=Conversation.objects.order_by("id").values("pk")[:2]).update(
        assignee=colleague)
    client = client_for(world["rep"])
    client.get(reverse("inbox:list"))
    with CaptureQueriesContext(connection) as small:
        response = client.get(reverse("inbox:list"))
    assert len(_row_ids(response.content.decode())) == 5
    _make_conversations(world["account"], world["care"], 55, start=5)
    Conversation.objects.filter(pk__in=Conversation.objects.order_by("-id").values("pk")[:20]).update(
        assignee=world["rep"])
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("inbox:list"))
    assert len(_row_ids(response.content.decode())) == 50
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"] for q in large.captured_queries]


def test_channel_local_time_is_shown_when_it_differs(world, client_for):
    ServiceWindow.objects.create(account=world["account"], time_zone="Asia/Jakarta", always_open=True)
    ingest(world["account"], "1", "hello", department=world["care"])
    html = client_for(world["rep"]).get(reverse("inbox:list")).content.decode()
    assert "channel time" in html and "Asia/Jakarta" in html
    world["rep"].time_zone = "Asia/Jakarta"
    world["rep"].save()
    html = client_for(world["rep"]).get(reverse("inbox:list")).content.decode()
    assert "channel time" not in html


# --- escaping ---------------------------------------------------------------

def test_customer_text_is_escaped_in_list_and_thread(world, client_for):
    conversation = ingest(world["account"], "1", "<script>alert(1)</script> & <b>bold</b>", department=world["care"])
    client = client_for(world["rep"])
    for html in (client.get(reverse("inbox:list")).content.decode(), page(client, conversation).content.decode()):
        assert "<script>alert(1)" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Message.objects.get(conversation=conversation).text.startswith("<script>")


# --- replying -----------------------------------------------------------------

def test_reply_with_the_reply_right_is_sent(world, client_for, connector, django_capture_on_commit_callbacks):
    conversation = ingest(world["account"], "1", "Where is my parcel?", department=world["care"])
    grant(world["admin"], world["account"], "reply", user=world["rep"])
    client = client_for(world["rep"])
    assert submit_label(page(client, conversation).content.decode()) == "Send"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("inbox:reply", args=[conversation.pk]), {"body": "It ships today, Ana."})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("inbox:conversation", args=[conversation.pk]))
    assert len(connector.calls) == 1 and connector.calls[0]["text"] == "It ships today, Ana."
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.SENT
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
    out = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert out.text == "It ships today, Ana." and out.sent_by == world["rep"]
    html = client.get(response["Location"]).content.decode()
    assert 'class="msg out"' in html and "It ships today, Ana." in html
    assert "met " in html  # the first response clock


def test_empty_reply_is_a_400_next_to_the_body(world, client_for, connector):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    grant(world["admin"], world["account"], "reply", user=world["rep"])
    response = client_for(world["rep"]).post(reverse("inbox:reply", args=[conversation.pk]), {"body": "  "})
    assert response.status_code == 400
    assert 'data-field="body"' in response.content.decode()
    assert not connector.calls and not Reply.objects.exists()


def test_draft_only_waits_for_approval_then_a_replier_approves(world, client_for, connector, make_member,
                                                              django_capture_on_commit_callbacks):
    conversation = ingest(world["account"], "1", "Do you ship to Denmark?", department=world["care"])
    grant(world["admin"], world["account"], "draft", department=world["care"])
    approver = make_member(department=world["care"], username="ana", first_name="Ana", last_name="Lead")
    grant(world["admin"], world["account"], "reply", user=approver)
    author = client_for(world["rep"])
    assert submit_label(page(author, conversation).content.decode()) == "Send for approval"
    with django_capture_on_commit_callbacks(execute=True):
        response = author.post(reverse("inbox:reply", args=[conversation.pk]), {"body": "Yes, we do."})
    assert response.status_code == 302
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING_APPROVAL and not connector.calls
    html = author.get(response["Location"]).content.decode()
    assert 'data-testid="waiting-approval"' in html and 'data-testid="approve"' not in html
    # the author cannot approve their own reply
    assert author.post(reverse("inbox:reply-approve", args=[reply.pk])).status_code == 403

    reviewer = client_for(approver)
    assert 'data-testid="approve"' in page(reviewer, conversation).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(reverse("inbox:reply-approve", args=[reply.pk]))
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.approved_by == approver
    assert len(connector.calls) == 1
    # approving twice is refused with the reason, not a crash
    response = reviewer.post(reverse("inbox:reply-approve", args=[reply.pk]))
    assert response.status_code == 400


def test_return_with_a_comment_shows_it_to_the_author(world, client_for, make_member, connector):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    grant(world["admin"], world["account"], "draft", user=world["rep"])
    approver = make_member(department=world["care"], username="ana")
    grant(world["admin"], world["account"], "reply", user=approver)
    client_for(world["rep"]).post(reverse("inbox:reply", args=[conversation.pk]), {"body": "hi"})
    reply = Reply.objects.get()
    reviewer = client_for(approver)
    response = reviewer.post(reverse("inbox:reply-return", args=[reply.pk]), {"comment": ""})
    assert response.status_code == 400 and 'data-field="comment"' in response.content.decode()
    response = reviewer.post(reverse("inbox:reply-return", args=[reply.pk]), {"comment": "Greet them by name."})
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.status == Reply.Status.RETURNED
    html = page(client_for(world["rep"]), conversation).content.decode()
    assert "Returned to you:" in html and "Greet them by name." in html
    assert not connector.calls


def test_no_right_means_no_composer_and_a_403(world, client_for):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    client = client_for(world["rep"])
    html = page(client, conversation).content.decode()
    assert 'data-testid="no-reply-right"' in html and 'data-testid="reply-submit"' not in html
    assert client.post(reverse("inbox:reply", args=[conversation.pk]), {"body": "hi"}).status_code == 403
    assert client.post(reverse("inbox:reply", args=[conversation.pk]), {"body": ""}).status_code == 403
    assert not Reply.objects.exists()


def test_sensitive_conversation_needs_a_specialists_approval(world, client_for, make_member, connector,
                                                             django_capture_on_commit_callbacks):
    specialists = DepartmentFactory(name="Specialists", is_specialist_team=True)
    conversation = ingest(world["account"], "1", "Your heater caught fire, I am calling my lawyer")
    assert conversation.is_sensitive and conversation.department == specialists
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=specialists, username="gus")
    other = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=specialists, username="otto")
    specialist = make_member(Role.SPECIALIST, department=specialists, username="sofia")
    for person in (agent, other, specialist):
        grant(world["admin"], world["account"], "reply", user=person)
    client = client_for(agent)
    html = page(client, conversation).content.decode()
    assert submit_label(html) == "Send for approval" and "a specialist approves" in html
    client.post(reverse("inbox:reply", args=[conversation.pk]), {"body": "We are so sorry, please DM us."})
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.PENDING_APPROVAL and reply.needs_specialist
    # a colleague with reply but no specialist role may not approve it
    assert 'data-testid="approve"' not in page(client_for(other), conversation).content.decode()
    assert client_for(other).post(reverse("inbox:reply-approve", args=[reply.pk])).status_code == 403
    expert = client_for(specialist)
    assert submit_label(page(expert, conversation).content.decode()) == "Send"
    with django_capture_on_commit_callbacks(execute=True):
        assert expert.post(reverse("inbox:reply-approve", args=[reply.pk])).status_code == 302
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and len(connector.calls) == 1
    html = page(client, conversation).content.decode()
    assert "fire" in html and "specialist team" in html  # the routing "why"


def test_failed_reply_shows_the_error_and_retry_sends_it(world, client_for, connector,
                                                        django_capture_on_commit_callbacks):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    grant(world["admin"], world["account"], "reply", user=world["rep"])
    client = client_for(world["rep"])
    connector.fail = ConnectorError("The platform refused the reply: account blocked")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("inbox:reply", args=[conversation.pk]), {"body": "Hi there"})
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.FAILED
    html = page(client, conversation).content.decode()
    assert "account blocked" in html and 'data-testid="retry"' in html
    connector.fail = None
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("inbox:reply-retry", args=[reply.pk])).status_code == 302
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and len(connector.calls) == 1


# --- working on a conversation --------------------------------------------

def test_claim_and_change_status(world, client_for):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    client = client_for(world["rep"])
    assert 'data-testid="claim"' in page(client, conversation).content.decode()
    response = client.post(reverse("inbox:claim", args=[conversation.pk]))
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee == world["rep"] and conversation.status == "open"
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="claim"' not in html and "assigned to Rita Service" in html

    response = client.post(reverse("inbox:status", args=[conversation.pk]), {"status": "waiting"})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == "waiting" and conversation.sla_paused_at is not None
    assert 'data-testid="sla-paused"' in client.get(response["Location"]).content.decode()

    response = client.post(reverse("inbox:status", args=[conversation.pk]), {"status": "resolved"})
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.resolved_at

    response = client.post(reverse("inbox:status", args=[conversation.pk]), {"status": "exploded"})
    assert response.status_code == 400 and 'data-field="status"' in response.content.decode()


def test_redirect_goes_back_to_a_safe_next_only(world, client_for):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    client = client_for(world["rep"])
    response = client.post(reverse("inbox:claim", args=[conversation.pk]), {"next": "/inbox/?overdue=1"})
    assert response["Location"] == "/inbox/?overdue=1"
    response = client.post(reverse("inbox:status", args=[conversation.pk]),
                           {"status": "open", "next": "https://evil.example/inbox/"})
    assert response["Location"] == reverse("inbox:conversation", args=[conversation.pk])


def test_assign_to_a_queue_member_and_refuse_an_outsider(world, client_for, make_member):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    colleague = make_member(department=world["care"], username="bob")
    outsider = make_member(department=world["marketing"], username="mia")
    client = client_for(world["rep"])
    assert client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": colleague.pk}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    response = client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": outsider.pk})
    assert response.status_code == 400 and 'data-field="assignee"' in response.content.decode()
    assert Notification.objects.filter(recipient=colleague, kind="conversation.assigned").exists()


def test_intent_correction_move_and_tags(world, client_for):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    client = client_for(world["rep"])
    assert client.post(reverse("inbox:intent", args=[conversation.pk]), {"intent": "complaint"}).status_code == 302
    assert client.post(reverse("inbox:intent", args=[conversation.pk]), {"intent": "bogus"}).status_code == 400
    assert client.post(reverse("inbox:tag-add", args=[conversation.pk]), {"name": "Refund"}).status_code == 302
    html = page(client, conversation).content.decode()
    assert "refund" in html and "decided by agent" in html
    assert client.post(reverse("inbox:tag-remove", args=[conversation.pk]), {"name": "refund"}).status_code == 302
    assert client.post(reverse("inbox:tag-add", args=[conversation.pk]), {"name": ""}).status_code == 400
    response = client.post(reverse("inbox:route", args=[conversation.pk]),
                           {"department": world["marketing"].pk, "reason": "a campaign question"})
    assert response.status_code == 302 and response["Location"] == reverse("inbox:list")
    conversation.refresh_from_db()
    assert conversation.department == world["marketing"] and conversation.intent == "complaint"
    assert not conversation.conversation_tags.exists()
    assert page(client, conversation).status_code == 404  # moved out of my queue


def test_note_with_a_mention_notifies_the_colleague(world, client_for, make_member):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    bob = make_member(department=world["care"], username="bob")
    client = client_for(world["rep"])
    response = client.post(reverse("inbox:note", args=[conversation.pk]), {"body": "@bob can you check the <order>?"})
    assert response.status_code == 302
    notification = Notification.objects.get(recipient=bob, kind="mention")
    assert notification.url == f"/inbox/c/{conversation.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "can you check the &lt;order&gt;?" in html and "@bob" in html
    assert client.post(reverse("inbox:note", args=[conversation.pk]), {"body": ""}).status_code == 400


# --- saved replies and presence ---------------------------------------------

def test_saved_reply_fallback_prefills_the_composer(world, client_for, connector):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    grant(world["admin"], world["account"], "reply", user=world["rep"])
    saved = SavedReply.objects.create(department=world["care"], title="Shipping times",
                                      body="Parcels ship within 2 days & arrive in 5.")
    foreign = SavedReply.objects.create(department=world["marketing"], title="Campaign", body="Our campaign")
    client = client_for(world["rep"])
    html = page(client, conversation).content.decode()
    assert 'data-testid="insert-saved"' in html and "Shipping times" in html and "Campaign" not in html
    html = page(client, conversation, saved=saved.pk).content.decode()
    textarea = re.search(r"<textarea[^>]*data-composer[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert "Parcels ship within 2 days &amp; arrive in 5." in textarea
    response = page(client, conversation, saved=foreign.pk)
    assert response.status_code == 400 and 'data-field="saved"' in response.content.decode()
    assert page(client, conversation, saved="abc").status_code == 400


def test_saved_replies_page_lists_and_adds(world, client_for):
    SavedReply.objects.create(department=world["care"], title="Opening hours", body="9 to 5")
    SavedReply.objects.create(department=world["marketing"], title="Secret campaign", body="x")
    client = client_for(world["rep"])
    html = client.get(reverse("inbox:saved-replies")).content.decode()
    assert "Opening hours" in html and "Secret campaign" not in html
    response = client.post(reverse("inbox:saved-replies"), {"department": world["care"].pk, "title": "Refunds",
                                                            "body": "Refunds take 5 days.", "language": "en"})
    assert response.status_code == 302
    assert SavedReply.objects.filter(title="Refunds", department=world["care"]).exists()
    response = client.post(reverse("inbox:saved-replies"), {"department": world["marketing"].pk, "title": "Nope",
                                                            "body": "x"})
    assert response.status_code == 400 and 'data-field="department"' in response.content.decode()
    response = client.post(reverse("inbox:saved-replies"), {"department": world["care"].pk, "title": "", "body": "x"})
    assert response.status_code == 400 and 'data-field="title"' in response.content.decode()


def test_presence_shows_another_user_viewing(world, client_for, make_member):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    ana = make_member(department=world["care"], username="ana", first_name="Ana", last_name="Lead")
    url = reverse("inbox:presence", args=[conversation.pk])
    assert client_for(ana).get(url).status_code == 200
    html = client_for(world["rep"]).get(url).content.decode()
    assert "Ana Lead is viewing" in html and "Rita" not in html
    client_for(ana).get(url, {"state": "replying"})
    assert "Ana Lead is replying..." in client_for(world["rep"]).get(url).content.decode()
    # the page polls the fragment every 10 seconds
    html = page(client_for(world["rep"]), conversation).content.decode()
    assert f'hx-get="{url}"' in html and "every 10s" in html


def test_pages_have_no_inline_script_or_style(world, client_for):
    conversation = ingest(world["account"], "1", "Hello?", department=world["care"])
    client = client_for(world["rep"])
    for html in (client.get(reverse("inbox:list")).content.decode(), page(client, conversation).content.decode(),
                 client.get(reverse("inbox:saved-replies")).content.decode()):
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert not re.search(r"\sstyle=|\son[a-z]+=", html)
