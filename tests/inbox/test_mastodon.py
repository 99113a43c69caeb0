"""The Mastodon connector and the poller, against a local fake Mastodon API
(pytest-httpserver on 127.0.0.1) answering with the documented JSON shapes."""

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from django.template import engines
from django.utils import timezone
from django_q.models import Schedule
from werkzeug.wrappers import Response

from inbox import polling, tasks
from inbox.connectors.base import ConnectorError, connector_for
from inbox.connectors.mastodon import MastodonConnector, html_to_text
from inbox.models import ConnectorState, Conversation, Message
from security import services as security_services
from security.models import SocialAccount

TOKEN = "token-123"


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


# --- a fake Mastodon server --------------------------------------------------

def mastodon_account(account_id="971724", acct="alice@other.example", followers=120):
    return {
        "id": account_id, "username": acct.split("@")[0], "acct": acct, "display_name": f"Display {acct}",
        "locked": False, "bot": False, "discoverable": True, "group": False,
        "created_at": "2019-11-01T00:00:00.000Z", "note": "<p>bio</p>", "url": f"https://other.example/@{acct}",
        "avatar": "https://other.example/a.png", "avatar_static": "https://other.example/a.png",
        "header": "https://other.example/h.png", "header_static": "https://other.example/h.png",
        "followers_count": followers, "following_count": 3, "statuses_count": 40,
        "last_status_at": "2019-11-23", "emojis": [], "fields": [],
    }


def mastodon_status(status_id, content, *, created_at="2024-05-02T10:00:00.000Z", in_reply_to_id=None,
                    visibility="public", account=None, language="en"):
    return {
        "id": str(status_id), "created_at": created_at, "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": "1" if in_reply_to_id else None, "sensitive": False, "spoiler_text": "",
        "visibility": visibility, "language": language,
        "uri": f"https://other.example/users/alice/statuses/{status_id}",
        "url": f"https://other.example/@alice/{status_id}", "replies_count": 0, "reblogs_count": 0,
        "favourites_count": 0, "edited_at": None, "favourited": False, "reblogged": False, "muted": False,
        "bookmarked": False, "content": content, "filtered": [], "reblog": None, "application": None,
        "account": account or mastodon_account(), "media_attachments": [],
        "mentions": [{"id": "1", "username": "brand", "url": "https://social.example/@brand", "acct": "brand"}],
        "tags": [], "emojis": [], "card": None, "poll": None,
    }


class FakeMastodon:
    """GET /api/v1/notifications with since_id/max_id/limit and Link
    headers; POST /api/v1/statuses. Failures can be queued."""

    def __init__(self, server):
        self.server = server
        self.notifications: list[dict] = []
        self.failures: list[tuple[int, dict, dict]] = []
        self.requests: list[dict] = []
        self.posted: list[dict] = []
        self.omit_last_link = False
        server.expect_request("/api/v1/notifications", method="GET").respond_with_handler(self._notifications)
        server.expect_request("/api/v1/statuses", method="POST").respond_with_handler(self._post_status)

    def add_mention(self, notification_id, status_id, content, **kwargs):
        status = mastodon_status(status_id, content, **kwargs)
        self.notifications.append({"id": str(notification_id), "type": "mention",
                                   "created_at": status["created_at"], "account": status["account"],
                                   "status": status})
        return status

    def fail(self, status, headers=None, body=None):
        self.failures.append((status, headers or {}, body or {"error": "failure"}))

    def _failure(self):
        if not self.failures:
            return None
        status, headers, body = self.failures.pop(0)
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    def _notifications(self, request):
        args = request.args
        self.requests.append({"since_id": args.get("since_id"), "max_id": args.get("max_id"),
                              "limit": args.get("limit"), "types": args.getlist("types[]"),
                              "authorization": request.headers.get("Authorization")})
        failure = self._failure()
        if failure is not None:
            return failure
        since_id, max_id = args.get("since_id"), args.get("max_id")
        limit = int(args.get("limit", 40))
        key = lambda value: int(value)  # noqa: E731
        matching = [n for n in self.notifications
                    if (since_id is None or key(n["id"]) > key(since_id))
                    and (max_id is None or key(n["id"]) < key(max_id))
                    and (not args.getlist("types[]") or n["type"] in args.getlist("types[]"))]
        page = sorted(matching, key=lambda n: key(n["id"]), reverse=True)[:limit]
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299"}
        base = self.server.url_for("/api/v1/notifications")
        if page and not (self.omit_last_link and len(page) < limit):
            headers["Link"] = (f'<{base}?max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}?min_id={page[0]["id"]}>; rel="prev"')
        return Response(json.dumps(page), status=200, headers=headers, content_type="application/json")

    def _post_status(self, request):
        failure = self._failure()
        if failure is not None:
            return failure
        form = parse_qs(request.get_data(as_text=True))
        posted = {"form": {k: v[0] for k, v in form.items()}, "idempotency_key": request.headers.get(
            "Idempotency-Key"), "authorization": request.headers.get("Authorization")}
        self.posted.append(posted)
        status = mastodon_status(str(900000 + len(self.posted)), f"<p>{posted['form'].get('status', '')}</p>",
                                 visibility=posted["form"].get("visibility", "public"),
                                 account=mastodon_account("1", "brand"))
        return Response(json.dumps(status), status=200, content_type="application/json")


