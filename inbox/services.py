"""Every write of the inbox after ingest: assignment, status, intent
corrections, routing by hand, notes, tags, saved replies, replies and their
approval and sending, and the SLA sweep.

Each checks permission, changes what it must in one transaction, records a
ConversationEvent (the conversation's history) and an AuditEvent."""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Membership, User
from accounts.services import notify
from security.audit import audit_write
from socialops.text import storable_text_problem

from . import routing, sla
from .connectors.base import ConnectorError, NoConnectorError, connector_for
from .models import (
    Conversation,
    ConversationEvent,
    ConversationTag,
    Intent,
    IntentCorrection,
    Message,
    Note,
    QueueSettings,
    Reply,
    RoutingDecision,
    SavedReply,
    Tag,
)
from .permissions import can_approve_reply, can_view_conversation, can_work_conversation, reply_mode

logger = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 5
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def _event(conversation, kind, actor=None, **data):
    ConversationEvent.objects.create(conversation=conversation, kind=kind, actor=actor, data=data)
    audit_write(actor=actor, action=f"conversation.{kind}", target_type="inbox.conversation",
                target_id=str(conversation.pk), target_repr=f"conversation #{conversation.pk}",
                account_id=conversation.account_id, after=data)


SLA_FIELDS = [
    "opened_at", "first_response_due_at", "first_response_warn_at", "first_response_at",
    "first_response_service_minutes", "first_response_breached", "resolution_due_at", "resolution_warn_at",
    "resolved_at", "sla_paused_at", "sla_warned", "sla_breached", "sla_next_check_at",
]


def _locked(conversation: Conversation) -> Conversation:
    """The row as it is now, locked until the transaction ends: an ingest
    running at the same time cannot be overwritten by a stale copy."""
    return Conversation.objects.select_for_update(of=("self",)).select_related("account", "author").get(
        pk=conversation.pk)


def _require_work(actor, conversation):
    if not can_work_conversation(actor, conversation):
        raise PermissionDenied(_("You may not work on this conversation."))


# --- assignment -------------------------------------------------------------

def _eligible_assignees(conversation):
    members = Membership.objects.active().filter(department_id=conversation.department_id).values("user_id")
    return User.objects.filter(is_active=True, pk__in=members)


@transaction.atomic
def conversation_assign(*, actor: User, conversation: Conversation, assignee: User | None) -> Conversation:
    """Assigns to a member of the conversation's department (or unassigns)."""
    _require_work(actor, conversation)
    if assignee is not None and assignee.pk != actor.pk and not (
            assignee.is_active and _eligible_assignees(conversation).filter(pk=assignee.pk).exists()
            and can_view_conversation(assignee, conversation)):
        # One message for every refusal: an id must not reveal who that person is or whether they left.
        raise ValidationError({"assignee": _("Choose an active member of this conversation's department queue.")})
    if conversation.assignee_id == (assignee.pk if assignee else None):
        return conversation
    before = conversation.assignee_id
    conversation.assignee = assignee
    if conversation.status == Conversation.Status.NEW and assignee is not None:
        conversation.status = Conversation.Status.OPEN
    conversation.save(update_fields=["assignee", "status", "updated_at"])
    _event(conversation, "assigned", actor, before=before, assignee=assignee.pk if assignee else None)
    if assignee is not None and assignee.pk != actor.pk:
        notify(recipient=assignee, kind="conversation.assigned",
               text=_("%(actor)s assigned you a conversation with %(author)s")
               % {"actor": actor, "author": conversation.author}, url=f"/inbox/c/{conversation.pk}/")
    return conversation


def conversation_claim(*, actor: User, conversation: Conversation) -> Conversation:
    return conversation_assign(actor=actor, conversation=conversation, assignee=actor)


