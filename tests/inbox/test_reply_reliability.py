"""Replies are never lost and never posted twice (issue 8).

A worker killed mid-send is stood in for by a connector that raises a
``BaseException`` after the platform took the post: nothing of the service
after the call runs, as with SIGKILL, and the reply keeps its lease until it
expires. The broker being down is ``async_task`` raising. Time moves with
``at()``, which moves ``django.utils.timezone.now`` for the code under test.
The concurrent tests run real transactions in two threads, each on its own
connection, and need PostgreSQL (SQLite in memory gives each thread its own
empty database)."""

import re
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from inbox import tasks
from inbox.connectors.base import ConnectorError
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ConversationEvent, Message, Reply, TriageSettings
from inbox.services import reply_retry, reply_send, reply_submit
from security import services as security
from tests.accounts.factories import DepartmentFactory
from tests.conftest import sign_in
from tests.security.factories import SocialAccountFactory

LEASE_SECONDS = 90
MAX_ATTEMPTS = 5  # inbox.services._common.MAX_SEND_ATTEMPTS
needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql",
                                    reason="real concurrent transactions need PostgreSQL: in-memory SQLite gives "
                                           "each thread its own empty database")


class WorkerKilled(BaseException):
    """SIGKILL as the service sees it: the call never returns and no handler of the service runs."""


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def sweep(moment=None) -> int:
    """What the every-minute schedule runs (``inbox: retry replies``)."""
    if moment is None:
        return tasks.retry_replies_task()
    with at(moment):
        return tasks.retry_replies_task()


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.SOCIALOPS_REPLY_LEASE_SECONDS = LEASE_SECONDS


@pytest.fixture
def world(db, admin_user, make_member):
    service = DepartmentFactory(name="Customer service")
    row = TriageSettings.current()
    row.default_department = service
    row.save()
    account = SocialAccountFactory()
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service)
    security.grant_create(actor=admin_user, account=account, capability="reply", user=agent, reason="x")
    drafter = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service)
    security.grant_create(actor=admin_user, account=account, capability="draft", user=drafter, reason="x")
    ingest_messages(account=account, items=[{"platform_message_id": "1", "text": "Where is my parcel?",
                                             "sent_at": timezone.now().isoformat(),
                                             "author": {"id": "c", "handle": "@c"}}])
    return {"account": account, "agent": User.objects.get(pk=agent.pk), "drafter": User.objects.get(pk=drafter.pk),
            "conversation": Conversation.objects.get(messages__platform_message_id="1"), "admin": admin_user}


def _approved(world, body="It ships today.", **fields) -> Reply:
    fields.setdefault("approved_at", timezone.now())
    fields.setdefault("status", Reply.Status.APPROVED)
    return Reply.objects.create(conversation=world["conversation"], author=world["agent"], body=body,
                                approved_by=world["agent"], **fields)


def _dies_after_posting(connector, monkeypatch):
    """The platform takes the post, then the worker is killed before it records anything."""
    original = connector.send_reply

    def send_reply(account, **kwargs):
        original(account, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(connector, "send_reply", send_reply)
    return original


def _keys(connector) -> list[str]:
    return [call["key"] for call in connector.calls]


def _lost_tasks(monkeypatch) -> list:
    """The broker takes the task and the cluster dies with it: it never runs."""
    lost = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: lost.append(args))
    return lost


