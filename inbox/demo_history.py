"""The demo's past: what a working team did with each conversation the demo
loads, up to "now".

Most conversations were answered and resolved inside their SLA by someone
the inbox's own rules let answer (``inbox.permissions``): a member of the
department the conversation was routed to, sending on the channel or
drafting for a colleague's approval, a specialist's approval for a
sensitive one; when nobody in the department may answer on that channel,
the channel's own team did. Spam and remarks were closed. A few were
answered late, with the warning and the escalation the SLA sweep sends;
the newest ones are still new or open, a few of them due soon or overdue.

Every instant comes from the inbox's clock (``inbox.clock``, ``inbox.sla``):
replies and resolutions fall inside the channel's service window, the
first-response minutes are the channel's service minutes, a conversation
waiting on its customer pauses its clock. Replies on the demo's sandbox
channels are recorded as the sandbox connector records them
(``SandboxPost``, platform id "sandbox-<pk>"), so the sandbox channel page
shows them. Written in bulk (a fixed number of statements plus one small
UPDATE per conversation) so ``seed_demo`` stays quick; a few live touches
at the end (a draft waiting for approval, a note with an @mention) go
through the real services. Deterministic: each conversation draws from a
random stream of its own thread; only "now" moves the instants."""

import math
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import models
from django.db.models import F, OuterRef, Subquery
from django.utils.translation import gettext as _

from accounts.models import Department, Membership, Notification, User
from accounts.roles import Role
from security.permissions import can_reply

from . import sla
from .clock import NeverOpenError, WindowSpec, add_service_minutes, service_minutes_between
from .demo_texts import APPROVAL_NOTES, PLAIN_NOTES, SENSITIVE_NOTES, TEAM_NOTES, reply_text, tags_of
from .models import (
    Conversation,
    ConversationEvent,
    ConversationTag,
    Intent,
    Message,
    Note,
    Reply,
    RoutingDecision,
    SandboxPost,
    Tag,
)
from .permissions import can_approve_reply, can_view_conversation, reply_mode

SEED = 2026
# Fewer overdue conversations than this and the demo leaves the most recently due ones unanswered, so the
# inbox always shows what an overdue conversation looks like.
MIN_OVERDUE_NOW = 3
# Likewise, conversations past their 80% warning but not yet due.
MIN_DUE_SOON_NOW = 2
# Notifications older than this were read; newer ones wait in the bell.
READ_AFTER = timedelta(hours=6)
PAUSE_AFTER_REPLY = timedelta(seconds=30)
# A customer who writes again after this long came back with something new: the conversation reopens.
RETURN_GAP = timedelta(hours=24)

# --- who answers ------------------------------------------------------------------

