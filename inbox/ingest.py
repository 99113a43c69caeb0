"""The one ingest service every path goes through: the Mastodon poller, the
signed webhook, the bulk API and ``import_messages``.

Idempotent on (social account, platform message id); a batch keeps its
valid items and reports each invalid one with its index, field and reason.
Text is stored exactly as received. Work is done in bulk: a constant number
of queries per batch, whatever its size (the TopicDay upsert: one statement
per chunk of up to a thousand distinct day-channel-department-term rows).

For the reports, each new message records whether it arrived outside its
channel's service window (``Message.outside_service_hours``) and its terms
are added to the TopicDay rollup in the same transaction."""

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Membership
from security.models import SocialAccount
from socialops.text import storable_text_problem

from . import routing, sla, topics, triage
from .clock import WindowSpec, open_intervals
from .models import Author, Conversation, ConversationEvent, Message, MessageKind, RoutingDecision

MAX_TEXT = 20_000
MAX_BATCH = 5_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(days=1)


@dataclass
class ItemError:
    index: int
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    errors: list[ItemError] = field(default_factory=list)
    conversations_created: int = 0
    conversations_reopened: int = 0
    message_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "duplicates": self.duplicates, "rejected": len({e.index for e in self.errors}),
                "conversations_created": self.conversations_created,
                "conversations_reopened": self.conversations_reopened,
                "errors": [e.as_dict() for e in self.errors]}


@dataclass
class IncomingMessage:
    index: int
    platform_message_id: str
    text: str
    sent_at: datetime
    kind: str
    author_id: str
    author_handle: str
    author_name: str
    followers: int
    verified: bool
    thread_id: str
    in_reply_to: str
    language: str
    url: str
    raw: dict


def _str(item: dict, key: str, *, required=False, max_length=200, errors=None, index=0) -> str:
    value = item.get(key)
    if value is None or value == "":
        if required:
            errors.append(ItemError(index, key, "This field is required."))
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        errors.append(ItemError(index, key, "Must be a string."))
        return ""
    if len(value) > max_length:
        errors.append(ItemError(index, key, f"At most {max_length} characters."))
        return ""
    problem = storable_text_problem(value)
    if problem:
        errors.append(ItemError(index, key, problem))
        return ""
    return value


