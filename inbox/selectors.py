"""Reads of the inbox that depend on who asks."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Department
from security.permissions import active_department_ids

from .models import Conversation, Reply, SavedReply
from .permissions import can_approve_reply, can_view_all


def conversations_visible_to(user) -> QuerySet[Conversation]:
    qs = Conversation.objects.all()
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if can_view_all(user):
        return qs
    return qs.filter(department_id__in=active_department_ids(user))


def with_list_relations(qs: QuerySet[Conversation]) -> QuerySet[Conversation]:
    return qs.select_related("account", "author", "assignee", "department")


@dataclass
class InboxFilters:
    status: str = ""          # a Conversation.Status value, or "open" for new+open+waiting
    queue: str = ""           # department id, "mine", "unassigned", "overdue", "specialists"
    account: int | None = None
    intent: str = ""
    sentiment: str = ""
    priority: int | None = None
    overdue: bool = False
    assigned_to_me: bool = False
    unassigned: bool = False
    department: int | None = None


def filter_conversations(qs: QuerySet[Conversation], f: InboxFilters, user) -> QuerySet[Conversation]:
    if f.status == "open" or not f.status:
        qs = qs.filter(status__in=Conversation.OPEN_STATUSES)
    elif f.status != "all":
        qs = qs.filter(status=f.status)
    if f.department:
        qs = qs.filter(department_id=f.department)
    if f.account:
        qs = qs.filter(account_id=f.account)
    if f.intent:
        qs = qs.filter(intent=f.intent)
    if f.sentiment:
        qs = qs.filter(sentiment=f.sentiment)
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.overdue:
        qs = qs.filter(sla_breached=True)
    if f.assigned_to_me:
        qs = qs.filter(assignee=user)
    if f.unassigned:
        qs = qs.filter(assignee__isnull=True)
    return qs


def queue_counts(user) -> dict:
    """Open conversations per queue the user may see: one aggregate query."""
    base = conversations_visible_to(user).filter(status__in=Conversation.OPEN_STATUSES)
    mine = set(active_department_ids(user))
    totals = base.aggregate(
        all=Count("id"),
        mine=Count("id", filter=Q(assignee=user)),
        unassigned=Count("id", filter=Q(assignee__isnull=True)),
        overdue=Count("id", filter=Q(sla_breached=True)),
    )
    per_department = dict(base.values_list("department_id").annotate(n=Count("id")).values_list("department_id", "n"))
    departments = Department.objects.filter(pk__in=list(per_department)).order_by("name")
    queues = [{"department": d, "count": per_department.get(d.pk, 0), "is_mine": d.pk in mine} for d in departments]
    return {"totals": totals, "queues": queues}


def my_work(user, limit: int = 20) -> dict:
    """The landing page's inbox panel: only what the user may still see."""
    from security.selectors import accounts_with_capability

    visible = conversations_visible_to(user)
    assigned = list(with_list_relations(
        visible.filter(assignee=user, status__in=Conversation.OPEN_STATUSES)
    ).order_by("first_response_due_at", "-last_message_at")[:limit])
    pending = Reply.objects.filter(status=Reply.Status.PENDING_APPROVAL, conversation__in=visible).select_related(
        "conversation__account", "author")
    my_drafts = list(pending.filter(author=user)[:limit])
    # Accounts where the user may approve, found once; the per-reply check then only adds the specialist rule.
    approvable = (accounts_with_capability(user, "reply") | accounts_with_capability(user, "approve")).values("pk")
    to_approve = [r for r in pending.exclude(author=user).filter(conversation__account__in=approvable)[:limit * 3]
                  if can_approve_reply(user, r)][:limit]
    return {"assigned": assigned, "my_drafts": my_drafts, "to_approve": to_approve, "now": timezone.now()}


def saved_replies_for(user, conversation=None) -> QuerySet[SavedReply]:
    departments = set(active_department_ids(user))
    if conversation is not None and conversation.department_id:
        departments.add(conversation.department_id)
    return SavedReply.objects.filter(department_id__in=departments).select_related("department")
