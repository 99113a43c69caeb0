"""Replies: submitted, approved or returned, and sent through the connector
exactly once.

Nothing lost: a reply to send (approved, or sending without a live lease) is
picked up by the every-minute sweep whatever happened to the task that should
have sent it (a worker killed mid-send, the broker down when it was queued).
Nothing twice: a worker sends only under a lease taken with one conditional
UPDATE, the platform gets the reply's own idempotency key on every attempt,
a reply already sent is never sent again, and the composer's client token
makes a second submit of the same compose action return the first reply."""

import time
from datetime import datetime, timedelta
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import notify

from .. import sla
from ..connectors.base import ConnectorError, NoConnectorError, connector_for_account, has_connector
from ..limits import reply_length_problem
from ..models import (
    Conversation,
    ConversationSeen,
    Message,
    Reply,
)
from ..permissions import can_approve_reply, can_view_conversation, reply_mode
from ._common import MAX_SEND_ATTEMPTS, _event, logger, reply_lease_seconds

# The sweep stops taking new replies after this long, well inside django-q's 60 s task timeout; the rest
# waits for the next minute's run.
SWEEP_SECONDS = 40

# --- replies ----------------------------------------------------------------

@transaction.atomic
def reply_submit(*, actor: User, conversation: Conversation, body: str, client_token: UUID | None = None) -> Reply:
    """Sends at once for someone with `reply` (a specialist in sensitive
    conversations); otherwise submits for approval. No right: refused.

    ``client_token`` is the key of one compose action (the composer's hidden
    field, the API's optional ``client_token``): when this conversation
    already has a reply with it, that first reply is returned and nothing is
    created or sent, even when both submits race; the same token with
    another text is refused (ValidationError on ``client_token``). The
    returned reply's ``replayed`` says which happened; ``enqueue_failed``
    that the broker was down (the reply is kept and the sweep sends it)."""
    if not can_view_conversation(actor, conversation):
        raise PermissionDenied(_("You may not see this conversation."))
    mode = reply_mode(actor, conversation)
    if mode == "none":
        raise PermissionDenied(_("You have no right to draft or send replies on %(account)s.")
                               % {"account": conversation.account})
    body = (body or "").strip()
    if client_token is not None and (first := _first_with_token(actor, conversation, client_token, body)):
        return first
    if not body:
        raise ValidationError({"body": _("A reply cannot be empty.")})
    if too_long := reply_length_problem(conversation.account, body):
        raise ValidationError({"body": too_long})
    sending = mode == "send"
    try:
        with transaction.atomic():  # a savepoint: the losing insert of a race leaves the transaction usable
            reply = Reply.objects.create(
                conversation=conversation, author=actor, body=body, client_token=client_token,
                needs_specialist=conversation.is_sensitive,
                status=Reply.Status.APPROVED if sending else Reply.Status.PENDING_APPROVAL,
                approved_by=actor if sending else None, approved_at=timezone.now() if sending else None)
    except IntegrityError:
        # Another submit of the same compose action committed first (the unique (conversation,
        # client_token) made this insert wait for it): answer with its reply.
        first = _first_with_token(actor, conversation, client_token, body) if client_token is not None else None
        if first is None:
            raise
        return first
    reply.replayed = False
    if sending:
        _event(conversation, "reply_sending", actor, reply=reply.pk)
        _enqueue_send(reply)
    else:
        _event(conversation, "reply_submitted", actor, reply=reply.pk, needs_specialist=reply.needs_specialist)
    return reply


def _first_with_token(actor: User, conversation: Conversation, client_token: UUID, body: str) -> Reply | None:
    """The reply this compose action already made, if any. The same token
    with another text or from another person is not a repeat but a reused
    token (a page restored by the browser's Back button): refused, so the
    new text is neither lost silently nor taken for the first one."""
    first = Reply.objects.filter(conversation=conversation, client_token=client_token).first()
    if first is None:
        return None
    if first.author_id != actor.pk or first.body != body:
        raise ValidationError({"client_token": _(
            "This compose form was already used for another reply. Nothing was sent: send your text again "
            "to post it as a new reply.")})
    first.replayed = True
    return first