def validate_item(index: int, item) -> tuple[IncomingMessage | None, list[ItemError]]:
    errors: list[ItemError] = []
    if not isinstance(item, dict):
        return None, [ItemError(index, "non_field_errors", "Each message must be a JSON object.")]
    pmid = _str(item, "platform_message_id", required=True, errors=errors, index=index)
    text = item.get("text")
    if text is None:
        errors.append(ItemError(index, "text", "This field is required."))
        text = ""
    elif not isinstance(text, str):
        errors.append(ItemError(index, "text", "Must be a string."))
        text = ""
    elif len(text) > MAX_TEXT:
        errors.append(ItemError(index, "text", f"At most {MAX_TEXT} characters."))
    elif storable_text_problem(text):
        errors.append(ItemError(index, "text", storable_text_problem(text)))
    sent_at = None
    raw_sent = item.get("sent_at")
    if not raw_sent:
        errors.append(ItemError(index, "sent_at", "This field is required."))
    else:
        try:
            sent_at = parse_datetime(raw_sent) if isinstance(raw_sent, str) else None
        except ValueError:
            sent_at = None
        if sent_at is None:
            errors.append(ItemError(index, "sent_at", "Must be an ISO 8601 date and time."))
        elif timezone.is_naive(sent_at):
            errors.append(ItemError(index, "sent_at", "Must include a time zone offset (e.g. Z or +02:00)."))
            sent_at = None
        else:
            try:
                sent_at = sent_at.astimezone(UTC)
            except (OverflowError, ValueError):
                sent_at = None
            if sent_at is None or not EARLIEST <= sent_at <= timezone.now() + FUTURE_SKEW:
                errors.append(ItemError(index, "sent_at", "Must be a time between 2000-01-01 and now."))
    kind = item.get("kind") or MessageKind.MENTION
    if kind not in MessageKind.values:
        errors.append(ItemError(index, "kind", f"Must be one of {', '.join(MessageKind.values)}."))
    author = item.get("author")
    author_id = author_handle = author_name = ""
    followers, verified = 0, False
    if not isinstance(author, dict):
        errors.append(ItemError(index, "author", "Must be an object with at least id and handle."))
    else:
        author_id = _str(author, "id", required=True, errors=errors, index=index)
        author_handle = _str(author, "handle", required=True, errors=errors, index=index)
        author_name = _str(author, "display_name", errors=errors, index=index)
        raw_followers = author.get("followers", 0)
        if isinstance(raw_followers, bool) or not isinstance(raw_followers, int) or raw_followers < 0:
            errors.append(ItemError(index, "author.followers", "Must be a whole number, 0 or more."))
        else:
            followers = min(raw_followers, 2_000_000_000)
        raw_verified = author.get("verified", False)
        if isinstance(raw_verified, str) and raw_verified.lower() in ("true", "false", "1", "0", ""):
            raw_verified = raw_verified.lower() in ("true", "1")
        if not isinstance(raw_verified, bool | int) or raw_verified not in (True, False, 0, 1):
            errors.append(ItemError(index, "author.verified", "Must be true or false."))
        verified = bool(raw_verified) if raw_verified in (True, False, 0, 1) else False
        for e in errors:
            if e.field in ("id", "handle", "display_name"):
                e.field = f"author.{e.field}"
    thread_id = _str(item, "thread_id", errors=errors, index=index, max_length=250)
    in_reply_to = _str(item, "in_reply_to", errors=errors, index=index)
    language = _str(item, "language", errors=errors, index=index, max_length=8)
    url = _str(item, "url", errors=errors, index=index, max_length=500)
    if url and not url.startswith(("https://", "http://")):
        errors.append(ItemError(index, "url", "Must be an http(s) address."))
    if errors:
        return None, errors
    return IncomingMessage(index=index, platform_message_id=pmid, text=text, sent_at=sent_at, kind=kind,
                           author_id=author_id, author_handle=author_handle, author_name=author_name,
                           followers=followers, verified=verified, thread_id=thread_id, in_reply_to=in_reply_to,
                           language=language, url=url, raw=item), []


# Instants further apart than this are looked up in separate walks over the window, so a batch with a few old
# messages and a few new ones does not build the open intervals of every day in between.
OUTSIDE_HOURS_GAP = timedelta(days=7)
# One walk covers at most this span (clock.open_intervals stops after MAX_DAYS_AHEAD days).
OUTSIDE_HOURS_SPAN = timedelta(days=366)


def outside_service_hours(spec: WindowSpec, instants: list[datetime]) -> list[bool]:
    """For each instant (aware), whether the service window ``spec`` was closed then, in the order given.

    The open intervals are built once per cluster of nearby instants (over its [earliest, latest] span) and each
    instant is found by bisection, instead of one walk over the window per instant. A 24/7 window without
    closures is never closed."""
    if not instants:
        return []
    if spec.always_open and not spec.closures:
        return [False] * len(instants)
    order = sorted(range(len(instants)), key=lambda i: instants[i])
    result = [True] * len(instants)
    cluster: list[int] = []
    for position, index in enumerate(order):
        cluster.append(index)
        last = position == len(order) - 1
        if last or (instants[order[position + 1]] - instants[index] > OUTSIDE_HOURS_GAP
                    or instants[order[position + 1]] - instants[cluster[0]] > OUTSIDE_HOURS_SPAN):
            _mark_open(spec, instants, cluster, result)
            cluster = []
    return result


def _mark_open(spec: WindowSpec, instants: list[datetime], cluster: list[int], result: list[bool]) -> None:
    """Sets result[i] = False for each index of ``cluster`` (sorted by instant) that falls in an open interval."""
    start, end = instants[cluster[0]], instants[cluster[-1]] + timedelta(seconds=1)
    starts: list[datetime] = []
    ends: list[datetime] = []
    # Overlapping or touching intervals (a period closing at midnight, the next one opening then) are merged,
    # so the interval that starts last at or before an instant is the only one that can hold it.
    for a, b in sorted(open_intervals(spec, start, end)):
        if ends and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    for index in cluster:
        instant = instants[index]
        found = bisect_right(starts, instant) - 1
        if found >= 0 and instant < ends[found]:
            result[index] = False


