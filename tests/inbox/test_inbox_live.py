"""The inbox list updates itself: the live fragment answers 304 while nothing
changed and the new list after another agent's change; unread state per
conversation and per queue; the bell's live count; fixed query counts."""

import re
from datetime import timedelta

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.services import notify
from inbox import services
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ConversationSeen
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


def ingest(account, pmid, text, *, department, ago=timedelta(minutes=5), author=None, thread=None):
    item = {"platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - ago).isoformat(),
            "author": {"id": author or f"a-{pmid}", "handle": f"@{author or 'p' + pmid}"}}
    if thread:
        item["thread_id"] = thread
    result = ingest_messages(account=account, items=[item])
    assert not result.errors, result.errors
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{thread or pmid}")
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def world(make_member):
    care = DepartmentFactory(name="Customer care")
    sales = DepartmentFactory(name="Sales")
    account = SocialAccountFactory()
    ana = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana")
    bob = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="bob", first_name="Bob")
    return {"care": care, "sales": sales, "account": account, "ana": ana, "bob": bob}


def live(client, etag=None, **params):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(reverse("inbox:live"), params, **headers)


def row_ids(html):
    return [int(x) for x in re.findall(r'data-testid="conversation-row" data-conversation="(\d+)"', html)]


def unread_ids(html):
    return [int(x) for x in re.findall(r'class="conv-row[^"]*\bunread\b[^"]*" data-row data-testid="conversation-row" '
                                       r'data-conversation="(\d+)"', html)]


# --- the live fragment -------------------------------------------------------------------------------------

def test_list_page_polls_the_live_fragment_with_its_etag(world, client_for):
    ingest(world["account"], "1", "hello", department=world["care"])
    html = client_for(world["ana"]).get(reverse("inbox:list"), {"sort": "newest"}).content.decode()
    poller = re.search(r'<div id="inbox-live"[^>]*>', html).group(0)
    assert 'hx-get="/inbox/live/?sort=newest"' in poller and 'hx-trigger="every 3s"' in poller
    assert re.search(r'data-live-etag="[0-9a-f]{32}"', poller)


