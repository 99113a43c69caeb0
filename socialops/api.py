"""The shared API base: pagination, exception shape, permission classes."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
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