class Crews:
    """Who may answer a conversation, by the inbox's own rules: the routed
    department's members who send on the channel, else those who draft for
    approval (with the colleagues who may approve their draft: a specialist
    for a sensitive one), else the channel's team among everyone who sees
    the conversation. Computed once per (department, channel, sensitive)."""

    def __init__(self, usernames: list[str]):
        self.people = list(User.objects.filter(username__in=usernames, is_active=True).order_by("username"))
        by_pk = {u.pk: u for u in self.people}
        self.members: dict[int, list[User]] = defaultdict(list)
        # Executives and admins oversee the queues; they do not write the answers.
        for user_id, department_id in (Membership.objects.active().filter(user_id__in=list(by_pk))
                                       .exclude(role__in=[Role.EXECUTIVE, Role.ADMIN])
                                       .order_by("user__username").values_list("user_id", "department_id")):
            if by_pk[user_id] not in self.members[department_id]:
                self.members[department_id].append(by_pk[user_id])
        self.leads = {pk: by_pk.get(lead) for pk, lead in Department.objects.values_list("pk", "lead_id")}
        self._options: dict[tuple, tuple] = {}

    def options(self, conversation: Conversation) -> tuple[list[User], list[User], dict[int, list[User]]]:
        key = (conversation.department_id, conversation.account_id, conversation.is_sensitive)
        if key not in self._options:
            self._options[key] = self._compute(conversation)
        return self._options[key]

    def _compute(self, conversation):
        def by_mode(pool):
            modes = {u.pk: reply_mode(u, conversation) for u in pool}
            return [u for u in pool if modes[u.pk] == "send"], [u for u in pool if modes[u.pk] == "approval"]

        members = [u for u in self.members.get(conversation.department_id, [])
                   if can_view_conversation(u, conversation)]
        senders, drafters = by_mode(members)
        if not senders and not drafters:
            # The channel's own team: those who hold reply on it (else anyone who may draft there).
            viewers = [u for u in self.people if can_view_conversation(u, conversation)]
            team = [u for u in viewers if can_reply(u, conversation.account)]
            senders, drafters = by_mode(team or viewers)
        approvers = {}
        for drafter in drafters:
            probe = Reply(conversation=conversation, author=drafter, needs_specialist=conversation.is_sensitive)
            approvers[drafter.pk] = [u for u in self.people if u.pk != drafter.pk
                                     and can_view_conversation(u, conversation) and can_approve_reply(u, probe)]
        return senders, [d for d in drafters if approvers[d.pk]], approvers

    def crew(self, conversation: Conversation, rng: random.Random,
             prefer: User | None = None) -> tuple[User | None, User | None]:
        """(author, approver): the approver is the author for one who sends
        directly; (None, None) when nobody may answer on this channel."""
        senders, drafters, approvers = self.options(conversation)
        if senders:
            author = prefer if prefer in senders else rng.choice(senders)
            return author, author
        if not drafters:
            return None, None
        author = prefer if prefer in drafters else rng.choice(drafters)
        pool = approvers[author.pk]
        lead = self.leads.get(conversation.department_id)
        return author, (lead if lead in pool and rng.random() < 0.7 else rng.choice(pool))

    def colleague(self, conversation: Conversation, rng: random.Random, besides: User) -> User | None:
        """Someone to @mention: the queue's lead or a member, who can see it."""
        lead = self.leads.get(conversation.department_id)
        pool = [u for u in ([lead] if lead else []) + self.members.get(conversation.department_id, [])
                if u.pk != besides.pk and can_view_conversation(u, conversation)]
        return pool[0] if pool and (pool[0] == lead or rng.random() < 0.5) else (rng.choice(pool) if pool else None)


# --- the plan of one conversation -------------------------------------------------

@dataclass
class Plan:
    conversation: Conversation
    spec: WindowSpec
    inbound: list[tuple[str, datetime, str]]  # (platform id, sent at, kind), oldest first
    rng: random.Random
    author: User | None = None
    approver: User | None = None
    close_at: datetime | None = None      # closed with nothing to answer (spam, a remark)
    claim_at: datetime | None = None
    draft_at: datetime | None = None
    reply_at: datetime | None = None      # the first response
    resolve_after: float = 5.0            # service minutes after the last answer
    resolve_cap: float = 0.6              # share of the resolution time left, when the delay would overrun it
    late_resolution: bool = False
    waits_for_customer: bool = False
    wait_minutes: float = 0.0
    closing_after: float = 30.0           # service minutes to answer a customer who wrote again
    note_roll: float = 1.0
    tag_roll: float = 1.0
    extra: dict = field(default_factory=dict)


def _after(spec: WindowSpec, start: datetime, minutes: float) -> datetime:
    try:
        return add_service_minutes(spec, start, minutes)
    except NeverOpenError:
        return start + timedelta(minutes=minutes)


