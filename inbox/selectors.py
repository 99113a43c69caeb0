"""Reads of the inbox that depend on who asks."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Department
from security.permissions import active_department_ids
from socialops.text import is_number

from .models import Conversation, ConversationSeen, ConversationTag, Message, Reply, SavedReply
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
    # The reputation report's drill-down (inbox.forms.DrilldownFilterForm); ranges are half-open [from, to).
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    arrived_from: datetime | None = None   # with arrived_to, msg_sentiment and outside_hours: one inbound message
    arrived_to: datetime | None = None
    msg_sentiment: str = ""
    outside_hours: bool = False
    tag: str = ""                           # a tag's name, any case
    influencer: bool = False
    sensitive: bool = False
    first_response: str = ""                # answered, late, on_time or unanswered
    resolved: bool | None = None
    breached: bool = False                  # as strategy.metrics counts breaches
    accounts: tuple[int, ...] = ()          # any of these channels (a brand's)


def _inbound_message_matching(f: InboxFilters) -> Exists | None:
    """One inbound message of the conversation meets every message condition
    at once (arrived in the range, with the sentiment, outside service hours)."""
    conditions = {}
    if f.arrived_from:
        conditions["sent_at__gte"] = f.arrived_from
    if f.arrived_to:
        conditions["sent_at__lt"] = f.arrived_to
    if f.msg_sentiment:
        conditions["sentiment"] = f.msg_sentiment
    if f.outside_hours:
        conditions["outside_service_hours"] = True
    if not conditions:
        return None
    return Exists(Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND,
                                         **conditions))


def _report_filters(qs: QuerySet[Conversation], f: InboxFilters) -> QuerySet[Conversation]:
    if f.opened_from:
        qs = qs.filter(opened_at__gte=f.opened_from)
    if f.opened_to:
        qs = qs.filter(opened_at__lt=f.opened_to)
    inbound = _inbound_message_matching(f)
    if inbound is not None:
        qs = qs.filter(inbound)
    if f.tag:
        qs = qs.filter(Exists(ConversationTag.objects.filter(conversation=OuterRef("pk"),
                                                             tag__name__iexact=f.tag)))
    if f.influencer:
        qs = qs.filter(is_influencer=True)
    if f.sensitive:
        qs = qs.filter(is_sensitive=True)
    # As strategy.metrics.sla_attainment counts them: late and on time are answered ones.
    if f.first_response == "late":
        qs = qs.filter(first_response_at__isnull=False, first_response_breached=True)
    elif f.first_response == "on_time":
        qs = qs.filter(first_response_at__isnull=False, first_response_breached=False)
    elif f.first_response == "answered":
        qs = qs.filter(first_response_at__isnull=False)
    elif f.first_response == "unanswered":
        qs = qs.filter(first_response_at__isnull=True)
    if f.resolved is not None:
        qs = qs.filter(resolved_at__isnull=not f.resolved)
    if f.breached:
        qs = qs.filter(Q(sla_breached=True) | Q(first_response_breached=True))
    if f.accounts:
        qs = qs.filter(account_id__in=f.accounts)
    return qs


def filter_conversations(qs: QuerySet[Conversation], f: InboxFilters, user) -> QuerySet[Conversation]:
    """``qs`` (already what ``user`` may see) narrowed by every filter of ``f``, combined with AND."""
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
    return _report_filters(qs, f)


def _seen_since_last_message(user):
    """True for a conversation ``user`` has opened since its latest message."""
    return Exists(ConversationSeen.objects.filter(conversation=OuterRef("pk"), user_id=user.pk,
                                                  seen_at__gte=OuterRef("last_message_at")))


def with_unread(qs: QuerySet[Conversation], user) -> QuerySet[Conversation]:
    """Annotates ``is_unread``: ``user`` never opened the conversation, or a
    message came after they last did. A subquery, so no query per row."""
    return qs.annotate(is_unread=~_seen_since_last_message(user))


def queue_counts(user) -> dict:
    """Open conversations per queue the user may see, and how many of them
    are unread for the user: two aggregate queries and the departments."""
    base = conversations_visible_to(user).filter(status__in=Conversation.OPEN_STATUSES)
    mine = set(active_department_ids(user))
    unread = ~_seen_since_last_message(user)
    totals = base.aggregate(
        all=Count("id"),
        mine=Count("id", filter=Q(assignee=user)),
        unassigned=Count("id", filter=Q(assignee__isnull=True)),
        overdue=Count("id", filter=Q(sla_breached=True)),
        unread=Count("id", filter=unread),
        mine_unread=Count("id", filter=Q(assignee=user) & unread),
        unassigned_unread=Count("id", filter=Q(assignee__isnull=True) & unread),
        overdue_unread=Count("id", filter=Q(sla_breached=True) & unread),
    )
    per_department = {row["department_id"]: row for row in base.values("department_id").annotate(
        n=Count("id"), unread=Count("id", filter=unread)).values("department_id", "n", "unread")}
    departments = Department.objects.filter(pk__in=list(per_department)).order_by("name")
    queues = [{"department": d, "count": per_department[d.pk]["n"], "unread": per_department[d.pk]["unread"],
               "is_mine": d.pk in mine} for d in departments]
    return {"totals": totals, "queues": queues}


# --- sort orders and their keyset cursors ------------------------------------
# Each order ends on the id, so it is total and a cursor names one place in it. The indexes that serve them
# are on Conversation.Meta.indexes (conv_due, conv_recent, conv_priority_due).

SORT_DUE, SORT_NEWEST, SORT_OLDEST, SORT_PRIORITY = "due", "newest", "oldest", "priority"
SORTS = (SORT_DUE, SORT_NEWEST, SORT_OLDEST, SORT_PRIORITY)


def sort_conversations(qs: QuerySet[Conversation], sort: str) -> QuerySet[Conversation]:
    if sort == SORT_NEWEST:
        return qs.order_by("-last_message_at", "-id")
    if sort == SORT_OLDEST:
        return qs.order_by("last_message_at", "id")
    if sort == SORT_PRIORITY:
        return qs.order_by("-priority", F("first_response_due_at").asc(nulls_last=True), "id")
    return qs.order_by(F("first_response_due_at").asc(nulls_last=True), "id")


def keyset_cursor(conversation: Conversation, sort: str) -> str:
    """Where the next page starts: the sort key of the last row shown and its id."""
    if sort in (SORT_NEWEST, SORT_OLDEST):
        return f"{conversation.last_message_at.isoformat()}|{conversation.pk}"
    due = conversation.first_response_due_at
    text = f"{due.isoformat() if due else 'null'}|{conversation.pk}"
    return f"{conversation.priority}|{text}" if sort == SORT_PRIORITY else text


def parse_cursor(value: str, sort: str) -> tuple:
    """``keyset_cursor`` read back: (moment or None, id), or (priority, moment or None, id)
    for the priority order. ValueError when it is not one."""
    head, sep, id_text = value.rpartition("|")
    if not sep or not is_number(id_text):
        raise ValueError(value)
    priority = None
    if sort == SORT_PRIORITY:
        priority_text, sep, head = head.partition("|")
        if not sep or not is_number(priority_text):
            raise ValueError(value)
        priority = int(priority_text)
    if head == "null" and sort not in (SORT_NEWEST, SORT_OLDEST):
        moment = None
    else:
        moment = datetime.fromisoformat(head)
        if moment.tzinfo is None:
            raise ValueError(value)
    return (moment, int(id_text)) if priority is None else (priority, moment, int(id_text))


def _after_due(due, last_id) -> Q:
    if due is None:
        return Q(first_response_due_at__isnull=True, id__gt=last_id)
    return (Q(first_response_due_at__gt=due) | Q(first_response_due_at=due, id__gt=last_id)
            | Q(first_response_due_at__isnull=True))


def after_cursor(qs: QuerySet[Conversation], cursor: tuple, sort: str) -> QuerySet[Conversation]:
    """The rows after ``cursor`` (from ``parse_cursor``) in the ``sort`` order."""
    if sort == SORT_PRIORITY:
        priority, due, last_id = cursor
        return qs.filter(Q(priority__lt=priority) | (Q(priority=priority) & _after_due(due, last_id)))
    moment, last_id = cursor
    if sort == SORT_NEWEST:
        return qs.filter(Q(last_message_at__lt=moment) | Q(last_message_at=moment, id__lt=last_id))
    if sort == SORT_OLDEST:
        return qs.filter(Q(last_message_at__gt=moment) | Q(last_message_at=moment, id__gt=last_id))
    return qs.filter(_after_due(moment, last_id))


# --- live updates ------------------------------------------------------------

def inbox_fingerprint(user, *extra) -> str:
    """A short tag that changes whenever the inbox list, its queue counts or
    the user's unread marks may have changed: two aggregate queries over the
    conversations the user may see (all statuses) and their own seen marks.

    Writes that skip ``updated_at`` are covered too: ingest moves
    ``last_message_at`` and ``message_count``, the SLA sweep the breach
    flags, offboarding the unassigned count. The minute is part of it, so
    the SLA clocks ("due in 12 min") follow time.

    Only the conversations that can still change the list are read: the open
    ones, and those changed in the last day (a resolution, a reopening by a
    new message); the settled history does not grow the cost of a poll."""
    since = timezone.now() - timedelta(days=1)
    visible = conversations_visible_to(user).filter(
        Q(status__in=Conversation.OPEN_STATUSES) | Q(updated_at__gte=since) | Q(last_message_at__gte=since))
    facts = visible.aggregate(
        n=Count("id"), updated=Max("updated_at"), last=Max("last_message_at"), messages=Sum("message_count"),
        breached=Count("id", filter=Q(sla_breached=True)), warned=Count("id", filter=Q(sla_warned=True)),
        unassigned=Count("id", filter=Q(assignee__isnull=True)), first=Max("first_response_at"),
    )
    seen = ConversationSeen.objects.filter(user_id=user.pk).aggregate(n=Count("id"), last=Max("seen_at"))
    minute = int(timezone.now().timestamp() // 60)
    text = repr((user.pk, sorted(facts.items()), sorted(seen.items()), minute, extra))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def unread_notification_count(user) -> int:
    return user.notifications.filter(read_at__isnull=True).count()


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
