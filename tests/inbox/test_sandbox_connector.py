"""The sandbox connector (issue 9): a sandbox channel's replies and posts are
recorded inside the portal whatever the channel's platform, exactly once per
idempotency key; polling a sandbox never calls the platform; the sandbox
channel page shows the channel as a customer sees it, to those who may see
its conversations only."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from inbox import services
from inbox.connectors.base import ConnectorError, connector_for_account, register, unregister
from inbox.ingest import ingest_messages
from inbox.models import ConnectorState, Conversation, Message, Reply, SandboxPost
from inbox.polling import poll_account
from security import services as security_services
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory

SCRIPT = "<script>alert('owned')</script> where is my parcel?"


def grant(admin, account, capability, user):
    security_services.grant_create(actor=admin, account=account, capability=capability, user=user, reason="test",
                                   reauthenticated_at=timezone.now())


def conversation_in(account, department, n, *, text="Where is my parcel?", minutes_ago=30) -> Conversation:
    result = ingest_messages(account=account, source="test", items=[{
        "platform_message_id": f"sbx-{n}", "text": text,
        "sent_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "kind": "mention", "thread_id": f"sbx-thread-{n}",
        "author": {"id": f"cust-{n}", "handle": f"@customer{n}@example.social", "display_name": f"Customer {n}"}}])
    assert result.created == 1, result.as_dict()
    conversation = Message.objects.get(account=account, platform_message_id=f"sbx-{n}").conversation
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    conversation.refresh_from_db()
    return conversation


class PlatformSpy:
    """Stands in for the Mastodon connector: any call is a failure of the sandbox routing."""

    platform = "mastodon"

    def __init__(self):
        self.calls = []

    def fetch(self, account, cursor):
        self.calls.append(("fetch", account.pk))
        raise ConnectorError("the platform was called")

    def send_reply(self, account, **kwargs):
        self.calls.append(("send_reply", account.pk))
        raise ConnectorError("the platform was called")

    def publish(self, account, **kwargs):
        self.calls.append(("publish", account.pk))
        raise ConnectorError("the platform was called")


@pytest.fixture
def platform_spy():
    from inbox.connectors.base import NoConnectorError, connector_for

    try:
        previous = connector_for("mastodon")
    except NoConnectorError:
        previous = None
    spy = PlatformSpy()
    register(spy)
    yield spy
    if previous is not None:
        register(previous)
    else:
        unregister("mastodon")


@pytest.fixture
def dept(db):
    return DepartmentFactory(name="Customer care")


@pytest.fixture
def sandbox(dept):
    account = SocialAccountFactory(sandbox=True, display_name="Brand sandbox", handle="@brand@sandbox.example")
    account.departments.add(dept)
    return account


@pytest.fixture
def agent(make_member, admin_user, dept, sandbox):
    user = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept, first_name="Ana", last_name="Agent")
    grant(admin_user, sandbox, "reply", user)
    return user


def send(agent, conversation, body, django_capture_on_commit_callbacks) -> Reply:
    """Submits as the agent; the send task runs when the transaction commits, as in production."""
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.reply_submit(actor=fresh(agent), conversation=conversation, body=body)
    reply.refresh_from_db()
    return reply


# --- sending -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("platform", ["mastodon", "x"])
def test_a_reply_on_a_sandbox_channel_is_recorded_once_and_ends_sent_whatever_the_platform(
        platform, admin_user, make_member, dept, platform_spy, django_capture_on_commit_callbacks):
    account = SocialAccountFactory(sandbox=True, platform=platform)
    account.departments.add(dept)
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    grant(admin_user, account, "reply", agent)
    conversation = conversation_in(account, dept, 1)

    reply = send(agent, conversation, "We are on it, sorry for the wait.", django_capture_on_commit_callbacks)

    assert reply.status == Reply.Status.SENT, reply.last_error
    post = SandboxPost.objects.get(account=account)
    assert (post.kind, post.text, post.in_reply_to) == ("reply", "We are on it, sorry for the wait.", "sbx-1")
    assert post.thread_key == conversation.thread_key
    assert reply.platform_message_id == post.platform_id == f"sandbox-{post.pk}"
    assert platform_spy.calls == []  # Mastodon (or X) never heard of it
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
    assert Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND,
                                  platform_message_id=post.platform_id).count() == 1


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_records_one_post_and_returns_its_id(sandbox, dept):
    conversation = conversation_in(sandbox, dept, 1)
    sandbox_connector = connector_for_account(sandbox)

    first = sandbox_connector.send_reply(sandbox, conversation=conversation, text="Hello", idempotency_key="k-1")
    again = sandbox_connector.send_reply(sandbox, conversation=conversation, text="Hello", idempotency_key="k-1")
    other = sandbox_connector.send_reply(sandbox, conversation=conversation, text="Hello", idempotency_key="k-2")
    published = sandbox_connector.publish(sandbox, text="Our new opening hours", idempotency_key="p-1")

    assert first == again != other
    assert sandbox_connector.publish(sandbox, text="Our new opening hours", idempotency_key="p-1") == published
    assert SandboxPost.objects.filter(idempotency_key="k-1").count() == 1
    assert SandboxPost.objects.count() == 3


@pytest.mark.django_db
def test_a_send_repeated_after_a_worker_died_mid_send_posts_once(agent, sandbox, dept,
                                                                  django_capture_on_commit_callbacks):
    conversation = conversation_in(sandbox, dept, 1)
    reply = send(agent, conversation, "Sorry about that!", django_capture_on_commit_callbacks)
    assert reply.status == Reply.Status.SENT
    # The worker posted, then died before recording it: the reply looks unsent, its lease long gone.
    Reply.objects.filter(pk=reply.pk).update(status=Reply.Status.SENDING, sent_at=None, platform_message_id="",
                                             lease_until=timezone.now() - timedelta(minutes=5))
    again = services.reply_send(reply.pk)
    assert again.status == Reply.Status.SENT
    assert again.platform_message_id == reply.platform_message_id
    assert SandboxPost.objects.filter(account=sandbox).count() == 1


# --- polling -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_polling_a_sandbox_channel_never_calls_the_platform_and_records_no_error(sandbox, platform_spy):
    state = ConnectorState.objects.create(account=sandbox, polling_enabled=True, cursor={"since_id": "7"})
    real = SocialAccountFactory()  # the same platform, not a sandbox: the platform is called
    real_state = ConnectorState.objects.create(account=real, polling_enabled=True)

    summary = poll_account(sandbox.pk)

    assert summary["status"] == "ok", summary
    state.refresh_from_db()
    assert (state.last_error, state.consecutive_failures, state.backoff_until) == ("", 0, None)
    assert state.cursor == {"since_id": "7"} and state.last_polled_at is not None
    assert platform_spy.calls == []

    assert poll_account(real.pk)["status"] == "failed"
    real_state.refresh_from_db()
    assert platform_spy.calls == [("fetch", real.pk)] and real_state.last_error


@pytest.mark.django_db
def test_without_the_sandbox_a_mastodon_sandbox_channel_would_fail_as_the_demo_did(sandbox):
    """The demo's Mastodon channel has no server address: the real connector refuses it."""
    ConnectorState.objects.create(account=sandbox, polling_enabled=True)
    assert poll_account(sandbox.pk)["status"] == "ok"
    sandbox.sandbox = False
    sandbox.save(update_fields=["sandbox"])
    summary = poll_account(sandbox.pk)
    assert summary["status"] == "failed" and "No Mastodon server address" in summary["error"]


