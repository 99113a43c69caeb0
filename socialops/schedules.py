"""One idempotent upsert for django-q2 schedules, shared by every app's
post_migrate hook (this layer sits below them all)."""

from datetime import datetime

from django.db import transaction
from django_q.models import Schedule


def ensure_schedule(func: str, wanted: dict, *, next_run: datetime | None = None) -> None:
    """Creates the schedule for ``func`` or brings the first one in line with
    ``wanted``, deleting duplicates. Safe on every deploy/migrate."""
    with transaction.atomic():
        rows = list(Schedule.objects.select_for_update().filter(func=func).order_by("pk"))
        if not rows:
            Schedule.objects.create(func=func, **({"next_run": next_run} if next_run else {}), **wanted)
            return
        keep, extra = rows[0], rows[1:]
        changed = [field for field, value in wanted.items() if getattr(keep, field) != value]
        for field in changed:
            setattr(keep, field, wanted[field])
        if changed:
            keep.save(update_fields=changed)
        if extra:
            Schedule.objects.filter(pk__in=[row.pk for row in extra]).delete()
