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
