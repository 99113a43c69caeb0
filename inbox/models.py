"""The shared inbox: conversations and messages from every channel, their
triage, routing, service windows and SLA clocks, replies, notes and tags.

Conversations carry what the reputation reports need later: intent,
sentiment, department, first response time inside service hours."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department
from security.models import SocialAccount


class Intent(models.TextChoices):
    SIMPLE_QUERY = "simple_query", _("Simple query")
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    SALES_LEAD = "sales_lead", _("Sales lead")
    SENSITIVE = "sensitive", _("Sensitive")
    SPAM = "spam", _("Spam")
    OTHER = "other", _("Other")


class Sentiment(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class MessageKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    COMMENT = "comment", _("Comment")
    DIRECT = "direct", _("Direct message")


# --- service windows --------------------------------------------------------

class ServiceWindow(models.Model):
    """When a channel is watched: its own IANA time zone, opening periods per
    weekday, public holidays and one-off closures. SLA clocks only run
    inside it."""

    account = models.OneToOneField(SocialAccount, on_delete=models.CASCADE, related_name="service_window")
    time_zone = models.CharField(max_length=64, default="UTC")
    always_open = models.BooleanField(_("24/7"), default=False)
    holiday_country = models.CharField(max_length=8, blank=True, help_text=_("ISO country code, e.g. ES"))
    holiday_subdivision = models.CharField(max_length=16, blank=True)

    def __str__(self):
        return f"Service window of {self.account}"

    def clean(self):
        from accounts.models import validate_time_zone

        validate_time_zone(self.time_zone)


class ServicePeriod(models.Model):
    """One opening period of a weekday, in minutes after local midnight
    (several per day for lunch breaks; 1440 closes at midnight)."""

    window = models.ForeignKey(ServiceWindow, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(choices=[(i, d) for i, d in enumerate(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])])
    opens_minute = models.PositiveSmallIntegerField()
    closes_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["weekday", "opens_minute"]
        constraints = [
            models.CheckConstraint(condition=Q(opens_minute__lt=models.F("closes_minute")) & Q(closes_minute__lte=1440),
                                   name="period_opens_before_closes"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.label}"

    @property
    def label(self) -> str:
        return (f"{self.opens_minute // 60:02d}:{self.opens_minute % 60:02d}-"
                f"{self.closes_minute // 60:02d}:{self.closes_minute % 60:02d}")


class ServiceClosure(models.Model):
    window = models.ForeignKey(ServiceWindow, on_delete=models.CASCADE, related_name="closures")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self):
        return f"Closed {self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The closure must end after it starts.")})


class SlaPolicy(models.Model):
    """Targets per intent, optionally for one channel; minutes of service time."""

    intent = models.CharField(max_length=20, choices=Intent.choices)
    account = models.ForeignKey(SocialAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="sla_policies")
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intent", "account"], name="sla_policy_unique"),
            models.UniqueConstraint(fields=["intent"], condition=Q(account__isnull=True),
                                    name="sla_policy_unique_default"),
        ]

    def __str__(self):
        return f"{self.get_intent_display()}: {self.first_response_minutes} min / {self.resolution_minutes} min"


# --- triage configuration -------------------------------------------------

class TriageSettings(models.Model):
    """The organisation's triage settings (one row)."""

    influencer_followers = models.PositiveIntegerField(default=10_000)
    verified_is_influencer = models.BooleanField(default=True)
    default_department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+", help_text=_("Queue for unmatched conversations."))

    def __str__(self):
        return "Triage settings"

    @classmethod
    def current(cls) -> "TriageSettings":
        obj = cls.objects.select_related("default_department").first()
        return obj or cls.objects.create()


class SensitiveTerm(models.Model):
    class Category(models.TextChoices):
        LEGAL = "legal", _("Legal threat")
        SAFETY = "safety", _("Safety")
        PRIVACY = "privacy", _("Privacy or data breach")
        HARASSMENT = "harassment", _("Harassment")
        SELF_HARM = "self_harm", _("Self-harm")
        PRESS = "press", _("Press enquiry")

    language = models.CharField(max_length=8)
    category = models.CharField(max_length=16, choices=Category.choices)
    term = models.CharField(max_length=100)

    class Meta:
        ordering = ["language", "category", "term"]
        constraints = [models.UniqueConstraint(fields=["language", "term"], name="sensitive_term_unique")]

    def __str__(self):
        return f"{self.language}: {self.term} ({self.category})"