@pytest.fixture
def fake(httpserver):
    return FakeMastodon(httpserver)


@pytest.fixture
def account(admin_user, httpserver):
    account = security_services.account_create(actor=admin_user, platform="mastodon",
                                                handle="@brand@social.example")
    security_services.credential_set(actor=admin_user, account=account, kind="api_token", secret=TOKEN)
    ConnectorState.objects.create(account=account, base_url=httpserver.url_for("/").rstrip("/"),
                                  polling_enabled=True)
    return account


def state_of(account) -> ConnectorState:
    return ConnectorState.objects.get(account=account)


def unblock(account) -> None:
    ConnectorState.objects.filter(account=account).update(backoff_until=timezone.now() - timedelta(seconds=1))


# --- HTML to text ------------------------------------------------------------

def test_html_to_text_keeps_plain_text_and_paragraphs():
    html = ('<p>Hi <span class="h-card"><a href="https://social.example/@brand" class="u-url mention">'
            '@<span>brand</span></a></span> my order &amp; delivery is late</p><p>Line two<br>line three</p>')
    assert html_to_text(html) == "Hi @brand my order & delivery is late\n\nLine two\nline three"
    link = ('<p>See <a href="https://example.com/x/y"><span class="invisible">https://</span>'
            '<span class="ellipsis">example.com/x</span><span class="invisible">/y</span></a></p>')
    assert html_to_text(link) == "See https://example.com/x/y"
    assert html_to_text("") == ""
    assert html_to_text(None) == ""


# --- fetch and poll ----------------------------------------------------------

@pytest.mark.django_db
def test_poll_ingests_mentions_as_plain_text(account, fake):
    fake.add_mention(10, "110", '<p>Hello <span class="h-card"><a href="https://social.example/@brand" '
                                'class="u-url mention">@<span>brand</span></a></span> where is my parcel? &lt;3</p>',
                     created_at="2024-05-02T10:00:00.000Z")
    fake.add_mention(11, "111", "<p>&lt;script&gt;alert(1)&lt;/script&gt; hello</p>",
                     created_at="2024-05-02T10:05:00.000Z", in_reply_to_id="110")
    fake.add_mention(12, "112", "<p>raw <script>alert(2)</script> tag</p>", created_at="2024-05-02T10:06:00.000Z",
                     visibility="direct", account=mastodon_account("555", "bob@third.example", followers=50_000))

    outcome = polling.poll_account(account.pk)

    assert outcome["status"] == "ok" and outcome["created"] == 3 and outcome["errors"] == []
    assert fake.requests[0]["types"] == ["mention"] and fake.requests[0]["since_id"] is None
    assert fake.requests[0]["authorization"] == f"Bearer {TOKEN}"
    first = Message.objects.get(platform_message_id="110")
    assert first.text == "Hello @brand where is my parcel? <3"
    assert first.sent_at == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert first.url == "https://other.example/@alice/110"
    assert first.language == "en" and first.kind == "mention"
    assert first.author.handle == "alice@other.example" and first.author.followers == 120
    assert first.author.verified is False
    escaped = Message.objects.get(platform_message_id="111")
    assert escaped.text == "<script>alert(1)</script> hello"  # stored as received text...
    assert escaped.in_reply_to == "110"
    assert escaped.conversation_id == first.conversation_id  # the reply joins the thread of 110
    rendered = engines["django"].from_string("{{ text }}").render({"text": escaped.text})
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered  # ...and escaped on output
    raw = Message.objects.get(platform_message_id="112")
    assert raw.text == "raw alert(2) tag" and "<" not in raw.text
    assert raw.kind == "direct" and raw.conversation.thread_key == "dm:555"
    assert raw.conversation.is_influencer
    assert state_of(account).cursor == {"since_id": "12"}
    assert state_of(account).last_polled_at is not None


