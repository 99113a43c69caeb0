"""The executives' weekly reputation digest: each executive gets the
report's summary and its PDF by email, for the widest scope they may see,
once a week at the day and hour they chose (Monday 08:00 by default) in
their own time zone.

How a week's digest travels:

- ``due_deliveries(now)`` creates a ``DigestDelivery`` for each executive
  whose moment has come this week and who has none for this week yet. The
  row's ``(user, week_of)`` is unique: run twice, or on two machines at once,
  it still makes one row per person per week.
- ``send_delivery(id, now)`` claims the row with one conditional update (of
  two workers, one wins) and holds it under a lease; a worker killed
  mid-send leaves a lease that runs out, and the next sweep takes the row
  again. The outcome is written only while the attempt is still the
  worker's own (``attempts`` is the fencing token).
- A failure waits 5, 15, then 60 minutes and is tried again, five attempts
  in all; then it stays failed, on the admins' deliveries page, where it
  can be sent again by hand.

Sends and failures go to the audit log, as replies to customers do."""

import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.roles import Role
from accounts.selectors import user_roles
from security.audit import audit_write

from .models import DigestDelivery, DigestPreference

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The wait after the 1st, 2nd and every later failed attempt.
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=60))
# Long enough for one report, its PDF and one mail; a worker killed mid-send frees the row after it.
LEASE = timedelta(minutes=10)
# The sweep stops taking new sends after this long, inside django-q's 60 s task timeout; the rest wait for
# the next run.
SWEEP_SECONDS = 40

Status = DigestDelivery.Status


# --- when ----------------------------------------------------------------------------------

def zone_of(time_zone: str) -> ZoneInfo:
    """The person's IANA time zone, else the portal's (settings.TIME_ZONE)."""
    for name in (time_zone, settings.TIME_ZONE, "UTC"):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def week_start(now: datetime, tz: ZoneInfo) -> date:
    """The local Monday of the week ``now`` falls in."""
    local = now.astimezone(tz)
    return local.date() - timedelta(days=local.weekday())


def scheduled_at(monday: date, tz: ZoneInfo, weekday: int, hour: int) -> datetime:
    """The moment of that week's digest. An hour skipped by a daylight-saving
    change resolves to the moment just after the skip (02:00 -> 03:00)."""
    return datetime.combine(monday + timedelta(days=weekday), clock(hour), tzinfo=tz)


@dataclass(frozen=True)
class DigestSchedule:
    weekday: int
    hour: int
    enabled: bool
    tz: ZoneInfo


def schedule_of(user: User) -> DigestSchedule:
    pref = DigestPreference.objects.filter(user=user).first()
    return DigestSchedule(
        weekday=pref.weekday if pref else DigestPreference.DEFAULT_WEEKDAY,
        hour=pref.hour if pref else DigestPreference.DEFAULT_HOUR,
        enabled=pref.enabled if pref else True,
        tz=zone_of(user.time_zone))


def next_digest_at(user: User, *, now: datetime | None = None) -> datetime | None:
    """When the person's next digest is due (in their time zone), or None
    when they opted out."""
    now = now or timezone.now()
    schedule = schedule_of(user)
    if not schedule.enabled:
        return None
    monday = week_start(now, schedule.tz)
    this_week = scheduled_at(monday, schedule.tz, schedule.weekday, schedule.hour)
    sent_this_week = DigestDelivery.objects.filter(
        user=user, week_of__gte=monday, week_of__lte=monday + timedelta(days=6)).exists()
    if this_week > now and not sent_this_week:
        return this_week
    if not sent_this_week:
        return now.astimezone(schedule.tz)  # late this week: the next sweep sends it
    return scheduled_at(monday + timedelta(days=7), schedule.tz, schedule.weekday, schedule.hour)


# --- who -------------------------------------------------------------------------------------

def digest_recipients(now: datetime) -> QuerySet[User]:
    """Active people holding the executive role at ``now``."""
    executives = Membership.objects.active(now).filter(role=Role.EXECUTIVE).values("user_id")
    return User.objects.filter(is_active=True, pk__in=executives)


def is_digest_recipient(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and Role.EXECUTIVE in user_roles(user))


