"""Social accounts, publishing rights, credential custody and the audit log."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import Department


class Platform(models.TextChoices):
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    X = "x", "X (Twitter)"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    LINKEDIN = "linkedin", "LinkedIn"
    YOUTUBE = "youtube", "YouTube"
    TIKTOK = "tiktok", "TikTok"
    OTHER = "other", _("Other")


class Capability(models.TextChoices):
    """What a right on a social account lets someone do. Posts (strategy)
    and replies (inbox) share these."""

    DRAFT = "draft", _("Draft")
    REPLY = "reply", _("Reply")
    PUBLISH = "publish", _("Publish")
    APPROVE = "approve", _("Approve")
    MANAGE = "manage", _("Manage")

    @property
    def perm(self) -> str:
        return f"security.{self.value}_socialaccount"

    @property
    def codename(self) -> str:
        return f"{self.value}_socialaccount"


# Only named people may hold these; draft may also go to a department.
PERSONAL_CAPABILITIES = {Capability.REPLY, Capability.PUBLISH, Capability.APPROVE, Capability.MANAGE}
TRAINING_REQUIRED = {Capability.PUBLISH, Capability.APPROVE}


class SocialAccount(models.Model):
    """A channel: a platform and a handle, owned by the organisation."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        RETIRED = "retired", _("Retired")

    platform = models.CharField(max_length=20, choices=Platform.choices)
    handle = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, blank=True)
    owner_organisation = models.CharField(
        max_length=200, help_text=_("Accounts belong to the organisation, never to a person.")
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    departments = models.ManyToManyField(Department, blank=True, related_name="social_accounts")
    max_publishers = models.PositiveSmallIntegerField(default=3)
    rotation_days = models.PositiveSmallIntegerField(default=90, help_text=_("Credential rotation policy."))
    sandbox = models.BooleanField(
        default=False,
        help_text=_("A sandbox channel: replies and posts go to the portal's own sandbox platform, never online."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [models.UniqueConstraint(fields=["platform", "handle"], name="socialaccount_unique_handle")]
        indexes = [models.Index(fields=["status"], name="socialaccount_status")]
        permissions = [
            ("draft_socialaccount", "Can draft posts and replies for this account"),
            ("reply_socialaccount", "Can send replies from this account"),
            ("publish_socialaccount", "Can publish posts on this account"),
            ("approve_socialaccount", "Can approve drafts for this account"),
            ("manage_socialaccount", "Can grant and revoke rights on this account"),
        ]

    def __str__(self):
        return f"{self.get_platform_display()} {self.handle}"


class SocialAccountUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(SocialAccount, on_delete=models.CASCADE)


class SocialAccountGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SocialAccount, on_delete=models.CASCADE)


class PublishingGrantQuerySet(models.QuerySet):
    def current(self, at=None):
        """Not revoked and not expired: expiry needs no job to take effect."""
        at = at or timezone.now()
        return self.filter(Q(revoked_at__isnull=True), Q(expires_at__isnull=True) | Q(expires_at__gt=at))


class PublishingGrant(models.Model):
    """A right on record: who holds which capability on which account, who
    granted it, why, until when, and who revoked it."""

    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="grants")
    capability = models.CharField(max_length=10, choices=Capability.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="publishing_grants")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="publishing_grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revoke_reason = models.CharField(max_length=500, blank=True)
    allows_own_posts = models.BooleanField(
        default=False, help_text=_("Publish only: the holder may publish their own posts without a second "
                                   "person's approval (off by default: four eyes)."))

    objects = PublishingGrantQuerySet.as_manager()

    class Meta:
        ordering = ["account", "capability", "-granted_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(department__isnull=True))
                | (Q(user__isnull=True) & Q(department__isnull=False)),
                name="grant_to_user_xor_department",
            ),
            models.UniqueConstraint(fields=["account", "capability", "user"],
                                    condition=Q(revoked_at__isnull=True, user__isnull=False),
                                    name="grant_one_open_per_user"),
            models.UniqueConstraint(fields=["account", "capability", "department"],
                                    condition=Q(revoked_at__isnull=True, department__isnull=False),
                                    name="grant_one_open_per_department"),
        ]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="grant_user_open"),
            models.Index(fields=["account", "capability", "revoked_at"], name="grant_account_open"),
        ]

    def __str__(self):
        return f"{self.get_capability_display()} on {self.account} for {self.holder}"

    @property
    def holder(self):
        return self.user if self.user_id else self.department

    @property
    def is_current(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class TrainingRecord(models.Model):
    """Social media training on record, entered by an admin."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records")
    course = models.CharField(max_length=200, default="Social media training")
    completed_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    notes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on"]
        indexes = [models.Index(fields=["user", "-completed_on"], name="training_user_latest")]

    def __str__(self):
        return f"{self.user} · {self.course} · {self.completed_on}"

    @staticmethod
    def valid_since():
        return timezone.localdate() - timedelta(days=settings.SOCIALOPS_TRAINING_VALIDITY_DAYS)


class Credential(models.Model):
    """An account's secret, encrypted at rest (MultiFernet). The plaintext
    never leaves the vault except through a reveal or the connectors'
    internal service."""

    class Kind(models.TextChoices):
        PASSWORD = "password", _("Password")
        API_TOKEN = "api_token", _("API token")
        OAUTH_REFRESH_TOKEN = "oauth_refresh_token", _("OAuth refresh token")
        RECOVERY_CODES = "recovery_codes", _("Recovery codes")
        TOTP_SEED = "totp_seed", _("2FA seed")
        WEBHOOK_SECRET = "webhook_secret", _("Webhook secret")
        OTHER = "other", _("Other")

    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="credentials")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    label = models.CharField(max_length=200, blank=True)
    ciphertext = models.TextField(editable=False)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_rotated_at = models.DateTimeField(default=timezone.now)
    rotation_forced_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set when the secret was revealed: it must be rotated.")
    )
    rotation_forced_reason = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account", "kind"]
        constraints = [models.UniqueConstraint(fields=["account", "kind", "label"], name="credential_unique_kind")]

    def __str__(self):
        return f"{self.account} · {self.get_kind_display()}{f' ({self.label})' if self.label else ''}"

    @property
    def rotation_due_at(self):
        scheduled = self.last_rotated_at + timedelta(days=self.account.rotation_days)
        if self.rotation_forced_at:
            return min(scheduled, self.rotation_forced_at)
        return scheduled

    @property
    def is_rotation_due(self) -> bool:
        return self.rotation_due_at <= timezone.now()


class Custodian(models.Model):
    """Someone answerable for an account's credentials."""

    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="custodians")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="custodianships")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["account", "added_at"]
        constraints = [models.UniqueConstraint(fields=["account", "user"], condition=Q(removed_at__isnull=True),
                                               name="custodian_one_open")]

    def __str__(self):
        return f"{self.user} for {self.account}"


class RevealRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a custodian")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        REVEALED = "revealed", _("Revealed")
        EXPIRED = "expired", _("Expired")

    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="reveal_requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reveal_requests")
    reason = models.CharField(max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    is_break_glass = models.BooleanField(default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    visible_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="reveal_status")]

    def __str__(self):
        return f"Reveal of {self.credential} for {self.requester} ({self.status})"


class UserSession(models.Model):
    """Which session keys belong to whom, so offboarding can end them all
    without decoding every session in the table."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"session of user #{self.user_id}"


class AuditEvent(models.Model):
    """Append-only and hash-chained: each row carries the hash of the one
    before it, and PostgreSQL refuses UPDATE and DELETE on the table."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    account_id = models.BigIntegerField(null=True, blank=True, help_text=_("The social account concerned, if any."))
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["action", "-id"], name="audit_action"),
            models.Index(fields=["actor", "-id"], name="audit_actor"),
            models.Index(fields=["account_id", "-id"], name="audit_account"),
            models.Index(fields=["created_at"], name="audit_created"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action} {self.target_repr}"


class AuditCheckpoint(models.Model):
    """The audit chain's head and length at a moment, written every hour to
    its own append-only table (PostgreSQL refuses UPDATE, DELETE and
    TRUNCATE). A later verification that finds fewer events, or another
    hash at the recorded head, knows the log shrank or was rebuilt."""

    created_at = models.DateTimeField(default=timezone.now)
    event_count = models.PositiveBigIntegerField()
    head_id = models.BigIntegerField(null=True, blank=True,
                                     help_text=_("Id of the last event; empty for an empty log."))
    head_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_at"], name="audit_checkpoint_created")]

    def __str__(self):
        return f"checkpoint #{self.pk} at {self.created_at:%Y-%m-%d %H:%M}: {self.event_count} events"
