"""Replies: submitted, approved or returned, and sent idempotently through the connector."""


from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import notify

from .. import sla
from ..connectors.base import ConnectorError, NoConnectorError, connector_for
from ..models import (
    Conversation,
    Message,
    Reply,
)
from ..permissions import can_approve_reply, can_view_conversation, reply_mode
from ._common import MAX_SEND_ATTEMPTS, _event, logger

# --- replies ----------------------------------------------------------------

@transaction.atomic
def reply_submit(*, actor: User, conversation: Conversation, body: str) -> Reply:
    """Sends at once for someone with `reply` (a specialist in sensitive
    conversations); otherwise submits for approval. No right: refused."""
    if not can_view_conversation(actor, conversation):
        raise PermissionDenied(_("You may not see this conversation."))
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("A reply cannot be empty.")})
    if len(body) > 5000:
        raise ValidationError({"body": _("A reply can have at most 5000 characters.")})
    mode = reply_mode(actor, conversation)
    if mode == "none":
        raise PermissionDenied(_("You have no right to draft or send replies on %(account)s.")
                               % {"account": conversation.account})
    reply = Reply.objects.create(conversation=conversation, author=actor, body=body,
                                 needs_specialist=conversation.is_sensitive,
                                 status=Reply.Status.APPROVED if mode == "send" else Reply.Status.PENDING_APPROVAL)
    if mode == "send":
        reply.approved_by, reply.approved_at = actor, timezone.now()
        reply.save(update_fields=["approved_by", "approved_at"])
        _event(conversation, "reply_sending", actor, reply=reply.pk)
        _enqueue_send(reply)
    else:
        _event(conversation, "reply_submitted", actor, reply=reply.pk, needs_specialist=reply.needs_specialist)
    return reply


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
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("inbox.tasks.send_reply_task", reply.pk,
                                             task_name=f"send-reply-{reply.idempotency_key}"))


def reply_send(reply_id: int) -> Reply:
    """Sends an approved reply through the platform's connector. Idempotent:
    a sent reply is never sent again, and the connector gets the reply's
    idempotency key so a retried call cannot post twice."""
    now = timezone.now()
    with transaction.atomic():
        reply = Reply.objects.select_for_update(of=("self",)).select_related("conversation__account").get(
            pk=reply_id)
        stuck = reply.status == Reply.Status.SENDING and reply.next_attempt_at and reply.next_attempt_at <= now
        if reply.sent_at is not None or not (reply.status in (Reply.Status.APPROVED, Reply.Status.FAILED) or stuck):
            return reply
        if reply.conversation.account.status != reply.conversation.account.Status.ACTIVE:
            reply.status, reply.next_attempt_at = Reply.Status.FAILED, None
            reply.last_error = _("%(account)s is %(status)s: nothing is posted from it.") % {
                "account": reply.conversation.account, "status": reply.conversation.account.get_status_display()}
            reply.save(update_fields=["status", "next_attempt_at", "last_error"])
            return reply
        # If this worker dies mid-call, the retry job picks the reply up again after this instant,
        # with the same idempotency key.
        reply.status, reply.attempts = Reply.Status.SENDING, reply.attempts + 1
        reply.next_attempt_at = now + timedelta(minutes=10)
        reply.save(update_fields=["status", "attempts", "next_attempt_at"])
    conversation = reply.conversation
    try:
        platform_id = connector_for(conversation.account.platform).send_reply(
            conversation.account, conversation=conversation, text=reply.body,
            idempotency_key=str(reply.idempotency_key))
    except ConnectorError as exc:
        return _send_failed(reply, exc)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure must still be visible and retried
        logger.exception("Reply %s: unexpected error from the connector", reply.pk)
        return _send_failed(reply, ConnectorError(f"unexpected error: {type(exc).__name__}", retry_after=60))
    return _send_succeeded(reply, platform_id)


@transaction.atomic
def _send_succeeded(reply: Reply, platform_id: str) -> Reply:
    now = timezone.now()
    reply.status, reply.sent_at, reply.platform_message_id = Reply.Status.SENT, now, str(platform_id)
    reply.last_error, reply.next_attempt_at = "", None
    reply.save(update_fields=["status", "sent_at", "platform_message_id", "last_error", "next_attempt_at"])
    conversation = Conversation.objects.select_for_update().select_related("account").get(pk=reply.conversation_id)
    Message.objects.get_or_create(
        account=conversation.account, platform_message_id=str(platform_id),
        defaults={"conversation": conversation, "direction": Message.Direction.OUTBOUND, "sent_by": reply.author,
                  "text": reply.body, "sent_at": now, "kind": conversation.messages.first().kind
                  if conversation.messages.exists() else "mention"})
    sla.record_first_response(conversation, at=now, spec=sla.spec_for_account(conversation.account))
    if conversation.status == Conversation.Status.NEW:
        conversation.status = Conversation.Status.OPEN
    conversation.message_count += 1
    conversation.last_message_at = now
    conversation.last_message_preview = reply.body[:200]
    sla.set_next_check(conversation)
    conversation.save()
    _event(conversation, "reply_sent", reply.approved_by, reply=reply.pk, platform_message_id=str(platform_id))
    return reply


@transaction.atomic
def _send_failed(reply: Reply, exc: ConnectorError) -> Reply:
    reply.last_error = str(exc)[:500]
    if exc.transient and reply.attempts < MAX_SEND_ATTEMPTS and not isinstance(exc, NoConnectorError):
        reply.status = Reply.Status.APPROVED
        reply.next_attempt_at = timezone.now() + timedelta(seconds=max(exc.retry_after or 60, 30))
    else:
        reply.status, reply.next_attempt_at = Reply.Status.FAILED, None
    reply.save(update_fields=["status", "last_error", "next_attempt_at"])
    _event(reply.conversation, "reply_failed", None, reply=reply.pk, error=reply.last_error,
           will_retry=reply.status == Reply.Status.APPROVED)
    logger.warning("Reply %s failed (attempt %s): %s", reply.pk, reply.attempts, reply.last_error)
    return reply


@transaction.atomic
def reply_retry(*, actor: User, reply: Reply) -> Reply:
    if not can_view_conversation(actor, reply.conversation) or reply_mode(actor, reply.conversation) != "send":
        raise PermissionDenied(_("You may not send replies on this account."))
    if reply.status != Reply.Status.FAILED:
        raise ValidationError({"status": _("Only a failed reply can be retried.")})
    reply.status, reply.next_attempt_at = Reply.Status.APPROVED, None
    reply.save(update_fields=["status", "next_attempt_at"])
    _enqueue_send(reply)
    return reply
