"""Who may do what with the workgroup's structure."""

from django.core.exceptions import PermissionDenied
from rest_framework import permissions

from .selectors import is_admin


def can_manage_people(user) -> bool:
    return is_admin(user)


def require_manage_people(user) -> None:
    if not can_manage_people(user):
        raise PermissionDenied("Only admins manage people, departments and workgroups.")


class IsAdminOrReadOnly(permissions.BasePermission):
    """Members read what their restricted queryset shows; admins write."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or can_manage_people(request.user)
