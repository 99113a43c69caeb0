"""Helpers shared by the strategy services: audit, versions, locks, checks."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from security.audit import audit_write

from ..models import (
    Strategy,
    StrategyOwner,
)


def _audit(actor, action, target, *, before=None, after=None):
    audit_write(actor=actor, action=f"strategy.{action}",
                target_type=f"{target._meta.app_label}.{target._meta.model_name}", target_id=str(target.pk),
                target_repr=str(target)[:200], before=before, after=after)


def _save(instance, actor, reason: str, **kwargs):
    """Saves with the version's author and reason (django-simple-history)."""
    instance._history_user = actor
    instance._change_reason = (reason or "")[:100]
    instance.full_clean(**kwargs)
    instance.save()
    return instance


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why: every change to a strategy is kept with its reason.")})
    return reason


def _locked(strategy: Strategy) -> Strategy:
    return Strategy.objects.select_for_update().get(pk=strategy.pk)


def _check_accounts(strategy: Strategy, accounts) -> None:
    brand_accounts = set(strategy.brand.accounts.values_list("pk", flat=True))
    outside = [str(a) for a in accounts if a.pk not in brand_accounts]
    if outside:
        raise ValidationError({"accounts": _("Not a channel of %(brand)s: %(accounts)s.") % {
            "brand": strategy.brand, "accounts": ", ".join(outside)}})


def _not_retired(strategy: Strategy) -> None:
    """A retired strategy is kept as it was: nothing is added or changed any more."""
    if strategy.status == Strategy.Status.RETIRED:
        raise ValidationError({"status": _("This strategy is retired: it is kept as it was and changes no more.")})


def _owner_of(strategy: Strategy, owner: StrategyOwner) -> StrategyOwner:
    _not_retired(strategy)
    if owner.strategy_id != strategy.pk or owner.ended_at is not None:
        raise ValidationError({"owner": _("Choose a current owner of this strategy.")})
    return owner