def test_unchanged_list_is_a_304_and_another_agents_claim_is_a_200(world, client_for):
    conversation = ingest(world["account"], "1", "Where is my parcel?", department=world["care"])
    ana = client_for(world["ana"])
    first = live(ana)
    assert first.status_code == 200
    etag = first["ETag"]
    assert "Unassigned" in first.content.decode()
    assert 'hx-swap-oob="true"' in first.content.decode()

    again = live(ana, etag)
    assert again.status_code == 304 and again["ETag"] == etag and not again.content

    # Bob claims it on his own screen: Ana's next poll brings the new list.
    services.conversation_claim(actor=world["bob"], conversation=conversation)
    changed = live(ana, etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "Bob" in re.search(r'data-testid="row-assignee">([^<]*)<', changed.content.decode()).group(1)


def test_resolve_by_another_agent_and_a_new_message_change_the_list(world, client_for):
    first = ingest(world["account"], "1", "one", department=world["care"])
    ana = client_for(world["ana"])
    etag = live(ana)["ETag"]
    services.conversation_set_status(actor=world["bob"], conversation=first, status="resolved")
    response = live(ana, etag)
    assert response.status_code == 200 and row_ids(response.content.decode()) == []
    etag = response["ETag"]
    # A message arrives (ingest writes with bulk statements that leave updated_at alone).
    second = ingest(world["account"], "2", "two", department=world["care"])
    response = live(ana, etag)
    assert response.status_code == 200 and row_ids(response.content.decode()) == [second.pk]
    assert live(ana, response["ETag"]).status_code == 304


def test_the_page_etag_is_the_fragments_so_the_first_poll_is_a_304(world, client_for):
    ingest(world["account"], "1", "hello", department=world["care"])
    ana = client_for(world["ana"])
    html = ana.get(reverse("inbox:list"), {"sort": "priority"}).content.decode()
    etag = re.search(r'data-live-etag="([0-9a-f]+)"', html).group(1)
    assert live(ana, f'"{etag}"', sort="priority").status_code == 304
    # another filter is another list
    assert live(ana, f'"{etag}"', sort="newest").status_code == 200


def test_live_fragment_needs_sign_in_and_shows_only_my_queues(world, client, client_for, make_member):
    ingest(world["account"], "1", "care question", department=world["care"])
    ingest(world["account"], "2", "sales question", department=world["sales"])
    # A poll after the session ended is a 401, not a redirect whose sign-in page HTMX would swap into the list.
    for url in (reverse("inbox:live"), reverse("inbox:live-bell")):
        assert client.get(url).status_code == 401
    html = live(client_for(world["ana"])).content.decode()
    assert "care question" in html and "sales question" not in html
    assert live(client_for(world["ana"]), status="nonsense").status_code == 400


def test_live_poll_does_not_keep_an_idle_session_alive(world, client_for):
    ingest(world["account"], "1", "hello", department=world["care"])
    ana = client_for(world["ana"])
    ana.get(reverse("inbox:list"))
    response = live(ana)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies  # the session was not saved again with a fresh expiry


# --- unread state --------------------------------------------------------------------------------------------

def test_unread_until_opened_then_unread_again_after_a_new_message(world, client_for):
    conversation = ingest(world["account"], "1", "first message", department=world["care"], author="dora",
                          thread="t-dora", ago=timedelta(minutes=10))
    ana = client_for(world["ana"])
    assert unread_ids(ana.get(reverse("inbox:list")).content.decode()) == [conversation.pk]

    assert ana.get(reverse("inbox:conversation", args=[conversation.pk])).status_code == 200
    assert unread_ids(ana.get(reverse("inbox:list")).content.decode()) == []
    # Bob has not opened it: still unread for him.
    assert unread_ids(client_for(world["bob"]).get(reverse("inbox:list")).content.decode()) == [conversation.pk]

    ingest(world["account"], "2", "second message", department=world["care"], author="dora", thread="t-dora",
           ago=timedelta(minutes=1))
    assert unread_ids(ana.get(reverse("inbox:list")).content.decode()) == [conversation.pk]


def test_marking_seen_is_an_upsert_that_never_goes_back(world):
    conversation = ingest(world["account"], "1", "hello", department=world["care"])
    services.conversation_mark_seen(user=world["ana"], conversation=conversation)
    services.conversation_mark_seen(user=world["ana"], conversation=conversation)
    assert ConversationSeen.objects.filter(user=world["ana"], conversation=conversation).count() == 1
    stale = Conversation.objects.get(pk=conversation.pk)
    stale.last_message_at = conversation.last_message_at - timedelta(hours=1)
    services.conversation_mark_seen(user=world["ana"], conversation=stale)  # an older page finishing late
    seen = ConversationSeen.objects.get(user=world["ana"], conversation=conversation)
    assert seen.seen_at == conversation.last_message_at


def test_queues_count_unread_per_queue(world, client_for, make_member):
    lead = make_member(Role.SOCIAL_MEDIA_MANAGER, department=world["care"], username="lead")  # sees every queue
    a = ingest(world["account"], "1", "one", department=world["care"])
    ingest(world["account"], "2", "two", department=world["care"])
    ingest(world["account"], "3", "three", department=world["sales"])
    client = client_for(lead)
    client.get(reverse("inbox:conversation", args=[a.pk]))
    html = client.get(reverse("inbox:list")).content.decode()
    start = html.index('data-testid="queue-lists"')
    queues = html[start:html.index("</nav>", start)]

    def unread_of(data_queue):
        link = re.search(rf'data-queue="{data_queue}"[^>]*>(.*?)</a>', queues, re.S).group(1)
        match = re.search(r'data-testid="unread-count"[^>]*>(\d+)', link)
        return int(match.group(1)) if match else 0

    assert unread_of("all") == 2
    assert unread_of(f"department-{world['care'].pk}") == 1
    assert unread_of(f"department-{world['sales'].pk}") == 1
    assert unread_of("unassigned") == 2


# --- the bell -------------------------------------------------------------------------------------------------

def test_bell_polls_its_count_and_answers_304_until_it_changes(world, client_for):
    ana = client_for(world["ana"])
    html = ana.get(reverse("inbox:list")).content.decode()
    assert re.search(r'class="bell-live" hx-get="/inbox/live/bell/" hx-trigger="every 5s"', html)
    first = ana.get(reverse("inbox:live-bell"))
    assert first.status_code == 200 and 'class="count"' not in first.content.decode()
    assert ana.get(reverse("inbox:live-bell"), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    notify(recipient=world["ana"], kind="mention", text="Bob mentioned you")
    changed = ana.get(reverse("inbox:live-bell"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert re.search(r'<span class="count">1</span><span class="visually-hidden"> unread</span>',
                     changed.content.decode())


# --- fixed query counts --------------------------------------------------------------------------------------

def queries_of(request):
    """The response of ``request()`` and the queries it ran. The log is cleared first (it keeps 9,000 entries,
    past which a capture's slice is wrong) and the queries copied at once (a capture's list is read lazily)."""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [q["sql"] for q in captured.captured_queries]


def _many(account, department, n, start=0):
    items = [{"platform_message_id": f"m{i}", "text": f"Question {i}",
              "sent_at": (timezone.now() - timedelta(minutes=i % 9)).isoformat(),
              "author": {"id": f"u{i}", "handle": f"@person{i}"}} for i in range(start, start + n)]
    assert not ingest_messages(account=account, items=items).errors
    Conversation.objects.filter(account=account).update(department=department)


@pytest.mark.parametrize("sort", ["due", "newest", "oldest", "priority"])
def test_query_count_is_fixed_as_rows_grow(world, client_for, sort):
    _many(world["account"], world["care"], 4)
    ana = client_for(world["ana"])
    first = Conversation.objects.order_by("id").first()
    ana.get(reverse("inbox:conversation", args=[first.pk]))  # one seen row
    ana.get(reverse("inbox:list"), {"sort": sort})
    _response, small_page = queries_of(lambda: ana.get(reverse("inbox:list"), {"sort": sort}))
    _response, small_live = queries_of(lambda: live(ana, sort=sort))
    _many(world["account"], world["care"], 60, start=4)
    Conversation.objects.filter(pk__in=Conversation.objects.order_by("-id").values("pk")[:10]).update(
        assignee=world["bob"])
    for c in Conversation.objects.order_by("-id")[:5]:
        services.conversation_mark_seen(user=world["ana"], conversation=c)
    response, large_page = queries_of(lambda: ana.get(reverse("inbox:list"), {"sort": sort}))
    assert len(row_ids(response.content.decode())) == 50
    response, large_live = queries_of(lambda: live(ana, sort=sort))
    assert len(row_ids(response.content.decode())) == 50
    assert len(large_page) == len(small_page), large_page
    assert len(large_live) == len(small_live), large_live
    response, unchanged = queries_of(lambda: live(ana, response["ETag"], sort=sort))
    assert response.status_code == 304
    # An unchanged poll costs the request's own queries (session, person, roles) and the tag's two: no counts,
    # no rows, no rendering.
    assert len(unchanged) <= len(large_live) - 5, unchanged
    assert not [sql for sql in unchanged if "inbox_conversation\".\"thread_key" in sql]