def _broker_down(monkeypatch):
    def async_task(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("django_q.tasks.async_task", async_task)


def _form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def _csrf_client(user) -> Client:
    return sign_in(Client(enforce_csrf_checks=True), user)


def _compose(client, conversation) -> dict:
    """Opens the conversation as a browser would and reads the composer's hidden fields."""
    response = client.get(reverse("inbox:conversation", args=[conversation.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    composer = html[html.index('data-testid="composer"'):]
    return {"csrfmiddlewaretoken": _form_value(composer, "csrfmiddlewaretoken"),
            "client_token": _form_value(composer, "client_token")}


def _snapshot(reply: Reply) -> dict:
    reply.refresh_from_db()
    return {f: getattr(reply, f) for f in ("status", "sent_at", "attempts", "platform_message_id",
                                           "lease_until", "next_attempt_at", "last_error")}


# --- 1. the sweep finds every reply whose send is not known to be running ----------------------------------

@pytest.mark.django_db
def test_an_approved_reply_whose_task_was_lost_is_sent_by_the_sweep(world, connector, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    lost = _lost_tasks(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_submit(actor=world["agent"], conversation=world["conversation"], body="On its way")
    reply.refresh_from_db()
    assert lost and reply.status == Reply.Status.APPROVED and reply.next_attempt_at is None
    assert reply.lease_until is None and connector.calls == []

    assert sweep() == 1
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and _keys(connector) == [str(reply.idempotency_key)]
    assert Message.objects.filter(conversation=world["conversation"], direction="out").count() == 1
    assert sweep() == 0 and len(connector.calls) == 1


@pytest.mark.django_db
def test_a_worker_killed_mid_send_is_resent_once_after_its_lease_with_the_same_key(world, connector, monkeypatch):
    reply = _approved(world)
    original = _dies_after_posting(connector, monkeypatch)
    started = timezone.now()
    with pytest.raises(WorkerKilled):
        tasks.send_reply_task(reply.pk)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENDING and reply.sent_at is None and reply.attempts == 1
    assert reply.lease_until is not None
    monkeypatch.setattr(connector, "send_reply", original)  # the next worker is healthy

    # While the lease runs the send may still be going on: neither the sweep nor a duplicated task touches it.
    assert sweep(started + timedelta(seconds=LEASE_SECONDS - 30)) == 0
    tasks.send_reply_task(reply.pk)
    assert len(connector.calls) == 1

    assert sweep(reply.lease_until + timedelta(seconds=1)) == 1
    reply.refresh_from_db()
    key = str(reply.idempotency_key)
    assert _keys(connector) == [key, key]  # the platform sees the same key twice and posts once
    assert reply.status == Reply.Status.SENT and reply.attempts == 2 and reply.lease_until is None
    assert ConversationEvent.objects.filter(conversation=world["conversation"], kind="reply_sent").count() == 1
    assert sweep(reply.sent_at + timedelta(hours=1)) == 0 and len(connector.calls) == 2


@pytest.mark.django_db
def test_a_worker_holding_the_lease_keeps_the_reply_from_a_second_worker(world, connector, monkeypatch):
    reply = _approved(world)
    original = connector.send_reply
    second = {}

    def send_reply(account, **kwargs):
        # While the first worker is inside the platform call, a second one (the sweep, a duplicated task) tries.
        second["reply"] = reply_send(reply.pk)
        second["sweep"] = tasks.retry_replies_task()
        return original(account, **kwargs)

    monkeypatch.setattr(connector, "send_reply", send_reply)
    reply_send(reply.pk)
    assert second["reply"].status == Reply.Status.SENDING and second["sweep"] == 0
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and len(connector.calls) == 1 and reply.attempts == 1


@pytest.mark.django_db
def test_the_back_off_after_a_transient_failure_is_kept(world, connector):
    reply = _approved(world)
    connector.fail = ConnectorError("rate limited", retry_after=300)
    reply_send(reply.pk)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.APPROVED and reply.lease_until is None
    waiting_until = reply.next_attempt_at
    assert waiting_until > timezone.now() + timedelta(seconds=290)
    connector.fail = None
    assert sweep() == 0 and sweep(waiting_until - timedelta(seconds=1)) == 0 and connector.calls == []
    assert sweep(waiting_until + timedelta(seconds=1)) == 1
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and _keys(connector) == [str(reply.idempotency_key)]


@pytest.mark.django_db
def test_attempts_stay_bounded_when_every_worker_is_killed(world, connector, monkeypatch):
    reply = _approved(world)
    _dies_after_posting(connector, monkeypatch)
    moment = timezone.now()
    for _attempt in range(MAX_ATTEMPTS):
        moment += timedelta(seconds=LEASE_SECONDS + 1)
        with pytest.raises(WorkerKilled):
            sweep(moment)
    reply.refresh_from_db()
    assert reply.attempts == MAX_ATTEMPTS and reply.status == Reply.Status.SENDING

    # The last lease runs out: the reply is given up as failed, visibly, and never tried again by itself.
    assert sweep(moment + timedelta(seconds=LEASE_SECONDS + 1)) == 0
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and reply.lease_until is None and "5 attempts" in reply.last_error
    assert sweep(moment + timedelta(hours=2)) == 0
    assert len(connector.calls) == MAX_ATTEMPTS
    assert len({call["key"] for call in connector.calls}) == 1


@pytest.mark.django_db
def test_transient_failures_stay_bounded(world, connector):
    reply = _approved(world)
    connector.fail = ConnectorError("server unreachable", retry_after=60)
    moment = timezone.now()
    for _attempt in range(MAX_ATTEMPTS + 3):
        moment += timedelta(minutes=5)
        sweep(moment)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and reply.attempts == MAX_ATTEMPTS and reply.next_attempt_at is None


# --- 2. the broker being down never fails the request, and loses nothing ----------------------------------

@pytest.mark.django_db(transaction=True)
def test_broker_down_the_page_says_queued_and_the_sweep_sends_it_once(world, connector, monkeypatch, caplog):
    conversation = world["conversation"]
    client = _csrf_client(world["agent"])
    fields = _compose(client, conversation)
    _broker_down(monkeypatch)
    response = client.post(reverse("inbox:reply", args=[conversation.pk]), {"body": "Sorry, it ships today.",
                                                                             **fields})
    assert response.status_code == 302
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.APPROVED and connector.calls == []
    assert any("could not hand the send" in r.getMessage() for r in caplog.records)
    html = client.get(response["Location"]).content.decode()
    assert "Reply saved and queued" in html and 'data-testid="reply-queued"' in html
    assert "Sorry, it ships today." in html

    monkeypatch.undo()  # the broker is back; the schedule runs
    assert sweep() == 1 and sweep() == 0
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and _keys(connector) == [str(reply.idempotency_key)]


@pytest.mark.django_db(transaction=True)
def test_broker_down_the_api_answers_201_and_the_sweep_sends_it_once(world, connector, monkeypatch, api_for):
    _broker_down(monkeypatch)
    response = api_for(world["agent"]).post(f"/api/conversations/{world['conversation'].pk}/replies/",
                                            {"body": "We are on it."}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "approved" and connector.calls == []
    monkeypatch.undo()
    assert sweep() == 1 and sweep() == 0
    reply = Reply.objects.get(pk=response.json()["id"])
    assert reply.status == Reply.Status.SENT and _keys(connector) == [str(reply.idempotency_key)]


@pytest.mark.django_db(transaction=True)
def test_broker_down_an_approval_still_succeeds_and_is_sent_later(world, connector, monkeypatch, client_for):
    draft = reply_submit(actor=world["drafter"], conversation=world["conversation"], body="Draft")
    _broker_down(monkeypatch)
    client = client_for(world["agent"])
    response = client.post(reverse("inbox:reply-approve", args=[draft.pk]))
    assert response.status_code == 302
    assert "Reply saved and queued" in client.get(response["Location"]).content.decode()
    monkeypatch.undo()
    assert sweep() == 1
    draft.refresh_from_db()
    assert draft.status == Reply.Status.SENT and len(connector.calls) == 1


# --- 3. one idempotency key per compose action --------------------------------------------------------------

@pytest.mark.django_db
def test_a_double_submit_of_the_composer_sends_one_reply(world, connector, django_capture_on_commit_callbacks):
    conversation = world["conversation"]
    client = _csrf_client(world["agent"])
    fields = _compose(client, conversation)
    assert fields["client_token"] != _compose(client, conversation)["client_token"]  # one per render
    url = reverse("inbox:reply", args=[conversation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"body": "It ships today.", **fields})
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url, {"body": "It ships today.", **fields})
    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"].startswith(reverse("inbox:conversation", args=[conversation.pk]))
    reply = Reply.objects.get()
    assert reply.status == Reply.Status.SENT and str(reply.client_token) == fields["client_token"]
    assert _keys(connector) == [str(reply.idempotency_key)]  # the platform key stays the reply's own
    html = client.get(second["Location"]).content.decode()
    assert "This reply was already sent: it was not sent twice." in html


@pytest.mark.django_db
def test_the_same_compose_form_with_another_text_is_refused_and_keeps_the_text(world, connector,
                                                                                django_capture_on_commit_callbacks):
    conversation = world["conversation"]
    client = _csrf_client(world["agent"])
    fields = _compose(client, conversation)
    url = reverse("inbox:reply", args=[conversation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"body": "First answer", **fields}).status_code == 302
    # The browser's Back button shows the old form; the agent writes something else in it.
    response = client.post(url, {"body": "A second, different answer", **fields})
    assert response.status_code == 400
    html = response.content.decode()
    assert "already used for another reply" in html and "A second, different answer" in html
    fresh = _form_value(html[html.index('data-testid="composer"'):], "client_token")
    assert fresh != fields["client_token"] and Reply.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"body": "A second, different answer", "client_token": fresh,
                                 "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"]}).status_code == 302
    assert connector.texts == ["First answer", "A second, different answer"]


@pytest.mark.django_db
def test_a_refused_submit_keeps_the_token_so_the_corrected_one_is_sent_once(world, connector,
                                                                             django_capture_on_commit_callbacks):
    conversation = world["conversation"]
    client = _csrf_client(world["agent"])
    fields = _compose(client, conversation)
    url = reverse("inbox:reply", args=[conversation.pk])
    response = client.post(url, {"body": "   ", **fields})
    assert response.status_code == 400
    assert _form_value(response.content.decode(), "client_token") == fields["client_token"]
    for _click in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, {"body": "Corrected", **fields}).status_code == 302
    assert Reply.objects.count() == 1 and connector.texts == ["Corrected"]


@pytest.mark.django_db
def test_a_double_submit_through_the_api_returns_the_first_reply(world, connector, api_for,
                                                                 django_capture_on_commit_callbacks):
    client = api_for(world["agent"])
    url = f"/api/conversations/{world['conversation'].pk}/replies/"
    token = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"body": "Thanks!", "client_token": token}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url, {"body": "Thanks!", "client_token": token}, format="json")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"] and second.json()["client_token"] == token
    assert second.json()["status"] == "sent" and Reply.objects.count() == 1 and len(connector.calls) == 1
    other = client.post(url, {"body": "Something else", "client_token": token}, format="json")
    assert other.status_code == 400 and "client_token" in other.json() and Reply.objects.count() == 1
    assert client.post(url, {"body": "x", "client_token": "not-a-uuid"}, format="json").status_code == 400


