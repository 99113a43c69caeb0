"""The strategy register: brands, their strategies, who owns which part,
objectives with KPIs, audience segments, channel plans, campaigns with
budgets and spend, and the decision log.

Every model that belongs to a strategy keeps its history with
django-simple-history (who, when, why): a strategy is a living document,
and any two moments of it can be compared field by field
(``strategy.versions``). Money is ``Decimal`` with its currency, never a
float. People are referenced with ``PROTECT``: a decision or an objective
stays on record with its author when they leave."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Department
from security.models import SocialAccount

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code, e.g. EUR."))
MONEY = {"max_digits": 14, "decimal_places": 2}


class Brand(models.Model):
    """A brand the organisation runs channels for. Its social accounts are
    linked here, on the strategy side: the security app knows nothing of brands."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="brands")
    managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_brands",
                                      help_text=_("The social media managers who plan this brand's strategies."))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[accounts, managers])

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Strategy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        UNDER_REVIEW = "under_review", _("Under review")
        RETIRED = "retired", _("Retired")

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="strategies")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    accountable = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accountable_strategies",
        help_text=_("The social media manager accountable for this strategy."),
    )
    review_cadence_months = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text=_("Quarterly by default."))
    next_review_on = models.DateField(null=True, blank=True)
    # The last day a "review due" / "review overdue" reminder went out (the schedule sends each once).
    review_due_reminded_on = models.DateField(null=True, blank=True)
    review_overdue_reminded_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["review_due_reminded_on", "review_overdue_reminded_on",
                                                 "updated_at"])

    class Meta:
        ordering = ["brand__name", "title"]
        verbose_name_plural = _("strategies")
        indexes = [
            models.Index(fields=["status", "brand"], name="strategy_status_brand"),
            models.Index(fields=["next_review_on"], name="strategy_review_due",
                         condition=Q(status__in=["active", "under_review"])),
        ]

    def __str__(self):
        return f"{self.brand}: {self.title}"