@transaction.atomic
def reply_approve(*, actor: User, reply: Reply) -> Reply:
    reply = Reply.objects.select_for_update().select_related("conversation__account").get(pk=reply.pk)
    if reply.status != Reply.Status.PENDING_APPROVAL:
        raise ValidationError({"status": _("This reply is not waiting for approval.")})
    if not can_view_conversation(actor, reply.conversation) or not can_approve_reply(actor, reply):
        raise PermissionDenied(_("You may not approve this reply."))
    reply.status, reply.approved_by, reply.approved_at = Reply.Status.APPROVED, actor, timezone.now()
    reply.save(update_fields=["status", "approved_by", "approved_at"])
    _event(reply.conversation, "reply_approved", actor, reply=reply.pk)
    notify(recipient=reply.author, kind="reply.approved", text=_("Your reply was approved by %(actor)s.")
           % {"actor": actor}, url=f"/inbox/c/{reply.conversation_id}/")
    _enqueue_send(reply)
    return reply


@transaction.atomic
def reply_return(*, actor: User, reply: Reply, comment: str) -> Reply:
    reply = Reply.objects.select_for_update().select_related("conversation__account").get(pk=reply.pk)
    if reply.status != Reply.Status.PENDING_APPROVAL:
        raise ValidationError({"status": _("This reply is not waiting for approval.")})
    if not can_view_conversation(actor, reply.conversation) or not can_approve_reply(actor, reply):
        raise PermissionDenied(_("You may not review this reply."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what to change.")})
    reply.status, reply.review_comment = Reply.Status.RETURNED, comment[:1000]
    reply.save(update_fields=["status", "review_comment"])
    _event(reply.conversation, "reply_returned", actor, reply=reply.pk, comment=comment[:200])
    notify(recipient=reply.author, kind="reply.returned", text=_("%(actor)s returned your reply: %(comment)s")
           % {"actor": actor, "comment": comment[:200]}, url=f"/inbox/c/{reply.conversation_id}/")
    return reply


def _enqueue_send(reply: Reply) -> None:
    """Hands the send to a worker once the reply is committed. The broker
    being down never fails the caller: the reply is stored, ``enqueue_failed``
    is set on it, and the every-minute sweep sends it once the task runner
    is back."""

    def enqueue():
        from django_q.tasks import async_task

        try:
            async_task("inbox.tasks.send_reply_task", reply.pk, task_name=f"send-reply-{reply.idempotency_key}")
        except Exception:  # noqa: BLE001 - whatever the broker raises, the reply is safe and the sweep sends it
            reply.enqueue_failed = True
            logger.exception("Reply %s: could not hand the send to the task runner; the reply sweep sends it "
                             "once the runner is back", reply.pk)

    reply.enqueue_failed = False
    transaction.on_commit(enqueue)


def _to_send(now: datetime) -> Q:
    """Approved or sending, not sent, and nobody is sending it now (no lease, or the lease ran out)."""
    return (Q(status__in=Reply.UNSENT_STATUSES, sent_at__isnull=True)
            & (Q(lease_until__isnull=True) | Q(lease_until__lt=now)))


def _due(now: datetime) -> Q:
    """What the sweep picks: to send, and not waiting for a transient failure's back-off."""
    return _to_send(now) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _take_lease(reply_id: int, *, now: datetime, due_only: bool) -> bool:
    """One conditional UPDATE: of two workers trying at once, exactly one
    gets the reply. Also counts the attempt, so attempts stay bounded."""
    candidates = Reply.objects.filter(_due(now) if due_only else _to_send(now), pk=reply_id,
                                      attempts__lt=MAX_SEND_ATTEMPTS)
    return candidates.update(status=Reply.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None,
                             lease_until=now + timedelta(seconds=reply_lease_seconds())) == 1


def reply_send(reply_id: int, *, now: datetime | None = None) -> Reply:
    """Sends an approved reply through the platform's connector, under a
    lease. Safe to call any number of times, from any number of workers:

    - a reply already sent (``sent_at`` set), not approved, or being sent by
      a worker whose lease is still running is left as it is: no connector
      call, nothing written;
    - the connector always gets the reply's own idempotency key, so an
      attempt repeated after a worker died mid-call cannot post twice;
    - a transient failure comes back as approved with ``next_attempt_at``
      (the back-off), a permanent one or the last allowed attempt as failed.
    """
    reply, _attempted = _send(reply_id, now=now or timezone.now(), due_only=False)
    return reply


def _send(reply_id: int, *, now: datetime, due_only: bool) -> tuple[Reply, bool]:
    if not _take_lease(reply_id, now=now, due_only=due_only):
        reply = Reply.objects.select_related("conversation__account").get(pk=reply_id)
        if reply.sent_at is not None:
            logger.info("Reply %s was already sent: not sending it again", reply.pk)
        return reply, False
    reply = Reply.objects.select_related("conversation__account").get(pk=reply_id)
    attempt = reply.attempts  # our fencing token: an outcome is written only while it is still ours
    account = reply.conversation.account
    if account.status != account.Status.ACTIVE:
        message = _("%(account)s is %(status)s: nothing is posted from it.") % {
            "account": account, "status": account.get_status_display()}
        return _send_failed(reply, ConnectorError(message), attempt=attempt), True
    conversation = reply.conversation
    try:
        # A sandbox channel sends to the sandbox whatever its platform.
        platform_id = connector_for_account(account).send_reply(
            account, conversation=conversation, text=reply.body, idempotency_key=str(reply.idempotency_key))
    except ConnectorError as exc:
        return _send_failed(reply, exc, attempt=attempt), True
    except Exception as exc:  # noqa: BLE001 - an unexpected failure must still be visible and retried
        logger.exception("Reply %s: unexpected error from the connector", reply.pk)
        return _send_failed(reply, ConnectorError(f"unexpected error: {type(exc).__name__}", retry_after=60),
                            attempt=attempt), True
    return _send_succeeded(reply, platform_id), True


def retry_due_replies(*, now: datetime | None = None, batch: int = 200) -> int:
    """The every-minute reply sweep: sends every reply that is approved or
    sending, not sent, has no live lease and is past its back-off, oldest
    first, each under its own lease (so a sweep running twice, or beside the
    reply's own task, never sends it twice). A reply whose attempts are used
    up and whose last attempt never finished is marked failed. Returns how
    many replies it attempted."""
    fixed_now = now
    now = now or timezone.now()
    _give_up_exhausted(now, batch=batch)
    ids = list(Reply.objects.filter(_due(now), attempts__lt=MAX_SEND_ATTEMPTS).order_by("created_at", "pk")
               .values_list("pk", flat=True)[:batch])
    stop_at = time.monotonic() + SWEEP_SECONDS
    attempted = 0
    for reply_id in ids:
        if time.monotonic() > stop_at:
            break
        # Each lease starts when its send does, not when the sweep did.
        _reply, took = _send(reply_id, now=fixed_now or timezone.now(), due_only=True)
        attempted += took
    return attempted


def _give_up_exhausted(now: datetime, *, batch: int) -> None:
    with transaction.atomic():
        rows = list(Reply.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(_due(now), attempts__gte=MAX_SEND_ATTEMPTS).select_related("conversation")[:batch])
        if not rows:
            return
        error = _("Not sent after %(n)s attempts: the last one never finished (was the task runner stopped?). "
                  "Retry to try again.") % {"n": MAX_SEND_ATTEMPTS}
        Reply.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Reply.Status.FAILED, lease_until=None, next_attempt_at=None, last_error=error[:500])
        for reply in rows:
            _event(reply.conversation, "reply_failed", None, reply=reply.pk, error=error, will_retry=False)
            logger.warning("Reply %s: gave up after %s attempts", reply.pk, reply.attempts)


@transaction.atomic
def _send_succeeded(reply: Reply, platform_id: str) -> Reply:
    now = timezone.now()
    # Conditional on not being recorded yet: if our lease ran out and another worker sent it too (same
    # idempotency key, so the platform posted it once), the conversation is updated once.
    recorded = Reply.objects.filter(pk=reply.pk, sent_at__isnull=True).update(
        status=Reply.Status.SENT, sent_at=now, platform_message_id=str(platform_id), last_error="",
        next_attempt_at=None, lease_until=None)
    reply.refresh_from_db()
    if not recorded:
        return reply
    conversation = _record_sent_reply(reply, at=now, message_id=str(platform_id), sent_by=reply.author)
    _event(conversation, "reply_sent", reply.approved_by, reply=reply.pk, platform_message_id=str(platform_id))
    return reply


def _record_sent_reply(reply: Reply, *, at: datetime, message_id: str, sent_by: User, url: str = "",
                       raw: dict | None = None) -> Conversation:
    """What a reply that went out does to its conversation, however it went
    out (through a connector, or posted by hand): the outbound message in the
    thread, the first response on the SLA clock, the conversation's
    bookkeeping. Called once per reply, after the reply's own conditional
    update recorded it as sent; returns the (locked, saved) conversation."""
    conversation = Conversation.objects.select_for_update().select_related("account").get(pk=reply.conversation_id)
    Message.objects.get_or_create(
        account=conversation.account, platform_message_id=message_id,
        defaults={"conversation": conversation, "direction": Message.Direction.OUTBOUND, "sent_by": sent_by,
                  "text": reply.body, "sent_at": at, "url": url, "raw": raw or {},
                  "kind": conversation.messages.first().kind if conversation.messages.exists() else "mention"})
    sla.record_first_response(conversation, at=at, spec=sla.spec_for_account(conversation.account))
    if conversation.status == Conversation.Status.NEW:
        conversation.status = Conversation.Status.OPEN
    conversation.message_count += 1
    previous_last_message_at = conversation.last_message_at
    conversation.last_message_at = at
    conversation.last_message_preview = reply.body[:200]
    sla.set_next_check(conversation)
    conversation.save()
    # Our own reply does not make the conversation unread for its author or the person who sent it: those who
    # had seen everything before it have seen it too (someone behind stays behind).
    ConversationSeen.objects.filter(conversation=conversation, user_id__in={reply.author_id, sent_by.pk},
                                    seen_at__gte=previous_last_message_at, seen_at__lt=at).update(seen_at=at)
    return conversation


@transaction.atomic
def _send_failed(reply: Reply, exc: ConnectorError, *, attempt: int) -> Reply:
    current = Reply.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=reply.pk)
    if current.sent_at is not None or current.status != Reply.Status.SENDING or current.attempts != attempt:
        # Our lease ran out and someone else has the reply now (another worker, a person's retry): their
        # outcome counts, not ours.
        logger.warning("Reply %s: attempt %s failed after its lease ran out: %s", reply.pk, attempt, exc)
        return current
    current.last_error = str(exc)[:500]
    if exc.transient and current.attempts < MAX_SEND_ATTEMPTS and not isinstance(exc, NoConnectorError):
        current.status = Reply.Status.APPROVED
        current.next_attempt_at = timezone.now() + timedelta(seconds=max(exc.retry_after or 60, 30))
    else:
        current.status, current.next_attempt_at = Reply.Status.FAILED, None
    current.lease_until = None
    current.save(update_fields=["status", "last_error", "next_attempt_at", "lease_until"])
    _event(current.conversation, "reply_failed", None, reply=current.pk, error=current.last_error,
           will_retry=current.status == Reply.Status.APPROVED)
    logger.warning("Reply %s failed (attempt %s): %s", current.pk, current.attempts, current.last_error)
    return current


