"""The every-minute SLA sweep, reply retries and the offboarding hook."""



from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import notify

from .. import sla
from ..models import (
    Conversation,
    ConversationEvent,
)

# --- the SLA sweep ----------------------------------------------------------

def sla_sweep(*, now=None, batch: int = 500) -> dict:
    """Warns at 80% of a target and marks breaches, escalating to the
    department lead. Uses the partial index on sla_next_check_at.

    Warns once, breaches once: the rows are taken with SKIP LOCKED (two
    sweeps at once share the work, and a row an ingest or an agent holds is
    left to the next run), and each flag is set by a conditional UPDATE
    (``sla_warned = false`` / ``sla_breached = false``, same SLA cycle) whose
    notifications follow only when it changed the row."""
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
            # The row as read: same cycle, same clock, same flags. Anything else means it changed under us.
            as_read = Conversation.objects.filter(
                pk=conversation.pk, opened_at=conversation.opened_at, first_response_at__isnull=not answered,
                sla_warned=conversation.sla_warned, sla_breached=conversation.sla_breached)
            if deadline is not None and deadline <= now and not conversation.sla_breached:
                conversation.sla_breached = True
                conversation.sla_warned = True
                sla.set_next_check(conversation)
                if not as_read.update(sla_breached=True, sla_warned=True,
                                      sla_next_check_at=conversation.sla_next_check_at):
                    continue
                breached += 1
                _escalate(conversation, target)
                ConversationEvent.objects.create(conversation=conversation, kind="sla_breached",
                                                 data={"target": target, "due": deadline.isoformat()})
            elif not conversation.sla_warned:
                conversation.sla_warned = True
                sla.set_next_check(conversation)
                if not as_read.update(sla_warned=True, sla_next_check_at=conversation.sla_next_check_at):
                    continue
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
            else:
                sla.set_next_check(conversation)
                as_read.update(sla_next_check_at=conversation.sla_next_check_at)
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


# --- offboarding hook -------------------------------------------------------

def offboarding_release_work(*, actor, user, reason) -> tuple[str, dict]:
    """Open conversations of a leaver go back to their department's queue;
    their drafts waiting for approval stay on record."""
    # Locked in id order, as ingest locks them: the ids are exactly the conversations released, and a claim or
    # an ingest at the same moment waits for this instead of being overwritten.
    ids = list(Conversation.objects.select_for_update().filter(assignee=user, status__in=Conversation.OPEN_STATUSES)
               .order_by("pk").values_list("pk", flat=True))
    Conversation.objects.filter(pk__in=ids).update(assignee=None)
    ConversationEvent.objects.bulk_create([ConversationEvent(conversation_id=pk, kind="unassigned_offboarding",
                                                             actor=actor, data={"user": user.pk}) for pk in ids])
    return "release_inbox_work", {"conversations_returned_to_queue": len(ids)}
