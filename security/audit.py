"""The tamper-evident audit log: write, verify.

Each row's hash covers its own content and the previous row's hash, so
changing or removing any row breaks every link after it. Writers take a
transaction-scoped lock so two concurrent writers cannot chain onto the same
previous row."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from socialops.middleware import current_client_ip, current_request_id

from .models import AuditEvent

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 0x5EC0A0D1  # any constant shared by all writers

# Keys whose values never enter the audit log, whatever a caller passes.
_SECRET_KEYS = {"secret", "password", "token", "ciphertext", "plaintext", "totp", "otp", "code"}


def _scrub(values: dict) -> dict:
    clean = {}
    for key, value in (values or {}).items():
        if any(part in key.lower() for part in _SECRET_KEYS):
            clean[key] = "[redacted]"
        elif isinstance(value, dict):
            clean[key] = _scrub(value)
        else:
            clean[key] = value
    return clean


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)


def compute_hash(event: AuditEvent) -> str:
    created = event.created_at.astimezone(UTC) if isinstance(event.created_at, datetime) else event.created_at
    payload = _canonical({
        "prev": event.prev_hash,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "account_id": event.account_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "created_at": created.isoformat(timespec="microseconds"),
    })
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    # SQLite serialises writers on its own database lock.


@transaction.atomic
def audit_write(*, actor, action: str, target_type: str = "", target_id: str = "", target_repr: str = "",
                account_id: int | None = None, before: dict | None = None, after: dict | None = None,
                actor_name: str | None = None) -> AuditEvent:
    """Appends one event. Secret-looking keys in before/after are redacted."""
    _lock_chain()
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    actor_obj = actor if getattr(actor, "pk", None) else None
    event = AuditEvent(
        actor=actor_obj,
        actor_name=actor_name if actor_name is not None else (
            actor_obj.get_username() if actor_obj else "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64],
        target_repr=str(target_repr)[:300],
        account_id=account_id,
        before=json.loads(_canonical(_scrub(before or {}))),
        after=json.loads(_canonical(_scrub(after or {}))),
        request_id=current_request_id() if current_request_id() != "-" else "",
        ip_address=current_client_ip(),
        created_at=timezone.now(),
        prev_hash=last or GENESIS_HASH,
    )
    event.hash = compute_hash(event)
    event.save(force_insert=True)
    return event


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walks the chain in id order and reports the first broken link."""
    previous = GENESIS_HASH
    checked = 0
    qs = AuditEvent.objects.order_by("id")
    for event in qs.iterator(chunk_size=batch_size):
        if event.prev_hash != previous:
            return ChainReport(checked, event.pk, "its prev_hash does not match the row before it "
                                                  "(a row was removed or reordered)")
        if compute_hash(event) != event.hash:
            return ChainReport(checked, event.pk, "its content does not match its hash (the row was changed)")
        previous = event.hash
        checked += 1
    return ChainReport(checked)