def reply_is_stuck(reply: Reply, *, now: datetime | None = None) -> bool:
    """Approved or sending, not sent, and no worker has it: its lease ran
    out, or nobody took it within a lease's length of when it became due
    (the task was lost with a killed worker or a broker that was down). The
    sweep sends it within a minute; a person may retry it at once."""
    now = now or timezone.now()
    if reply.sent_at is not None or reply.status not in Reply.UNSENT_STATUSES:
        return False
    if reply.lease_until is not None:
        return reply.lease_until < now
    due_since = reply.next_attempt_at or reply.approved_at or reply.created_at
    return due_since + timedelta(seconds=reply_lease_seconds()) < now


def _require_send_right(actor: User, conversation: Conversation) -> None:
    """Sending, retrying and marking sent by hand need the same: seeing the
    conversation and the right to send replies on its account now."""
    if not can_view_conversation(actor, conversation) or reply_mode(actor, conversation) != "send":
        raise PermissionDenied(_("You may not send replies on this account."))


@transaction.atomic
def reply_retry(*, actor: User, reply: Reply) -> Reply:
    """Sends again, now, a failed reply or one stuck on its way (see
    ``reply_is_stuck``), with a fresh budget of attempts and the same
    idempotency key. A sent reply, or one a worker is sending, is refused."""
    _require_send_right(actor, reply.conversation)
    now = timezone.now()
    current = Reply.objects.select_for_update(of=("self",)).select_related("conversation").get(pk=reply.pk)
    if current.sent_at is not None or current.status == Reply.Status.SENT:
        raise ValidationError({"status": _("This reply was already sent: it is not sent again.")})
    if current.status in Reply.UNSENT_STATUSES and not reply_is_stuck(current, now=now):
        raise ValidationError({"status": _("This reply is on its way: it can be retried if it is still not sent "
                                           "in a few minutes.")})
    if current.status not in (Reply.Status.FAILED, *Reply.UNSENT_STATUSES):
        raise ValidationError({"status": _("Only a failed reply, or one stuck on its way, can be retried.")})
    # Conditional on the state just read, so a worker that took the reply meanwhile keeps it.
    changed = Reply.objects.filter(pk=current.pk, sent_at__isnull=True, status=current.status,
                                   attempts=current.attempts, lease_until=current.lease_until).update(
        status=Reply.Status.APPROVED, attempts=0, next_attempt_at=now, lease_until=None)
    if not changed:
        raise ValidationError({"status": _("This reply changed meanwhile: reload the page.")})
    _event(current.conversation, "reply_retried", actor, reply=current.pk, was=current.status)
    current.refresh_from_db()
    _enqueue_send(current)
    return current


