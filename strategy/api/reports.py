"""The reputation report as JSON, for a BI tool: the same figures and tables
the page shows (``strategy.reports``), for the same period and scope
parameters. A refusal names the parameter (400), a scope the caller may
not see is a 403."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..reports import ReportInputError, build_report, parse_request


class FigureSerializer(serializers.Serializer):
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["int", "pct", "minutes", "points"])
    current = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="Percent change; percentage points for shares.")
    better = serializers.CharField()


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()


class TableSerializer(serializers.Serializer):
    title = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField(), help_text="One object per row, keyed by column.")


class ReportPeriodSerializer(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    previous_start = serializers.DateTimeField()
    time_zone = serializers.CharField()


class ReportScopeSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    period = ReportPeriodSerializer()
    scope = ReportScopeSerializer()
    generated_at = serializers.DateTimeField()
    summary = serializers.ListField(child=serializers.CharField())
    figures = serializers.DictField(child=FigureSerializer())
    tables = serializers.DictField(child=TableSerializer())
    hidden = serializers.ListField(child=serializers.CharField(),
                                   help_text="What this caller cannot see, in words.")


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value if value is None or isinstance(value, (int, float, bool)) else str(value)


def report_data(report) -> dict:
    request = report.request
    return {
        "period": {"label": request.period_label, "start": request.period.start.isoformat(),
                   "end": request.period.end.isoformat(), "previous_start": request.previous.start.isoformat(),
                   "time_zone": str(request.tz)},
        "scope": {"key": request.scope.key, "label": request.scope.label},
        "generated_at": report.generated_at.isoformat(),
        "summary": list(report.summary),
        "figures": {key: {"label": str(f.label), "kind": f.kind, "current": _plain(f.current),
                          "previous": _plain(f.previous), "change": f.change, "better": f.better}
                    for key, f in report.figures.items()},
        "tables": {key: {"title": str(t.title),
                         "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in t.columns],
                         "rows": [{c.key: _plain(row.get(c.key)) for c in t.columns} for row in t.rows]}
                   for key, t in report.tables.items()},
        "hidden": [str(h) for h in report.hidden],
    }


PARAMETERS = [
    OpenApiParameter("period", str, enum=["7d", "30d", "90d", "month", "custom"],
                     description="The last 7/30/90 whole days, a calendar month, or custom dates (default 7d)."),
    OpenApiParameter("month", str, description="YYYY-MM, with period=month."),
    OpenApiParameter("start", date, description="First day (YYYY-MM-DD), with period=custom."),
    OpenApiParameter("end", date, description="Last day (YYYY-MM-DD), with period=custom; at most two years."),
    OpenApiParameter("scope", str, description="organisation, brand:<id>, account:<id> or department:<id> "
                                               "(default: the widest the caller may see)."),
]


class ReportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(operation_id="reputation_report", parameters=PARAMETERS, responses=ReportSerializer,
                   summary="The reputation report's figures for a period and scope")
    def get(self, request):
        try:
            report_request = parse_request(request.user, request.query_params)
        except ReportInputError as error:
            if error.status == 403:
                raise PermissionDenied({error.field: [error.message]}) from None
            raise ValidationError({error.field: [error.message]}) from None
        return Response(report_data(build_report(request.user, report_request)))
