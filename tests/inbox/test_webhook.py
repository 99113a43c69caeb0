"""The signed webhook: HMAC over the timestamp and the raw body, deliveries
older than five minutes refused, one processing per delivery id, the valid
part of a batch kept, the secret never shown."""

import json
import logging
import time

import pytest
from django.test import Client
from django.urls import reverse

from inbox.models import Message, WebhookDelivery
from inbox.webhooks import TIMESTAMP_TOLERANCE_SECONDS, sign, signed_headers
from security import services as security_services

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.inbox.webhook_urls")]

SECRET = "whsec-Very-S3cret-value"


def message(n, **overrides):
    item = {
        "platform_message_id": f"wh-{n}",
        "text": f"Message number {n}: where is my refund?",
        "sent_at": "2024-05-02T10:00:00+02:00",
        "kind": "mention",
        "author": {"id": f"author-{n}", "handle": f"@customer{n}", "display_name": f"Customer {n}",
                   "followers": 10, "verified": False},
        "language": "en",
        "url": f"https://platform.example/p/{n}",
    }
    item.update(overrides)
    return item


@pytest.fixture
def account(admin_user):
    account = security_services.account_create(actor=admin_user, platform="other", handle="@hooked")
    security_services.credential_set(actor=admin_user, account=account, kind="webhook_secret", secret=SECRET)
    return account


def post(account_id, body, *, secret=SECRET, delivery="delivery-1", signature=None, raw=None, timestamp=None,
         sent_timestamp=None):
    """Signs with ``timestamp`` (now by default) and sends ``sent_timestamp``
    (the same by default) in X-SocialOps-Timestamp; "" leaves the header out."""
    data = raw if raw is not None else json.dumps(body).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    sent_timestamp = timestamp if sent_timestamp is None else sent_timestamp
    headers = {}
    if sent_timestamp != "":
        headers["HTTP_X_SOCIALOPS_TIMESTAMP"] = str(sent_timestamp)
    if signature is None and secret is not None:
        signature = sign(secret, data, timestamp)
    if signature is not None:
        headers["HTTP_X_SOCIALOPS_SIGNATURE"] = signature
    if delivery is not None:
        headers["HTTP_X_SOCIALOPS_DELIVERY"] = delivery
    return Client().post(reverse("inbox-webhook", args=[account_id]), data=data,
                         content_type="application/json", **headers)


def assert_no_secret(response):
    assert SECRET not in response.content.decode()
    assert all(SECRET not in str(value) for value in response.headers.values())


def test_valid_signature_ingests(account):
    response = post(account.pk, [message(1), message(2)])
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2 and response.json()["errors"] == []
    assert Message.objects.filter(account=account).count() == 2
    delivery = WebhookDelivery.objects.get(account=account, delivery_id="delivery-1")
    assert delivery.accepted == 2 and delivery.rejected == 0
    assert_no_secret(response)


def test_messages_envelope_is_accepted(account):
    response = post(account.pk, {"messages": [message(1)]})
    assert response.status_code == 200 and response.json()["created"] == 1


def test_tampered_body_is_refused_and_nothing_stored(account):
    original = json.dumps([message(1)]).encode()
    tampered = original.replace(b"refund", b"REFUND")
    response = post(account.pk, None, raw=tampered, signature=sign(SECRET, original, int(time.time())))
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid signature."}
    assert not Message.objects.exists() and not WebhookDelivery.objects.exists()
    assert_no_secret(response)


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=" + "0" * 64, "md5=abc", "garbage-ä"])
def test_missing_or_wrong_signature_is_refused(account, signature):
    response = post(account.pk, [message(1)], secret=None, signature=signature)
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid signature."}
    assert not Message.objects.exists()


def test_signature_with_another_secret_is_refused(account):
    response = post(account.pk, [message(1)], secret="not-the-secret")
    assert response.status_code == 401 and not Message.objects.exists()