def _plan(number: int, conversation: Conversation, spec: WindowSpec, inbound: list, crews: Crews,
          book: sla.PolicyBook, now: datetime) -> Plan:
    rng = random.Random(SEED * 100_003 + number)  # noqa: S311 - demo data
    plan = Plan(conversation=conversation, spec=spec, inbound=inbound, rng=rng)
    first_target, _resolution = book.targets(conversation.intent, conversation.account_id)
    plan.author, plan.approver = crews.crew(conversation, rng, prefer=conversation.assignee)
    start = conversation.opened_at
    # Every draw happens for every conversation, in this order, so one plan never depends on another.
    close_roll, late_roll, spread, claim_share, draft_share = (rng.random(), rng.random(), rng.gauss(0, 1),
                                                               rng.uniform(0.1, 0.4), rng.uniform(0.55, 0.9))
    late_share, fair_share = rng.uniform(1.05, 1.6), rng.uniform(0.4, 0.95)
    resolve_roll, resolve_spread, quick = rng.random(), rng.gauss(0, 1), rng.uniform(1, 12)
    plan.resolve_cap, plan.late_resolution = rng.uniform(0.3, 0.85), rng.random() < 0.03
    plan.wait_minutes, plan.closing_after = rng.uniform(2 * 60, 8 * 60), 30 * math.exp(0.8 * rng.gauss(0, 1))
    plan.note_roll, plan.tag_roll = rng.random(), rng.random()
    if plan.author is None:
        return plan
    nothing_to_answer = conversation.intent == Intent.SPAM or (
        conversation.intent in (Intent.PRAISE, Intent.OTHER) and not conversation.is_sensitive
        and not conversation.is_influencer and close_roll < 0.45)
    if nothing_to_answer:
        plan.close_at = _after(spec, start, max(2.0, first_target * claim_share))
        return plan
    late_chance = 0.13 if first_target <= 60 else 0.08 if first_target <= 240 else 0.03
    if late_roll < late_chance:
        # Missed, not forgotten: past a long target by an hour or two of service time at most.
        minutes = first_target * late_share if first_target <= 240 else first_target + 120 * (late_share - 1)
    else:
        minutes = min(45.0, first_target * 0.3) * math.exp(0.75 * spread)
        if minutes >= 0.97 * first_target:
            minutes = first_target * fair_share
    minutes = max(minutes, 1.5)
    plan.reply_at = _after(spec, start, minutes)
    if first_target > 240 and plan.reply_at > now and minutes > first_target:
        # A long target missed takes days to show; of the conversations still running, none is heading there.
        minutes = first_target * fair_share * 0.2
        plan.reply_at = _after(spec, start, minutes)
    if conversation.assignee_id is None:
        plan.claim_at = _after(spec, start, minutes * claim_share)
    if plan.approver != plan.author:
        plan.draft_at = _after(spec, start, minutes * draft_share)
    if resolve_roll < 0.6:
        plan.resolve_after = quick  # the answer settles it
    elif resolve_roll < 0.94:
        plan.resolve_after = 60 * math.exp(0.8 * resolve_spread)  # checked something first
    else:
        plan.waits_for_customer = True  # asked the customer something; they never wrote back
    return plan


def _unanswered_now(plan: Plan, now: datetime) -> bool:
    return ((plan.close_at is None or plan.close_at > now) and (plan.reply_at is None or plan.reply_at > now))


def _leave_some_open(plans: list[Plan], now: datetime) -> None:
    """At least ``MIN_OVERDUE_NOW`` overdue conversations and
    ``MIN_DUE_SOON_NOW`` past their warning, so the inbox shows what they
    look like: of the answered ones that came in the last day and a half,
    the most recently due and the soonest due stay unanswered."""
    def due(plan):
        return plan.conversation.first_response_due_at

    def warn(plan):
        return plan.conversation.first_response_warn_at

    rng = random.Random(SEED)  # noqa: S311 - demo data
    answered = [p for p in plans if p.reply_at and not _unanswered_now(p, now) and due(p) and warn(p)]
    waiting = [p for p in plans if _unanswered_now(p, now) and p.author and due(p) and warn(p)]
    overdue = [p for p in waiting if due(p) <= now]
    candidates = sorted((p for p in answered if now - timedelta(days=2) < due(p) <= now
                         and now - p.conversation.opened_at < timedelta(hours=36)), key=due, reverse=True)
    for plan in rng.sample(candidates[:12], max(0, min(MIN_OVERDUE_NOW - len(overdue), len(candidates[:12])))):
        plan.reply_at = plan.draft_at = None
    due_soon = [p for p in waiting if warn(p) <= now < due(p)]
    candidates = sorted((p for p in answered if warn(p) <= now < due(p)
                         and now - p.conversation.opened_at < timedelta(hours=36)), key=due)
    for plan in candidates[:max(0, MIN_DUE_SOON_NOW - len(due_soon))]:
        plan.reply_at = plan.draft_at = None


