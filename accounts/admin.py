from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import ApiToken, Department, Membership, SecondFactorReset, User, Workgroup


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["department", "workgroup"]


@admin.action(description="Send a password reset link (instead of setting a password)")
def send_password_reset_link(modeladmin, request, queryset):
    from . import signin

    sent = sum(1 for user in queryset if signin.password_reset_send(actor=request.user, user=user, request=request))
    modeladmin.message_user(request, f"{sent} reset link(s) sent; people without an email address got none.")


@admin.action(description="End all sessions and API tokens")
def end_sessions(modeladmin, request, queryset):
    from . import signin

    for user in queryset:
        signin.sign_out_everywhere(actor=request.user, user=user, reason="from the Django admin")
    modeladmin.message_user(request, f"Signed out {queryset.count()} people everywhere.")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Read-only (socialops.admin.lock_down): people, roles and passwords
    change on the People pages and through reset links, never here."""

    actions = [send_password_reset_link, end_sessions]
    fieldsets = DjangoUserAdmin.fieldsets + (("SocialOps", {"fields": ("time_zone", "offboarded_at")}),)
    readonly_fields = ("offboarded_at",)
    list_display = ("username", "email", "first_name", "last_name", "is_active", "offboarded_at")
    list_filter = ("is_active", "is_staff", "memberships__role")
    inlines = [MembershipInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_specialist_team", "lead")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    raw_id_fields = ("lead",)


@admin.register(Workgroup)
class WorkgroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("supervisors",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "department", "workgroup", "started_at", "ended_at")
    list_filter = ("role", "department", "workgroup")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    raw_id_fields = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Names and expiries only: the digest is never shown, the token itself
    is not stored."""

    list_display = ("name", "user", "token_key", "created", "expiry", "last_used_at")
    list_display_links = None
    search_fields = ("name", "user__username")

    def has_view_permission(self, request, obj=None):
        # The list says everything; a token's own page would carry its digest in the address.
        return obj is None and super().has_view_permission(request, obj)


@admin.register(SecondFactorReset)
class SecondFactorResetAdmin(admin.ModelAdmin):
    list_display = ("user", "requested_by", "status", "decided_by", "created_at", "decided_at")
    list_filter = ("status",)