@pytest.mark.django_db
def test_pagination_follows_link_header_across_pages(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "100"})
    fake.add_mention(99, "199", "<p>already seen</p>")
    for n in range(101, 104):
        fake.add_mention(n, str(200 + n), f"<p>message {n}</p>", created_at=f"2024-05-02T10:0{n - 100}:00.000Z")

    outcome = polling.poll_account(account.pk)

    assert outcome["created"] == 3
    assert [(r["since_id"], r["max_id"]) for r in fake.requests] == [("100", None), ("100", "102"),
                                                                      ("100", "101")]
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == {"301", "302", "303"}
    assert state_of(account).cursor == {"since_id": "103"}


@pytest.mark.django_db
def test_pagination_without_a_last_link_ends_too(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    fake.omit_last_link = True
    for n in range(1, 4):
        fake.add_mention(n, str(500 + n), f"<p>m{n}</p>")
    assert polling.poll_account(account.pk)["created"] == 3
    assert len(fake.requests) == 2
    assert state_of(account).cursor == {"since_id": "3"}


@pytest.mark.django_db
def test_page_cap_leaves_a_backlog_that_the_next_polls_finish(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    monkeypatch.setattr(MastodonConnector, "max_pages", 1)
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "100"})
    for n in range(101, 106):
        fake.add_mention(n, str(700 + n), f"<p>m{n}</p>")

    polling.poll_account(account.pk)
    assert state_of(account).cursor == {"since_id": "100", "max_id": "104", "newest_id": "105"}
    fake.add_mention(106, "806", "<p>arrives during the backlog</p>")
    for _ in range(5):  # 103-102, 101, end of backlog, 106, end
        polling.poll_account(account.pk)

    assert Message.objects.count() == 6
    assert state_of(account).cursor == {"since_id": "106"}


@pytest.mark.django_db
def test_cursor_moves_only_after_ingest(account, fake, monkeypatch):
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "5"})
    fake.add_mention(6, "606", "<p>new</p>")
    seen = {}
    real_ingest = polling.ingest_messages

    def spying_ingest(**kwargs):
        seen["cursor_during_ingest"] = state_of(account).cursor
        return real_ingest(**kwargs)

    monkeypatch.setattr(polling, "ingest_messages", spying_ingest)
    polling.poll_account(account.pk)
    assert seen["cursor_during_ingest"] == {"since_id": "5"}
    assert state_of(account).cursor == {"since_id": "6"}

    fake.add_mention(7, "607", "<p>newer</p>")

    def failing_ingest(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(polling, "ingest_messages", failing_ingest)
    with pytest.raises(RuntimeError):
        polling.poll_account(account.pk)
    assert state_of(account).cursor == {"since_id": "6"}  # not moved: 607 will be fetched again
    monkeypatch.setattr(polling, "ingest_messages", real_ingest)
    polling.poll_account(account.pk)
    assert Message.objects.filter(platform_message_id="607").exists()


@pytest.mark.django_db
def test_polling_twice_stores_nothing_twice(account, fake):
    fake.add_mention(1, "701", "<p>one</p>")
    fake.add_mention(2, "702", "<p>two</p>")
    assert polling.poll_account(account.pk)["created"] == 2
    second = polling.poll_account(account.pk)
    assert second["created"] == 0 and fake.requests[-1]["since_id"] == "2"
    # Even a lost cursor (or two workers racing) cannot store a message twice.
    ConnectorState.objects.filter(account=account).update(cursor={})
    third = polling.poll_account(account.pk)
    assert third["created"] == 0 and third["duplicates"] == 2
    assert Message.objects.count() == 2 and Conversation.objects.count() == 2


@pytest.mark.django_db
def test_rate_limit_sets_backoff_and_keeps_cursor(account, fake, caplog):
    caplog.set_level(logging.DEBUG)
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "40"})
    reset = datetime.now(UTC) + timedelta(seconds=120)
    fake.fail(429, {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")}, {"error": "Too many requests"})
    fake.add_mention(41, "841", "<p>waiting</p>")

    before = timezone.now()
    outcome = polling.poll_account(account.pk)

    state = state_of(account)
    assert outcome["status"] == "failed" and outcome["transient"]
    assert state.cursor == {"since_id": "40"}
    assert before + timedelta(seconds=110) <= state.backoff_until <= before + timedelta(seconds=125)
    assert state.consecutive_failures == 1 and "rate limit" in state.last_error
    assert not Message.objects.exists()
    # While backing off, a poll does not even call the server.
    calls = len(fake.requests)
    assert polling.poll_account(account.pk)["status"] == "backoff"
    assert len(fake.requests) == calls
    assert TOKEN not in caplog.text and TOKEN not in state.last_error


@pytest.mark.django_db
def test_server_error_backs_off_exponentially_then_resumes_from_old_cursor(account, fake):
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "40"})
    fake.add_mention(41, "841", "<p>after the outage</p>")
    fake.fail(500)
    fake.fail(503)

    before = timezone.now()
    polling.poll_account(account.pk)
    state = state_of(account)
    assert state.cursor == {"since_id": "40"} and state.consecutive_failures == 1
    assert before + timedelta(seconds=59) <= state.backoff_until <= before + timedelta(seconds=65)
    assert "HTTP 500" in state.last_error

    unblock(account)
    before = timezone.now()
    polling.poll_account(account.pk)
    state = state_of(account)
    assert state.consecutive_failures == 2 and state.cursor == {"since_id": "40"}
    assert before + timedelta(seconds=119) <= state.backoff_until <= before + timedelta(seconds=125)

    unblock(account)
    outcome = polling.poll_account(account.pk)
    assert outcome["created"] == 1
    assert fake.requests[-1]["since_id"] == "40"
    state = state_of(account)
    assert state.cursor == {"since_id": "41"}
    assert state.consecutive_failures == 0 and state.backoff_until is None and state.last_error == ""