class TriageModel(models.Model):
    """A trained intent classifier (scikit-learn pipeline, pickled by us and
    loaded only from our own database)."""

    version = models.CharField(max_length=32, unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    training_size = models.PositiveIntegerField()
    accuracy = models.FloatField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    pipeline = models.BinaryField()

    class Meta:
        ordering = ["-trained_at"]

    def __str__(self):
        return self.version


class RoutingRule(models.Model):
    """Conditions -> a department queue and a priority. Evaluated in order;
    the first match wins. Empty conditions match anything."""

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    intent = models.CharField(max_length=20, choices=Intent.choices, blank=True)
    keywords = models.CharField(max_length=500, blank=True, help_text=_("Comma-separated; any one matches."))
    account = models.ForeignKey(SocialAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=8, blank=True)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="routing_rules")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="routingrule_name_unique_ci",
                                    violation_error_message=_("A routing rule with this name already exists.")),
        ]

    def __str__(self):
        return self.name

    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]


# --- conversations and messages -------------------------------------------

class Author(models.Model):
    """Someone on a platform who writes to the organisation."""

    platform = models.CharField(max_length=20)
    external_id = models.CharField(max_length=200)
    handle = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, blank=True)
    followers = models.PositiveIntegerField(default=0)
    verified = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "external_id"], name="author_unique")]

    def __str__(self):
        return self.display_name or self.handle


class Conversation(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)

    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="conversations")
    thread_key = models.CharField(max_length=300, help_text=_("Platform thread, or dm:<author> for direct messages."))
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="conversations")
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    intent = models.CharField(max_length=20, choices=Intent.choices, default=Intent.OTHER)
    intent_source = models.CharField(max_length=40, blank=True, help_text=_("rules/model version, or 'agent'."))
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    sentiment_score = models.FloatField(default=0.0)
    language = models.CharField(max_length=8, blank=True)
    is_influencer = models.BooleanField(default=False)
    is_sensitive = models.BooleanField(default=False)
    sensitive_categories = models.JSONField(default=list, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="conversations")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="assigned_conversations")
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(default=timezone.now)
    last_message_preview = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(default=timezone.now, help_text=_("Start of the current SLA cycle."))
    # SLA clocks (service-time targets, precomputed as wall-clock instants)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_service_minutes = models.FloatField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False, help_text=_("Answered after its target."))
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Written once when the conversation is resolved, with the channel's service window of that moment: a later
    # change to the window does not rewrite history (the reports read these columns, never re-run the clock).
    resolution_service_minutes = models.FloatField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_warned = models.BooleanField(default=False)
    sla_breached = models.BooleanField(default=False)
    sla_next_check_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        permissions = [("view_all_conversations", "Can see every conversation")]
        constraints = [models.UniqueConstraint(fields=["account", "thread_key"], name="conversation_thread_unique")]
        indexes = [
            models.Index(fields=["status", "department", "first_response_due_at"], name="conv_queue_due"),
            models.Index(fields=["department", "status", "-last_message_at"], name="conv_dept_recent"),
            models.Index(fields=["assignee", "status"], name="conv_assignee"),
            models.Index(fields=["account", "status"], name="conv_account"),
            models.Index(fields=["intent", "status"], name="conv_intent"),
            models.Index(fields=["sentiment", "status"], name="conv_sentiment"),
            models.Index(fields=["priority", "status"], name="conv_priority"),
            models.Index(fields=["sla_breached", "status"], name="conv_breached"),
            models.Index(fields=["sla_next_check_at"], name="conv_sla_sweep",
                         condition=Q(sla_next_check_at__isnull=False)),
            models.Index(fields=["-last_message_at", "-id"], name="conv_recent"),  # sorts newest and oldest
            models.Index(fields=["updated_at"], name="conv_updated"),  # the live list's recent changes
            # The list's other sort orders (inbox.selectors.sort_conversations): due time, priority.
            models.Index(fields=["first_response_due_at", "id"], name="conv_due"),
            models.Index(fields=["-priority", "first_response_due_at", "id"], name="conv_priority_due"),
            # strategy.metrics: conversations of some accounts opened in a period (bench/bench_strategy.py).
            models.Index(fields=["account", "opened_at"], name="conv_account_opened"),
            # strategy.reports: the whole organisation's conversations opened in a period, per department, and the
            # influencer, sensitive and complaint figures and their drill-downs (small partial indexes).
            models.Index(fields=["opened_at"], name="conv_opened"),
            models.Index(fields=["department", "opened_at"], name="conv_dept_opened"),
            models.Index(fields=["opened_at"], name="conv_influencer_opened", condition=Q(is_influencer=True)),
            models.Index(fields=["opened_at"], name="conv_sensitive_opened", condition=Q(is_sensitive=True)),
            models.Index(fields=["opened_at"], name="conv_complaint_opened", condition=Q(intent="complaint")),
        ]

    def __str__(self):
        return f"{self.author} on {self.account} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def clock_due_at(self):
        """The deadline the inbox shows: first response until answered, then resolution."""
        if not self.is_open:
            return None
        if self.first_response_at is None:
            return self.first_response_due_at
        return self.resolution_due_at


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("From the customer")
        OUTBOUND = "out", _("From us")

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="messages")
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="+")
    platform_message_id = models.CharField(max_length=200)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.INBOUND)
    kind = models.CharField(max_length=10, choices=MessageKind.choices, default=MessageKind.MENTION)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    text = models.TextField(help_text=_("Stored exactly as received; escaped on output."))
    language = models.CharField(max_length=8, blank=True)
    url = models.URLField(max_length=500, blank=True)
    in_reply_to = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    sentiment_score = models.FloatField(default=0.0)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    intent = models.CharField(max_length=20, choices=Intent.choices, default=Intent.OTHER)
    classified_by = models.CharField(max_length=40, blank=True)
    # Set at ingest for inbound messages: the channel's service window was closed at ``sent_at`` (night, weekend,
    # holiday, closure). A channel without a window (24/7) is never outside. Kept as written: a later change to
    # the window does not rewrite history (``backfill_service_hours`` fills it for messages stored before it).
    outside_service_hours = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [models.UniqueConstraint(fields=["account", "platform_message_id"],
                                               name="message_platform_id_unique")]
        indexes = [
            models.Index(fields=["conversation", "sent_at"], name="message_thread"),
            # strategy.metrics: inbound volume, sentiment and coverage gaps (arrived outside service hours) of some
            # accounts in a period, read from the index alone (bench/bench_strategy.py; key columns: SQLite has no
            # INCLUDE).
            models.Index(fields=["account", "sent_at", "sentiment", "outside_service_hours"],
                         condition=Q(direction="in"), name="message_inbound_time"),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.platform_message_id}"


