"""Polling when the platform misbehaves, against the local fake Mastodon
(pytest-httpserver): the server's Retry-After is honoured (seconds or an
HTTP date), what was fetched before a failing page is stored and the next
poll resumes at that page, and the first poll's backfill depth is a
setting."""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from werkzeug.wrappers import Response

from inbox import polling
from inbox.connectors.mastodon import MastodonConnector, retry_after_seconds
from inbox.models import ConnectorState, Message
from security import services as security_services
from tests.inbox.test_mastodon import TOKEN, FakeMastodon, state_of, unblock


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture
def account(admin_user, httpserver):
    account = security_services.account_create(actor=admin_user, platform="mastodon",
                                                handle="@brand@social.example")
    security_services.credential_set(actor=admin_user, account=account, kind="api_token", secret=TOKEN)
    ConnectorState.objects.create(account=account, base_url=httpserver.url_for("/").rstrip("/"),
                                  polling_enabled=True)
    return account


class FlakyMastodon(FakeMastodon):
    """The fake server, plus failures tied to a page: ``fail_page(max_id, ...)``
    fails every request for that page (``max_id`` None: the first page)
    ``times`` times."""

    def __init__(self, server):
        super().__init__(server)
        self.page_failures: dict[str | None, list] = {}

    def fail_page(self, max_id, status=500, headers=None, *, times=1):
        self.page_failures[max_id] = [status, headers or {}, times]

    def _notifications(self, request):
        planned = self.page_failures.get(request.args.get("max_id"))
        if planned and planned[2] > 0:
            planned[2] -= 1
            self.requests.append({"since_id": request.args.get("since_id"), "max_id": request.args.get("max_id"),
                                  "limit": request.args.get("limit"), "failed": planned[0]})
            return Response(json.dumps({"error": "failure"}), status=planned[0], headers=planned[1],
                            content_type="application/json")
        return super()._notifications(request)


@pytest.fixture
def fake(httpserver):
    return FlakyMastodon(httpserver)


def stored_ids() -> set[str]:
    return set(Message.objects.values_list("platform_message_id", flat=True))


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


# --- Retry-After -------------------------------------------------------------------

def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(" 0 ") == 0
    assert retry_after_seconds(http_date(now + timedelta(seconds=90)), now=now.timestamp()) == 90
    # An HTTP date counts from the server's own Date: its clock may be off.
    skewed = now - timedelta(hours=3)
    assert retry_after_seconds(http_date(skewed + timedelta(seconds=45)), server_date=http_date(skewed),
                               now=now.timestamp()) == 45
    assert retry_after_seconds(http_date(now - timedelta(minutes=5)), now=now.timestamp()) == 0
    for unreadable in (None, "", "soon", "-5", "1.5", "٣"):
        assert retry_after_seconds(unreadable) is None


@pytest.mark.django_db
def test_a_429_with_retry_after_waits_what_the_server_said_not_a_guess(account, fake):
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "40"})
    fake.fail_page(None, 429, {"Retry-After": "300"}, times=2)
    fake.add_mention(41, "841", "<p>later</p>")

    before = timezone.now()
    outcome = polling.poll_account(account.pk)
    state = state_of(account)
    assert outcome["status"] == "failed" and outcome["transient"]
    assert before + timedelta(seconds=299) <= state.backoff_until <= before + timedelta(seconds=305)
    assert "asked to wait 300 s" in state.last_error and state.cursor == {"since_id": "40"}

    unblock(account)
    before = timezone.now()
    polling.poll_account(account.pk)
    state = state_of(account)
    # Honoured as said, not doubled on the second failure in a row.
    assert state.consecutive_failures == 2
    assert before + timedelta(seconds=299) <= state.backoff_until <= before + timedelta(seconds=305)

    unblock(account)
    assert polling.poll_account(account.pk)["created"] == 1


@pytest.mark.django_db
def test_a_503_with_an_http_date_retry_after_is_honoured(account, fake):
    # (The fake server sends its own Date; a skewed server clock is covered by the unit test above.)
    fake.fail_page(None, 503, {"Retry-After": http_date(timezone.now() + timedelta(minutes=10))})
    before = timezone.now()
    polling.poll_account(account.pk)
    state = state_of(account)
    assert before + timedelta(seconds=595) <= state.backoff_until <= before + timedelta(seconds=605)
    assert "HTTP 503" in state.last_error and "Retry-After" in state.last_error