# --- telling it: the rows, in bulk ----------------------------------------------------

class Story:
    """Collects the rows of every conversation's past, then writes them."""

    def __init__(self, crews: Crews, book: sla.PolicyBook, now: datetime):
        self.crews, self.book, self.now = crews, book, now
        self.posts, self.replies, self.messages = [], [], []
        self.notes, self.mentions, self.tag_links, self.events, self.notifications = [], [], [], [], []
        self.counts = Counter()

    # small pieces

    def event(self, conversation, kind, at, actor=None, **data):
        self.events.append(ConversationEvent(conversation=conversation, kind=kind, actor=actor, data=data,
                                             created_at=at))

    def notify(self, user, *, kind, level, text, conversation, at):
        if user is None or not user.is_active:
            return
        read_at = at + timedelta(minutes=20) if self.now - at > READ_AFTER else None
        self.notifications.append(Notification(recipient=user, kind=kind, level=level, text=text[:500],
                                               url=f"/inbox/c/{conversation.pk}/", created_at=at, read_at=read_at))

    def status(self, plan, status, at, actor):
        conversation = plan.conversation
        self.event(conversation, "status", at, actor, before=conversation.status, after=status)
        conversation.status = status

    def sweep(self, plan, until):
        """What the every-minute SLA sweep (``inbox.services.sweep``) did up
        to ``until``: the 80% warning to the assignee (or the queue's lead),
        the breach escalated to the lead and the assignee."""
        conversation = plan.conversation
        if not conversation.is_open or conversation.sla_paused_at is not None or conversation.sla_breached:
            return
        answered = conversation.first_response_at is not None
        due = conversation.resolution_due_at if answered else conversation.first_response_due_at
        warn = conversation.resolution_warn_at if answered else conversation.first_response_warn_at
        target = "resolution" if answered else "first response"
        lead = self.crews.leads.get(conversation.department_id)
        if warn is not None and warn <= until and not conversation.sla_warned:
            conversation.sla_warned = True
            self.event(conversation, "sla_warning", warn, target=target, due=due.isoformat() if due else None)
            self.notify(conversation.assignee if conversation.assignee_id else lead, kind="sla.warning",
                        level="warning", conversation=conversation, at=warn,
                        text=_("%(target)s due soon for %(author)s") % {"target": target.capitalize(),
                                                                       "author": conversation.author})
            self.counts["sla_warnings"] += 1
        if due is not None and due <= until:
            conversation.sla_warned = conversation.sla_breached = True
            self.event(conversation, "sla_breached", due, target=target, due=due.isoformat())
            text = _("SLA breached (%(target)s): %(author)s on %(account)s, %(dept)s queue") % {
                "target": target, "author": conversation.author, "account": conversation.account,
                "dept": conversation.department or "-"}
            recipients = [u for u in (lead, conversation.assignee) if u is not None]
            for user in {u.pk: u for u in recipients}.values():
                self.notify(user, kind="sla.breached", level="alert", text=text, conversation=conversation, at=due)
            self.counts["escalations"] += 1

    def tags(self, plan, at, actor):
        if plan.tag_roll > 0.75 or plan.extra.get("tagged"):
            return
        plan.extra["tagged"] = True
        for name in tags_of(plan.conversation):
            self.tag_links.append((plan.conversation, name, actor))
            self.event(plan.conversation, "tag_added", at, actor, tag=name)

    def note(self, plan, at):
        conversation, author, rng = plan.conversation, plan.author, plan.rng
        if plan.approver != author and plan.note_roll < 0.45:
            who, texts = plan.approver, APPROVAL_NOTES
        elif conversation.is_sensitive and plan.note_roll < 0.5:
            who, texts = self.crews.colleague(conversation, rng, author), SENSITIVE_NOTES
        elif plan.note_roll < 0.05:
            who, texts = self.crews.colleague(conversation, rng, author), TEAM_NOTES
        elif plan.note_roll < 0.09:
            who, texts = None, PLAIN_NOTES
        else:
            return
        if who is None or not can_view_conversation(who, conversation):
            who, texts = None, PLAIN_NOTES
        note = Note(conversation=conversation, author=author, body=rng.choice(texts).format(
            who=who.username if who else ""), created_at=at)
        self.notes.append(note)
        if who is not None:
            self.mentions.append((note, who))
            self.notify(who, kind="mention", level="info", conversation=conversation, at=at,
                        text=_("%(actor)s mentioned you: %(body)s") % {"actor": author, "body": note.body[:200]})
        self.event(conversation, "note", at, author, note=note, mentions=[who.pk] if who else [])

    def reply(self, plan, at, *, first):
        conversation, author, approver = plan.conversation, plan.author, plan.approver
        body = reply_text(conversation, author, plan.rng, first=first)
        key = uuid.UUID(int=plan.rng.getrandbits(128), version=4)
        before = [(pmid, sent_at) for pmid, sent_at, _kind in plan.extra["all_inbound"] if sent_at <= at]
        answered = [pmid for pmid, _sent_at in before]
        # Written after the message it answers.
        lead_time = min(timedelta(minutes=8), (at - before[-1][1]) / 2) if before else timedelta(minutes=8)
        post = SandboxPost(account=conversation.account, kind=SandboxPost.Kind.REPLY,
                           in_reply_to=answered[-1] if answered else "", thread_key=conversation.thread_key,
                           text=body, idempotency_key=str(key), created_at=at)
        if approver.pk != author.pk:
            drafted = plan.draft_at if first and plan.draft_at and plan.draft_at < at else at - lead_time
            approved = min(at - timedelta(seconds=20), drafted + (at - drafted) * 0.9)
        else:
            drafted = approved = at - timedelta(seconds=5)
        reply = Reply(conversation=conversation, author=author, body=body, status=Reply.Status.SENT,
                      needs_specialist=conversation.is_sensitive, approved_by=approver, approved_at=approved,
                      idempotency_key=key, attempts=1, sent_at=at, created_at=drafted)
        if first:
            self.note(plan, drafted - timedelta(minutes=1) if approver.pk == author.pk else drafted
                      + timedelta(seconds=30))
        if approver.pk != author.pk:
            self.event(conversation, "reply_submitted", drafted, author, reply=reply,
                       needs_specialist=conversation.is_sensitive)
            self.event(conversation, "reply_approved", approved, approver, reply=reply)
            self.counts["approved_replies"] += 1
        else:
            self.event(conversation, "reply_sending", drafted, author, reply=reply)
        self.event(conversation, "reply_sent", at, approver, reply=reply, platform_message_id=post)
        message = Message(conversation=conversation, account=conversation.account,
                          direction=Message.Direction.OUTBOUND, kind=plan.inbound[0][2] if plan.inbound else "mention",
                          sent_by=author, text=body, language=conversation.language, sent_at=at, received_at=at,
                          raw={"source": "demo"})
        self.posts.append(post)
        self.replies.append((reply, post))
        self.messages.append((message, post))
        conversation.message_count += 1
        if at >= conversation.last_message_at:
            conversation.last_message_at, conversation.last_message_preview = at, body[:200]
        self.counts["replies"] += 1

    def finish(self, plan, status, at, actor):
        conversation = plan.conversation
        if conversation.status == Conversation.Status.WAITING:  # as conversation_set_status: resume, then resolve
            sla.resume(conversation, at=at, spec=plan.spec)
        self.status(plan, status, at, actor)
        sla.record_resolution(conversation, at=at, spec=plan.spec)  # once per cycle, as the status service does
        self.counts[str(status)] += 1

    def open_now(self, plan):
        self.sweep(plan, self.now)
        self.counts["open_now"] += 1

    # one conversation

    def tell(self, plan):
        """The conversation's past: its first visit, then each time the
        customer came back after it was settled (a returning customer's
        direct messages share one conversation)."""
        visits = [[plan.inbound[0]]] if plan.inbound else [[]]
        for message in plan.inbound[1:]:
            if message[1] - visits[-1][-1][1] > RETURN_GAP:
                visits.append([])
            visits[-1].append(message)
        plan.extra["all_inbound"], plan.inbound = plan.inbound, visits[0]
        settled = self.first_visit(plan)
        for visit in visits[1:]:
            resolved_at = plan.conversation.resolved_at
            if not settled or resolved_at is None or resolved_at > visit[0][1]:
                break  # still open when they wrote again: their messages simply joined it
            settled = self.return_visit(plan, visit)

    def return_visit(self, plan, visit) -> bool:
        """As ingest does on a message after the resolution: reopened, a new
        SLA cycle; the team answers and settles it again."""
        conversation, spec = plan.conversation, plan.spec
        came_back = visit[0][1]
        before = conversation.status
        conversation.status = Conversation.Status.OPEN
        sla.start_clocks(conversation, at=came_back, spec=spec, book=self.book)
        self.event(conversation, "reopened", came_back, **{"from": before, "by_message": visit[0][0]})
        self.counts["reopened"] += 1
        first_target, _resolution = self.book.targets(conversation.intent, conversation.account_id)
        reply_at = _after(spec, came_back, max(1.5, min(plan.closing_after, 0.7 * first_target)))
        if reply_at > self.now:
            self.open_now(plan)
            return False
        self.sweep(plan, reply_at)
        plan.draft_at, plan.note_roll = None, 1.0  # drafted just before it is sent; no second note
        self.reply(plan, reply_at, first=True)
        sla.record_first_response(conversation, at=reply_at, spec=spec)
        done = max(reply_at, visit[-1][1]) + timedelta(minutes=3)
        if done > self.now:
            self.open_now(plan)
            return False
        self.sweep(plan, done)
        self.finish(plan, Conversation.Status.RESOLVED, done, plan.author)
        return True

    def first_visit(self, plan) -> bool:  # noqa: C901 - one timeline, read top to bottom
        """Returns whether it was settled (resolved or closed) before now."""
        conversation, now, spec = plan.conversation, self.now, plan.spec
        if plan.author is None:  # nobody may answer on this channel: it stays as ingest left it
            self.open_now(plan)
            return False
        if plan.close_at is not None and plan.close_at <= now:
            self.sweep(plan, plan.close_at)
            self.tags(plan, plan.close_at, plan.author)
            self.finish(plan, Conversation.Status.CLOSED, plan.close_at, plan.author)
            return True
        if plan.claim_at is not None and plan.claim_at <= now and conversation.assignee_id is None:
            self.sweep(plan, plan.claim_at)
            conversation.assignee = plan.author
            self.event(conversation, "assigned", plan.claim_at, plan.author, before=None, assignee=plan.author.pk)
            if conversation.status == Conversation.Status.NEW:
                conversation.status = Conversation.Status.OPEN
            self.tags(plan, plan.claim_at, plan.author)
        if plan.reply_at is None or plan.reply_at > now:
            self.open_now(plan)
            return False
        self.sweep(plan, plan.reply_at)
        self.tags(plan, plan.reply_at - timedelta(seconds=40), plan.author)
        self.reply(plan, plan.reply_at, first=True)
        sla.record_first_response(conversation, at=plan.reply_at, spec=spec)
        self.counts["first_response_late"] += conversation.first_response_breached
        if conversation.status == Conversation.Status.NEW:
            conversation.status = Conversation.Status.OPEN
        later = [sent_at for _pmid, sent_at, _kind in plan.inbound if sent_at > plan.reply_at]
        if later or plan.waits_for_customer:
            paused_at = plan.reply_at + PAUSE_AFTER_REPLY
            self.status(plan, Conversation.Status.WAITING, paused_at, plan.author)
            sla.pause(conversation, at=paused_at)
        if later:
            # The customer wrote back: the clock runs again, and the team answers and settles it.
            self.event(conversation, "customer_replied", later[0])
            conversation.status = Conversation.Status.OPEN
            sla.resume(conversation, at=later[0], spec=spec)
            answer_at = _after(spec, later[-1], plan.closing_after)
            if answer_at > now:
                self.open_now(plan)
                return False
            self.sweep(plan, answer_at)
            self.reply(plan, answer_at, first=False)
            done = answer_at + timedelta(minutes=2)
        elif plan.waits_for_customer:
            done = _after(spec, paused_at, plan.wait_minutes)
        else:
            delay = plan.resolve_after
            due = conversation.resolution_due_at
            left = service_minutes_between(spec, plan.reply_at, due) if due else math.inf
            if plan.late_resolution and left < 24 * 60:
                delay = max(delay, left * 1.15 + 5)
            elif delay > 0.9 * left:
                delay = left * plan.resolve_cap
            done = _after(spec, plan.reply_at, delay)
        if done > now:
            self.open_now(plan)
            return False
        self.sweep(plan, done)
        self.finish(plan, Conversation.Status.RESOLVED, done, plan.author)

    # writing

    def save(self, conversations: list[Conversation]) -> None:
        SandboxPost.objects.bulk_create(self.posts, batch_size=500)
        for reply, post in self.replies:
            reply.platform_message_id = post.platform_id
        Reply.objects.bulk_create([reply for reply, _post in self.replies], batch_size=500)
        for message, post in self.messages:
            message.platform_message_id = post.platform_id
        Message.objects.bulk_create([message for message, _post in self.messages], batch_size=500)
        Note.objects.bulk_create(self.notes, batch_size=500)
        mention = Note.mentions.through
        mention.objects.bulk_create([mention(note_id=note.pk, user_id=user.pk) for note, user in self.mentions])
        tags = {name: Tag.objects.get_or_create(name=name)[0] for name in {name for _c, name, _u in self.tag_links}}
        ConversationTag.objects.bulk_create([ConversationTag(conversation=c, tag=tags[name], added_by=user)
                                             for c, name, user in self.tag_links], batch_size=500)
        for event in self.events:  # rows written above are named by their id, posts by their platform id
            event.data = {key: value.platform_id if isinstance(value, SandboxPost)
                          else value.pk if isinstance(value, models.Model) else value
                          for key, value in event.data.items()}
        ConversationEvent.objects.bulk_create(self.events, batch_size=500)
        Notification.objects.bulk_create(self.notifications, batch_size=500)
        fields = ["status", "assignee", "message_count", "last_message_at", "last_message_preview",
                  "first_response_at", "first_response_service_minutes", "first_response_breached", "resolved_at",
                  "resolution_service_minutes",
                  "sla_paused_at", "sla_warned", "sla_breached", "sla_next_check_at", "resolution_due_at",
                  "resolution_warn_at", "updated_at"]
        # One small UPDATE per row: far cheaper than bulk_update's CASE WHEN over a dozen columns.
        for conversation in conversations:
            sla.set_next_check(conversation)
            conversation.save(update_fields=fields)
        self.counts["sandbox_posts"] = len(self.posts)
        self.counts["notes"] = len(self.notes)
        self.counts["tags"] = len(self.tag_links)


