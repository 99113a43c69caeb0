"""The inbox list's bulk bar: one action on the checked conversations."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from socialops.forms import submit
from socialops.views import render_invalid

from .forms import BulkActionForm, InboxFilterForm
from .services.bulk import bulk_apply
from .views import _list_context


def _safe_next(request) -> str:
    next_url = request.POST.get("next", "")
    if next_url.startswith("/inbox/") and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return next_url
    return "/inbox/"


@login_required
@require_POST
def inbox_bulk(request):
    """Applies the chosen action to each checked conversation and says, at
    the top of the list, what was done and what was skipped and why. A bad
    form (no rows, too many, no tag or queue) is a 400 with the reason next
    to the field, nothing changed."""
    form = BulkActionForm(request.POST, user=request.user)
    outcome = submit(form, lambda d: bulk_apply(
        actor=request.user, ids=d["ids"], action=d["action"], assignee=d.get("assignee"), tag=d.get("tag") or "",
        department=d.get("department")))
    if outcome.ok:
        report = outcome.value
        (messages.warning if report.skipped else messages.success)(request, report.summary())
        return redirect(_safe_next(request))
    # The list as it was (its filters and sort come back in ``next``), the bar open with the reasons.
    back = _safe_next(request)
    filters = InboxFilterForm(QueryDict(urlsplit(back).query) if back.startswith("/inbox/?") else {},
                              user=request.user)
    if not filters.is_valid():
        filters = InboxFilterForm({}, user=request.user)
    context = _list_context(request, filters)
    context.update({"bulk_form": form, "bulk_open": True, "bulk_next": back})
    return render_invalid(request, "inbox/list.html", context)
