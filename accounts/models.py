import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken

from .roles import Role


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known IANA time zone."), params={"value": value})


def _new_session_stamp() -> str:
    import secrets

    return secrets.token_hex(16)


class User(AbstractUser):
    """A person in the organisation. Never deleted: offboarding deactivates."""

    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    offboarded_at = models.DateTimeField(null=True, blank=True)
    # Part of the session hash: changing it ends every session of this person at
    # once ("sign out everywhere", offboarding, a password reset).
    session_stamp = models.CharField(max_length=32, default=_new_session_stamp, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        ordering = ["first_name", "last_name", "username"]

    def __str__(self):
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # The one place every password change passes (forms, reset links,
        # services, ``changepassword``): a new password ends every API token.
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            ApiToken.objects.filter(user=self).delete()

    def _get_session_auth_hash(self, secret=None):
        # Django's hash covers the password; ours also covers the session stamp.
        from django.utils.crypto import salted_hmac

        return salted_hmac("socialops.accounts.User.session_auth_hash", f"{self.password}:{self.session_stamp}",
                           secret=secret, algorithm="sha256").hexdigest()


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    is_specialist_team = models.BooleanField(
        default=False, help_text=_("Takes sensitive conversations and influencers.")
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_departments",
        help_text=_("Receives escalations for this department's queue."),
    )
    group = models.OneToOneField(
        "auth.Group", null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="department",
        help_text=_("Holds the department's members, so rights can be granted to the whole department."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Workgroup(models.Model):
    """The cross-department social media workgroup."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="supervised_workgroups",
        blank=True,
        help_text=_("Executives with direct oversight of this workgroup."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("supervise_workgroup", "Can supervise workgroups")]

    def __str__(self):
        return self.name


class MembershipQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(started_at__lte=at), Q(ended_at__isnull=True) | Q(ended_at__gt=at))


class Membership(models.Model):
    """A person holding a role, for a department, in a workgroup, for a
    period. Several rows per person make a hybrid role. Admin and executive
    memberships may have no workgroup: they hold organisation-wide."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="memberships")
    workgroup = models.ForeignKey(
        Workgroup, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["workgroup__name", "department__name", "user__username"]
        permissions = [("manage_people", "Can manage people and structure")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=models.F("started_at")),
                name="membership_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["user", "department", "workgroup", "role"],
                condition=Q(ended_at__isnull=True),
                name="membership_one_open_per_role",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "ended_at"], name="membership_user_open"),
            models.Index(fields=["workgroup", "ended_at"], name="membership_wg_open"),
        ]

    def __str__(self):
        where = f" in {self.workgroup}" if self.workgroup_id else ""
        return f"{self.user} - {self.get_role_display()} ({self.department}){where}"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.started_at <= now and (self.ended_at is None or self.ended_at > now)


class Notification(models.Model):
    """An in-app notification (the bell): SLA warnings, approvals waiting,
    mentions, security alerts. Higher apps create them through
    ``accounts.services.notify``."""

    class Level(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ALERT = "alert", _("Alert")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    kind = models.CharField(max_length=64)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")]

    def __str__(self):
        return self.text


class ApiToken(AbstractAuthToken):
    """An API token (django-rest-knox): only a SHA-512 digest is stored, the
    token itself is shown once at creation. Named by its owner, always with
    an expiry; ends with a password change, offboarding and "sign out
    everywhere". ``reauthenticated_at`` is when the holder last confirmed
    password + second factor through the API (re-authentication window)."""

    name = models.CharField(_("name"), max_length=100)
    last_used_at = models.DateTimeField(null=True, blank=True)
    reauthenticated_at = models.DateTimeField(null=True, blank=True)
    # Created after a second factor (or by someone who needed none then). A
    # token made before its owner came to need one stops working.
    second_factor_verified = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")

    def __str__(self):
        # Never the digest: a list of tokens names them, it does not identify them.
        return f"{self.name} ({self.token_key}…)"


class SecondFactorReset(models.Model):
    """An admin asks to remove someone's second factor (a lost phone); a
    second admin approves it. Four eyes, on record."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a second admin")
        APPROVED = "approved", _("Approved: second factor removed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="second_factor_resets")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="pending"),
                                    name="second_factor_reset_one_pending"),
            models.CheckConstraint(condition=~Q(requested_by=models.F("user")),
                                   name="second_factor_reset_not_self"),
        ]

    def __str__(self):
        return f"Second factor reset for {self.user} ({self.get_status_display()})"