def test_unknown_retired_or_secretless_accounts_look_the_same(account, admin_user):
    unknown = post(account.pk + 1000, [message(1)])
    bare = security_services.account_create(actor=admin_user, platform="other", handle="@nosecret")
    secretless = post(bare.pk, [message(1)], secret="anything")
    security_services.account_retire(actor=admin_user, account=account)
    retired = post(account.pk, [message(1)])
    for response in (unknown, secretless, retired):
        assert response.status_code == 401
        assert response.json() == {"detail": "Missing or invalid signature."}
    assert not Message.objects.exists()


def test_same_delivery_twice_is_processed_once(account):
    first = post(account.pk, [message(1)], delivery="abc-123")
    second = post(account.pk, [message(1), message(2)], delivery="abc-123")
    assert first.status_code == 200 and first.json()["created"] == 1
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert Message.objects.count() == 1
    assert WebhookDelivery.objects.filter(account=account).count() == 1
    # A new delivery id carrying a message already stored does not store it twice either.
    third = post(account.pk, [message(1)], delivery="abc-124")
    assert third.status_code == 200 and third.json()["duplicates"] == 1
    assert Message.objects.count() == 1


def test_batch_keeps_good_items_and_reports_bad_ones(account):
    bad = message(2)
    del bad["sent_at"]
    items = [message(1), bad, message(3, author="not an object"), message(4)]
    response = post(account.pk, items)
    assert response.status_code == 200
    body = response.json()
    assert body["created"] == 2 and body["rejected"] == 2
    assert {"index": 1, "field": "sent_at", "reason": "This field is required."} in body["errors"]
    assert any(e["index"] == 2 and e["field"] == "author" for e in body["errors"])
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == {"wh-1", "wh-4"}
    assert WebhookDelivery.objects.get(account=account).rejected == 2


def test_batch_with_only_bad_items_is_400_and_can_be_retried(account):
    response = post(account.pk, [message(1, sent_at="yesterday"), "not an object"], delivery="d-9")
    assert response.status_code == 400
    body = response.json()
    assert body["created"] == 0 and body["rejected"] == 2
    assert {e["index"] for e in body["errors"]} == {0, 1}
    assert not WebhookDelivery.objects.exists()
    retry = post(account.pk, [message(1)], delivery="d-9")
    assert retry.status_code == 200 and retry.json()["created"] == 1


def test_invalid_json_is_400(account):
    response = post(account.pk, None, raw=b'[{"platform_message_id": ')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("body: not valid JSON (UTF-8): Expecting")
    response = post(account.pk, None, raw=b'{"something": "else"}', delivery="d-2")
    assert response.status_code == 400 and response.json()["detail"].startswith("body:")
    assert not WebhookDelivery.objects.exists()


def test_delivery_header_is_required(account):
    response = post(account.pk, [message(1)], delivery=None)
    assert response.status_code == 400
    assert "X-SocialOps-Delivery" in response.json()["detail"]
    assert not Message.objects.exists()


def test_only_post(account):
    response = Client().get(reverse("inbox-webhook", args=[account.pk]))
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_secret_never_in_responses_or_logs(account, caplog):
    caplog.set_level(logging.DEBUG)
    responses = [
        post(account.pk, [message(1)]),
        post(account.pk, [message(1)]),
        post(account.pk, [message(2)], secret="wrong", delivery="x"),
        post(account.pk, None, raw=b"{", delivery="y"),
        post(account.pk, [{"text": SECRET[:5]}], delivery="z"),
    ]
    for response in responses:
        assert_no_secret(response)
    assert SECRET not in caplog.text


# --- replay: the signature covers a timestamp, which must be recent ----------------