class StrategyOwner(models.Model):
    """A person owning parts of a strategy for their department. Ownership
    ends (``ended_at``) rather than disappearing, so the history stays true."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="owners")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="strategy_ownerships")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="strategy_ownerships")
    responsibility = models.CharField(max_length=300, blank=True,
                                      help_text=_("What this owner answers for, in a line."))
    added_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["department__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "user", "department"], condition=Q(ended_at__isnull=True),
                                    name="strategyowner_one_open"),
        ]

    def __str__(self):
        return f"{self.user} ({self.department})"


class Objective(models.Model):
    class Kind(models.TextChoices):
        PROACTIVE = "proactive", _("Proactive")
        REACTIVE = "reactive", _("Reactive")

    class Category(models.TextChoices):
        AWARENESS = "awareness", _("Awareness")
        TRAFFIC = "traffic", _("Traffic")
        SALES = "sales", _("Sales")
        EMPLOYER_BRAND = "employer_brand", _("Employer brand")
        CUSTOMER_SERVICE = "customer_service", _("Customer service")
        MONITORING = "monitoring", _("Monitoring")
        REPUTATION = "reputation", _("Reputation")

    PROACTIVE_CATEGORIES = {Category.AWARENESS, Category.TRAFFIC, Category.SALES, Category.EMPLOYER_BRAND}

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="objectives")
    owner = models.ForeignKey(StrategyOwner, on_delete=models.PROTECT, related_name="objectives")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    kpi = models.CharField(_("KPI"), max_length=40, help_text=_("What is measured (strategy.kpis)."))
    baseline = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    starts_on = models.DateField()
    deadline = models.DateField()
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="+",
                                      help_text=_("The social accounts it covers."))
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords(m2m_fields=[accounts])

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(deadline__gt=models.F("starts_on")),
                                   name="objective_deadline_after_start"),
        ]

    def __str__(self):
        return self.title


class KpiValue(models.Model):
    """A value of a KPI the portal cannot see (followers, site traffic,
    sales, hires), entered by hand by the owning department."""

    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="manual_values")
    value = models.DecimalField(max_digits=14, decimal_places=2)
    measured_on = models.DateField()
    source = models.CharField(max_length=200, help_text=_("Where the figure comes from, e.g. 'Google Analytics'."))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["objective", "measured_on", "id"]
        indexes = [models.Index(fields=["objective", "-measured_on"], name="kpivalue_latest")]

    def __str__(self):
        return f"{self.value} on {self.measured_on}"


class Segment(models.Model):
    class Kind(models.TextChoices):
        DEMOGRAPHIC = "demographic", _("Demographic")
        PSYCHOGRAPHIC = "psychographic", _("Psychographic")
        BEHAVIOURAL = "behavioural", _("Behavioural")
        TECHNOLOGY = "technology", _("Technology-based")
        LIFE_STAGE = "life_stage", _("Life stage")

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="segments")
    owner = models.ForeignKey(StrategyOwner, on_delete=models.PROTECT, related_name="segments")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.TextField(blank=True)
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="+",
                                      help_text=_("The channels that reach them."))
    history = HistoricalRecords(m2m_fields=[accounts])

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["strategy", "name"], name="segment_unique_name")]

    def __str__(self):
        return self.name


class ChannelPlan(models.Model):
    class Coverage(models.TextChoices):
        ALWAYS = "always", _("24/7")
        BUSINESS_HOURS = "business_hours", _("Business hours")

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="channel_plans")
    owner = models.ForeignKey(StrategyOwner, on_delete=models.PROTECT, related_name="channel_plans")
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="+")
    rationale = models.TextField(help_text=_("Why this channel for these segments."))
    segments = models.ManyToManyField(Segment, blank=True, related_name="channel_plans")
    tone = models.TextField(blank=True, help_text=_("Tone, and the network's norms."))
    posts_per_week = models.PositiveSmallIntegerField(default=3)
    promised_coverage = models.CharField(max_length=16, choices=Coverage.choices, default=Coverage.BUSINESS_HOURS,
                                         help_text=_("The service the plan promises on this channel."))
    budget = models.DecimalField(**MONEY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="EUR", validators=[CURRENCY_VALIDATOR])
    history = HistoricalRecords(m2m_fields=[segments])

    class Meta:
        ordering = ["account__platform", "account__handle"]
        constraints = [models.UniqueConstraint(fields=["strategy", "account"], name="channelplan_one_per_account")]

    def __str__(self):
        return f"Plan for {self.account}"


class Campaign(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="campaigns")
    owner = models.ForeignKey(StrategyOwner, on_delete=models.PROTECT, related_name="campaigns")
    objective = models.ForeignKey(Objective, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="campaigns")
    name = models.CharField(max_length=200)
    accounts = models.ManyToManyField(SocialAccount, blank=True, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    budget = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(max_length=3, default="EUR", validators=[CURRENCY_VALIDATOR])
    # Which budget alerts went out (set once each, with a conditional update).
    alerted_90 = models.BooleanField(default=False)
    alerted_100 = models.BooleanField(default=False)
    history = HistoricalRecords(m2m_fields=[accounts], excluded_fields=["alerted_90", "alerted_100"])

    class Meta:
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_ends_after_start"),
        ]

    def __str__(self):
        return self.name


class Spend(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="spend")
    amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    spent_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["spent_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="spend_positive")]

    def __str__(self):
        return f"{self.amount} {self.currency} on {self.spent_on}"


class Decision(models.Model):
    """The decision log: what was decided, by whom, why, and what else was
    considered. Kept when people leave (``PROTECT``)."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="decisions")
    decided_on = models.DateField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    rationale = models.TextField()
    alternatives = models.TextField(blank=True, help_text=_("The alternatives considered, and why not."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_on", "-id"]

    def __str__(self):
        return self.title


class StrategyReview(models.Model):
    """A completed review: who reviewed, when, and what changed."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    changes = models.TextField(help_text=_("What the review changed, or why nothing needed to."))
    next_review_on = models.DateField()

    class Meta:
        ordering = ["-reviewed_at", "-id"]

    def __str__(self):
        return f"Review of {self.strategy} on {self.reviewed_at:%Y-%m-%d}"


# --- the executives' weekly reputation digest ---------------------------------------------

class DigestPreference(models.Model):
    """When a person's weekly reputation digest goes out, in their own time
    zone (``User.time_zone``). No row means the default: Monday 08:00, on."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    DEFAULT_WEEKDAY = Weekday.MONDAY
    DEFAULT_HOUR = 8

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="digest_preference")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices, default=DEFAULT_WEEKDAY)
    hour = models.PositiveSmallIntegerField(_("hour"), default=DEFAULT_HOUR,
                                            validators=[MinValueValidator(0), MaxValueValidator(23)])
    enabled = models.BooleanField(_("send me the weekly digest"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="digestpreference_weekday_range"),
            models.CheckConstraint(condition=Q(hour__lte=23), name="digestpreference_hour_range"),
        ]

    def __str__(self):
        return f"Digest of {self.user}: {self.get_weekday_display()} {self.hour:02d}:00"


