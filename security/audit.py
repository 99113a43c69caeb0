"""The tamper-evident audit log: write, verify, checkpoint.

Each row's hash covers its own content and the previous row's hash, so
changing or removing any row breaks every link after it. Writers take a
transaction-scoped lock so two concurrent writers cannot chain onto the same
previous row. Removing rows from the end, emptying the table or rebuilding
the chain leaves a chain that is consistent in itself: the hourly
checkpoints (head id, head hash, count, in their own append-only table and
in the executives' weekly digest) are what catches that."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from socialops.middleware import current_client_ip, current_request_id

from .models import AuditCheckpoint, AuditEvent

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
    checkpoint: AuditCheckpoint | None = None  # the latest checkpoint the log was compared with
    fails_checkpoint: bool = False  # the links hold but the log shrank or was rebuilt since a checkpoint

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.problem


class AuditCheckpointError(Exception):
    """The log no longer matches the last checkpoint; no new one is written."""


def _when(checkpoint: AuditCheckpoint) -> str:
    return checkpoint.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _shrank(checkpoint: AuditCheckpoint, count: int) -> str:
    return (f"the log has {count} events but checkpoint #{checkpoint.pk} ({_when(checkpoint)}) counted "
            f"{checkpoint.event_count}: events were removed or the table was emptied")


def _head_missing(checkpoint: AuditCheckpoint) -> str:
    return (f"event #{checkpoint.head_id}, the head recorded by checkpoint #{checkpoint.pk} ({_when(checkpoint)}), "
            f"is missing: the log shrank or was rebuilt")


def _head_changed(checkpoint: AuditCheckpoint) -> str:
    return (f"event #{checkpoint.head_id} does not carry the hash checkpoint #{checkpoint.pk} ({_when(checkpoint)}) "
            f"recorded for it: the log was rebuilt")


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walks the chain in id order and reports the first broken link, then
    compares the log with the checkpoints: the latest one's count must not
    exceed the events found, and every checkpoint's head must still be there
    with the hash it had."""
    # Checkpoints are few (one an hour) next to events; only their heads are kept in memory.
    heads: dict[int, list[AuditCheckpoint]] = {}
    latest = None
    for checkpoint in AuditCheckpoint.objects.order_by("id").iterator(chunk_size=batch_size):
        latest = checkpoint
        if checkpoint.head_id is not None:
            heads.setdefault(checkpoint.head_id, []).append(checkpoint)
    previous = GENESIS_HASH
    checked = 0
    seen: set[int] = set()
    qs = AuditEvent.objects.order_by("id")
    for event in qs.iterator(chunk_size=batch_size):
        if event.prev_hash != previous:
            return ChainReport(checked, event.pk, "its prev_hash does not match the row before it "
                                                  "(a row was removed or reordered)", latest)
        if compute_hash(event) != event.hash:
            return ChainReport(checked, event.pk, "its content does not match its hash (the row was changed)",
                               latest)
        for checkpoint in heads.get(event.pk, ()):
            if checkpoint.head_hash != event.hash:
                return ChainReport(checked, event.pk, _head_changed(checkpoint), latest, fails_checkpoint=True)
            seen.add(event.pk)
        previous = event.hash
        checked += 1
    problems = []
    if latest is not None and checked < latest.event_count:
        problems.append(_shrank(latest, checked))
    missing = [cps[-1] for head_id, cps in heads.items() if head_id not in seen]
    if missing:
        problems.append(_head_missing(max(missing, key=lambda cp: cp.pk)))
    return ChainReport(checked, None, "; ".join(problems), latest, fails_checkpoint=bool(problems))


def _checkpoint_problem(latest: AuditCheckpoint, count: int) -> str:
    if count < latest.event_count:
        return _shrank(latest, count)
    if latest.head_id is not None:
        head_hash = AuditEvent.objects.filter(pk=latest.head_id).values_list("hash", flat=True).first()
        if head_hash is None:
            return _head_missing(latest)
        if head_hash != latest.head_hash:
            return _head_changed(latest)
    return ""


@transaction.atomic
def audit_checkpoint_write() -> AuditCheckpoint:
    """Records the chain's current head (id and hash) and its number of
    events, under the writers' lock so the three agree. Raises
    ``AuditCheckpointError`` and records nothing when the log no longer
    matches the previous checkpoint: a log that shrank or was rebuilt must
    not be made to look normal by the next hourly run."""
    _lock_chain()
    latest = AuditCheckpoint.objects.order_by("-id").first()
    count = AuditEvent.objects.count()
    if latest is not None:
        problem = _checkpoint_problem(latest, count)
        if problem:
            raise AuditCheckpointError(problem)
    head = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    return AuditCheckpoint.objects.create(
        created_at=timezone.now(), event_count=count,
        head_id=head[0] if head else None, head_hash=head[1] if head else "",
    )
