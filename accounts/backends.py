"""Permissions come from the roles a person holds *now*.

Instead of copying people into groups (and having to remember to take them
out when a membership ends), the role groups' permissions are looked up from
the user's active memberships on each request. An ended membership stops
granting anything on the very next request, with no job to run."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from .roles import group_name


class RoleBackend(ModelBackend):
    def _get_group_permissions(self, user_obj):
        roles = user_obj.memberships.active().values_list("role", flat=True).distinct()
        names = [group_name(role) for role in roles]
        return Permission.objects.filter(group__name__in=names)
