"""The shared API base: pagination, exception shape, permission classes."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

# Set on the Django request when it was refused with a 403, to the refusal's
# reason; ``accounts.authz_audit`` writes it to the audit log.
DENIED_REASON_ATTR = "socialops_denied_reason"


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: the cost of a page does not grow with its depth."""

    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


def exception_handler(exc, context):
    """DRF's handler, plus Django ValidationErrors raised by services turned
    into 400s that name the field, instead of 500s. A Django PermissionDenied
    keeps its message and, when it has one, its ``code`` (``ReauthRequired``:
    ``reauth_required``). Every 403 notes its reason on the request for the
    denied-access audit, which writes it outside the view's transaction."""
    code = None
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, DjangoPermissionDenied):
        code = getattr(exc, "code", None)
        exc = PermissionDenied(detail=str(exc) or None, code=code)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 403:
        if code and isinstance(response.data, dict):
            response.data["code"] = code
        request = context.get("request")
        django_request = getattr(request, "_request", request)
        if django_request is not None:
            detail = getattr(exc, "detail", "")
            reason = str(detail).strip() if isinstance(detail, str) else str(exc).strip()
            setattr(django_request, DENIED_REASON_ATTR, (reason or "permission denied (no reason given)")[:300])
    return response