def due_deliveries(now: datetime | None = None) -> int:
    """Creates this week's delivery for every executive whose day and hour
    have come, in their own time zone, and who has none this week (a
    person who opted out gets none). Three queries whatever the number of
    people; safe to run twice or concurrently (the unique key decides).
    Returns how many rows it asked for."""
    now = now or timezone.now()
    people = list(digest_recipients(now).exclude(digest_preference__enabled=False).values_list(
        "pk", "time_zone", "digest_preference__weekday", "digest_preference__hour"))
    if not people:
        return 0
    # Local Mondays differ by at most a day across time zones: eight days back covers every one's week.
    recent: dict[int, list[date]] = {}
    for user_id, week_of in DigestDelivery.objects.filter(
            user_id__in=[p[0] for p in people], week_of__gte=(now - timedelta(days=8)).date()
    ).values_list("user_id", "week_of"):
        recent.setdefault(user_id, []).append(week_of)
    new = []
    for user_id, time_zone, weekday, hour in people:
        tz = zone_of(time_zone)
        weekday = DigestPreference.DEFAULT_WEEKDAY if weekday is None else weekday
        hour = DigestPreference.DEFAULT_HOUR if hour is None else hour
        monday = week_start(now, tz)
        at = scheduled_at(monday, tz, weekday, hour)
        if now < at:
            continue
        # One a week even when the person moved their day after this week's went out.
        if any(monday <= week_of <= monday + timedelta(days=6) for week_of in recent.get(user_id, ())):
            continue
        new.append(DigestDelivery(user_id=user_id, week_of=at.date(), status=Status.PENDING,
                                  next_attempt_at=now, created_at=now))
    DigestDelivery.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        logger.info("Weekly digest: %s deliveries due", len(new))
    return len(new)


# --- sending -----------------------------------------------------------------------------------

def _claimable(now: datetime) -> Q:
    """Waiting and past its back-off, or held by a worker whose lease ran out;
    with attempts left."""
    lease_free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    waiting = Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
    abandoned = Q(status=Status.SENDING)
    return (waiting | abandoned) & lease_free & Q(attempts__lt=MAX_ATTEMPTS)


def _claim(delivery_id: int, now: datetime) -> bool:
    """One conditional UPDATE: of two workers trying at once, exactly one gets the row."""
    return DigestDelivery.objects.filter(_claimable(now), pk=delivery_id).update(
        status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, lease_until=now + LEASE) == 1


class _PermanentError(Exception):
    """A failure that trying again will not fix (no address): no further attempts."""


def _describe(exc: BaseException, stage: str) -> str:
    """A short reason for the admins' page and the audit log (lower case, no
    final stop: it ends a sentence there): what went wrong, never the
    exception's text (a mail server's reply may quote credentials)."""
    kind = type(exc).__name__
    if isinstance(exc, _PermanentError):
        return str(exc)
    if stage == "build":
        return _("could not build the report (%(kind)s)") % {"kind": kind}
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _("the mail server refused the portal's sign-in (%(kind)s)") % {"kind": kind}
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _("the mail server refused the address (%(kind)s)") % {"kind": kind}
    if isinstance(exc, (smtplib.SMTPException, OSError)):
        return _("could not hand the mail to the mail server (%(kind)s)") % {"kind": kind}
    return _("sending failed (%(kind)s)") % {"kind": kind}


def _audit(action: str, delivery: DigestDelivery, *, actor=None, **data) -> None:
    audit_write(actor=actor, action=f"strategy.{action}", target_type="strategy.digestdelivery",
                target_id=str(delivery.pk), target_repr=str(delivery)[:200],
                after={"user": delivery.user_id, "week_of": delivery.week_of.isoformat(), **data})


def pdf_filename(report) -> str:
    """As the report page's "Download PDF" names it: by the period's first day."""
    return f"reputation-report-{report.request.days[0]:%Y-%m-%d}.pdf"


def render_report_pdf(html: str) -> bytes:
    from .pdf import render_pdf

    return render_pdf(html)


