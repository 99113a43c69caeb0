"""The audit hook of the lowest layer.

The audit log lives in the security app, which sits above this one. So this
app only announces what happened; security connects a receiver in its
``ready()`` and writes the tamper-evident row inside the same transaction."""

from typing import Any

from django.dispatch import Signal

audit_event = Signal()


def model_label(obj) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def record(
    *,
    actor,
    action: str,
    target=None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    if target is not None:
        target_type = target_type or model_label(target)
        target_id = target_id or str(target.pk)
    audit_event.send(
        sender=None,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr or (str(target) if target is not None else ""),
        before=before or {},
        after=after or {},
    )
