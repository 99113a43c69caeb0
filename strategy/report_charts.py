"""The report's charts, drawn from the report's own tables (the data table
under each chart is the same rows), for the page and the PDF alike."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import charts


def _day_labels(rows) -> list[str]:
    return [date_format(r["day"], "j M") for r in rows]


def charts_for(report) -> dict:
    days = report.tables["days"].rows
    labels = _day_labels(days)
    weekly = report.series.get("per") == "week"
    out = {
        "volume": charts.line_chart(
            title=_("Inbound messages per week") if weekly else _("Inbound messages per day"),
            description=(_("Messages from customers in each week of %(period)s; the table below lists the values.")
                         if weekly else
                         _("Messages from customers on each day of %(period)s; the table below lists the values."))
            % {"period": report.request.period_label},
            x_labels=labels, series=[(_("Messages"), [r["messages"] for r in days])], y_title=_("messages")),
        "sentiment_trend": charts.line_chart(
            title=_("Sentiment over time"),
            description=_("Share of positive, neutral and negative messages in each week, in percent.") if weekly
            else _("Share of positive, neutral and negative messages on each day, in percent."),
            x_labels=labels, percent=True,
            series=[(_("Positive"), [r["positive"] for r in days]), (_("Neutral"), [r["neutral"] for r in days]),
                    (_("Negative"), [r["negative"] for r in days])]),
        "sentiment_bars": charts.stacked_bar_chart(
            title=_("Sentiment mix per week") if weekly else _("Sentiment mix per day"),
            description=_("Each week's messages split into positive, neutral and negative, in percent.") if weekly
            else _("Each day's messages split into positive, neutral and negative, in percent."),
            x_labels=labels, percent=True,
            series=[(_("Positive"), [r["positive"] for r in days]), (_("Neutral"), [r["neutral"] for r in days]),
                    (_("Negative"), [r["negative"] for r in days])]),
    }
    departments = report.tables["sla_departments"].rows
    if departments:
        out["sla_departments"] = charts.horizontal_bar_chart(
            title=_("Answered within the SLA target, per department"),
            description=_("Share of each department's judged conversations answered within target, in percent."),
            labels=[str(r["name"]) for r in departments], percent=True, max_value=100,
            series=[(_("Within SLA"), [r["sla"] for r in departments])])
    objectives = report.tables.get("objectives")
    if objectives is not None and objectives.rows:
        out["objectives"] = charts.horizontal_bar_chart(
            title=_("Objective progress"),
            description=_("Each objective's current KPI value as a share of its target, in percent; "
                          "the table below gives the values and the status."),
            labels=[r["objective"] for r in objectives.rows], percent=True,
            series=[(_("Of target"), [_of_target(r) for r in objectives.rows])])
    return out


def _of_target(row) -> float | None:
    current, target = row["current"], row["target"]
    if current is None or not target:
        return None
    return float(100 * current / target)
