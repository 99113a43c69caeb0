"""The executives' weekly security digest: the audit chain's head and
length (an anchor kept outside the database: a log emptied or rebuilt
later no longer matches the mails already sent), the week's checkpoints,
whether verification holds, and the week's security events in numbers.

Small on purpose: the reputation digest (a later issue) is a separate one."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Membership, User
from accounts.roles import Role
from accounts.services import notify

from .audit import verify_chain
from .models import AuditCheckpoint, AuditEvent

logger = logging.getLogger(__name__)

DIGEST_KIND = "security.digest"
# What the digest counts: label -> audit actions.
COUNTED_ACTIONS = {
    "logins_failed": ("auth.login_failed",),
    "reveals": ("reveal.perform",),
    "break_glass": ("reveal.break_glass",),
    "grants": ("grant.create",),
    "authz_denied": ("authz.denied",),
}
SUPPRESSED_ACTION = "authz.denied_suppressed"


@dataclass
class SecurityDigest:
    since: datetime
    until: datetime
    event_count: int
    head_id: int | None
    head_hash: str
    intact: bool
    problem: str
    checkpoint_count: int
    first_checkpoint: AuditCheckpoint | None
    last_checkpoint: AuditCheckpoint | None
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        chain = "intact" if self.intact else "FAILS VERIFICATION"
        head = f"head #{self.head_id} ({self.head_hash[:12]}…)" if self.head_id else "no events"
        c = self.counts
        return (f"Weekly security digest: audit chain {chain}, {self.event_count} events, {head}; "
                f"{self.checkpoint_count} checkpoints this week; {c['logins_failed']} failed logins, "
                f"{c['reveals']} reveals, {c['break_glass']} break-glass, {c['grants']} grants, "
                f"{c['authz_denied']} denied authorisations.")


def security_digest(*, now: datetime | None = None, days: int = 7) -> SecurityDigest:
    until = now or timezone.now()
    since = until - timedelta(days=days)
    report = verify_chain()
    head = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    week_checkpoints = AuditCheckpoint.objects.filter(created_at__gte=since, created_at__lt=until)
    week_events = AuditEvent.objects.filter(created_at__gte=since, created_at__lt=until)
    by_action = dict(week_events.filter(action__in=[a for actions in COUNTED_ACTIONS.values() for a in actions])
                     .values_list("action").annotate(n=Count("id")).values_list("action", "n"))
    counts = {label: sum(by_action.get(a, 0) for a in actions) for label, actions in COUNTED_ACTIONS.items()}
    # Denials beyond the per-person rate limit are counted, not logged one by one.
    for after in week_events.filter(action=SUPPRESSED_ACTION).values_list("after", flat=True):
        counts["authz_denied"] += int((after or {}).get("dropped", 0) or 0)
    return SecurityDigest(
        since=since, until=until, event_count=AuditEvent.objects.count(),
        head_id=head[0] if head else None, head_hash=head[1] if head else "",
        intact=report.intact, problem=report.problem,
        checkpoint_count=week_checkpoints.count(),
        first_checkpoint=week_checkpoints.order_by("id").first(),
        last_checkpoint=week_checkpoints.order_by("-id").first(),
        counts=counts,
    )


def digest_recipients():
    """Active people holding the executive role now."""
    return User.objects.filter(
        is_active=True, pk__in=Membership.objects.active().filter(role=Role.EXECUTIVE).values("user_id"),
    ).order_by("pk")


def security_digest_send(*, now: datetime | None = None) -> int:
    """Sends the digest to every executive: an in-app notification, and an
    email to those with an address (one mail each: recipients do not see
    each other). Returns how many executives were reached."""
    digest = security_digest(now=now)
    subject = "[SocialOps] Weekly security digest" + ("" if digest.intact else ": AUDIT LOG FAILS VERIFICATION")
    body = render_to_string("security/email/security_digest.txt", {"digest": digest})
    level = "info" if digest.intact else "alert"
    reached = 0
    for person in digest_recipients():
        notify(recipient=person, kind=DIGEST_KIND, level=level, text=digest.summary(), url="/audit/")
        reached += 1
        if person.email:
            try:
                send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL,
                          recipient_list=[person.email])
            except Exception:  # one unreachable mailbox must not stop the others
                logger.exception("Security digest: mail to user #%s failed", person.pk)
    logger.info("Security digest sent to %s executives (%s events, chain intact: %s)", reached,
                digest.event_count, digest.intact)
    return reached