def _date_the_arrival(ids: list[int]) -> None:
    """Ingest stamps what it stores with the moment it runs; in the demo
    every message arrived when it was sent, and the conversation was
    created, routed and auto-assigned when its first message came."""
    opened = Subquery(Conversation.objects.filter(pk=OuterRef("conversation_id")).values("opened_at")[:1])
    Conversation.objects.filter(pk__in=ids).update(created_at=F("opened_at"))
    Message.objects.filter(conversation_id__in=ids, direction=Message.Direction.INBOUND).update(
        received_at=F("sent_at"))
    ConversationEvent.objects.filter(conversation_id__in=ids, kind="auto_assigned").update(created_at=opened)
    RoutingDecision.objects.filter(conversation_id__in=ids).update(decided_at=opened)


def _live_touches(plans: list[Plan], crews: Crews, now: datetime) -> dict[str, int]:
    """A few things happening right now, through the real services: drafts
    waiting for approval (a specialist's for a sensitive one) and notes
    that @mention a colleague."""
    from .services import note_add, reply_submit

    waiting = [p for p in plans if p.author and p.close_at is None and _unanswered_now(p, now)
               and p.approver is not None and p.approver.pk != p.author.pk]
    waiting.sort(key=lambda p: (not p.conversation.is_sensitive, p.conversation.opened_at))
    drafts = 0
    for plan in waiting[:2]:
        conversation = Conversation.objects.select_related("account", "author", "department").get(
            pk=plan.conversation.pk)
        if reply_mode(plan.author, conversation) == "approval":
            reply_submit(actor=plan.author, conversation=conversation,
                         body=reply_text(conversation, plan.author, plan.rng, first=True))
            drafts += 1
    noted = 0
    drafted = {id(p) for p in waiting[:2]}
    for plan in [p for p in plans if p.author and _unanswered_now(p, now) and id(p) not in drafted][-2:]:
        conversation = Conversation.objects.select_related("account", "author", "department").get(
            pk=plan.conversation.pk)
        who = crews.colleague(conversation, plan.rng, plan.author)
        if who is not None:
            note_add(actor=plan.author, conversation=conversation,
                     body=f"@{who.username} can you have a look at this one before I answer?")
            noted += 1
    return {"drafts_waiting": drafts, "live_notes": noted}


