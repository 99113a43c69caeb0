"""The API under hostile or heavy input and with its cache gone, through the
project's own URLs and middleware: JSON nested too deeply is a 400 naming
the limit on every endpoint (the webhook included), a body over the size
limit is a JSON 413 naming it while a full bulk batch of ordinary messages
fits, and with the cache (Redis) down the throttles allow the request and
log the outage once a minute, never a 500."""

import json
import logging
import shutil
import socket
import subprocess
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.test import Client, override_settings
from rest_framework import throttling as drf_throttling
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.roles import Role
from inbox.ingest import MAX_BATCH
from inbox.models import Conversation, Message, Note, RoutingRule
from inbox.webhooks import signed_headers
from security import services as security_services
from socialops import cache as socialops_cache
from socialops.parsers import JSONTooDeepError, loads, nested_deeper_than
from socialops.throttling import FailOpenThrottleMixin, UserRateThrottle
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory

LIMIT = settings.SOCIALOPS_JSON_MAX_DEPTH
DEEP = "[" * 100_000 + "]" * 100_000
SECRET = "whsec-robustness-secret"


def message(n, *, text=None):
    """An ordinary message in the ingest format: 280 characters of text, some of them not ASCII."""
    body = text if text is not None else (f"#{n} Hej! Where is my order? Ordren er forsinket – ça fait 2 semaines 🙂 "
                                          * 4)[:280]
    return {
        "platform_message_id": f"msg-{n:06d}",
        "text": body,
        "sent_at": "2026-03-02T10:00:00Z",
        "kind": "mention",
        "author": {"id": f"author-{n}", "handle": f"@customer{n}@social.example", "display_name": f"Customer {n}",
                   "followers": 1234, "verified": False},
        "thread_id": f"thread-{n}",
        "in_reply_to": "",
        "language": "da",
        "url": f"https://social.example/@customer{n}/{100000000 + n}",
    }


@pytest.fixture
def dept(db):
    return DepartmentFactory()


@pytest.fixture
def account(dept, admin_user):
    account = SocialAccountFactory()
    account.departments.add(dept)
    security_services.credential_set(actor=admin_user, account=account, kind="webhook_secret", secret=SECRET)
    return account


@pytest.fixture
def conversation(api_for, admin_user, account):
    response = api_for(fresh(admin_user)).post(f"/api/accounts/{account.pk}/messages/", [message(1)], format="json")
    assert response.status_code == 201, response.content
    return Conversation.objects.get()


@pytest.fixture
def rule(admin_user, dept):
    return RoutingRule.objects.create(name="Refunds", keywords="refund", department=dept, created_by=admin_user)


def _signed_webhook(account, body: bytes, delivery="d-1", **extra):
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value
               for name, value in signed_headers(SECRET, body, delivery).items()}
    return Client().post(f"/inbox/webhooks/{account.pk}/", data=body, content_type="application/json",
                         **headers, **extra)


# --- JSON depth ----------------------------------------------------------------------

def test_the_depth_check_counts_levels_of_lists_and_objects():
    assert not nested_deeper_than({"a": [1, {"b": "[[[[[[[["}]}, 3)
    assert nested_deeper_than({"a": [1, {"b": []}]}, 3)
    assert not nested_deeper_than([[], [[]]], 3) and nested_deeper_than([[], [[[]]]], 3)
    assert not nested_deeper_than("[[[[", 0) and nested_deeper_than([], 0)
    assert loads(json.dumps([[[]]] * 3), limit=3) == [[[]]] * 3
    for body in ("[" * (LIMIT + 1) + "]" * (LIMIT + 1), DEEP, "[" * 100_000, '{"a":' * 20_000 + "1" + "}" * 20_000):
        with pytest.raises(JSONTooDeepError, match=f"JSON nested deeper than {LIMIT} levels"):
            loads(body)
    assert loads("[" * LIMIT + "]" * LIMIT) is not None
    with pytest.raises(ValueError, match="NaN"):
        loads('[{"a": NaN}]')