class DigestDelivery(models.Model):
    """One person's digest for one week. ``(user, week_of)`` is the
    idempotency key: whatever runs twice, a person gets one digest a week.
    A worker claims a row with a conditional update and holds it under a
    lease (``lease_until``); a failure waits ``next_attempt_at`` and is
    tried again until its attempts are used up, then stays failed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="digest_deliveries")
    week_of = models.DateField(help_text=_("The local date the digest was scheduled for."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("digest deliveries")
        constraints = [
            models.UniqueConstraint(fields=["user", "week_of"], name="digestdelivery_one_per_week"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="digestdelivery_due",
                         condition=Q(status__in=["pending", "sending", "failed"])),
            models.Index(fields=["-created_at"], name="digestdelivery_recent"),
        ]

    def __str__(self):
        return f"Digest for {self.user}, week of {self.week_of}"


# --- the content calendar: posts, their review and their publishing ---------------------------------------------

class Post(models.Model):
    """A post for one or more social accounts: drafted by many, approved by someone other than its author
    (four-eyes), published once per account by the publisher (``strategy.publishing``) or by hand.

    Every change goes through ``strategy.services.posts``: the state machine, the rights on each target account
    (``security`` grants: ``draft``, ``approve``, ``publish``), an audit event per transition.

    ``version`` goes up whenever the approvals given so far stop counting: a change of text, targets, media or
    sensitivity, or a check at publish time that failed (an approver lost their right). Approvals record the
    version they approved; those of an older version are shown as outdated."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        UNLISTED = "unlisted", _("Unlisted")
        PRIVATE = "private", _("Followers only")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    text = models.TextField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    accounts = models.ManyToManyField(SocialAccount, through="PostTarget", related_name="posts")
    scheduled_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True,
                                 help_text=_("The author's time zone when the time was set: how it is shown."))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts")
    objective = models.ForeignKey(Objective, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts")
    labels = models.JSONField(default=list, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC,
                                  help_text=_("Who sees it where the platform offers a choice (Mastodon)."))
    marked_sensitive = models.BooleanField(default=False, help_text=_("Marked sensitive by its author."))
    sensitive_categories = models.JSONField(default=list, blank=True,
                                            help_text=_("Found by the inbox's sensitive-term rules."))
    version = models.PositiveIntegerField(default=1)
    edited_by = models.JSONField(default=list, blank=True,
                                 help_text=_("Ids of everyone who changed its content besides the author: none of "
                                             "them may approve it (four eyes)."))
    review_reason = models.CharField(max_length=500, blank=True,
                                     help_text=_("Why it was returned or sent back to review."))
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        indexes = [
            models.Index(fields=["state", "scheduled_at"], name="post_state_time"),  # the publisher's due posts
            models.Index(fields=["scheduled_at", "id"], name="post_time"),  # the calendar's month and week
            models.Index(fields=["author", "state"], name="post_author_state"),
            models.Index(fields=["campaign", "scheduled_at"], name="post_campaign_time"),
        ]

    def __str__(self):
        text = " ".join(self.text.split())
        return text[:60] + ("…" if len(text) > 60 else "")

    @property
    def is_sensitive(self) -> bool:
        return self.marked_sensitive or bool(self.sensitive_categories)


class PostTarget(models.Model):
    """One account a post goes to, and how its publishing went there: each target is published exactly once,
    under its own idempotency key (the key the platform sees), claimed with a lease so that two workers never
    call the platform for it at the same time."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        BY_HAND = "by_hand", _("To publish by hand")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="post_targets")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    platform_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by_hand = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["post", "account"]
        constraints = [models.UniqueConstraint(fields=["post", "account"], name="posttarget_unique")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="posttarget_due"),
                   models.Index(fields=["account", "state"], name="posttarget_account")]

    def __str__(self):
        return f"{self.post} on {self.account}"


def post_media_path(instance, filename: str) -> str:
    """A random name under the post's folder: the uploader's file name is never a path on our disk."""
    extension = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}.get(
        instance.content_type, "bin")
    return f"posts/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class PostMedia(models.Model):
    """An image of a post, stored through Django's storage API, with the alt text every platform shows."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to=post_media_path, max_length=300)
    alt_text = models.CharField(max_length=1500)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    original_name = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "position", "id"]

    def __str__(self):
        return self.original_name or self.file.name


class PostApproval(models.Model):
    """Who approved which version of a post. ``with_right``: the approver held ``approve`` on every target then;
    ``specialist``: the approver was on the specialist team or an executive (the second approval a sensitive
    post needs)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="post_approvals")
    version = models.PositiveIntegerField()
    with_right = models.BooleanField(default=True)
    specialist = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["post", "approver", "version"],
                                               name="postapproval_once_per_version")]

    def __str__(self):
        return f"{self.approver} approved version {self.version} of {self.post}"


class PostComment(models.Model):
    """The review thread: comments, and the reasons a post was returned or sent back to review."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("Comment")
        RETURNED = "returned", _("Returned")
        SYSTEM = "system", _("Portal")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.post}"


class CalendarFeed(models.Model):
    """A person's secret iCalendar feed address. Only a hash of the token is kept; revoking ends it at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Calendar feed of {self.user}"
