"""The signed webhook: a platform (or a bridge) pushes messages for one
account.

    POST /inbox/webhooks/<account_id>/
    X-SocialOps-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with
                           the account's webhook_secret credential>
    X-SocialOps-Delivery: <the sender's unique id for this delivery>
    Body: a JSON list of messages, or {"messages": [...]}, in the ingest format.

A delivery id is processed once per account: a repeat answers
``{"duplicate": true}`` and stores nothing. The delivery is recorded in the
same transaction as the ingest. 200 with the ingest result (created,
duplicates, rejected, errors[index, field, reason]) when anything in the
batch was acceptable; 400 with the same body when every item was invalid
(the delivery is then not recorded, so a corrected retry is processed)."""

import hashlib
import hmac
import json
import logging

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from security.models import Credential, SocialAccount
from security.services import credential_for_connector
from security.vault import CredentialDecryptError

from .ingest import ingest_messages
from .models import WebhookDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "HTTP_X_SOCIALOPS_SIGNATURE"
DELIVERY_HEADER = "HTTP_X_SOCIALOPS_DELIVERY"
SIGNATURE_PREFIX = "sha256="
MAX_DELIVERY_ID = 200
_UNAUTHORISED = {"detail": "Missing or invalid signature."}
# Used when there is no real key, so that an unknown account takes as long to refuse as a bad signature.
_DUMMY_KEY = b"socialops-webhook-no-such-account"


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts in X-SocialOps-Signature."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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


def _signature_ok(secret: str | None, body: bytes, header: str) -> bool:
    expected = sign(secret, body) if secret else sign(_DUMMY_KEY.decode(), body)
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
        return JsonResponse({"detail": "body: too large."}, status=413)

    account, secret = _webhook_secret(account_id)
    if not _signature_ok(secret, body, request.META.get(SIGNATURE_HEADER, "")):
        logger.warning("Webhook for account %s refused: missing or invalid signature", account_id)
        return JsonResponse(_UNAUTHORISED, status=401)

    delivery_id = request.META.get(DELIVERY_HEADER, "").strip()
    if not delivery_id:
        return JsonResponse({"detail": "X-SocialOps-Delivery: this header is required."}, status=400)
    if len(delivery_id) > MAX_DELIVERY_ID:
        return JsonResponse({"detail": f"X-SocialOps-Delivery: at most {MAX_DELIVERY_ID} characters."},
                            status=400)

    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return JsonResponse({"detail": "body: not valid JSON"}, status=400)
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