# --- posted by hand -----------------------------------------------------------

# What a reply may be in when someone says they posted it by hand: failed, or on its way to a channel that no
# connector sends to (it can only fail).
BY_HAND_STATUSES = (Reply.Status.FAILED, Reply.Status.APPROVED, Reply.Status.SENDING)
SENT_URL_MAX_LENGTH = 500  # Reply.sent_url
_http_url = URLValidator(schemes=["http", "https"])


def reply_can_be_sent_by_hand(reply: Reply, *, now: datetime | None = None) -> bool:
    """True when nothing can send ``reply`` (no connector for its channel)
    and it is not sent, nor being sent by a worker right now: the only way
    out is to post it on the platform by hand and say so. Reads no rows."""
    now = now or timezone.now()
    if reply.sent_at is not None or reply.status not in BY_HAND_STATUSES:
        return False
    if reply.lease_until is not None and reply.lease_until >= now:
        return False
    return not has_connector(reply.conversation.account)


def _sent_url(url) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": _("Paste the link to the reply you posted on the platform.")})
    if len(url) > SENT_URL_MAX_LENGTH:
        raise ValidationError({"url": _("The link can have at most %(n)s characters.") % {"n": SENT_URL_MAX_LENGTH}})
    try:
        _http_url(url)
    except ValidationError:
        raise ValidationError({"url": _("Paste the reply's web address, starting with https:// or http://.")}) \
            from None
    return url


