from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .text import storable_text_problem


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def render_invalid(request, template: str, context: dict):
    """Re-shows a form with its errors, as a 400 so clients and tests can
    tell a refusal from a success."""
    return render(request, template, context, status=400)


@login_required
@require_GET
def search(request):
    from . import search as search_registry

    query = request.GET.get("q", "")
    error = ""
    if storable_text_problem(query):
        error = _("q: %(problem)s") % {"problem": storable_text_problem(query)}
    elif 0 < len(query.strip()) < search_registry.MIN_LENGTH:
        error = _("q: type at least two characters.")
    groups = [] if error else search_registry.search_all(request.user, query)
    return render(request, "search.html", {"query": query, "groups": groups, "error": error},
                  status=400 if error else 200)
