""""Posted it by hand" (issue 9): a reply no connector can send is posted on
the platform by a person, who pastes its link; the reply is then recorded as
sent by them, once, audited, and counts as the conversation's first
response."""

import re
import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.roles import Role
from inbox import services
from inbox.connectors.base import ConnectorError
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ConversationEvent, Message, Reply
from security import services as security_services
from security.models import AuditEvent
from tests.accounts.factories import DepartmentFactory
from tests.conftest import sign_in
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory

LINK = "https://x.com/brand/status/1862000000000000001"


def grant(admin, account, capability, user):
    security_services.grant_create(actor=admin, account=account, capability=capability, user=user, reason="test",
                                   reauthenticated_at=timezone.now())


def conversation_in(account, department, n=1) -> Conversation:
    ingest_messages(account=account, source="test", items=[{
        "platform_message_id": f"hand-{n}", "text": "My order never arrived.", "sent_at": timezone.now().isoformat(),
        "kind": "mention", "thread_id": f"hand-thread-{n}",
        "author": {"id": f"c-{n}", "handle": f"@customer{n}", "display_name": f"Customer {n}"}}])
    conversation = Message.objects.get(account=account, platform_message_id=f"hand-{n}").conversation
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def dept(db):
    return DepartmentFactory(name="Customer care")


@pytest.fixture
def x_account(dept):
    """A channel on a platform no connector sends to."""
    account = SocialAccountFactory(platform="x", handle="@brand_x", display_name="Brand on X")
    account.departments.add(dept)
    return account


@pytest.fixture
def agent(make_member, admin_user, dept, x_account):
    user = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept, first_name="Ana", last_name="Agent")
    grant(admin_user, x_account, "reply", user)
    return user


@pytest.fixture
def colleague(make_member, admin_user, dept, x_account):
    user = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept, first_name="Bo", last_name="Colleague")
    grant(admin_user, x_account, "reply", user)
    return user


@pytest.fixture
def conversation(x_account, dept):
    return conversation_in(x_account, dept)


@pytest.fixture
def failed_reply(agent, conversation, django_capture_on_commit_callbacks) -> Reply:
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_submit(actor=fresh(agent), conversation=conversation, body="So sorry: DM us your order.")
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and "No connector sends to x" in reply.last_error
    return reply


def mark(actor, reply, url=LINK) -> Reply:
    return services.reply_mark_sent_by_hand(actor=fresh(actor), reply=reply, url=url)


def by_hand_events(reply):
    return AuditEvent.objects.filter(action="conversation.reply_sent_by_hand", after__reply=reply.pk)


# --- the service ----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_marking_a_failed_reply_sent_by_hand_records_who_where_and_the_first_response(agent, failed_reply,
                                                                                      conversation):
    before = timezone.now()
    reply = mark(agent, failed_reply)

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert (reply.sent_by_hand, reply.sent_url, reply.platform_message_id, reply.last_error) == (agent, LINK, "", "")
    assert reply.sent_at >= before
    conversation.refresh_from_db()
    assert conversation.first_response_at == reply.sent_at
    assert conversation.first_response_service_minutes is not None
    assert conversation.status == Conversation.Status.OPEN
    outbound = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert (outbound.text, outbound.url, outbound.sent_by) == (reply.body, LINK, agent)

    event = by_hand_events(reply).get()
    assert event.actor == agent and event.after["url"] == LINK and event.after["was"] == "failed"
    assert ConversationEvent.objects.filter(conversation=conversation, kind="reply_sent_by_hand").count() == 1


@pytest.mark.django_db
def test_an_approved_reply_no_connector_can_send_may_be_marked_too(agent, conversation):
    reply = Reply.objects.create(conversation=conversation, author=agent, body="Hello", status=Reply.Status.APPROVED,
                                 approved_by=agent, approved_at=timezone.now())
    assert mark(agent, reply).status == Reply.Status.SENT


@pytest.mark.django_db
def test_the_right_to_send_replies_is_required(failed_reply, make_member, admin_user, dept, x_account):
    drafter = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    grant(admin_user, x_account, "draft", drafter)  # sees the conversation, may draft, may not send
    with pytest.raises(PermissionDenied):
        mark(drafter, failed_reply)
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    grant(admin_user, x_account, "reply", outsider)  # may send on the channel, does not see this queue
    with pytest.raises(PermissionDenied):
        mark(outsider, failed_reply)
    failed_reply.refresh_from_db()
    assert failed_reply.status == Reply.Status.FAILED and not by_hand_events(failed_reply).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["", "not a link", "javascript:alert(1)", "ftp://files.example/reply",
                                 "https://" + "a" * 500 + ".example"])
def test_only_an_http_link_is_accepted(agent, failed_reply, url):
    with pytest.raises(ValidationError) as refused:
        mark(agent, failed_reply, url=url)
    assert list(refused.value.message_dict) == ["url"]
    failed_reply.refresh_from_db()
    assert failed_reply.status == Reply.Status.FAILED


