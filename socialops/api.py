"""The shared API base: pagination, exception shape, permission classes."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, permissions
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: the cost of a page does not grow with its depth."""

    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


def exception_handler(exc, context):
    """DRF's handler, plus Django ValidationErrors raised by services turned
    into 400s that name the field, instead of 500s."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"non_field_errors": exc.messages})
    return drf_exception_handler(exc, context)


class ReadForMembersWriteForPerm(permissions.BasePermission):
    """Authenticated users read (the queryset is already restricted to what
    they may see); writes need the model's Django permission."""

    perms_map = {
        "POST": "add",
        "PUT": "change",
        "PATCH": "change",
        "DELETE": "delete",
    }

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        action = self.perms_map.get(request.method)
        if action is None:
            return False
        model = view.get_queryset().model
        return request.user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")
