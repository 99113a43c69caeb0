"""Formatting of the report's cells and figures, one rule per kind."""

from django import template
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

register = template.Library()


def minutes_text(value) -> str:
    if value is None:
        return "–"
    value = float(value)
    if value < 120:
        return _("%(n)s min") % {"n": round(value)}
    if value < 48 * 60:
        return _("%(n)s h") % {"n": number_format(round(value / 60, 1))}
    return _("%(n)s days") % {"n": number_format(round(value / 1440, 1))}


def value_text(value, kind: str) -> str:
    if value is None or value == "":
        return "–"
    if kind == "pct":
        return f"{number_format(round(float(value), 1))}%"
    if kind == "points":
        return number_format(round(float(value), 1))
    if kind == "minutes":
        return minutes_text(value)
    if kind == "change":
        sign = "+" if value > 0 else ("−" if value < 0 else "")
        return f"{sign}{number_format(round(abs(float(value))))}%"
    if kind == "date":
        return date_format(value, "j M Y")
    if kind == "number":
        return number_format(value)
    return str(value)


@register.filter
def cell(row: dict, column) -> str:
    return value_text(row.get(column.key), column.kind)


@register.filter
def cell_link(row: dict, column) -> str | None:
    return (row.get("links") or {}).get(column.key)


@register.filter
def figure_value(figure) -> str:
    return value_text(figure.current, figure.kind)


@register.filter
def figure_previous(figure) -> str:
    return value_text(figure.previous, figure.kind)


@register.filter
def figure_change(figure) -> str:
    change = figure.change
    if change is None:
        return ""
    if figure.kind in ("pct", "points"):  # a difference in points, not a percent change
        sign = "+" if change > 0 else ("−" if change < 0 else "±")
        return _("%(sign)s%(n)s pts") % {"sign": sign, "n": number_format(round(abs(change), 1))}
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{number_format(round(abs(change)))}%"