def _depth_cases(account, conversation, rule):
    return [
        ("post", f"/api/conversations/{conversation.pk}/notes/"),
        ("post", f"/api/conversations/{conversation.pk}/replies/"),
        ("post", f"/api/conversations/{conversation.pk}/assign/"),
        ("post", "/api/routing-rules/"),
        ("patch", f"/api/routing-rules/{rule.pk}/"),
        ("post", "/api/saved-replies/"),
        ("patch", "/api/me/"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [100_000, LIMIT + 1])
def test_deep_json_is_a_400_naming_the_limit_on_every_endpoint(api_for, admin_user, account, conversation, rule,
                                                               depth):
    body = "[" * depth + "]" * depth
    client = api_for(fresh(admin_user))
    for method, path in _depth_cases(account, conversation, rule):
        response = getattr(client, method)(path, body, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code, response.content[:200])
        assert f"JSON nested deeper than {LIMIT} levels" in response.json()["detail"], path
    # Anonymous endpoints parse too: the token sign-in.
    response = Client().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400 and f"nested deeper than {LIMIT}" in response.json()["detail"]
    assert Note.objects.count() == 0 and RoutingRule.objects.get(pk=rule.pk).name == "Refunds"


@pytest.mark.django_db
def test_deep_json_at_the_bulk_ingest_is_a_400_in_its_own_shape(api_for, admin_user, account):
    response = api_for(fresh(admin_user)).post(f"/api/accounts/{account.pk}/messages/", DEEP,
                                               content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["created"] == 0 and "nested" in body["errors"][0]["reason"]


@pytest.mark.django_db
def test_json_within_the_limit_still_works(api_for, admin_user, conversation):
    response = api_for(fresh(admin_user)).post(f"/api/conversations/{conversation.pk}/notes/",
                                               json.dumps({"body": "[[[[not json, just text]]]]"}),
                                               content_type="application/json")
    assert response.status_code == 201, response.content
    assert Note.objects.get().body == "[[[[not json, just text]]]]"


@pytest.mark.django_db
def test_the_webhook_refuses_deep_json_and_nan_naming_the_reason(account):
    response = _signed_webhook(account, DEEP.encode())
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"body: JSON nested deeper than {LIMIT} levels")
    deeper_item = json.dumps([{**message(1), "extra": json.loads("[" * LIMIT + "]" * LIMIT)}]).encode()
    response = _signed_webhook(account, deeper_item, delivery="d-2")
    assert response.status_code == 400 and f"nested deeper than {LIMIT}" in response.json()["detail"]
    nan = json.dumps([message(2)]).replace('"followers": 1234', '"followers": NaN').encode()
    response = _signed_webhook(account, nan, delivery="d-3")
    assert response.status_code == 400 and "NaN" in response.json()["detail"]
    assert not Message.objects.exists()
    assert _signed_webhook(account, json.dumps([message(3)]).encode(), delivery="d-4").status_code == 200


# --- body size -------------------------------------------------------------------------

def test_the_body_limit_is_sized_to_the_documented_batch():
    assert settings.SOCIALOPS_BULK_MAX_MESSAGES == MAX_BATCH == 5_000
    # An ordinary message, even with every character an emoji escaped as \uXXXX\uXXXX, fits its share.
    emoji = json.dumps(message(1, text="🙂" * 280))
    assert len(emoji.encode()) <= settings.SOCIALOPS_BULK_BYTES_PER_MESSAGE
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE >= MAX_BATCH * settings.SOCIALOPS_BULK_BYTES_PER_MESSAGE


@pytest.mark.django_db
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_full_batch_of_ordinary_messages_is_accepted(api_for, admin_user, account, monkeypatch, ensure_ascii):
    """Through the real parser and size limit; storing 5,000 messages is the
    ingest's own (tested, and measured by ``make bench-inbox``), so a stand-in
    takes them here to keep the suite fast."""
    from inbox.api import views as inbox_api_views
    from inbox.ingest import IngestResult

    received = []

    def ingest(*, account, items, source):
        received.append(items)
        return IngestResult(created=len(items))

    monkeypatch.setattr(inbox_api_views, "ingest_messages", ingest)
    batch = [message(n) for n in range(MAX_BATCH)]
    body = json.dumps(batch, ensure_ascii=ensure_ascii)
    assert len(body.encode()) > 2.5 * 2 ** 20  # over Django's default limit, which refused it
    response = api_for(fresh(admin_user)).post(f"/api/accounts/{account.pk}/messages/", body,
                                               content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["created"] == MAX_BATCH and received == [batch]


def _too_large() -> bytes:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return b"[" + b" " * limit + b"]"


def _names_the_limit(detail: str) -> bool:
    return f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in detail and "too large" in detail


@pytest.mark.django_db
def test_a_body_over_the_limit_is_a_json_413_naming_it(api_for, client_for, admin_user, account, conversation):
    client = api_for(fresh(admin_user))
    body = _too_large()
    for path in (f"/api/accounts/{account.pk}/messages/", f"/api/conversations/{conversation.pk}/notes/"):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 413, (path, response.status_code, response.content[:200])
        assert response["Content-Type"] == "application/json"
        assert _names_the_limit(response.json()["detail"]), response.json()
    # A form body (read by the CSRF check of session sign-in) and the browsable API's HTML answer too.
    session = client_for(fresh(admin_user))
    response = session.post(f"/api/conversations/{conversation.pk}/notes/", data=b"body=" + b"x" * len(body),
                            content_type="application/x-www-form-urlencoded", HTTP_ACCEPT="text/html")
    assert response.status_code == 413, response.content[:200]
    response = client.post(f"/api/conversations/{conversation.pk}/notes/", body, content_type="application/json",
                           HTTP_ACCEPT="text/html")
    assert response.status_code == 413 and b"too large" in response.content
    assert Note.objects.count() == 0 and Message.objects.count() == 1


@pytest.mark.django_db
def test_the_webhook_413_names_the_limit(account):
    response = _signed_webhook(account, _too_large())
    assert response.status_code == 413
    assert response.json()["detail"].startswith("body: ") and _names_the_limit(response.json()["detail"])


# --- the cache down ----------------------------------------------------------------------

class UnreachableCache(BaseCache):
    """A cache whose server is gone: every call raises ConnectionError."""

    def __init__(self, location, params):
        super().__init__(params)

    def _down(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = get = set = touch = delete = has_key = incr = get_many = set_many = delete_many = clear = _down


BROKEN_CACHE = {"default": {"BACKEND": "tests.test_api_robustness.UnreachableCache"}}


@pytest.fixture
def outage_log(caplog, monkeypatch):
    """The outage reports, with a clock the test moves."""
    socialops_cache.reset_outage_reports()
    socialops_cache.FailSoftRedisCache._down_until.clear()
    clock = {"now": 1_000.0}
    monkeypatch.setattr(socialops_cache, "_clock", lambda: clock["now"])
    caplog.set_level(logging.WARNING, logger="socialops.cache")

    def reports():
        return [r.getMessage() for r in caplog.records if r.name == "socialops.cache"]

    reports.clock = clock
    yield reports
    socialops_cache.reset_outage_reports()
    socialops_cache.FailSoftRedisCache._down_until.clear()


def _api_request(user):
    request = Request(APIRequestFactory().get("/api/conversations/"))
    request.user = user
    return request


@pytest.mark.django_db
def test_drf_throttles_alone_would_fail_with_this_cache(admin_user):
    """The control: the test cache does break DRF's own throttle."""
    with override_settings(CACHES=BROKEN_CACHE):
        with pytest.raises(ConnectionError):
            drf_throttling.UserRateThrottle().allow_request(_api_request(admin_user), None)
        assert UserRateThrottle().allow_request(_api_request(admin_user), None) is True


class ThreePerMinute(UserRateThrottle):
    rate = "3/min"


@pytest.mark.django_db
def test_the_fail_open_throttle_still_throttles_when_the_cache_is_up(admin_user, outage_log):
    assert [ThreePerMinute().allow_request(_api_request(admin_user), None) for _ in range(4)] == \
        [True, True, True, False]
    assert outage_log() == []


@pytest.mark.django_db
def test_with_the_cache_down_the_api_answers_and_logs_once_a_minute(api_for, admin_user, account, conversation,
                                                                    outage_log):
    client = api_for(fresh(admin_user))
    with override_settings(CACHES=BROKEN_CACHE):
        for _ in range(5):
            assert client.get("/api/conversations/").status_code == 200
        assert client.get(f"/api/conversations/{conversation.pk}/").status_code == 200
        response = client.post(f"/api/conversations/{conversation.pk}/notes/", {"body": "still works"},
                               format="json")
        assert response.status_code == 201, response.content
        anonymous = Client().get("/api/schema/")
        assert anonymous.status_code == 200
        assert len(outage_log()) == 2  # one line per throttle class (user, anonymous), not one per request
        assert "ConnectionError" in outage_log()[0] and "UserRateThrottle" in outage_log()[0]

        outage_log.clock["now"] += 61
        assert client.get("/api/conversations/").status_code == 200
    reports = outage_log()
    # Eight calls of the user throttle so far (it counts anonymous callers by address too), one reported.
    assert len(reports) == 3 and "7 more failure(s)" in reports[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fail_soft_redis(port: int) -> dict:
    return {"default": {"BACKEND": "socialops.cache.FailSoftRedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0",
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}


@pytest.mark.django_db
def test_the_production_cache_answers_like_a_miss_when_redis_is_unreachable(client_for, admin_user, conversation,
                                                                            outage_log, monkeypatch):
    port = _free_port()  # nothing listens there
    monkeypatch.setattr(socialops_cache.FailSoftRedisCache, "retry_after_seconds", 0)  # every call tries Redis
    with pytest.raises(Exception):  # noqa: B017 - the control: Django's own backend raises
        RedisCache(f"redis://127.0.0.1:{port}/0", {}).get("x")
    with override_settings(CACHES=_fail_soft_redis(port)):
        assert cache.get("x", "default") == "default"
        assert cache.add("x", 1) is False and cache.set("x", 1) is None and cache.incr("n") == 1
        assert cache.get_many(["x"]) == {} and cache.delete("x") is False
        # The pages and the API that use the cache: presence (who is viewing) and the throttles.
        client = client_for(fresh(admin_user))
        assert client.get(f"/inbox/c/{conversation.pk}/presence/").status_code == 200
        assert client.get("/api/conversations/").status_code == 200
    assert len(outage_log()) == 1 and "on cache.get" in outage_log()[0]


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_a_real_redis_going_down_and_coming_back(api_for, admin_user, tmp_path, outage_log):
    port = _free_port()

    def start():
        process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", str(tmp_path)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                return process
            except OSError:
                time.sleep(0.05)
        process.kill()
        pytest.fail("redis-server did not start")

    server = start()
    try:
        with override_settings(CACHES=_fail_soft_redis(port)):
            client = api_for(fresh(admin_user))
            assert client.get("/api/conversations/").status_code == 200
            assert any(key.startswith(b":1:throttle_user_") for key in
                       cache._cache.get_client().keys("*"))  # the throttle counts in Redis
            server.terminate()
            server.wait(timeout=10)
            assert [client.get("/api/conversations/").status_code for _ in range(3)] == [200, 200, 200]
            assert len(outage_log()) == 1
            server = start()
            outage_log.clock["now"] += socialops_cache.FailSoftRedisCache.retry_after_seconds + 1
            cache.set("back", "again")
            assert cache.get("back") == "again"
    finally:
        server.kill()
        server.wait(timeout=10)


@pytest.mark.django_db
def test_throttle_classes_in_use_fail_open(make_member):
    """The API's default throttles are the fail-open ones."""
    from rest_framework.settings import api_settings

    assert all(issubclass(cls, FailOpenThrottleMixin) for cls in api_settings.DEFAULT_THROTTLE_CLASSES)
    representative = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    with override_settings(CACHES=BROKEN_CACHE):
        client = Client()
        client.force_login(representative)
        assert client.get("/api/conversations/").status_code == 200
