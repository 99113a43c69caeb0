"""django-q2 entry points of the security app and the schedules that run
them, created (idempotently) by the post_migrate hook in ``apps.py``."""

import logging
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django_q.models import Schedule

from socialops.schedules import ensure_schedule

logger = logging.getLogger(__name__)

CHECKPOINT_FUNC = "security.tasks.audit_checkpoint_task"
CHECKPOINT_NAME = "security: audit chain checkpoint"
DIGEST_FUNC = "security.tasks.security_digest_task"
DIGEST_NAME = "security: weekly security digest"
DIGEST_WEEKDAY, DIGEST_HOUR_UTC = 0, 7  # Mondays, 07:00 UTC


def audit_checkpoint_task() -> dict:
    """Every hour: closes finished suppression windows of the denied-access
    audit, then records the chain's head and count. When the log no longer
    matches the last checkpoint nothing is recorded and admins and
    executives are alerted (again only once they have read the last alert)."""
    from accounts.authz_audit import report_suppressed

    from .audit import AuditCheckpointError, audit_checkpoint_write

    report_suppressed()
    try:
        checkpoint = audit_checkpoint_write()
    except AuditCheckpointError as exc:
        logger.error("Audit checkpoint refused: %s", exc)
        _alert_checkpoint_refused(str(exc))
        return {"refused": str(exc)}
    return {"checkpoint": checkpoint.pk, "events": checkpoint.event_count, "head": checkpoint.head_id}


def _alert_checkpoint_refused(problem: str) -> None:
    from accounts.models import Membership, Notification, User
    from accounts.roles import Role
    from accounts.services import notify

    from .audit import audit_write

    text = f"Audit log tampering suspected, no checkpoint written: {problem}"[:500]
    audit_write(actor=None, action="audit.checkpoint_refused", after={"problem": problem})
    people = User.objects.filter(is_active=True, pk__in=Membership.objects.active().filter(
        role__in=[Role.ADMIN, Role.EXECUTIVE]).values("user_id"))
    for person in people:
        already = Notification.objects.filter(recipient=person, kind="audit.checkpoint_refused",
                                              read_at__isnull=True).exists()
        if not already:
            notify(recipient=person, kind="audit.checkpoint_refused", level="alert", text=text, url="/audit/")


def security_digest_task() -> int:
    """Every week: the security digest to every executive; returns how many."""
    from .digest import security_digest_send

    return security_digest_send()


def _next_digest_run(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    days = (DIGEST_WEEKDAY - now.weekday()) % 7
    run = datetime.combine(now.date() + timedelta(days=days), time(DIGEST_HOUR_UTC), tzinfo=UTC)
    return run if run > now else run + timedelta(days=7)


def ensure_schedules() -> None:
    """Creates or updates the hourly checkpoint and the weekly digest. Safe
    to call on every deploy/migrate: a schedule's next run is set when it is
    created and left alone afterwards."""
    now = timezone.now()
    ensure_schedule(CHECKPOINT_FUNC, {"name": CHECKPOINT_NAME, "schedule_type": Schedule.HOURLY, "repeats": -1},
                    next_run=now)
    ensure_schedule(DIGEST_FUNC, {"name": DIGEST_NAME, "schedule_type": Schedule.WEEKLY, "repeats": -1},
                    next_run=_next_digest_run(now))