class TopicDay(models.Model):
    """How many inbound messages used a term, per day, channel and department: the reports' topics (the
    fastest-growing terms) read this rollup instead of the messages' text.

    ``day`` is the date of the message's ``sent_at`` in ``settings.TIME_ZONE``; ``department_key`` is the
    conversation's department id when the message arrived, 0 when it had none; ``term`` comes from
    ``inbox.topics.terms_of``. Written by ingest, in the same transaction as the messages, for newly stored
    inbound messages only (a duplicate that ingest skips is not counted again), with one upsert that adds to the
    existing count.

    - A late message (``sent_at`` days ago) counts on its own day, so the figures of past days stay right when
      late arrivals come in.
    - A status change (resolve, reopen, wait) does not touch the rollup: it counts messages, not conversations.
    - A conversation moved to another department keeps its earlier messages counted where they arrived; later
      messages count under the new department.

    ``rebuild_topic_counts`` recomputes it from the messages (with the conversations' current departments)."""

    day = models.DateField()
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    department_key = models.IntegerField(default=0, help_text=_("Department id, 0 when none."))
    term = models.CharField(max_length=40)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "account", "department_key", "term"],
                                               name="topicday_unique")]
        indexes = [models.Index(fields=["day", "term"], name="topicday_day_term")]

    def __str__(self):
        return f"{self.term} on {self.day}: {self.messages}"


class TopicDayTotal(models.Model):
    """TopicDay added up over every channel and department: how many inbound messages used a term on a day
    (``settings.TIME_ZONE``), for reports of the whole organisation, which would otherwise add up a row per
    channel, department and term (a quarter of the rows to read at a million messages).

    Written by ingest in the same upsert and transaction as TopicDay, so the two always agree (a late message
    counts on its own day in both; status changes and department moves touch neither).
    ``rebuild_topic_counts`` recomputes it from TopicDay."""

    day = models.DateField()
    term = models.CharField(max_length=40)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "term"], name="topicdaytotal_unique")]

    def __str__(self):
        return f"{self.term} on {self.day}: {self.messages} (all channels)"


class RoutingDecision(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="routing_decisions")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=120)
    department = models.ForeignKey(Department, null=True, on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    reason = models.CharField(max_length=300)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self):
        return f"{self.rule_name} -> {self.department}"