def assign_round_robin(conversations: list[Conversation]) -> int:
    """Auto-assigns new conversations in departments whose queue asks for it,
    taking the department's active members in turn."""
    by_department: dict[int, list[Conversation]] = {}
    for conversation in conversations:
        if conversation.department_id and conversation.assignee_id is None:
            by_department.setdefault(conversation.department_id, []).append(conversation)
    if not by_department:
        return 0
    assigned = 0
    for queue in QueueSettings.objects.select_for_update().filter(department_id__in=list(by_department),
                                                                  auto_assign=True):
        members = list(User.objects.filter(
            is_active=True, pk__in=Membership.objects.active().filter(department_id=queue.department_id)
            .values("user_id")).order_by("pk").values_list("pk", flat=True))
        if not members:
            continue
        start = members.index(queue.last_assigned_id) + 1 if queue.last_assigned_id in members else 0
        batch = by_department[queue.department_id]
        for n, conversation in enumerate(batch):
            conversation.assignee_id = members[(start + n) % len(members)]
        Conversation.objects.bulk_update(batch, ["assignee"])
        ConversationEvent.objects.bulk_create([ConversationEvent(conversation=c, kind="auto_assigned",
                                                                 data={"assignee": c.assignee_id}) for c in batch])
        queue.last_assigned_id = batch[-1].assignee_id
        queue.save(update_fields=["last_assigned"])
        assigned += len(batch)
    return assigned


# --- status, intent, routing ----------------------------------------------

@transaction.atomic
def conversation_set_status(*, actor: User, conversation: Conversation, status: str) -> Conversation:
    _require_work(actor, conversation)
    if status not in Conversation.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    conversation = _locked(conversation)
    if status == conversation.status:
        return conversation
    before, now = conversation.status, timezone.now()
    spec = sla.spec_for_account(conversation.account)
    if before in (Conversation.Status.RESOLVED, Conversation.Status.CLOSED) and status not in (
            Conversation.Status.RESOLVED, Conversation.Status.CLOSED):
        sla.start_clocks(conversation, at=now, spec=spec, book=sla.PolicyBook())
    if status == Conversation.Status.WAITING:
        sla.pause(conversation, at=now)
    elif before == Conversation.Status.WAITING:
        sla.resume(conversation, at=now, spec=spec)
    if status in (Conversation.Status.RESOLVED, Conversation.Status.CLOSED):
        conversation.resolved_at = conversation.resolved_at or now
    conversation.status = status
    sla.set_next_check(conversation)
    conversation.save(update_fields=["status", "updated_at", *SLA_FIELDS])
    _event(conversation, "status", actor, before=before, after=status)
    return conversation


@transaction.atomic
def conversation_set_intent(*, actor: User, conversation: Conversation, intent: str) -> Conversation:
    """An agent corrects the triage. The correction is kept as training
    data; the SLA targets follow the new intent; a conversation marked
    sensitive goes to the specialist team."""
    _require_work(actor, conversation)
    if intent not in Intent.values:
        raise ValidationError({"intent": _("Unknown intent.")})
    conversation = _locked(conversation)
    if intent == conversation.intent:
        return conversation
    first = conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("sent_at").first()
    IntentCorrection.objects.create(conversation=conversation, text=first.text if first else conversation.subject,
                                    language=conversation.language, old_intent=conversation.intent,
                                    new_intent=intent, corrected_by=actor)
    before = conversation.intent
    conversation.intent, conversation.intent_source = intent, "agent"
    sla.retarget(conversation, spec=sla.spec_for_account(conversation.account), book=sla.PolicyBook())
    if intent == Intent.SENSITIVE and not conversation.is_sensitive:
        conversation.is_sensitive = True
        decision = routing.route(conversation, first.text if first else "", routing.RuleBook(), actor=actor)
        decision.save()
    conversation.save(update_fields=["intent", "intent_source", "is_sensitive", "department", "priority",
                                     "updated_at", *SLA_FIELDS])
    _event(conversation, "intent", actor, before=before, after=intent)
    return conversation