def thread_key_for(message: IncomingMessage) -> str:
    if message.kind == MessageKind.DIRECT:
        return f"dm:{message.author_id}"
    return f"thread:{message.thread_id or message.in_reply_to or message.platform_message_id}"


def ingest_messages(*, account: SocialAccount, items: list, source: str = "api") -> IngestResult:
    """Stores new inbound messages for ``account``. Safe to call again with
    the same items: what is already stored is counted as a duplicate."""
    result = IngestResult()
    if not isinstance(items, list):
        result.errors.append(ItemError(0, "non_field_errors", "Expected a JSON list of messages."))
        return result
    if len(items) > MAX_BATCH:
        result.errors.extend(ItemError(index, "non_field_errors", f"At most {MAX_BATCH} messages per batch: "
                                       "send the rest in another batch.") for index in range(MAX_BATCH, len(items)))
        items = items[:MAX_BATCH]
    valid: list[IncomingMessage] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        message, errors = validate_item(index, item)
        if errors:
            result.errors.extend(errors)
            continue
        if message.platform_message_id in seen:
            result.duplicates += 1
            continue
        seen.add(message.platform_message_id)
        valid.append(message)
    if valid:
        _store(account, valid, result, source)
    return result


@transaction.atomic
def _store(account: SocialAccount, valid: list[IncomingMessage], result: IngestResult, source: str) -> None:
    # One writer per account at a time: the duplicate check below stays exact.
    SocialAccount.objects.select_for_update().filter(pk=account.pk).first()
    existing = set(Message.objects.filter(account=account, platform_message_id__in=[m.platform_message_id
                                                                                    for m in valid])
                   .values_list("platform_message_id", flat=True))
    fresh = [m for m in valid if m.platform_message_id not in existing]
    result.duplicates += len(valid) - len(fresh)
    if not fresh:
        return
    fresh.sort(key=lambda m: (m.sent_at, m.index))
    now = timezone.now()

    authors = _upsert_authors(account.platform, fresh)
    terms = triage.sensitive_terms()
    model = triage.active_model()
    settings_row = triage.TriageSettings.current()
    results = {m.index: triage.triage_text(m.text, language_hint=m.language, terms=terms, model=model)
               for m in fresh}

    keys = {thread_key_for(m) for m in fresh}
    # The conversations this batch touches are locked before they are read, in id order (so two writers never
    # wait on each other in a circle): a reopen, a resume or an escalation below is decided on the rows as they
    # are now. Claims, resolutions and the sweep's flags committed before this point are seen; those that come
    # later wait for this batch. Even so, only the fields ingest owns are written back (see _update_existing).
    conversations = {c.thread_key: c for c in Conversation.objects.select_for_update(of=("self",))
                     .filter(account=account, thread_key__in=keys).select_related("author").order_by("pk")}
    book, rules, spec = sla.PolicyBook(), routing.RuleBook(), sla.spec_for_account(account)
    new_conversations: list[Conversation] = []
    first_text: dict[str, str] = {}
    for message in fresh:
        key = thread_key_for(message)
        if key in conversations:
            continue
        triaged = results[message.index]
        author = authors[message.author_id]
        conversation = Conversation(
            account=account, thread_key=key, author=author, subject=message.text[:200],
            intent=triaged.intent, intent_source=triaged.classified_by, sentiment=triaged.sentiment,
            sentiment_score=triaged.sentiment_score, language=triaged.language,
            is_influencer=triage.is_influencer(author.followers, author.verified, settings_row),
            is_sensitive=triaged.is_sensitive, sensitive_categories=triaged.sensitive_categories,
            created_at=now, last_message_at=message.sent_at, opened_at=message.sent_at,
        )
        sla.start_clocks(conversation, at=message.sent_at, spec=spec, book=book)
        conversations[key] = conversation
        new_conversations.append(conversation)
        first_text[key] = message.text
    decisions = [routing.route(c, first_text[c.thread_key], rules) for c in new_conversations]

    # Bring every touched conversation up to date in memory (counts, preview,
    # reopen, escalation) before writing: new conversations are then inserted
    # complete, and the pre-existing ones get an UPDATE of what this batch changed.
    new_keys = {c.thread_key for c in new_conversations}
    # Per pre-existing conversation: the fields a transition below changed (beyond the counters) and how many
    # messages it gained.
    changed: dict[str, set[str]] = {}
    gained: dict[str, int] = {}
    events, escalations = [], []
    arrived_in: dict[int, int | None] = {}
    for message in fresh:
        key = thread_key_for(message)
        conversation = conversations[key]
        triaged = results[message.index]
        is_new = key in new_keys
        conversation.message_count += 1
        if message.sent_at >= conversation.last_message_at or (is_new and conversation.message_count == 1):
            conversation.last_message_at = max(conversation.last_message_at, message.sent_at)
            conversation.last_message_preview = message.text[:200]
            conversation.sentiment, conversation.sentiment_score = triaged.sentiment, triaged.sentiment_score
        if not is_new:
            fields = changed.setdefault(key, set())
            gained[key] = gained.get(key, 0) + 1
            after_resolution = conversation.resolved_at is None or message.sent_at > conversation.resolved_at
            if conversation.status in (Conversation.Status.RESOLVED, Conversation.Status.CLOSED) and after_resolution:
                previous = conversation.status
                conversation.status = Conversation.Status.OPEN
                sla.start_clocks(conversation, at=message.sent_at, spec=spec, book=book)
                fields.update(REOPEN_FIELDS)
                events.append(ConversationEvent(conversation=conversation, kind="reopened",
                                                data={"from": previous, "by_message": message.platform_message_id}))
                result.conversations_reopened += 1
            elif conversation.status == Conversation.Status.WAITING and (
                    conversation.sla_paused_at is None or message.sent_at > conversation.sla_paused_at):
                conversation.status = Conversation.Status.OPEN
                sla.resume(conversation, at=message.sent_at, spec=spec)
                fields.update(RESUME_FIELDS)
                events.append(ConversationEvent(conversation=conversation, kind="customer_replied", data={}))
        if triaged.is_sensitive and not conversation.is_sensitive:
            conversation.is_sensitive = True
            conversation.sensitive_categories = triaged.sensitive_categories
            if conversation.intent_source != "agent":
                conversation.intent, conversation.intent_source = triaged.intent, triaged.classified_by
                if not is_new:
                    sla.retarget(conversation, spec=spec, book=book)
            escalations.append(routing.route(conversation, message.text, rules))
            if not is_new:
                changed[key].update(ESCALATION_FIELDS)
            if not is_new and conversation.assignee_id and not Membership.objects.active().filter(
                    user_id=conversation.assignee_id, department_id=conversation.department_id).exists():
                # The specialist team takes it over: the previous assignee's queue no longer holds it.
                events.append(ConversationEvent(conversation=conversation, kind="unassigned_escalation",
                                                data={"assignee": conversation.assignee_id}))
                conversation.assignee = None
                changed[key].add("assignee")
        # The department the message arrived in (after an escalation it caused): where TopicDay counts it.
        arrived_in[message.index] = conversation.department_id
    for key in new_keys:
        conversation = conversations[key]
        if not conversation.last_message_preview:
            conversation.last_message_preview = conversation.subject
        sla.set_next_check(conversation)

    Conversation.objects.bulk_create(new_conversations)
    for decision in decisions + escalations:
        decision.conversation_id = decision.conversation.pk
    RoutingDecision.objects.bulk_create(decisions + escalations)
    result.conversations_created = len(new_conversations)
    from .services import assign_round_robin

    assign_round_robin(new_conversations)

    messages = []
    outside = outside_service_hours(spec, [message.sent_at for message in fresh])
    for message, is_outside in zip(fresh, outside, strict=True):
        triaged = results[message.index]
        conversation = conversations[thread_key_for(message)]
        messages.append(Message(
            conversation=conversation, account=account, platform_message_id=message.platform_message_id,
            direction=Message.Direction.INBOUND, kind=message.kind, author=authors[message.author_id],
            text=message.text, language=triaged.language, url=message.url, in_reply_to=message.in_reply_to,
            sent_at=message.sent_at, received_at=now, sentiment_score=triaged.sentiment_score,
            sentiment=triaged.sentiment, intent=triaged.intent, classified_by=triaged.classified_by,
            outside_service_hours=is_outside, raw={"source": source},
        ))
    Message.objects.bulk_create(messages, batch_size=1000)
    result.created = len(messages)
    result.message_ids = [m.pk for m in messages if m.pk]
    topics.add_topic_counts(topics.topic_counts(
        (account.pk, arrived_in[message.index], message.sent_at, message.text, results[message.index].language)
        for message in fresh))

    _update_existing({key: conversations[key] for key in changed}, changed, gained)
    ConversationEvent.objects.bulk_create(events)