@transaction.atomic
def reply_mark_sent_by_hand(*, actor: User, reply: Reply, url: str) -> Reply:
    """Records that ``actor`` posted ``reply`` on the platform by hand, at
    ``url``: for a reply no connector can send (failed for lack of one, or
    approved for a channel without one). Needs the right to send replies on
    the account (PermissionDenied); a URL that is not http(s) is a
    ValidationError on ``url``; a reply that a connector can send, or that
    is already sent, one on ``status``.

    The reply becomes sent (``sent_by_hand``, ``sent_url``, ``sent_at``, no
    platform id), the thread gets the outbound message with the link, the
    conversation's first response is recorded as for any sent reply, and
    the conversation's history and the audit log say who did it. Marked
    once: of two people submitting at once, one marks it and the other is
    refused; the same person submitting the same link again gets the reply
    back with ``replayed`` True and nothing is written."""
    _require_send_right(actor, reply.conversation)
    current = Reply.objects.select_related("conversation__account", "sent_by_hand").get(pk=reply.pk)
    if current.sent_at is not None or current.status == Reply.Status.SENT:
        if current.sent_by_hand_id == actor.pk and current.sent_url == (url or "").strip():
            current.replayed = True
            return current
        if current.sent_by_hand_id:
            raise ValidationError({"status": _("%(who)s already marked this reply as posted by hand.")
                                   % {"who": current.sent_by_hand}})
        raise ValidationError({"status": _("This reply was already sent: there is nothing to mark.")})
    now = timezone.now()
    if not reply_can_be_sent_by_hand(current, now=now):
        if current.status in BY_HAND_STATUSES and has_connector(current.conversation.account):
            raise ValidationError({"status": _(
                "This channel has a connector: retry the reply instead of posting it by hand.")})
        raise ValidationError({"status": _("Only a failed reply, or one no connector can send, can be marked as "
                                           "posted by hand.")})
    url, was = _sent_url(url), current.status
    # One conditional UPDATE: of two people (or two clicks) at once, exactly one marks it.
    marked = Reply.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=current.pk, sent_at__isnull=True, status__in=BY_HAND_STATUSES,
    ).update(status=Reply.Status.SENT, sent_at=now, sent_by_hand=actor, sent_url=url, platform_message_id="",
             last_error="", next_attempt_at=None, lease_until=None)
    if not marked:
        raise ValidationError({"status": _("This reply changed meanwhile (someone marked or sent it): reload "
                                           "the page.")})
    current.refresh_from_db()
    conversation = _record_sent_reply(current, at=now, message_id=f"by-hand-{current.idempotency_key}",
                                      sent_by=actor, url=url, raw={"sent_by_hand": True, "reply": current.pk})
    _event(conversation, "reply_sent_by_hand", actor, reply=current.pk, url=url, was=was)
    current.replayed = False
    return current
