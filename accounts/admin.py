from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Department, Membership, User, Workgroup


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["department", "workgroup"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
