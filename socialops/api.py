"""The shared API base: pagination, exception shape, permission classes.
The API's JSON parser is ``socialops.parsers.JSONParser``."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .parsers import too_large_detail

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
    ``reauth_required``). A body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django
    raises it when DRF reads the body) is a JSON 413 naming the limit, not
    Django's HTML "Bad Request (400)". Every 403 notes its reason on the
    request for the denied-access audit, which writes it outside the view's
    transaction."""
    code = None
    if isinstance(exc, RequestDataTooBig):
        _forget_unread_body(context.get("request"))
        return Response({"detail": too_large_detail(), "code": "request_too_large"},
                        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
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


def _forget_unread_body(request) -> None:
    """DRF leaves ``request.data`` unset when reading the body failed before
    parsing; whatever looks at it while rendering (the browsable API) would
    raise RequestDataTooBig again. Empty data, as DRF does after a parse error."""
    if request is None or not hasattr(request, "_request"):
        return
    from django.http import QueryDict
    from django.utils.datastructures import MultiValueDict

    request._data = request._full_data = QueryDict("")
    request._files = MultiValueDict()