@transaction.atomic
def conversation_route(*, actor: User, conversation: Conversation, department: Department,
                       reason: str = "") -> Conversation:
    _require_work(actor, conversation)
    if department.pk == conversation.department_id:
        return conversation
    before = conversation.department_id
    conversation.department = department
    if conversation.assignee_id and not Membership.objects.active().filter(
            user_id=conversation.assignee_id, department=department).exists():
        conversation.assignee = None
    conversation.save(update_fields=["department", "assignee", "updated_at"])
    RoutingDecision.objects.create(conversation=conversation, rule=None, rule_name="by hand", department=department,
                                   priority=conversation.priority, reason=(reason or "moved by an agent")[:300],
                                   decided_by=actor)
    _event(conversation, "routed", actor, before=before, after=department.pk, reason=reason)
    return conversation


# --- notes, tags, saved replies -------------------------------------------

@transaction.atomic
def note_add(*, actor: User, conversation: Conversation, body: str) -> Note:
    _require_work(actor, conversation)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("A note cannot be empty.")})
    note = Note.objects.create(conversation=conversation, author=actor, body=body[:10_000])
    usernames = set(_MENTION.findall(body))
    mentioned = list(User.objects.filter(username__in=usernames, is_active=True).exclude(pk=actor.pk))
    mentioned = [u for u in mentioned if can_view_conversation(u, conversation)]
    note.mentions.set(mentioned)
    for user in mentioned:
        notify(recipient=user, kind="mention", text=_("%(actor)s mentioned you: %(body)s")
               % {"actor": actor, "body": body[:200]}, url=f"/inbox/c/{conversation.pk}/")
    _event(conversation, "note", actor, note=note.pk, mentions=[u.pk for u in mentioned])
    return note


@transaction.atomic
def tag_add(*, actor: User, conversation: Conversation, name: str) -> Tag:
    _require_work(actor, conversation)
    name = (name or "").strip().lower()[:60]
    if not name or storable_text_problem(name):
        raise ValidationError({"name": storable_text_problem(name) or _("A tag needs a name.")})
    tag, _created = Tag.objects.get_or_create(name=name)
    _link, created = ConversationTag.objects.get_or_create(conversation=conversation, tag=tag,
                                                           defaults={"added_by": actor})
    if created:
        _event(conversation, "tag_added", actor, tag=name)
    return tag


@transaction.atomic
def tag_remove(*, actor: User, conversation: Conversation, name: str) -> None:
    _require_work(actor, conversation)
    if storable_text_problem(name or ""):
        raise ValidationError({"name": storable_text_problem(name)})
    deleted, _d = ConversationTag.objects.filter(conversation=conversation, tag__name=name.strip().lower()).delete()
    if deleted:
        _event(conversation, "tag_removed", actor, tag=name)


@transaction.atomic
def saved_reply_create(*, actor: User, department: Department, title: str, body: str,
                       language: str = "") -> SavedReply:
    from accounts.selectors import is_admin

    member = Membership.objects.active().filter(user=actor, department=department).exists()
    if not (member or is_admin(actor)):
        raise PermissionDenied(_("Only the department's members keep its saved replies."))
    if not title.strip() or not body.strip():
        raise ValidationError({"title" if not title.strip() else "body": _("This field is required.")})
    saved = SavedReply.objects.create(department=department, title=title.strip()[:120], body=body,
                                      language=language, created_by=actor)
    audit_write(actor=actor, action="saved_reply.create", target_type="inbox.savedreply", target_id=str(saved.pk),
                target_repr=saved.title, after={"department": department.pk, "title": saved.title})
    return saved


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


# --- presence (who is viewing / replying now) ----------------------------

PRESENCE_SECONDS = 30


def presence_touch(*, user: User, conversation: Conversation, state: str = "viewing") -> None:
    key = f"presence:{conversation.pk}"
    present = cache.get(key) or {}
    now = timezone.now().timestamp()
    present = {uid: v for uid, v in present.items() if now - v[2] < PRESENCE_SECONDS}
    present[user.pk] = (str(user), state if state in ("viewing", "replying") else "viewing", now)
    cache.set(key, present, PRESENCE_SECONDS * 2)


def presence_others(*, user: User, conversation: Conversation) -> list[tuple[str, str]]:
    now = timezone.now().timestamp()
    present = cache.get(f"presence:{conversation.pk}") or {}
    return sorted((name, state) for uid, (name, state, at) in present.items()
                  if uid != user.pk and now - at < PRESENCE_SECONDS)