def test_fresh_timestamp_is_accepted_within_the_window_either_way(account):
    now = int(time.time())
    assert post(account.pk, [message(1)], delivery="d-now", timestamp=now).status_code == 200
    late = post(account.pk, [message(2)], delivery="d-late", timestamp=now - TIMESTAMP_TOLERANCE_SECONDS + 30)
    early = post(account.pk, [message(3)], delivery="d-early", timestamp=now + TIMESTAMP_TOLERANCE_SECONDS - 30)
    assert late.status_code == 200 and early.status_code == 200
    assert Message.objects.count() == 3


@pytest.mark.parametrize("offset", [-(TIMESTAMP_TOLERANCE_SECONDS + 60), TIMESTAMP_TOLERANCE_SECONDS + 60, -86400])
def test_timestamp_outside_five_minutes_is_refused(account, offset):
    response = post(account.pk, [message(1)], timestamp=int(time.time()) + offset)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("X-SocialOps-Timestamp: too ") and f"at most {TIMESTAMP_TOLERANCE_SECONDS}" in detail
    assert not Message.objects.exists() and not WebhookDelivery.objects.exists()
    assert_no_secret(response)


def test_captured_delivery_replayed_later_under_a_new_delivery_id_is_refused(account):
    """An attacker who captured a delivery (body, timestamp, signature) sends
    it again later with a new delivery id: the signature still matches the
    old timestamp, which is now too old, and changing the timestamp breaks
    the signature."""
    captured_at = int(time.time()) - 600
    body = json.dumps([message(1)]).encode()
    captured = signed_headers(SECRET, body, "original-delivery", timestamp=captured_at)
    replay = Client().post(
        reverse("inbox-webhook", args=[account.pk]), data=body, content_type="application/json",
        HTTP_X_SOCIALOPS_TIMESTAMP=captured["X-SocialOps-Timestamp"],
        HTTP_X_SOCIALOPS_SIGNATURE=captured["X-SocialOps-Signature"], HTTP_X_SOCIALOPS_DELIVERY="brand-new-id")
    assert replay.status_code == 400 and "X-SocialOps-Timestamp: too old" in replay.json()["detail"]
    refreshed = post(account.pk, None, raw=body, delivery="another-new-id", signature=captured["X-SocialOps-Signature"],
                     timestamp=captured_at, sent_timestamp=int(time.time()))
    assert refreshed.status_code == 401 and refreshed.json() == {"detail": "Missing or invalid signature."}
    assert not Message.objects.exists() and not WebhookDelivery.objects.exists()


def test_timestamp_changed_after_signing_is_refused(account):
    signed_at = int(time.time())
    response = post(account.pk, [message(1)], timestamp=signed_at, sent_timestamp=signed_at + 1)
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid signature."}
    assert not Message.objects.exists()


def test_body_signed_without_the_timestamp_is_refused(account):
    """The old scheme (HMAC of the body alone) no longer verifies."""
    import hashlib
    import hmac

    data = json.dumps([message(1)]).encode()
    old_scheme = "sha256=" + hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()
    response = post(account.pk, None, raw=data, signature=old_scheme)
    assert response.status_code == 401 and not Message.objects.exists()


@pytest.mark.parametrize("value, reason", [
    ("", "this header is required"),
    ("yesterday", "whole number of Unix seconds"),
    ("-5", "whole number of Unix seconds"),
    ("1.7e9", "whole number of Unix seconds"),
    ("١٧٠٠٠٠٠٠٠٠", "whole number of Unix seconds"),  # non-ASCII digits
    ("9" * 40, "whole number of Unix seconds"),
])
def test_missing_or_malformed_timestamp_is_a_400_naming_the_header(account, value, reason):
    response = post(account.pk, [message(1)], sent_timestamp=value)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("X-SocialOps-Timestamp:") and reason in response.json()["detail"]
    assert not Message.objects.exists()


def test_signed_headers_helper_produces_an_accepted_delivery(account):
    body = json.dumps([message(7)]).encode()
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value
               for name, value in signed_headers(SECRET, body, "helper-1").items()}
    response = Client().post(reverse("inbox-webhook", args=[account.pk]), data=body,
                             content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["created"] == 1