def test_backoff_is_capped_at_one_hour():
    assert polling.backoff_seconds(60, 1) == 60
    assert polling.backoff_seconds(60, 3) == 240
    assert polling.backoff_seconds(60, 10) == 3600
    assert polling.backoff_seconds(60, 30000) == 3600
    assert polling.backoff_seconds(None, 1) == 3600


@pytest.mark.django_db
def test_bad_token_is_permanent_and_not_leaked(account, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.fail(401, body={"error": "The access token is invalid"})
    before = timezone.now()
    outcome = polling.poll_account(account.pk)
    state = state_of(account)
    assert outcome["transient"] is False
    assert state.backoff_until >= before + timedelta(seconds=3590)
    assert "HTTP 401" in state.last_error
    assert TOKEN not in state.last_error and TOKEN not in caplog.text and TOKEN not in json.dumps(outcome)


@pytest.mark.django_db
def test_unreachable_server_is_transient(account):
    ConnectorState.objects.filter(account=account).update(base_url="http://127.0.0.1:9")
    outcome = polling.poll_account(account.pk)
    assert outcome["status"] == "failed" and outcome["transient"]
    assert "not reachable" in state_of(account).last_error


@pytest.mark.django_db
def test_missing_token_is_reported_without_calling_the_server(admin_user, fake, httpserver):
    account = security_services.account_create(actor=admin_user, platform="mastodon", handle="@bare@social.example")
    ConnectorState.objects.create(account=account, base_url=httpserver.url_for("/").rstrip("/"),
                                  polling_enabled=True)
    outcome = polling.poll_account(account.pk)
    assert outcome["status"] == "failed" and "No API token" in outcome["error"]
    assert fake.requests == []


@pytest.mark.django_db
def test_disabled_or_retired_accounts_are_not_polled(account, fake, admin_user):
    ConnectorState.objects.filter(account=account).update(polling_enabled=False)
    assert polling.poll_account(account.pk)["status"] == "skipped"
    ConnectorState.objects.filter(account=account).update(polling_enabled=True)
    security_services.account_retire(actor=admin_user, account=account)
    assert polling.poll_account(account.pk)["status"] == "skipped"
    assert fake.requests == []


# --- replies and posts -------------------------------------------------------

@pytest.mark.django_db
def test_send_reply_posts_in_thread_with_idempotency_key(account, fake):
    fake.add_mention(1, "1001", "<p>@brand my order is late</p>")
    fake.add_mention(2, "1002", "<p>@brand hello??</p>", in_reply_to_id="1001",
                     created_at="2024-05-02T11:00:00.000Z")
    polling.poll_account(account.pk)
    conversation = Conversation.objects.get()

    connector = connector_for("mastodon")
    platform_id = connector.send_reply(account, conversation=conversation, text="Sorry! We are on it.",
                                       idempotency_key="reply-key-1")

    assert platform_id == "900001"
    posted = fake.posted[0]
    assert posted["idempotency_key"] == "reply-key-1"
    assert posted["form"]["in_reply_to_id"] == "1002"
    assert posted["form"]["visibility"] == "unlisted"
    assert posted["form"]["status"] == "@alice@other.example Sorry! We are on it."
    assert posted["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.django_db
def test_send_reply_to_a_direct_message_stays_direct(account, fake):
    fake.add_mention(1, "2001", "<p>private question</p>", visibility="direct")
    polling.poll_account(account.pk)
    conversation = Conversation.objects.get()
    connector_for("mastodon").send_reply(account, conversation=conversation,
                                         text="@alice@other.example here is the answer", idempotency_key="k-2")
    posted = fake.posted[0]["form"]
    assert posted["visibility"] == "direct" and posted["in_reply_to_id"] == "2001"
    assert posted["status"] == "@alice@other.example here is the answer"  # no second mention


@pytest.mark.django_db
def test_send_errors_become_connector_errors(account, fake):
    fake.add_mention(1, "3001", "<p>hi</p>")
    polling.poll_account(account.pk)
    conversation = Conversation.objects.get()
    connector = connector_for("mastodon")
    fake.fail(422, body={"error": "Validation failed: Text character limit of 500 exceeded"})
    with pytest.raises(ConnectorError) as permanent:
        connector.send_reply(account, conversation=conversation, text="x" * 600, idempotency_key="k-3")
    assert not permanent.value.transient
    fake.fail(503)
    with pytest.raises(ConnectorError) as transient:
        connector.send_reply(account, conversation=conversation, text="hello", idempotency_key="k-4")
    assert transient.value.retry_after == 60
    assert TOKEN not in str(permanent.value) + str(transient.value)


@pytest.mark.django_db
def test_publish_posts_with_idempotency_key(account, fake):
    result = connector_for("mastodon").publish(account, text="Our new opening hours", idempotency_key="post-1")
    assert result.platform_id == "900001"
    assert fake.posted[0]["idempotency_key"] == "post-1"
    assert fake.posted[0]["form"]["status"] == "Our new opening hours"
    assert "in_reply_to_id" not in fake.posted[0]["form"]


# --- tasks and schedules -----------------------------------------------------

@pytest.mark.django_db
def test_poll_all_accounts_enqueues_enabled_active_accounts_on_commit(account, admin_user, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    other = security_services.account_create(actor=admin_user, platform="mastodon", handle="@off@social.example")
    ConnectorState.objects.create(account=other, polling_enabled=False)
    retired = security_services.account_create(actor=admin_user, platform="mastodon", handle="@old@social.example")
    ConnectorState.objects.create(account=retired, polling_enabled=True)
    retired.status = SocialAccount.Status.RETIRED
    retired.save()
    enqueued = []
    monkeypatch.setattr(tasks, "async_task", lambda func, *args, **kwargs: enqueued.append((func, args)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.poll_all_accounts() == 1
        assert enqueued == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert enqueued == [("inbox.tasks.poll_account_task", (account.pk,))]


@pytest.mark.django_db
def test_poll_task_runs_through_django_q(account, fake, django_capture_on_commit_callbacks):
    fake.add_mention(1, "4001", "<p>via the queue</p>")
    with django_capture_on_commit_callbacks(execute=True):
        tasks.poll_all_accounts()
    assert Message.objects.filter(platform_message_id="4001").exists()


@pytest.mark.django_db
def test_ensure_schedules_is_idempotent():
    tasks.ensure_schedules()
    tasks.ensure_schedules()
    schedule = Schedule.objects.get(func="inbox.tasks.poll_all_accounts")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1 and schedule.repeats == -1
    Schedule.objects.filter(pk=schedule.pk).update(minutes=5)
    Schedule.objects.create(func="inbox.tasks.poll_all_accounts", schedule_type=Schedule.HOURLY)
    tasks.ensure_schedules()
    assert Schedule.objects.filter(func="inbox.tasks.poll_all_accounts").count() == 1
    assert Schedule.objects.get(func="inbox.tasks.poll_all_accounts").minutes == 1