# What ingest writes on a conversation that already exists. Always the counters (message_count + n and the
# later of two times, relative to the row; the newest message's preview and sentiment); the rest only when a
# transition of this batch changed it. Nothing else is ever written back: assignee, status, resolution and the
# SLA flags belong to the agents and the sweep.
COUNTER_FIELDS = ("message_count", "last_message_at", "last_message_preview", "sentiment", "sentiment_score")
REOPEN_FIELDS = (  # a new SLA cycle: sla.start_clocks
    "status", "opened_at", "first_response_at", "first_response_service_minutes", "first_response_breached",
    "first_response_due_at", "first_response_warn_at", "resolution_due_at", "resolution_warn_at", "resolved_at",
    "resolution_service_minutes", "sla_paused_at", "sla_warned", "sla_breached", "sla_next_check_at",
)
RESUME_FIELDS = (  # the customer answered while we waited: sla.resume
    "status", "sla_paused_at", "resolution_due_at", "resolution_warn_at", "sla_next_check_at",
)
ESCALATION_FIELDS = (  # a sensitive message: routing.route and sla.retarget
    "is_sensitive", "sensitive_categories", "intent", "intent_source", "department", "priority",
    "first_response_due_at", "first_response_warn_at", "resolution_due_at", "resolution_warn_at",
    "first_response_breached", "sla_next_check_at",
)


