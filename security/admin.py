from django.contrib import admin

from .models import (
    AuditCheckpoint,
    AuditEvent,
    Credential,
    Custodian,
    PublishingGrant,
    RevealRequest,
    SocialAccount,
    TrainingRecord,
)


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    list_display = ("handle", "platform", "status", "owner_organisation", "max_publishers")
    list_filter = ("platform", "status")
    search_fields = ("handle", "display_name")
    filter_horizontal = ("departments",)


@admin.register(PublishingGrant)
class PublishingGrantAdmin(admin.ModelAdmin):
    """Read-only: grants change through the portal's services, on record."""

    list_display = ("account", "capability", "user", "department", "granted_by", "granted_at", "expires_at",
                    "revoked_at")
    list_filter = ("capability", "account")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):
    list_display = ("user", "course", "completed_on", "recorded_by")
    raw_id_fields = ("user", "recorded_by")


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """The ciphertext is never shown or editable here; secrets are set and
    revealed only through the custody pages."""

    list_display = ("account", "kind", "label", "last_rotated_at", "rotation_forced_at")
    exclude = ("ciphertext",)
    readonly_fields = ("account", "kind", "label", "set_by", "last_rotated_at", "rotation_forced_at",
                       "rotation_forced_reason", "last_used_at")

    def has_add_permission(self, request):
        return False


@admin.register(Custodian)
class CustodianAdmin(admin.ModelAdmin):
    list_display = ("account", "user", "added_at", "removed_at")


@admin.register(RevealRequest)
class RevealRequestAdmin(admin.ModelAdmin):
    list_display = ("credential", "requester", "status", "is_break_glass", "created_at", "revealed_at")
    list_filter = ("status", "is_break_glass")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "action", "target_type", "target_repr")
    list_filter = ("action",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event_count", "head_id", "head_hash")