@pytest.mark.django_db
def test_a_draft_submitted_twice_waits_for_approval_once(world, connector, api_for):
    client = api_for(world["drafter"])
    url = f"/api/conversations/{world['conversation'].pk}/replies/"
    token = str(uuid.uuid4())
    assert client.post(url, {"body": "Draft", "client_token": token}, format="json").status_code == 201
    assert client.post(url, {"body": "Draft", "client_token": token}, format="json").status_code == 200
    assert Reply.objects.filter(status=Reply.Status.PENDING_APPROVAL).count() == 1
    assert ConversationEvent.objects.filter(kind="reply_submitted").count() == 1


@pytest.mark.django_db
def test_a_token_is_per_conversation_and_per_author(world, connector, make_member,
                                                    django_capture_on_commit_callbacks):
    token = uuid.uuid4()
    ingest_messages(account=world["account"], items=[{"platform_message_id": "2", "text": "Hello?",
                                                      "sent_at": timezone.now().isoformat(),
                                                      "author": {"id": "d", "handle": "@d"}}])
    other_conversation = Conversation.objects.get(messages__platform_message_id="2")
    with django_capture_on_commit_callbacks(execute=True):
        one = reply_submit(actor=world["agent"], conversation=world["conversation"], body="Hi", client_token=token)
        two = reply_submit(actor=world["agent"], conversation=other_conversation, body="Hi", client_token=token)
    assert one.pk != two.pk and not two.replayed and len(connector.calls) == 2
    with pytest.raises(ValidationError) as refused:
        reply_submit(actor=world["drafter"], conversation=world["conversation"], body="Hi", client_token=token)
    assert "client_token" in refused.value.message_dict and Reply.objects.count() == 2


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_with_one_token_make_one_reply(world, connector, monkeypatch, api_for):
    """Both requests pass the look-up before either inserts: the unique (conversation, client_token)
    makes the second insert wait for the first and fail; it answers with the first reply."""
    from inbox.services import replies

    barrier = threading.Barrier(2)
    local = threading.local()
    original = replies._first_with_token

    def first_with_token(*args, **kwargs):
        found = original(*args, **kwargs)
        if found is None and not getattr(local, "waited", False):
            local.waited = True
            barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(replies, "_first_with_token", first_with_token)
    url = f"/api/conversations/{world['conversation'].pk}/replies/"
    token = str(uuid.uuid4())
    answers, errors = [], []

    def post():
        try:
            answers.append(api_for(world["agent"]).post(url, {"body": "Once", "client_token": token}, format="json"))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(a.status_code for a in answers) == [200, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Reply.objects.count() == 1 and len(connector.calls) == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_a_reply_once(world, connector, monkeypatch):
    reply = _approved(world)
    original = connector.send_reply
    inside, release = threading.Event(), threading.Event()

    def slow_send(account, **kwargs):
        inside.set()
        release.wait(timeout=10)
        return original(account, **kwargs)

    monkeypatch.setattr(connector, "send_reply", slow_send)
    results, errors = {}, []

    def worker(name):
        try:
            if name == "second":
                inside.wait(timeout=10)
            results[name] = reply_send(reply.pk)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            if name == "second":
                release.set()
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert results["second"].status == Reply.Status.SENDING  # it found the lease taken and left
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and len(connector.calls) == 1 and reply.attempts == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_reply_once(world, connector, monkeypatch):
    replies = [_approved(world, body=f"Reply {n}") for n in range(6)]
    original = connector.send_reply

    def slow_send(account, **kwargs):
        time.sleep(0.05)
        return original(account, **kwargs)

    monkeypatch.setattr(connector, "send_reply", slow_send)
    barrier, counts, errors = threading.Barrier(2), [], []

    def run_sweep():
        try:
            barrier.wait(timeout=10)
            counts.append(tasks.retry_replies_task())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(counts) == len(replies)
    assert sorted(_keys(connector)) == sorted(str(r.idempotency_key) for r in replies)
    assert Reply.objects.filter(status=Reply.Status.SENT).count() == len(replies)


# --- 4. a reply already sent is never sent again ------------------------------------------------------------

@pytest.mark.django_db
def test_the_sending_service_refuses_to_send_a_sent_reply_again(world, connector):
    reply = _approved(world)
    reply_send(reply.pk)
    before = _snapshot(reply)
    assert before["status"] == Reply.Status.SENT and len(connector.calls) == 1

    reply_send(reply.pk)
    tasks.send_reply_task(reply.pk)  # a duplicated or late task
    assert sweep(timezone.now() + timedelta(hours=1)) == 0
    with pytest.raises(ValidationError):
        reply_retry(actor=world["agent"], reply=reply)
    assert len(connector.calls) == 1 and _snapshot(reply) == before


@pytest.mark.django_db
def test_a_reply_recorded_as_sent_but_still_marked_sending_is_not_sent_again(world, connector):
    """sent_at is what counts: whatever its status says, a reply with it is never sent again."""
    reply = _approved(world, status=Reply.Status.SENDING, sent_at=timezone.now() - timedelta(hours=1),
                      platform_message_id="111", lease_until=timezone.now() - timedelta(hours=1),
                      next_attempt_at=timezone.now() - timedelta(hours=1))
    before = _snapshot(reply)
    reply_send(reply.pk)
    assert sweep() == 0
    assert connector.calls == [] and _snapshot(reply) == before


# --- 5. "Retry now" for a reply stuck on its way -------------------------------------------------------------

@pytest.mark.django_db
def test_a_stuck_reply_offers_retry_now_and_it_sends_once(world, connector, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(minutes=10)
    stuck = _approved(world, body="Lost with the broker", approved_at=long_ago, created_at=long_ago)
    queued = _approved(world, body="Just approved")
    client = _csrf_client(world["agent"])
    html = client.get(reverse("inbox:conversation", args=[world["conversation"].pk])).content.decode()
    stuck_html = html[html.index(f'data-reply="{stuck.pk}"'):html.index(f'data-reply="{queued.pk}"')]
    queued_html = html[html.index(f'data-reply="{queued.pk}"'):html.index('id="composer"')]
    assert 'data-testid="reply-stuck"' in stuck_html and 'data-testid="retry"' in stuck_html
    assert "Retry now" in stuck_html
    assert 'data-testid="reply-queued"' in queued_html and 'data-testid="retry"' not in queued_html

    csrf = _form_value(stuck_html, "csrfmiddlewaretoken")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("inbox:reply-retry", args=[stuck.pk]), {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == Reply.Status.SENT and connector.texts == ["Lost with the broker"]
    assert ConversationEvent.objects.filter(kind="reply_retried", actor=world["agent"]).count() == 1

    # A reply that is on its way is not retried by hand: the page says why.
    response = client.post(reverse("inbox:reply-retry", args=[queued.pk]), {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 400 and "on its way" in response.content.decode()


@pytest.mark.django_db
def test_retry_now_on_a_sending_reply_only_after_its_lease(world, connector, django_capture_on_commit_callbacks):
    reply = _approved(world, status=Reply.Status.SENDING, attempts=1,
                      lease_until=timezone.now() + timedelta(seconds=60))
    with pytest.raises(ValidationError):
        reply_retry(actor=world["agent"], reply=reply)
    assert connector.calls == []
    Reply.objects.filter(pk=reply.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        reply_retry(actor=world["agent"], reply=reply)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and _keys(connector) == [str(reply.idempotency_key)]


@pytest.mark.django_db
def test_retry_now_through_the_api_and_rights(world, connector, api_for, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - timedelta(minutes=10)
    reply = _approved(world, approved_at=long_ago, created_at=long_ago)
    assert api_for(world["drafter"]).post(f"/api/replies/{reply.pk}/retry/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(world["agent"]).post(f"/api/replies/{reply.pk}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and len(connector.calls) == 1
    assert api_for(world["agent"]).post(f"/api/replies/{reply.pk}/retry/").status_code == 400


# --- the list endpoint keeps a fixed number of queries ------------------------------------------------------

@pytest.mark.django_db
def test_the_reply_list_query_count_does_not_grow(world, api_for, django_assert_num_queries):
    def client():
        return api_for(User.objects.get(pk=world["agent"].pk))  # permissions are cached per user object

    for n in range(2):
        _approved(world, body=f"r{n}", client_token=uuid.uuid4())
    with CaptureQueriesContext(connection) as small:
        assert len(client().get("/api/replies/").json()["results"]) == 2
    for n in range(10):
        _approved(world, body=f"more {n}", lease_until=timezone.now(), client_token=uuid.uuid4())
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client().get("/api/replies/").json()["results"]) == 12