# --- the SLA sweep ----------------------------------------------------------

def sla_sweep(*, now=None, batch: int = 500) -> dict:
    """Warns at 80% of a target and marks breaches, escalating to the
    department lead. Uses the partial index on sla_next_check_at; idempotent:
    flags make a second run a no-op."""
    now = now or timezone.now()
    warned = breached = 0
    with transaction.atomic():
        due = list(Conversation.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(sla_next_check_at__lte=now)
                   .select_related("account", "department__lead", "author", "assignee")
                   .order_by("sla_next_check_at")[:batch])
        for conversation in due:
            answered = conversation.first_response_at is not None
            deadline = conversation.resolution_due_at if answered else conversation.first_response_due_at
            target = "resolution" if answered else "first response"
            if deadline is not None and deadline <= now and not conversation.sla_breached:
                conversation.sla_breached = True
                conversation.sla_warned = True
                breached += 1
                _escalate(conversation, target)
                ConversationEvent.objects.create(conversation=conversation, kind="sla_breached",
                                                 data={"target": target, "due": deadline.isoformat()})
            elif not conversation.sla_warned:
                conversation.sla_warned = True
                warned += 1
                ConversationEvent.objects.create(conversation=conversation, kind="sla_warning",
                                                 data={"target": target, "due": deadline.isoformat()})
                # The assignee is warned; a conversation nobody has taken warns the queue's lead.
                watcher = conversation.assignee if conversation.assignee_id else (
                    conversation.department.lead if conversation.department_id else None)
                if watcher is not None and watcher.is_active:
                    notify(recipient=watcher, kind="sla.warning", level="warning",
                           text=_("%(target)s due soon for %(author)s") % {"target": target.capitalize(),
                                                                          "author": conversation.author},
                           url=f"/inbox/c/{conversation.pk}/")
            sla.set_next_check(conversation)
            conversation.save(update_fields=["sla_warned", "sla_breached", "sla_next_check_at"])
    return {"warned": warned, "breached": breached, "checked": len(due)}


def _escalate(conversation: Conversation, target: str) -> None:
    lead = conversation.department.lead if conversation.department_id else None
    recipients = [u for u in (lead, conversation.assignee) if u is not None and u.is_active]
    text = _("SLA breached (%(target)s): %(author)s on %(account)s, %(dept)s queue") % {
        "target": target, "author": conversation.author, "account": conversation.account,
        "dept": conversation.department or "-"}
    for user in {u.pk: u for u in recipients}.values():
        notify(recipient=user, kind="sla.breached", level="alert", text=text, url=f"/inbox/c/{conversation.pk}/")
        if user.email and user == lead:
            # Sent once the sweep's flags are committed: a rolled-back batch must not mail twice.
            transaction.on_commit(lambda to=user.email: send_mail(
                subject="[SocialOps] SLA breached", message=text, from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[to], fail_silently=True))


def retry_due_replies(*, now=None) -> int:
    now = now or timezone.now()
    ids = list(Reply.objects.filter(status__in=[Reply.Status.APPROVED, Reply.Status.SENDING], next_attempt_at__lte=now)
               .values_list("pk", flat=True)[:100])
    for reply_id in ids:
        reply_send(reply_id)
    return len(ids)


# --- offboarding hook -------------------------------------------------------

def offboarding_release_work(*, actor, user, reason) -> tuple[str, dict]:
    """Open conversations of a leaver go back to their department's queue;
    their drafts waiting for approval stay on record."""
    open_conversations = Conversation.objects.filter(assignee=user, status__in=Conversation.OPEN_STATUSES)
    ids = list(open_conversations.values_list("pk", flat=True))
    open_conversations.update(assignee=None)
    ConversationEvent.objects.bulk_create([ConversationEvent(conversation_id=pk, kind="unassigned_offboarding",
                                                             actor=actor, data={"user": user.pk}) for pk in ids])
    return "release_inbox_work", {"conversations_returned_to_queue": len(ids)}