@pytest.mark.django_db
def test_a_429_waits_for_the_later_of_retry_after_and_the_rate_limit_reset(account, fake):
    reset = datetime.now(UTC) + timedelta(seconds=200)
    fake.fail_page(None, 429, {"Retry-After": "30", "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    before = timezone.now()
    polling.poll_account(account.pk)
    assert before + timedelta(seconds=185) <= state_of(account).backoff_until <= before + timedelta(seconds=205)


@pytest.mark.django_db
def test_a_server_error_without_retry_after_keeps_the_doubling_back_off(account, fake):
    fake.fail_page(None, 500, times=2)
    polling.poll_account(account.pk)
    unblock(account)
    before = timezone.now()
    polling.poll_account(account.pk)
    assert before + timedelta(seconds=119) <= state_of(account).backoff_until <= before + timedelta(seconds=125)


def test_a_server_wait_is_capped():
    assert polling.backoff_seconds(10 ** 9, 1, server_said=True) == polling.MAX_SERVER_WAIT_SECONDS
    assert polling.backoff_seconds(30, 5, server_said=True) == 30
    assert polling.backoff_seconds(30, 5) == 480


# --- a failing page --------------------------------------------------------------

@pytest.mark.django_db
def test_a_failing_page_keeps_what_came_before_and_the_next_poll_resumes_there(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "100"})
    for n in range(101, 107):
        fake.add_mention(n, str(700 + n), f"<p>m{n}</p>")
    fake.fail_page("105", 502, {"Retry-After": "90"})  # the second page: 104 and 103

    before = timezone.now()
    outcome = polling.poll_account(account.pk)

    assert outcome["status"] == "partial" and outcome["created"] == 2 and outcome["transient"]
    assert stored_ids() == {"806", "805"}
    state = state_of(account)
    assert state.cursor == {"since_id": "100", "max_id": "105", "newest_id": "106"}
    assert before + timedelta(seconds=89) <= state.backoff_until <= before + timedelta(seconds=95)
    assert "HTTP 502" in state.last_error and state.consecutive_failures == 1

    fake.add_mention(107, "807", "<p>arrives meanwhile</p>")
    unblock(account)
    outcome = polling.poll_account(account.pk)
    assert outcome["status"] == "ok" and outcome["created"] == 4
    assert fake.requests[-3]["max_id"] == "105"  # resumed at the failing page, not from the top
    unblock(account)
    assert polling.poll_account(account.pk)["created"] == 1  # then the newer one
    assert stored_ids() == {str(700 + n) for n in range(101, 108)}
    assert Message.objects.count() == 7  # nothing twice
    state = state_of(account)
    assert state.cursor == {"since_id": "107"} and state.consecutive_failures == 0 and state.last_error == ""


@pytest.mark.django_db
def test_a_page_that_keeps_failing_loses_nothing_and_moves_nothing_past_it(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    ConnectorState.objects.filter(account=account).update(cursor={"since_id": "100"})
    for n in range(101, 106):
        fake.add_mention(n, str(800 + n), f"<p>m{n}</p>")
    fake.fail_page("104", 500, times=3)

    assert polling.poll_account(account.pk)["status"] == "partial"
    partial = state_of(account).cursor
    for _ in range(2):
        unblock(account)
        outcome = polling.poll_account(account.pk)
        assert outcome["status"] == "failed"
        assert state_of(account).cursor == partial  # nothing fetched: the cursor stays at the failing page
    assert state_of(account).consecutive_failures == 3
    assert stored_ids() == {"905", "904"}
    unblock(account)
    assert polling.poll_account(account.pk)["status"] == "ok"
    assert stored_ids() == {str(800 + n) for n in range(101, 106)}
    assert state_of(account).cursor == {"since_id": "105"}


@pytest.mark.django_db
def test_a_failure_on_a_first_poll_keeps_the_backfill_going(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    for n in range(1, 8):
        fake.add_mention(n, str(300 + n), f"<p>m{n}</p>")
    fake.fail_page("6", 500)
    with override_settings(SOCIALOPS_MASTODON_BACKFILL=5):
        assert polling.poll_account(account.pk)["status"] == "partial"
        assert state_of(account).cursor == {"since_id": None, "max_id": "6", "newest_id": "7", "backfill_left": 3}
        unblock(account)
        assert polling.poll_account(account.pk)["status"] == "ok"
    assert stored_ids() == {"307", "306", "305", "304", "303"}
    assert state_of(account).cursor == {"since_id": "7"}


# --- the first poll's backfill ------------------------------------------------------

def test_the_backfill_defaults_to_400_and_is_documented():
    assert settings.SOCIALOPS_MASTODON_BACKFILL == 400
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert "`SOCIALOPS_MASTODON_BACKFILL`" in readme


@pytest.mark.django_db
def test_the_first_poll_takes_the_configured_number_of_newest_mentions(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    for n in range(1, 13):
        fake.add_mention(n, str(400 + n), f"<p>m{n}</p>")
    with override_settings(SOCIALOPS_MASTODON_BACKFILL=5):
        outcome = polling.poll_account(account.pk)
    assert outcome["created"] == 5
    assert stored_ids() == {"412", "411", "410", "409", "408"}
    assert [r["limit"] for r in fake.requests] == ["2", "2", "1"]  # never asks for more than is left
    assert state_of(account).cursor == {"since_id": "12"}
    fake.add_mention(13, "413", "<p>new</p>")
    assert polling.poll_account(account.pk)["created"] == 1
    assert fake.requests[-1]["since_id"] == "12"


@pytest.mark.django_db
def test_a_deep_backfill_spans_several_polls(account, fake, monkeypatch):
    monkeypatch.setattr(MastodonConnector, "page_limit", 2)
    monkeypatch.setattr(MastodonConnector, "max_pages", 2)
    for n in range(1, 11):
        fake.add_mention(n, str(500 + n), f"<p>m{n}</p>")
    with override_settings(SOCIALOPS_MASTODON_BACKFILL=7):
        assert polling.poll_account(account.pk)["created"] == 4
        assert state_of(account).cursor == {"since_id": None, "max_id": "7", "newest_id": "10", "backfill_left": 3}
        fake.add_mention(11, "511", "<p>arrives during the backfill</p>")
        assert polling.poll_account(account.pk)["created"] == 3
        assert state_of(account).cursor == {"since_id": "10"}
        assert polling.poll_account(account.pk)["created"] == 1
    assert stored_ids() == {str(500 + n) for n in range(4, 12)}


@pytest.mark.django_db
def test_a_backfill_of_zero_starts_from_now(account, fake):
    for n in range(1, 4):
        fake.add_mention(n, str(600 + n), f"<p>m{n}</p>")
    with override_settings(SOCIALOPS_MASTODON_BACKFILL=0):
        assert polling.poll_account(account.pk)["created"] == 0
    assert state_of(account).cursor == {"since_id": "3"}
    fake.add_mention(4, "604", "<p>new</p>")
    assert polling.poll_account(account.pk)["created"] == 1
    assert stored_ids() == {"604"}