def write_history(threads, conversations: dict, *, specs: dict[str, WindowSpec], now: datetime) -> dict[str, int]:
    """Writes the past of the conversations the demo has just created
    (``conversations`` by (handle, thread key), as ingest left them) up to
    ``now``. Returns counts for the command's summary."""
    from accounts.demo import PEOPLE

    crews = Crews([person[0] for person in PEOPLE])
    book = sla.PolicyBook()
    pairs = [(thread, conversations[(thread.handle, thread.thread_key)]) for thread in threads
             if (thread.handle, thread.thread_key) in conversations]
    inbound = defaultdict(list)
    for conversation_id, pmid, sent_at, kind in (
            Message.objects.filter(conversation_id__in=[c.pk for _t, c in pairs],
                                   direction=Message.Direction.INBOUND)
            .order_by("sent_at", "pk").values_list("conversation_id", "platform_message_id", "sent_at", "kind")):
        inbound[conversation_id].append((pmid, sent_at, kind))
    plans = [_plan(thread.number, c, specs[thread.handle], inbound[c.pk], crews, book, now) for thread, c in pairs]
    _leave_some_open(plans, now)
    story = Story(crews, book, now)
    for plan in plans:
        story.tell(plan)
    story.save([plan.conversation for plan in plans])
    _date_the_arrival([c.pk for _t, c in pairs])
    story.counts.update(_live_touches(plans, crews, now))
    story.counts["overdue_now"] = sum(1 for p in plans if p.conversation.is_open and p.conversation.sla_breached)
    return dict(story.counts)