def build_digest_email(user: User, *, now: datetime) -> EmailMultiAlternatives:
    """The digest for ``user`` as it would be sent at ``now``: the summary
    sentences as text and as simple HTML, the report's PDF (the same as the
    report page's) attached."""
    from . import reports
    from .report_charts import charts_for

    request = reports.digest_request(user, now=now)
    report = reports.build_report(user, request, now=now)
    generated_at = timezone.localtime(report.generated_at, request.tz)
    viewer_name = user.get_full_name() or user.username
    pdf = render_report_pdf(render_to_string("strategy/report_pdf.html", {
        "report": report, "charts": charts_for(report), "generated_at": generated_at, "viewer_name": viewer_name}))
    context = {"user": user, "viewer_name": viewer_name, "summary": list(report.summary),
               "period_label": request.period_label, "scope_label": request.scope.label,
               "generated_at": generated_at, "tz_name": str(request.tz), "filename": pdf_filename(report)}
    subject = _("Weekly reputation report: %(scope)s, %(period)s") % {
        "scope": request.scope.label, "period": request.period_label}
    message = EmailMultiAlternatives(
        subject=" ".join(str(subject).split())[:200],
        body=render_to_string("strategy/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])
    message.attach_alternative(render_to_string("strategy/email/digest.html", context), "text/html")
    message.attach(context["filename"], pdf, "application/pdf")
    return message


def send_delivery(delivery_id: int, now: datetime | None = None) -> str:
    """Sends one delivery if it is due and nobody else holds it. Returns
    ``"sent"``, ``"failed"``, ``"skipped"`` (the person opted out or is no
    longer an executive) or ``"not_due"`` (sent already, held by another
    worker, waiting for its back-off, or out of attempts): safe to call any
    number of times, from any number of workers."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "not_due"
    delivery = DigestDelivery.objects.select_related("user").get(pk=delivery_id)
    attempt, user = delivery.attempts, delivery.user
    if not (user.is_active and digest_recipients(now).filter(pk=user.pk).exists()):
        return _finish_skipped(delivery, attempt, _("No longer an executive: not sent."))
    if not schedule_of(user).enabled:
        return _finish_skipped(delivery, attempt, _("Opted out before it was sent."))
    stage = "build"
    try:
        if not user.email:
            raise _PermanentError(_("no email address on their profile: add one, then send it again"))
        message = build_digest_email(user, now=now)
        stage = "send"
        message.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried, never lost
        # The traceback only for a report that could not be built; a mail server's reply stays out of the log.
        logger.warning("Weekly digest %s (user #%s): attempt %s failed at %s: %s", delivery.pk, user.pk, attempt,
                       stage, type(exc).__name__, exc_info=stage == "build" and not isinstance(exc, _PermanentError))
        return _finish_failed(delivery, attempt, _describe(exc, stage), now=now,
                              permanent=isinstance(exc, _PermanentError))
    return _finish_sent(delivery, attempt, now)


@transaction.atomic
def _finish_sent(delivery: DigestDelivery, attempt: int, now: datetime) -> str:
    # Conditional on not being recorded yet: a worker whose lease ran out while it sent still records it once.
    recorded = DigestDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True).update(
        status=Status.SENT, sent_at=now, lease_until=None, next_attempt_at=None, last_error="")
    if recorded:
        _audit("digest_sent", delivery, attempt=attempt)
    else:
        logger.warning("Weekly digest %s: sent again after its lease ran out (already recorded as sent)",
                       delivery.pk)
    return "sent"


@transaction.atomic
def _finish_failed(delivery: DigestDelivery, attempt: int, error: str, *, now: datetime, permanent: bool) -> str:
    give_up = permanent or attempt >= MAX_ATTEMPTS
    next_at = None if give_up else now + BACKOFF[min(attempt, len(BACKOFF)) - 1]
    # Only while the attempt is still this worker's: after its lease ran out, the current holder's outcome counts.
    recorded = DigestDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING, attempts=attempt).update(
        status=Status.FAILED, last_error=error[:500], next_attempt_at=next_at, lease_until=None)
    if recorded:
        _audit("digest_failed", delivery, attempt=attempt, error=error[:200], will_retry=not give_up)
    return "failed"


@transaction.atomic
def _finish_skipped(delivery: DigestDelivery, attempt: int, reason: str) -> str:
    DigestDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING, attempts=attempt).update(
        status=Status.SKIPPED, last_error=reason[:500], next_attempt_at=None, lease_until=None)
    return "skipped"


def give_up_exhausted(now: datetime) -> int:
    """Rows whose last attempt never finished (its worker died) and that have
    no attempts left: failed, with a reason, so an admin sees them."""
    error = _("not sent after %(n)s attempts, the last one never finished (was the task runner stopped?); "
              "send it again by hand") % {"n": MAX_ATTEMPTS}
    with transaction.atomic():
        rows = list(DigestDelivery.objects.select_for_update(skip_locked=True).filter(
            status=Status.SENDING, lease_until__lte=now, attempts__gte=MAX_ATTEMPTS))
        for delivery in rows:
            DigestDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
                status=Status.FAILED, lease_until=None, next_attempt_at=None, last_error=error[:500])
            _audit("digest_failed", delivery, attempt=delivery.attempts, error=error[:200], will_retry=False)
    return len(rows)


def due_delivery_ids(now: datetime, *, batch: int = 200) -> list[int]:
    return list(DigestDelivery.objects.filter(_claimable(now)).order_by("created_at", "pk")
                .values_list("pk", flat=True)[:batch])


def send_due(now: datetime | None = None, *, batch: int = 200) -> dict:
    """The sweep: sends every delivery that is due, oldest first, each on its
    own (one failure does not stop the rest), until ``SWEEP_SECONDS`` have
    passed. Returns the counts of each outcome."""
    fixed_now = now
    now = now or timezone.now()
    outcomes = {"sent": 0, "failed": 0, "skipped": 0, "not_due": 0, "error": 0}
    outcomes["gave_up"] = give_up_exhausted(now)
    stop_at = time.monotonic() + SWEEP_SECONDS
    for delivery_id in due_delivery_ids(now, batch=batch):
        if time.monotonic() > stop_at:
            break
        try:
            # Each lease starts when its send does, not when the sweep did.
            outcomes[send_delivery(delivery_id, fixed_now or timezone.now())] += 1
        except Exception:  # noqa: BLE001 - e.g. a database hiccup on one row: the next run takes it again
            logger.exception("Weekly digest %s: the send could not be recorded", delivery_id)
            outcomes["error"] += 1
    return outcomes


# --- people's choices and admins' actions ---------------------------------------------------------

@transaction.atomic
def digest_preference_save(*, actor: User, weekday: int, hour: int, enabled: bool) -> DigestPreference:
    """Saves the actor's own digest day, hour and whether they want it at
    all. Only executives receive the digest, so only they choose."""
    if not is_digest_recipient(actor):
        raise PermissionDenied(_("The weekly reputation digest is for executives."))
    errors = {}
    if weekday not in DigestPreference.Weekday.values:
        errors["weekday"] = _("Choose a day of the week.")
    if not (isinstance(hour, int) and 0 <= hour <= 23):
        errors["hour"] = _("Choose an hour from 00:00 to 23:00.")
    if errors:
        raise ValidationError(errors)
    pref, _created = DigestPreference.objects.get_or_create(user=actor)
    pref = DigestPreference.objects.select_for_update().get(pk=pref.pk)
    before = {"day": pref.get_weekday_display(), "hour": f"{pref.hour:02d}:00", "enabled": pref.enabled}
    pref.weekday, pref.hour, pref.enabled = weekday, hour, enabled
    after = {"day": pref.get_weekday_display(), "hour": f"{pref.hour:02d}:00", "enabled": pref.enabled}
    if before == after and not _created:
        return pref
    pref.save(update_fields=["weekday", "hour", "enabled", "updated_at"])
    audit_write(actor=actor, action="strategy.digest_preference_changed", target_type="strategy.digestpreference",
                target_id=str(pref.pk), target_repr=str(actor)[:200],
                before={k: str(v) for k, v in before.items()}, after={k: str(v) for k, v in after.items()})
    return pref


def can_manage_deliveries(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and Role.ADMIN in user_roles(user))


def recent_deliveries(*, status: str = "", before: int | None = None, limit: int = 50) -> list[DigestDelivery]:
    """The newest deliveries first (keyset: ``before`` an id), one query."""
    qs = DigestDelivery.objects.select_related("user").order_by("-id")
    if status:
        qs = qs.filter(status=status)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    return list(qs[:limit])


@transaction.atomic
def delivery_retry(*, actor: User, delivery: DigestDelivery, now: datetime | None = None) -> DigestDelivery:
    """An admin sends a failed digest again now, with a fresh budget of
    attempts. Anything but a failed one is refused."""
    if not can_manage_deliveries(actor):
        raise PermissionDenied(_("Only admins may send a digest again."))
    now = now or timezone.now()
    current = DigestDelivery.objects.select_for_update().get(pk=delivery.pk)
    if current.status != Status.FAILED:
        raise ValidationError({"delivery": _("Only a failed digest can be sent again; this one is %(status)s.")
                               % {"status": current.get_status_display().lower()}})
    current.status, current.attempts, current.next_attempt_at, current.lease_until = Status.PENDING, 0, now, None
    current.save(update_fields=["status", "attempts", "next_attempt_at", "lease_until"])
    _audit("digest_retried", current, actor=actor)
    delivery_id = current.pk
    transaction.on_commit(lambda: _enqueue_send(delivery_id))
    return current


def _enqueue_send(delivery_id: int) -> None:
    from django_q.tasks import async_task

    from .tasks import DIGEST_SEND_FUNC

    async_task(DIGEST_SEND_FUNC, delivery_id)
