"""The signed webhook: a platform (or a bridge) pushes messages for one
account.

    POST /inbox/webhooks/<account_id>/
    X-SocialOps-Timestamp: <when the delivery was signed, in Unix seconds>
    X-SocialOps-Signature: sha256=<hex HMAC-SHA256 of b"<timestamp>." + the raw
                           body, keyed with the account's webhook_secret credential>
    X-SocialOps-Delivery: <the sender's unique id for this delivery>
    Body: a JSON list of messages, or {"messages": [...]}, in the ingest format.

The signature covers the timestamp, and a timestamp more than five minutes
from the server's clock (either way) is refused: a captured delivery cannot
be sent again later, even under a new delivery id (docs/WEBHOOKS.md).
A delivery id is processed once per account: a repeat answers
``{"duplicate": true}`` and stores nothing. The delivery is recorded in the
same transaction as the ingest. 200 with the ingest result (created,
duplicates, rejected, errors[index, field, reason]) when anything in the
batch was acceptable; 400 with the same body when every item was invalid
(the delivery is then not recorded, so a corrected retry is processed)."""

import hashlib
import hmac
import logging
import re
import time

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from security.models import Credential, SocialAccount
from security.services import credential_for_connector
from security.vault import CredentialDecryptError
from socialops.parsers import JSONTooDeepError, too_large_detail
from socialops.parsers import loads as loads_json

from .ingest import ingest_messages
from .models import WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "HTTP_X_SOCIALOPS_SIGNATURE"
DELIVERY_HEADER = "HTTP_X_SOCIALOPS_DELIVERY"
TIMESTAMP_HEADER = "HTTP_X_SOCIALOPS_TIMESTAMP"
SIGNATURE_PREFIX = "sha256="
# How far a delivery's timestamp may be from the server's clock, either way.
TIMESTAMP_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"\d{1,12}", re.ASCII)
MAX_DELIVERY_ID = 200
_UNAUTHORISED = {"detail": "Missing or invalid signature."}
# Used when there is no real key, so that an unknown account takes as long to refuse as a bad signature.
_DUMMY_KEY = b"socialops-webhook-no-such-account"


def sign(secret: str, body: bytes, timestamp: int | str) -> str:
    """The header value a sender puts in X-SocialOps-Signature for a
    delivery whose X-SocialOps-Timestamp is ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, delivery_id: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Every header a sender needs, for senders written in Python (tests, demos)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"X-SocialOps-Timestamp": str(timestamp), "X-SocialOps-Signature": sign(secret, body, timestamp),
            "X-SocialOps-Delivery": delivery_id}


def _timestamp_problem(header: str, now: float) -> str:
    """Why the X-SocialOps-Timestamp header is unacceptable, or ""."""
    value = header.strip()
    if not value:
        return "X-SocialOps-Timestamp: this header is required (Unix seconds, covered by the signature)."
    if not _TIMESTAMP.fullmatch(value):
        return "X-SocialOps-Timestamp: must be a whole number of Unix seconds."
    skew = int(value) - now
    if abs(skew) > TIMESTAMP_TOLERANCE_SECONDS:
        direction = "old" if skew < 0 else "far in the future"
        return (f"X-SocialOps-Timestamp: too {direction}: {abs(int(skew))} seconds from the server's clock, "
                f"at most {TIMESTAMP_TOLERANCE_SECONDS} allowed. Sign each delivery (and each retry) when "
                f"sending it.")
    return ""


def _webhook_secret(account_id: int) -> tuple[SocialAccount | None, str | None]:
    account = SocialAccount.objects.filter(pk=account_id).first()
    if account is None or account.status == SocialAccount.Status.RETIRED:
        return None, None
    try:
        return account, credential_for_connector(account=account, kind=Credential.Kind.WEBHOOK_SECRET)
    except Credential.DoesNotExist:
        return account, None
    except CredentialDecryptError:
        logger.error("Webhook for account %s: the webhook secret cannot be decrypted with the vault keys",
                     account.pk)
        return account, None


def _signature_ok(secret: str | None, body: bytes, timestamp: str, header: str) -> bool:
    expected = sign(secret or _DUMMY_KEY.decode(), body, timestamp)
    given = header.strip()
    valid = hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))
    return bool(secret) and given.lower().startswith(SIGNATURE_PREFIX) and valid


@csrf_exempt
def receive(request, account_id: int):
    if request.method != "POST":
        response = JsonResponse({"detail": "Method not allowed: use POST."}, status=405)
        response["Allow"] = "POST"
        return response
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"detail": f"body: {too_large_detail()}"}, status=413)

    timestamp = request.META.get(TIMESTAMP_HEADER, "")
    problem = _timestamp_problem(timestamp, time.time())
    if problem:
        logger.warning("Webhook for account %s refused: %s", account_id, problem)
        return JsonResponse({"detail": problem}, status=400)

    account, secret = _webhook_secret(account_id)
    if not _signature_ok(secret, body, timestamp.strip(), request.META.get(SIGNATURE_HEADER, "")):
        logger.warning("Webhook for account %s refused: missing or invalid signature", account_id)
        return JsonResponse(_UNAUTHORISED, status=401)

    delivery_id = request.META.get(DELIVERY_HEADER, "").strip()
    if not delivery_id:
        return JsonResponse({"detail": "X-SocialOps-Delivery: this header is required."}, status=400)
    if len(delivery_id) > MAX_DELIVERY_ID:
        return JsonResponse({"detail": f"X-SocialOps-Delivery: at most {MAX_DELIVERY_ID} characters."},
                            status=400)

    try:
        # The API's parser: the same depth limit, NaN and Infinity refused.
        payload = loads_json(body)
    except JSONTooDeepError as exc:
        return JsonResponse({"detail": f"body: {exc}"}, status=400)
    except ValueError as exc:  # UnicodeDecodeError included
        return JsonResponse({"detail": f"body: not valid JSON (UTF-8): {exc}"}, status=400)
    if isinstance(payload, dict) and isinstance(payload.get("messages"), list):
        items = payload["messages"]
    elif isinstance(payload, list):
        items = payload
    else:
        return JsonResponse({"detail": 'body: expected a JSON list of messages or {"messages": [...]}.'},
                            status=400)

    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(account=account, delivery_id=delivery_id)
        if not created:
            logger.info("Webhook for account %s: delivery %r already processed", account.pk, delivery_id)
            return JsonResponse({"duplicate": True, "delivery": delivery_id})
        result = ingest_messages(account=account, items=items, source="webhook")
        summary = result.as_dict()
        all_invalid = bool(items) and result.created == 0 and result.duplicates == 0 and bool(result.errors)
        if all_invalid:
            # Nothing was stored: forget the delivery so that a corrected retry is processed.
            transaction.set_rollback(True)
        else:
            delivery.accepted = result.created + result.duplicates
            delivery.rejected = summary["rejected"]
            delivery.save(update_fields=["accepted", "rejected"])
    logger.info("Webhook for account %s, delivery %r: %s created, %s duplicates, %s rejected", account.pk,
                delivery_id, result.created, result.duplicates, summary["rejected"])
    return JsonResponse(summary, status=400 if all_invalid else 200)
