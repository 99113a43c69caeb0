"""The security API's shapes. Writes are validated here only as far as the
input's form goes; every policy (who may, training, seats, custody) lives in
the services, which name the field they refuse.

No serializer here has a field for a credential's ciphertext or plaintext:
the only shape that carries a secret is RevealResultSerializer, used by the
reveal and break-glass responses alone."""

from rest_framework import serializers

from accounts.models import Department, User

from ..models import (
    AuditEvent,
    Capability,
    Credential,
    PublishingGrant,
    RevealRequest,
    SocialAccount,
    TrainingRecord,
)

# --- social accounts ---------------------------------------------------------


class SocialAccountSerializer(serializers.ModelSerializer):
    departments = serializers.PrimaryKeyRelatedField(many=True, queryset=Department.objects.all(), required=False)

    class Meta:
        model = SocialAccount
        fields = ["id", "platform", "handle", "display_name", "owner_organisation", "status", "departments",
                  "max_publishers", "rotation_days", "created_at"]
        # A new account is always active; it changes status through an update.
        read_only_fields = ["id", "owner_organisation", "status", "created_at"]
        # account_create refuses duplicates itself (case-insensitively), naming "handle".
        validators = []


class SocialAccountUpdateSerializer(SocialAccountSerializer):
    """Platform and handle identify the channel: they are not edited."""

    class Meta(SocialAccountSerializer.Meta):
        read_only_fields = ["id", "platform", "handle", "owner_organisation", "created_at"]


# --- publishing rights -----------------------------------------------------------


class PublishingGrantSerializer(serializers.ModelSerializer):
    is_current = serializers.BooleanField(read_only=True)

    class Meta:
        model = PublishingGrant
        fields = ["id", "account", "capability", "user", "department", "granted_by", "reason", "granted_at",
                  "expires_at", "revoked_at", "revoked_by", "revoke_reason", "is_current", "allows_own_posts"]
        read_only_fields = fields


class PublishingGrantCreateSerializer(serializers.Serializer):
    """Grant to one person, or (draft only) to one department. ``account``
    only accepts accounts the caller can see: any other id is a 400 on
    ``account``, the same answer as for an id that does not exist. Which
    rights the caller may grant, and to whom, is the service's rule
    (``security.services.rights.grant_create``), answered as a 400 naming
    ``capability``, ``user`` or ``department``."""

    account = serializers.PrimaryKeyRelatedField(queryset=SocialAccount.objects.none())
    capability = serializers.ChoiceField(choices=Capability.choices)
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False,
                                                    allow_null=True)
    reason = serializers.CharField(max_length=500)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    allows_own_posts = serializers.BooleanField(
        required=False, default=False,
        help_text="Publish only: the holder may publish their own posts without a second approval (off by default).")

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if accounts is not None:
            self.fields["account"].queryset = accounts


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


# --- training -------------------------------------------------------------------


class TrainingRecordSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())

    class Meta:
        model = TrainingRecord
        fields = ["id", "user", "course", "completed_on", "notes", "recorded_by", "created_at"]
        read_only_fields = ["id", "recorded_by", "created_at"]


# --- credentials and reveals ---------------------------------------------------


class CredentialSerializer(serializers.ModelSerializer):
    rotation_due_at = serializers.DateTimeField(read_only=True)
    is_rotation_due = serializers.BooleanField(read_only=True)

    class Meta:
        model = Credential
        fields = ["id", "account", "kind", "label", "last_rotated_at", "rotation_due_at", "is_rotation_due"]
        read_only_fields = fields


class RevealRequestSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="credential.account_id", read_only=True)

    class Meta:
        model = RevealRequest
        fields = ["id", "credential", "account", "requester", "reason", "status", "is_break_glass", "decided_by",
                  "decided_at", "decision_note", "revealed_at", "visible_until", "created_at"]
        read_only_fields = fields


class RevealRequestCreateSerializer(serializers.Serializer):
    """``credential`` only accepts credentials the caller can see (as admin,
    executive or custodian of its account): any other id is a 400 on
    ``credential``."""

    credential = serializers.PrimaryKeyRelatedField(queryset=Credential.objects.none())
    reason = serializers.CharField(max_length=1000)

    def __init__(self, *args, credentials=None, **kwargs):
        super().__init__(*args, **kwargs)
        if credentials is not None:
            self.fields["credential"].queryset = credentials


class RevealDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SecondFactorSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    otp_token = serializers.CharField(write_only=True, max_length=16)


class BreakGlassSerializer(SecondFactorSerializer):
    reason = serializers.CharField(max_length=1000)


class RevealResultSerializer(serializers.Serializer):
    """The one response that carries a secret."""

    secret = serializers.CharField()
    visible_until = serializers.DateTimeField()


# --- audit -----------------------------------------------------------------------------


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = "__all__"
        read_only_fields = [f.name for f in AuditEvent._meta.fields]
