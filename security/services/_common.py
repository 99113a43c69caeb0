"""Helpers shared by the security services."""


from datetime import date, datetime

from ..audit import audit_write


def _audit(actor, action, target=None, *, account=None, before=None, after=None, **extra):
    audit_write(
        actor=actor, action=action,
        target_type=f"{target._meta.app_label}.{target._meta.model_name}" if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target) if target is not None else "",
        account_id=account.pk if account is not None else None,
        before=before, after=after, **extra,
    )


def _iso(value):
    return value.isoformat() if isinstance(value, datetime | date) else value
