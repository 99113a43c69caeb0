from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from . import selectors
from .permissions import can_view_custody


@login_required
def custody_overview(request):
    if not can_view_custody(request.user):
        raise PermissionDenied
    return render(request, "security/custody.html", {"rows": selectors.custody_overview(request.user)})