@pytest.mark.django_db
def test_only_replies_that_no_connector_can_send_may_be_marked(agent, admin_user, make_member, dept, conversation,
                                                                connector, django_capture_on_commit_callbacks):
    pending = Reply.objects.create(conversation=conversation, author=agent, body="Draft",
                                   status=Reply.Status.PENDING_APPROVAL)
    with pytest.raises(ValidationError) as refused:
        mark(agent, pending)
    assert "status" in refused.value.message_dict

    # a Mastodon channel has a connector: its failed reply is retried, not posted by hand
    mastodon = SocialAccountFactory()
    mastodon.departments.add(dept)
    grant(admin_user, mastodon, "reply", agent)
    connector.fail = ConnectorError("Mastodon refused the access token (HTTP 401)")
    with django_capture_on_commit_callbacks(execute=True):
        failed = services.reply_submit(actor=fresh(agent), conversation=conversation_in(mastodon, dept, 2),
                                       body="Hello")
    failed.refresh_from_db()
    assert failed.status == Reply.Status.FAILED
    with pytest.raises(ValidationError) as refused:
        mark(agent, failed)
    assert "retry" in " ".join(refused.value.message_dict["status"])
    assert not AuditEvent.objects.filter(action="conversation.reply_sent_by_hand").exists()


@pytest.mark.django_db
def test_a_second_submit_marks_nothing_more(agent, colleague, failed_reply, conversation):
    mark(agent, failed_reply)
    again = mark(agent, failed_reply)  # a double click: the same person, the same link
    assert again.replayed and again.sent_by_hand == agent
    with pytest.raises(ValidationError) as refused:
        mark(colleague, failed_reply, url="https://x.com/brand/status/2")  # a colleague, a moment later
    assert "Ana Agent" in " ".join(refused.value.message_dict["status"])

    reply = Reply.objects.get(pk=failed_reply.pk)
    assert (reply.sent_by_hand, reply.sent_url) == (agent, LINK)
    assert by_hand_events(reply).count() == 1
    assert Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND).count() == 1
    conversation.refresh_from_db()
    assert conversation.message_count == 2


@pytest.mark.django_db
def test_a_stale_copy_of_the_reply_cannot_mark_it_twice(agent, colleague, failed_reply):
    """Both loaded the failed reply before either submitted: the conditional update lets one through."""
    stale = Reply.objects.get(pk=failed_reply.pk)
    mark(agent, failed_reply)
    with pytest.raises(ValidationError):
        mark(colleague, stale, url="https://x.com/brand/status/2")
    assert by_hand_events(failed_reply).count() == 1


# --- the page ---------------------------------------------------------------------------------------------------

def csrf_client(user) -> Client:
    return sign_in(Client(enforce_csrf_checks=True), user)


def token_from(html: str) -> str:
    form = html[html.index('data-testid="by-hand-form"'):]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)


@pytest.mark.django_db
def test_the_page_offers_the_form_refuses_a_bad_link_naming_url_and_shows_who_posted_it(agent, failed_reply,
                                                                                       conversation):
    client = csrf_client(agent)
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "Posted it by hand? Paste the link" in page
    action = f'action="/inbox/replies/{failed_reply.pk}/sent-by-hand/"'
    assert action in page
    url = f"/inbox/replies/{failed_reply.pk}/sent-by-hand/"

    assert client.post(url, {"url": LINK}).status_code == 403  # no CSRF token: refused
    token = token_from(page)
    refused = client.post(url, {"url": "javascript:alert(1)", "csrfmiddlewaretoken": token})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert re.search(r'class="field-error" data-field="url">Paste the reply(&#x27;|\')s web address', html)
    assert f'id="id_byhand{failed_reply.pk}_url"' in html and 'value="javascript:alert(1)"' in html
    assert Reply.objects.get(pk=failed_reply.pk).status == Reply.Status.FAILED

    done = client.post(url, {"url": LINK, "csrfmiddlewaretoken": token, "next": f"/inbox/c/{conversation.pk}/"})
    assert done.status_code == 302 and done["Location"] == f"/inbox/c/{conversation.pk}/"
    assert Reply.objects.get(pk=failed_reply.pk).sent_by_hand == agent

    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "Sent by hand by Ana Agent" in page
    assert f'href="{LINK}" rel="noopener noreferrer nofollow"' in page
    assert 'data-testid="by-hand-form"' not in page


@pytest.mark.django_db
def test_the_page_refuses_people_without_the_right_or_the_sight(failed_reply, make_member, admin_user, dept,
                                                                 x_account, client_for):
    url = f"/inbox/replies/{failed_reply.pk}/sent-by-hand/"
    drafter = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    grant(admin_user, x_account, "draft", drafter)
    page = client_for(drafter).get(f"/inbox/c/{failed_reply.conversation_id}/").content.decode()
    assert 'data-testid="by-hand-form"' not in page  # no form for someone who may not send
    assert client_for(drafter).post(url, {"url": LINK}).status_code == 403
    assert client_for(make_member(Role.DEPARTMENT_REPRESENTATIVE)).post(url, {"url": LINK}).status_code == 404
    assert Client().post(url, {"url": LINK}).status_code == 302  # to the sign-in page
    assert Reply.objects.get(pk=failed_reply.pk).status == Reply.Status.FAILED


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------------------

@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="real concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_people_marking_at_once_mark_it_once(make_member, admin_user):
    dept = DepartmentFactory()
    account = SocialAccountFactory(platform="x")
    account.departments.add(dept)
    people = [make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept) for _ in range(2)]
    for person in people:
        grant(admin_user, account, "reply", person)
    conversation = conversation_in(account, dept)
    reply = Reply.objects.create(conversation=conversation, author=people[0], body="Hello",
                                 status=Reply.Status.FAILED, last_error="No connector sends to x yet")
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(index):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = mark(people[index], reply, url=f"https://x.com/brand/status/{index}")
        except BaseException as exc:  # handed to the test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    marked = [o for o in outcomes if isinstance(o, Reply)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(marked) == 1 and len(refused) == 1, outcomes
    assert by_hand_events(reply).count() == 1
    assert Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND).count() == 1