# --- the sandbox channel page ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_page_shows_the_thread_as_a_customer_sees_it_with_customer_text_escaped(
        agent, sandbox, dept, client_for, django_capture_on_commit_callbacks):
    conversation = conversation_in(sandbox, dept, 1, text=SCRIPT)
    send(agent, conversation, "Hi! Your parcel left our warehouse today.", django_capture_on_commit_callbacks)

    response = client_for(agent).get(f"/inbox/sandbox/{sandbox.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sandbox channel: nothing here was posted online" in html
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in html and "<script>alert(" not in html
    thread = html.split('data-testid="sandbox-thread"')[1]
    customer = thread.index("where is my parcel?")
    ours = thread.index("Your parcel left our warehouse today.")
    assert customer < ours  # the customer's message, then the channel's reply under it
    assert 'class="msg-text" dir="auto"' in thread
    assert "Brand sandbox" in thread and "Ana Agent" not in thread  # customers see the channel, not the agent


@pytest.mark.django_db
def test_the_conversation_page_links_a_sandbox_reply_to_the_sandbox_page(agent, sandbox, dept, client_for,
                                                                          django_capture_on_commit_callbacks):
    conversation = conversation_in(sandbox, dept, 1)
    send(agent, conversation, "On it!", django_capture_on_commit_callbacks)
    html = client_for(agent).get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert f'href="/inbox/sandbox/{sandbox.pk}/" data-testid="on-sandbox"' in html


@pytest.mark.django_db
def test_the_page_is_refused_to_people_who_may_not_see_the_channels_conversations(
        agent, sandbox, dept, make_member, admin_user, client_for, client):
    conversation_in(sandbox, dept, 1)
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE)  # another department, no view-all
    assert client_for(outsider).get(f"/inbox/sandbox/{sandbox.pk}/").status_code == 404
    assert "Brand sandbox" not in client_for(outsider).get("/inbox/sandbox/").content.decode()
    anonymous = client.get(f"/inbox/sandbox/{sandbox.pk}/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    # a channel that is not a sandbox has no sandbox page, even for an admin
    real = SocialAccountFactory()
    assert client_for(admin_user).get(f"/inbox/sandbox/{real.pk}/").status_code == 404
    assert client_for(admin_user).get(f"/inbox/sandbox/{sandbox.pk}/").status_code == 200
    listing = client_for(agent).get("/inbox/sandbox/").content.decode()
    assert f'href="/inbox/sandbox/{sandbox.pk}/"' in listing and "Brand sandbox" in listing


@pytest.mark.django_db
def test_the_page_shows_only_the_threads_the_viewer_may_see(agent, sandbox, dept):
    from django.test import Client

    from tests.conftest import sign_in

    other = DepartmentFactory(name="Marketing")
    conversation_in(sandbox, dept, 1, text="A question for care")
    conversation_in(sandbox, other, 2, text="A question for marketing")
    html = sign_in(Client(), agent).get(f"/inbox/sandbox/{sandbox.pk}/").content.decode()
    assert "A question for care" in html and "A question for marketing" not in html


@pytest.mark.django_db
def test_the_page_lists_newest_threads_first_paginated_in_a_fixed_number_of_queries(
        agent, sandbox, dept, client_for):
    client = client_for(agent)
    for n in range(3):
        conversation_in(sandbox, dept, n, text=f"Message number {n:02d}", minutes_ago=100 - n)
    client.get(f"/inbox/sandbox/{sandbox.pk}/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/inbox/sandbox/{sandbox.pk}/").status_code == 200
    for n in range(3, 24):
        conversation_in(sandbox, dept, n, text=f"Message number {n:02d}", minutes_ago=100 - n)
    with CaptureQueriesContext(connection) as many:
        first = client.get(f"/inbox/sandbox/{sandbox.pk}/")
    assert len(many.captured_queries) == len(few.captured_queries)

    html = first.content.decode()
    assert html.count('data-testid="sandbox-thread"') == 20
    assert html.index("Message number 23") < html.index("Message number 22")  # newest first
    assert "Message number 03" not in html
    older = first.context["older_query"]
    second = client.get(f"/inbox/sandbox/{sandbox.pk}/?{older}").content.decode()
    assert second.count('data-testid="sandbox-thread"') == 4
    assert "Message number 03" in second and "Message number 04" not in second
    assert client.get(f"/inbox/sandbox/{sandbox.pk}/?before=nonsense").status_code == 400


# --- concurrency (PostgreSQL) ----------------------------------------------------------------------------------

@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="real concurrent transactions need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_sends_with_one_key_at_once_record_one_post():
    account = SocialAccountFactory(sandbox=True)
    barrier = threading.Barrier(2)
    results, errors = [None, None], [None, None]

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = connector_for_account(account).publish(account, text="Launch!", idempotency_key="race")
        except BaseException as exc:  # handed to the test
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [None, None]
    assert results[0] == results[1]
    assert SandboxPost.objects.filter(idempotency_key="race").count() == 1
