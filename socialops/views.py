from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


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
    groups = search_registry.search_all(request.user, query)
    too_short = 0 < len(query.strip()) < search_registry.MIN_LENGTH
    return render(request, "search.html", {"query": query, "groups": groups, "too_short": too_short},
                  status=400 if too_short else 200)
