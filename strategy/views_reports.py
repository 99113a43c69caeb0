"""The reputation report's pages: the report, its PDF and a CSV per table.
Thin: ``strategy.reports`` parses the period and scope (a refusal names the
field: 400, or 403 for a scope the viewer may not see) and builds the one
report every output renders."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from socialops.text import spreadsheet_safe

from .report_charts import charts_for
from .reports import PRESETS, ReportInputError, build_report, parse_request, report_scopes_for, viewer_tz
from .templatetags.report_tags import value_text

NAV = {"nav_current": "strategy:report"}


def _form_context(request, error: ReportInputError | None = None) -> dict:
    scopes = report_scopes_for(request.user)
    if not scopes:
        raise PermissionDenied
    today = timezone.localtime(timezone.now(), viewer_tz(request.user)).date()
    return {**NAV, "scopes": scopes, "presets": list(PRESETS), "params": request.GET, "error": error,
            "today": today.isoformat(), "this_month": today.strftime("%Y-%m")}


def _refused(request, error: ReportInputError):
    context = _form_context(request, error)
    return render(request, "strategy/report.html", {**context, "report": None}, status=error.status)


def _report(request):
    report_request = parse_request(request.user, request.GET)
    return build_report(request.user, report_request)


@login_required
@require_GET
def report_page(request):
    try:
        report = _report(request)
    except ReportInputError as error:
        return _refused(request, error)
    context = _form_context(request)
    selected = report.request.scope.key
    return render(request, "strategy/report.html", {
        **context, "report": report, "charts": charts_for(report), "selected_scope": selected})


@login_required
@require_GET
def report_pdf(request):
    from .pdf import PdfUnavailableError, render_pdf, weasyprint_problem

    try:
        report = _report(request)
    except ReportInputError as error:
        return _refused(request, error)
    if (problem := weasyprint_problem()) is not None:
        return _pdf_unavailable(problem)
    html = render_to_string("strategy/report_pdf.html", {
        "report": report, "charts": charts_for(report),
        "generated_at": timezone.localtime(report.generated_at, report.request.tz),
        "viewer_name": request.user.get_full_name() or request.user.username}, request=request)
    try:
        pdf = render_pdf(html, base_url=request.build_absolute_uri("/"))
    except PdfUnavailableError as error:
        return _pdf_unavailable(str(error))
    response = HttpResponse(pdf, content_type="application/pdf")
    start = report.request.days[0].isoformat()
    response["Content-Disposition"] = f'attachment; filename="reputation-report-{start}.pdf"'
    return response


def _pdf_unavailable(problem: str) -> HttpResponse:
    """The server cannot print (WeasyPrint's system libraries are missing): a 503 that says so."""
    return HttpResponse(f"The PDF cannot be made on this server: {problem}", status=503,
                        content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def report_csv(request, table: str):
    try:
        report = _report(request)
    except ReportInputError as error:
        return _refused(request, error)
    found = report.tables.get(table)
    if found is None:
        raise Http404("No such table in this report.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{table}-{report.request.days[0].isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow([spreadsheet_safe(c.label) for c in found.columns])
    for row in found.rows:
        writer.writerow([_csv_cell(row.get(c.key), c.kind) for c in found.columns])
    return response


NUMERIC_KINDS = ("int", "number", "pct", "minutes", "change", "points")


def _csv_cell(value, kind: str) -> str:
    """A number stays a number (a fall of 25% is written -25.0, not '-25.0);
    every other cell goes through ``spreadsheet_safe``."""
    text = _csv_value(value, kind)
    if kind in NUMERIC_KINDS and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return text
    return spreadsheet_safe(text)


def _csv_value(value, kind: str):
    """Numbers as numbers (a dot, no thousands separator), so a spreadsheet can add them up."""
    if value is None:
        return ""
    if kind in ("pct", "minutes", "change", "points") and not isinstance(value, str):
        return f"{float(value):.1f}"
    if kind == "date":
        return value.isoformat()
    if kind in ("int", "number"):
        return str(value)
    return value_text(value, kind) if kind not in ("text", "status") else str(value)