class IntentCorrection(models.Model):
    """An agent's correction of the triage: the training data of the model."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="intent_corrections")
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    old_intent = models.CharField(max_length=20, choices=Intent.choices)
    new_intent = models.CharField(max_length=20, choices=Intent.choices)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["corrected_at"]

    def __str__(self):
        return f"{self.old_intent} -> {self.new_intent}"


class ConversationEvent(models.Model):
    """The conversation's history: status changes, assignments, SLA events."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="conv_event_time")]

    def __str__(self):
        return self.kind


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)

    def __str__(self):
        return self.name


class ConversationTag(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="conversation_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "tag"], name="conversation_tag_unique")]

    def __str__(self):
        return f"{self.tag_id} on {self.conversation_id}"


class Note(models.Model):
    """An internal note; never sent to the customer."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.body[:50]


class SavedReply(models.Model):
    """The department's knowledge; it stays when people leave."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="saved_replies")
    title = models.CharField(max_length=120)
    body = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["department", "title"]
        constraints = [
            models.UniqueConstraint(
                "department", Lower("title"), name="savedreply_title_unique_ci",
                violation_error_message=_("This department already has a saved reply with this title."),
            ),
        ]

    def __str__(self):
        return self.title


class Reply(models.Model):
    """A reply from the organisation. Drafts wait for approval; sending is
    idempotent on ``idempotency_key`` so a retried task never posts twice.

    ``lease_until`` says a worker is sending it right now: an approved or
    sending reply without a live lease is picked up by the every-minute
    sweep, so a worker killed mid-send or a lost task loses nothing.
    ``client_token`` is the composer's one key per compose action: a second
    submit with it returns this reply instead of creating another."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending", _("Waiting for approval")
        RETURNED = "returned", _("Returned with a comment")
        APPROVED = "approved", _("Approved, sending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inbox_replies")
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices)
    needs_specialist = models.BooleanField(default=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.CharField(max_length=1000, blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    client_token = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True)
    platform_message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when someone posted the reply on the platform by hand and said so.
    sent_by_hand = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    sent_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    UNSENT_STATUSES = (Status.APPROVED, Status.SENDING)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "client_token"], name="reply_client_token_unique",
                                    condition=Q(client_token__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["status", "conversation"], name="reply_status"),
            # The sweep's read: only replies still to send are in it.
            models.Index(fields=["created_at"], name="reply_unsent",
                         condition=Q(status__in=["approved", "sending"], sent_at__isnull=True)),
        ]

    def __str__(self):
        return f"Reply {self.pk} ({self.status})"


class ConnectorState(models.Model):
    """Where polling stands for one account: the cursor is only advanced
    after the messages before it are stored; back-off after 429/5xx."""

    account = models.OneToOneField(SocialAccount, on_delete=models.CASCADE, related_name="connector_state")
    base_url = models.URLField(blank=True, help_text=_("The platform's API address, e.g. https://mastodon.social"))
    polling_enabled = models.BooleanField(default=False)
    cursor = models.JSONField(default=dict, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    max_characters = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The longest post the instance takes, as it reported (Mastodon)."))

    def __str__(self):
        return f"Connector state of {self.account}"


class WebhookDelivery(models.Model):
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    delivery_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(default=timezone.now)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "delivery_id"], name="webhook_delivery_unique")]

    def __str__(self):
        return self.delivery_id


class QueueSettings(models.Model):
    """Per department queue: optional round-robin auto-assignment."""

    department = models.OneToOneField(Department, on_delete=models.CASCADE, related_name="queue_settings")
    auto_assign = models.BooleanField(default=False)
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    def __str__(self):
        return f"Queue of {self.department}"


class ConversationSeen(models.Model):
    """When a person last opened a conversation: it is unread for them while
    its ``last_message_at`` is later (or they never opened it)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="seen_by")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="conversationseen_unique")]

    def __str__(self):
        return f"{self.user} saw {self.conversation_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class SandboxPost(models.Model):
    """What the sandbox platform received: a reply or a post sent from the
    portal to a sandbox channel (a demo or training channel that never
    leaves the portal). The sandbox channel page shows these as a customer
    would see them. ``idempotency_key`` makes a retried send return the
    first post instead of a second one, as a real platform's key does."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        POST = "post", _("Post")

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="sandbox_posts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    in_reply_to = models.CharField(max_length=300, blank=True, help_text=_("The platform id answered, for replies."))
    thread_key = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="sandboxpost_account_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.account} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def platform_id(self) -> str:
        return f"sandbox-{self.pk}"