def _update_existing(conversations: dict[str, Conversation], changed: dict[str, set[str]],
                     gained: dict[str, int]) -> None:
    """One bulk UPDATE per set of changed fields (a handful per batch: plain, reopened, resumed, escalated),
    not one per conversation or message. The preview and sentiment go as values computed under the row lock:
    a conditional expression per row (CASE WHEN last_message_at <= ...) doubled the Python cost of the batch."""
    groups: dict[tuple[str, ...], list[Conversation]] = {}
    for key, conversation in conversations.items():
        row = Conversation(pk=conversation.pk)
        row.message_count = F("message_count") + gained[key]
        row.last_message_at = Greatest(F("last_message_at"), Value(conversation.last_message_at))
        # Read under the row lock and changed only by ingest, which runs one batch per account at a time.
        row.last_message_preview = conversation.last_message_preview
        row.sentiment, row.sentiment_score = conversation.sentiment, conversation.sentiment_score
        fields = tuple(sorted(changed[key]))
        for name in fields:
            attname = Conversation._meta.get_field(name).attname
            setattr(row, attname, getattr(conversation, attname))
        groups.setdefault(COUNTER_FIELDS + fields, []).append(row)
    for fields, rows in groups.items():
        Conversation.objects.bulk_update(rows, fields, batch_size=200)


def _upsert_authors(platform: str, messages: list[IncomingMessage]) -> dict[str, Author]:
    latest: dict[str, IncomingMessage] = {}
    for message in messages:
        latest[message.author_id] = message
    existing = {a.external_id: a for a in Author.objects.filter(platform=platform, external_id__in=list(latest))}
    to_create, to_update = [], []
    for external_id, message in latest.items():
        author = existing.get(external_id)
        if author is None:
            to_create.append(Author(platform=platform, external_id=external_id, handle=message.author_handle,
                                    display_name=message.author_name, followers=message.followers,
                                    verified=message.verified))
        elif (author.handle, author.display_name, author.followers, author.verified) != (
                message.author_handle, message.author_name, message.followers, message.verified):
            author.handle, author.display_name = message.author_handle, message.author_name
            author.followers, author.verified = message.followers, message.verified
            to_update.append(author)
    if to_create:
        Author.objects.bulk_create(to_create, ignore_conflicts=True)
        existing.update({a.external_id: a for a in Author.objects.filter(
            platform=platform, external_id__in=[a.external_id for a in to_create])})
    if to_update:
        Author.objects.bulk_update(to_update, ["handle", "display_name", "followers", "verified"])
    return existing
