"""Assignment, status, intent corrections, routing by hand, notes, tags, saved replies."""

from bisect import bisect_right

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Department, Membership, User
from accounts.services import notify
from security.audit import audit_write
from security.models import SocialAccount
from socialops.text import storable_text_problem

from .. import routing, sla
from ..models import (
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
from ..permissions import ReplyModes, can_view_conversation
from ._common import _MENTION, SLA_FIELDS, _event, _locked, _require_work

# --- assignment -------------------------------------------------------------

class ConversationHeldError(ValidationError):
    """A claim refused because someone else holds the conversation. ``holder``
    is who; the caller may offer to take it over (``take_over=True``)."""

    def __init__(self, holder: User):
        self.holder = holder
        super().__init__({"assignee": _("%(holder)s is handling this conversation.") % {"holder": holder}})


def _eligible_assignees(conversation):
    members = Membership.objects.active().filter(department_id=conversation.department_id).values("user_id")
    return User.objects.filter(is_active=True, pk__in=members)


def _notify_previous(previous: User | None, *, actor: User, conversation: Conversation, text: str) -> None:
    if previous is not None and previous.pk != actor.pk and previous.is_active:
        notify(recipient=previous, kind="conversation.reassigned", level="warning", text=text,
               url=f"/inbox/c/{conversation.pk}/")


@transaction.atomic
def conversation_claim(*, actor: User, conversation: Conversation, take_over: bool = False,
                       expected_holder_id: int | None = None) -> Conversation:
    """Makes ``actor`` the assignee of a conversation nobody holds, with one
    conditional UPDATE (``assignee IS NULL``): of two agents claiming at the
    same moment exactly one wins. When someone else holds it the claim is
    refused with ``ConversationHeldError`` naming them, unless ``take_over``: then
    the row is locked, the previous assignee recorded in the history
    (``taken_over``) and told in-app. ``expected_holder_id`` (the person the
    agent confirmed taking over from) refuses the take-over again if it has
    changed hands since. Returns the conversation as stored; on a take-over
    its ``previous_assignee`` attribute is who held it."""
    _require_work(actor, conversation)
    open_if_new = Case(When(status=Conversation.Status.NEW, then=Value(Conversation.Status.OPEN)),
                       default=F("status"))
    claimed = Conversation.objects.filter(pk=conversation.pk, assignee__isnull=True).update(
        assignee=actor, status=open_if_new, updated_at=timezone.now())
    if claimed:
        stored = Conversation.objects.select_related("account", "author").get(pk=conversation.pk)
        _event(stored, "assigned", actor, before=None, assignee=actor.pk)
        return stored
    locked = _locked(conversation)
    holder = locked.assignee
    if holder is not None and holder.pk == actor.pk:
        return locked
    if holder is not None and (not take_over or (expected_holder_id is not None and expected_holder_id != holder.pk)):
        raise ConversationHeldError(holder)
    # Locked: nobody else can change it before we commit, so these fields are current.
    locked.assignee = actor
    if locked.status == Conversation.Status.NEW:
        locked.status = Conversation.Status.OPEN
    locked.save(update_fields=["assignee", "status", "updated_at"])
    if holder is None:  # let go between the UPDATE and the lock: an ordinary claim
        _event(locked, "assigned", actor, before=None, assignee=actor.pk)
        return locked
    _event(locked, "taken_over", actor, before=holder.pk, assignee=actor.pk)
    _notify_previous(holder, actor=actor, conversation=locked, text=_(
        "%(actor)s took over your conversation with %(author)s") % {"actor": actor, "author": locked.author})
    locked.previous_assignee = holder
    return locked


@transaction.atomic
def conversation_assign(*, actor: User, conversation: Conversation, assignee: User | None,
                        take_over: bool = False) -> Conversation:
    """Assigns to a member of the conversation's department (or unassigns).

    Assigning oneself is a claim (``conversation_claim``): refused with
    ``ConversationHeldError`` while someone else holds it, unless ``take_over``.
    Assigning someone else is a lead dispatching work: it reassigns whoever
    holds it, under a row lock, records them in the history and tells them."""
    _require_work(actor, conversation)
    if assignee is not None and assignee.pk == actor.pk:
        return conversation_claim(actor=actor, conversation=conversation, take_over=take_over)
    if assignee is not None and not (
            assignee.is_active and _eligible_assignees(conversation).filter(pk=assignee.pk).exists()
            and can_view_conversation(assignee, conversation)):
        # One message for every refusal: an id must not reveal who that person is or whether they left.
        raise ValidationError({"assignee": _("Choose an active member of this conversation's department queue.")})
    locked = _locked(conversation)
    if locked.assignee_id == (assignee.pk if assignee else None):
        return locked
    previous = locked.assignee
    locked.assignee = assignee
    if locked.status == Conversation.Status.NEW and assignee is not None:
        locked.status = Conversation.Status.OPEN
    locked.save(update_fields=["assignee", "status", "updated_at"])
    _event(locked, "assigned", actor, before=previous.pk if previous else None,
           assignee=assignee.pk if assignee else None)
    if assignee is not None and assignee.pk != actor.pk:
        notify(recipient=assignee, kind="conversation.assigned",
               text=_("%(actor)s assigned you a conversation with %(author)s")
               % {"actor": actor, "author": locked.author}, url=f"/inbox/c/{locked.pk}/")
    if assignee is None:
        text = _("%(actor)s returned your conversation with %(author)s to the queue")
    else:
        text = _("%(actor)s gave your conversation with %(author)s to %(assignee)s")
    _notify_previous(previous, actor=actor, conversation=locked, text=text % {
        "actor": actor, "author": locked.author, "assignee": assignee})
    return locked


def assign_round_robin(conversations: list[Conversation]) -> int:
    """Auto-assigns new conversations in departments whose queue asks for it,
    taking in turn the department's active members who can answer on the
    conversation's channel (``reply_mode``): those who can send first, else
    those who can only draft (their reply goes for approval). A conversation
    nobody there can answer stays in the queue, and the turn does not move
    for it. The turn is the queue's ``last_assigned``: the next eligible
    member after them, by id. Rights are read once per batch, so the number
    of queries does not grow with the number of conversations. Called by
    ingest on the conversations it has just inserted, in its own transaction:
    nobody else can see them yet, so there is no claim to race with."""
    by_department: dict[int, list[Conversation]] = {}
    for conversation in conversations:
        if conversation.department_id and conversation.assignee_id is None:
            by_department.setdefault(conversation.department_id, []).append(conversation)
    if not by_department:
        return 0
    queues = list(QueueSettings.objects.select_for_update().filter(department_id__in=list(by_department),
                                                                   auto_assign=True).order_by("pk"))
    if not queues:
        return 0
    members: dict[int, list[int]] = {}  # department -> active members, by id
    for department_id, user_id in (Membership.objects.active()
                                   .filter(department_id__in=[q.department_id for q in queues], user__is_active=True)
                                   .order_by("user_id").values_list("department_id", "user_id").distinct()):
        members.setdefault(department_id, []).append(user_id)
    account_ids = {c.account_id for q in queues for c in by_department[q.department_id]}
    modes = ReplyModes(User.objects.filter(pk__in={u for ids in members.values() for u in ids}),
                       SocialAccount.objects.filter(pk__in=account_ids))
    assigned: list[Conversation] = []
    for queue in queues:
        people = members.get(queue.department_id, [])
        last, assigned_before = queue.last_assigned_id, len(assigned)
        candidates: dict[tuple, list[int]] = {}  # (account, sensitive) -> who is asked, by id
        for conversation in by_department[queue.department_id]:
            key = (conversation.account_id, conversation.is_sensitive)
            if key not in candidates:
                tiers = {"send": [], "approval": []}
                for user_id in people:
                    mode = modes.mode(user_id, conversation)
                    if mode in tiers:
                        tiers[mode].append(user_id)
                candidates[key] = tiers["send"] or tiers["approval"]
            eligible = candidates[key]
            if not eligible:
                continue
            turn = bisect_right(eligible, last) if last is not None else 0  # the first one after the last
            conversation.assignee_id = last = eligible[turn % len(eligible)]
            assigned.append(conversation)
        if len(assigned) > assigned_before:
            queue.last_assigned_id = last
            queue.save(update_fields=["last_assigned"])
    if assigned:
        Conversation.objects.bulk_update(assigned, ["assignee"])
        ConversationEvent.objects.bulk_create([ConversationEvent(conversation=c, kind="auto_assigned",
                                                                 data={"assignee": c.assignee_id}) for c in assigned])
    return len(assigned)


# --- status, intent, routing ----------------------------------------------

class ReplyOutstandingError(ValidationError):
    """Resolving (or closing) refused because a reply is still waiting for
    approval, on its way or failed: the customer may not have the answer the
    agent thinks they have. ``replies`` are those replies; the caller asks
    and, once the person confirms, calls again with ``confirm=True``."""

    def __init__(self, replies: list[Reply]):
        self.replies = replies
        states = ", ".join(sorted({str(r.get_status_display()).lower() for r in replies}))
        super().__init__({"confirm": _(
            "A reply on this conversation is not sent (%(states)s): resolve anyway only if the customer needs "
            "no answer from it.") % {"states": states}})


OUTSTANDING_REPLY_STATUSES = (Reply.Status.PENDING_APPROVAL, Reply.Status.APPROVED, Reply.Status.SENDING,
                              Reply.Status.FAILED)


def outstanding_replies(conversation: Conversation) -> list[Reply]:
    """Replies that have not reached the customer and may still have to: pending, on their way, failed."""
    return list(conversation.replies.filter(status__in=OUTSTANDING_REPLY_STATUSES, sent_at__isnull=True)
                .select_related("author").order_by("created_at", "pk"))


@transaction.atomic
def conversation_set_status(*, actor: User, conversation: Conversation, status: str,
                            confirm: bool = False) -> Conversation:
    """Changes the status; waiting pauses the SLA clock, reopening restarts it.

    Resolving or closing while a reply is pending approval, on its way or
    failed is refused with ``ReplyOutstandingError`` (a ValidationError on
    ``confirm``) unless ``confirm``: the replies are read after the row lock,
    so a reply submitted a moment ago counts."""
    _require_work(actor, conversation)
    if status not in Conversation.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    conversation = _locked(conversation)
    if status == conversation.status:
        return conversation
    if status in (Conversation.Status.RESOLVED, Conversation.Status.CLOSED) and not confirm:
        if outstanding := outstanding_replies(conversation):
            raise ReplyOutstandingError(outstanding)
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
        sla.record_resolution(conversation, at=now, spec=spec)
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
    # The assignee is read under the row lock: a claim made a moment ago is kept, not written back to empty.
    locked = _locked(conversation)
    if department.pk == locked.department_id:
        return conversation
    before = locked.department_id
    locked.department = department
    holder = locked.assignee
    if holder is not None and not Membership.objects.active().filter(
            user_id=holder.pk, department=department).exists():
        locked.assignee = None
    locked.save(update_fields=["department", "assignee", "updated_at"])
    if holder is not None and locked.assignee is None:
        text = _("%(actor)s moved your conversation with %(author)s to the %(department)s queue: it is no longer "
                 "assigned to you")
    else:
        text = _("%(actor)s moved your conversation with %(author)s to the %(department)s queue: it is still yours")
    _notify_previous(holder, actor=actor, conversation=locked, text=text % {
        "actor": actor, "author": locked.author, "department": department})
    locked.previous_assignee = holder if locked.assignee is None else None
    # The caller's copy follows (the page checks whether it can still see it).
    conversation.department, conversation.assignee_id = department, locked.assignee_id
    RoutingDecision.objects.create(conversation=conversation, rule=None, rule_name="by hand", department=department,
                                   priority=locked.priority, reason=(reason or "moved by an agent")[:300],
                                   decided_by=actor)
    _event(conversation, "routed", actor, before=before, after=department.pk, reason=reason,
           **({"unassigned": holder.pk} if holder is not None and locked.assignee is None else {}))
    # Who lost the conversation with the move (told in-app), for the page to say so.
    conversation.previous_assignee = locked.previous_assignee
    return conversation


# --- notes, tags, saved replies -------------------------------------------

@transaction.atomic
def note_add(*, actor: User, conversation: Conversation, body: str) -> Note:
    """Adds an internal note and notifies the colleagues it @mentions who can
    see the conversation. The note's ``not_notified`` lists the usernames
    mentioned who cannot see it (not notified), ``unknown_mentions`` the
    names no active colleague holds, so the caller can say so."""
    _require_work(actor, conversation)
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("A note cannot be empty.")})
    note = Note.objects.create(conversation=conversation, author=actor, body=body[:10_000])
    # "thanks @bob." mentions bob: a name does not end with the sentence's punctuation.
    usernames = {name.rstrip(".+-") or name for name in _MENTION.findall(body)}
    named = list(User.objects.filter(username__in=usernames, is_active=True).exclude(pk=actor.pk))
    mentioned = [u for u in named if can_view_conversation(u, conversation)]
    note.mentions.set(mentioned)
    # Said back to the writer instead of dropped: who was named but cannot see it, and names nobody holds.
    found = {u.username for u in named} | {actor.username}
    note.not_notified = sorted(u.username for u in named if u not in mentioned)
    note.unknown_mentions = sorted(name for name in usernames if name not in found)
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
    from ..settings_services import saved_reply_insert  # refuses a duplicate title, on the title field

    saved = saved_reply_insert(actor=actor, department=department, title=title.strip()[:120], body=body,
                               language=language)
    audit_write(actor=actor, action="saved_reply.create", target_type="inbox.savedreply", target_id=str(saved.pk),
                target_repr=saved.title, after={"department": department.pk, "title": saved.title})
    return saved
