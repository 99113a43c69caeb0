"""The workgroup's roles and the model-level permissions each one carries.

Each role is a Django group (created by a data migration, kept in step by
``sync_role_groups``). Object-level rights per social account live in the
security app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    EXECUTIVE = "executive", _("Executive")
    SOCIAL_MEDIA_MANAGER = "social_media_manager", _("Social media manager")
    COMMUNITY_MANAGER = "community_manager", _("Community manager")
    SPECIALIST = "specialist", _("Specialist")
    DEPARTMENT_REPRESENTATIVE = "department_representative", _("Department representative")


# Roles that hold across the organisation rather than inside one workgroup.
ORGANISATION_WIDE_ROLES = {Role.ADMIN, Role.EXECUTIVE}

_VIEW_STRUCTURE = [
    "accounts.view_department",
    "accounts.view_workgroup",
    "accounts.view_membership",
    "accounts.view_user",
]

# "app_label.codename" per role. Later apps add their own through
# ROLE_PERMISSIONS_EXTRA so this layer never imports them.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMIN: _VIEW_STRUCTURE
    + [
        "accounts.add_department",
        "accounts.change_department",
        "accounts.add_workgroup",
        "accounts.change_workgroup",
        "accounts.delete_workgroup",
        "accounts.add_membership",
        "accounts.change_membership",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.manage_people",
    ],
    Role.EXECUTIVE: _VIEW_STRUCTURE + ["accounts.supervise_workgroup"],
    Role.SOCIAL_MEDIA_MANAGER: list(_VIEW_STRUCTURE),
    Role.COMMUNITY_MANAGER: list(_VIEW_STRUCTURE),
    Role.SPECIALIST: list(_VIEW_STRUCTURE),
    Role.DEPARTMENT_REPRESENTATIVE: ["accounts.view_department", "accounts.view_workgroup"],
}


def group_name(role: str) -> str:
    return f"role:{role}"


def extend_role_permissions(role: str, perms: list[str]) -> None:
    """Lets a higher app add its permissions to a role from its ready()."""
    current = ROLE_PERMISSIONS.setdefault(role, [])
    for perm in perms:
        if perm not in current:
            current.append(perm)


def sync_role_groups(group_model=None, permission_model=None, using="default") -> None:
    """Makes each role's group hold exactly the permissions listed above.
    Runs after every migrate, so new permissions reach their roles."""
    if group_model is None:
        from django.contrib.auth.models import Group as group_model  # noqa: N813
        from django.contrib.auth.models import Permission as permission_model  # noqa: N813
    for role in Role.values:
        group, _ = group_model.objects.using(using).get_or_create(name=group_name(role))
        wanted = ROLE_PERMISSIONS.get(role, [])
        perms = []
        for dotted in wanted:
            app_label, codename = dotted.split(".", 1)
            perms.extend(permission_model.objects.using(using).filter(
                content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)
