"""The reputation report's charts: pygal draws them server-side as inline SVG.

Each chart is a self-contained ``<svg>`` that works without JavaScript and
under the portal's Content-Security-Policy (no inline ``<style>``, no
``style=""`` attribute): pygal's stylesheet is dropped and the look is set
with SVG presentation attributes (``fill``, ``stroke``, ``font-family``...),
which browsers and WeasyPrint both honour. Screen readers get one image named
by the chart's ``<title>`` and described by its ``<desc>`` (``role="img"``,
``aria-labelledby``); the numbers themselves are in the data table the report
shows under each chart. Series differ by colour (a colour-blind-safe palette
with distinct lightness), by dash pattern (lines) or hatching (bars), and by
the legend, so a black-and-white print still tells them apart.

Text passed in (titles, labels, series names) is plain text: it is escaped
when the SVG is serialised, never interpreted as markup.
"""

from __future__ import annotations

import math
import uuid
import xml.etree.ElementTree as ET  # noqa: N817 - the standard alias
from collections.abc import Sequence

import pygal
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from pygal.etree import etree as pygal_etree
from pygal.style import Style

__all__ = ["line_chart", "stacked_bar_chart", "horizontal_bar_chart"]

Series = Sequence[tuple[str, Sequence[float | None]]]

SVG_NS = "http://www.w3.org/2000/svg"
# pygal builds its tree with lxml when that is installed; the post-processing
# below works on the standard library's ElementTree.
pygal_etree.to_etree()

FONT_FAMILY = "'DejaVu Sans', Verdana, sans-serif"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies; the
# order alternates dark and light so neighbours differ in a grey print too.
PALETTE = ("#0072B2", "#E69F00", "#555555", "#56B4E9", "#D55E00", "#009E73", "#CC79A7", "#F0E442")
LINE_DASHES = (None, "8,4", "2,3", "10,3,2,3", "4,4", "1,2")
# Bars of series 1, 2, ... carry a hatch over their colour (series 0 is solid).
HATCHES = (None, "M0,6 L6,0", "M0,0 L6,6", "M3,0 L3,6", "M0,3 L6,3", "M0,6 L6,0 M0,0 L6,6")
TEXT_COLOUR = "#1d2330"
MUTED_COLOUR = "#5b6475"
GUIDE_COLOUR = "#c9ced8"

WIDTH = 800
HEIGHT = 340
MAX_X_LABELS = 12


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def _colour_index(classes: set[str]) -> int | None:
    for cls in classes:
        if cls.startswith("color-") and cls[6:].isdigit():
            return int(cls[6:])
    return None


def _format_number(value: float) -> str:
    rounded = round(value, 1)
    return number_format(int(rounded) if rounded == int(rounded) else rounded, force_grouping=True)


def _format_percent(value: float) -> str:
    return f"{_format_number(value)}%"


def _clean_series(series: Series) -> list[tuple[str, list[float | None]]]:
    cleaned = []
    for name, values in series:
        row = []
        for value in values:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                row.append(None)
            else:
                row.append(float(value))
        cleaned.append((str(name), row))
    return cleaned


def _smallest(series: list[tuple[str, list[float | None]]]) -> float:
    return min((v for _, values in series for v in values if v is not None), default=0.0)


def _largest(series: list[tuple[str, list[float | None]]], *, stacked: bool = False) -> float:
    if stacked:
        length = max((len(values) for _, values in series), default=0)
        totals = [sum(values[i] or 0 for _, values in series if i < len(values)) for i in range(length)]
        return max(totals, default=0.0)
    return max((v for _, values in series for v in values if v is not None), default=0.0)


def _style() -> Style:
    return Style(
        font_family=FONT_FAMILY,
        background="#ffffff",
        plot_background="#ffffff",
        foreground=TEXT_COLOUR,
        foreground_strong=TEXT_COLOUR,
        foreground_subtle=MUTED_COLOUR,
        colors=PALETTE,
        title_font_size=16,
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=13,
        value_font_size=12,
        no_data_font_size=18,
        transition="0ms",
    )


def _config(*, title: str, series_count: int, percent: bool, largest: float, smallest: float = 0.0,
            horizontal: bool = False) -> dict:
    formatter = _format_percent if percent else _format_number
    config = {
        "title": title,
        "style": _style(),
        "js": [],
        "css": [],
        "disable_xml_declaration": True,
        "explicit_size": False,
        "width": WIDTH,
        "height": HEIGHT,
        "show_legend": series_count > 1,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": min(series_count, 4) or 1,
        "legend_box_size": 14,
        "truncate_legend": 40,
        "truncate_label": 32,
        "value_formatter": formatter,
        "no_data_text": gettext("No data for this period"),
        "show_x_guides": horizontal,
        "show_y_guides": not horizontal,
        "margin": 12,
        "no_prefix": True,
    }
    # The value axis starts at zero (or below, for a negative value such as net sentiment);
    # a percent axis shows at least 0..100.
    low = min(0.0, math.floor(smallest))
    if percent:
        high = max(100.0, math.ceil(largest))
        step = 20 if horizontal else 10
        config["y_labels"] = list(range(int(low) - int(low) % step, int(high) + 1, step))
    else:
        high = largest if largest > low else low + 1
    config["range"] = (low, high)
    config["include_x_axis"] = True
    if horizontal:
        config["margin_right"] = 56  # room for the value printed past the longest bar
    return config


def _shortened(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _sparse_major_labels(labels: list[str]) -> dict:
    """Shows only as many x labels as fit side by side (90 daily labels would overlap)."""
    longest = max((len(label) for label in labels), default=1)
    fitting = max(2, min(MAX_X_LABELS, int((WIDTH - 80) / (longest * 7.5 + 16))))
    if len(labels) <= fitting:
        return {}
    every = math.ceil(len(labels) / fitting)
    return {"x_labels_major_every": every, "show_minor_x_labels": False}


# --- post-processing -------------------------------------------------------


class _Painter:
    """Turns pygal's class-based look into presentation attributes."""

    def __init__(self, *, chart_id: str, kind: str):
        self.chart_id = chart_id
        self.kind = kind
        self.patterns: dict[int, str] = {}

    def hatch(self, index: int) -> str | None:
        shape = HATCHES[index % len(HATCHES)]
        if shape is None:
            return None
        if index not in self.patterns:
            self.patterns[index] = f"{self.chart_id}-hatch-{index}"
        return self.patterns[index]

    def paint(self, element: ET.Element, ancestors: frozenset[str], colour: int | None) -> None:
        classes = _classes(element)
        tag = _tag(element)
        here = _colour_index(classes)
        if here is not None:
            colour = here
        scope = ancestors | classes

        if tag == "text":
            element.set("stroke", "none")
            element.set("fill", TEXT_COLOUR)
            if "plot_title" in classes:
                element.set("font-size", "16")
                element.set("font-weight", "bold")
                element.set("text-anchor", "middle")
            elif "title" in classes:  # an axis title
                element.set("font-size", "12")
                element.set("text-anchor", "middle")
                element.set("fill", MUTED_COLOUR)
            elif "no_data" in classes:
                element.set("font-size", "18")
                element.set("text-anchor", "middle")
                element.set("fill", MUTED_COLOUR)
            elif "legends" in ancestors:
                element.set("font-size", "13")
            elif "axis" in ancestors:
                element.set("font-size", "12")
                if "x" in ancestors:
                    anchor = "middle"
                    if element.get("transform"):
                        anchor = "end" if "backwards" in classes else "start"
                elif "y" in ancestors:
                    anchor = "end"
                else:
                    anchor = "middle"
                element.set("text-anchor", anchor)
                if "major" not in classes:
                    element.set("fill", MUTED_COLOUR)
            elif "text-overlay" in ancestors or "value" in classes:
                element.set("font-size", "12")
                if self.kind == "horizontal":
                    # The value sits just right of the bar's end.
                    element.set("text-anchor", "start")
                    element.set("x", f"{float(element.get('x', '0')) - 2:.2f}")
                    element.set("dominant-baseline", "middle")
                else:
                    element.set("text-anchor", "middle")
            return

        if tag == "rect" and "background" in classes:
            element.set("fill", "#ffffff")
        elif "axis" in ancestors and tag == "path":
            self._paint_axis_line(element, classes, ancestors)
        elif "series" in scope and colour is not None and tag in ("path", "rect", "circle"):
            self._paint_series_shape(element, tag, classes, colour)
        elif "legends" in ancestors and tag == "rect" and colour is not None:
            self._paint_legend_box(element, colour)

        for child in list(element):
            self.paint(child, scope, colour)

    def _paint_axis_line(self, element: ET.Element, classes: set[str], ancestors: frozenset[str]) -> None:
        element.set("fill", "none")
        if "guide" in classes:
            element.set("stroke", GUIDE_COLOUR)
            element.set("stroke-dasharray", "3,3")
            element.set("stroke-width", "1")
            # The axis the bars stand on keeps no guides (pygal hides them with CSS).
            bar_axis = (("x" in ancestors and self.kind == "vertical")
                        or ("y" in ancestors and self.kind == "horizontal"))
            if bar_axis and "always_show" not in ancestors:
                element.set("stroke", "none")
        else:
            element.set("stroke", MUTED_COLOUR)
            element.set("stroke-width", "1")

    def _paint_series_shape(self, element: ET.Element, tag: str, classes: set[str], colour: int) -> None:
        hue = PALETTE[colour % len(PALETTE)]
        if tag == "path" and "line" in classes:
            element.set("fill", "none")
            element.set("stroke", hue)
            element.set("stroke-width", "2.5")
            element.set("stroke-linejoin", "round")
            dash = LINE_DASHES[colour % len(LINE_DASHES)]
            if dash:
                element.set("stroke-dasharray", dash)
        elif tag == "circle":
            element.set("fill", hue)
            element.set("stroke", "#ffffff")
            element.set("stroke-width", "1")
        else:
            element.set("fill", hue)
            element.set("stroke", "#ffffff")
            element.set("stroke-width", "1")
            pattern = self.hatch(colour) if tag == "rect" else None
            if pattern:
                # _apply_hatches draws the hatch as a second rect over the coloured one.
                element.set("data-hatch", pattern)

    def _paint_legend_box(self, element: ET.Element, colour: int) -> None:
        hue = PALETTE[colour % len(PALETTE)]
        element.set("fill", hue)
        element.set("stroke", "none")
        if self.kind == "line":
            dash = LINE_DASHES[colour % len(LINE_DASHES)]
            if dash:
                # The legend shows the line's dash: a thin box in the series' pattern.
                element.set("fill", "#ffffff")
                element.set("stroke", hue)
                element.set("stroke-width", "2.5")
                element.set("stroke-dasharray", dash)
        else:
            pattern = self.hatch(colour)
            if pattern:
                element.set("data-hatch", pattern)

    def pattern_defs(self) -> list[ET.Element]:
        defs = []
        for index, pattern_id in sorted(self.patterns.items()):
            pattern = ET.Element(
                "pattern", {"id": pattern_id, "width": "6", "height": "6", "patternUnits": "userSpaceOnUse"},
            )
            ET.SubElement(
                pattern,
                "path",
                {"d": HATCHES[index % len(HATCHES)], "stroke": "#ffffff", "stroke-width": "1.5",
                 "stroke-opacity": "0.85", "fill": "none"},
            )
            defs.append(pattern)
        return defs


_DROP_GROUP_CLASSES = {"tooltip-overlay"}


def _strip(parent: ET.Element) -> None:
    """Drops pygal's script, stylesheet, tooltip machinery and global ids."""
    for child in list(parent):
        tag = _tag(child) if isinstance(child.tag, str) else ""
        classes = _classes(child)
        if tag in ("script", "style", "defs", "title", "desc") or classes & _DROP_GROUP_CLASSES or not tag:
            parent.remove(child)
            continue
        child.attrib.pop("style", None)
        if child.get("id", "").startswith("activate-serie"):
            del child.attrib["id"]
        _strip(child)


def _point_titles(root: ET.Element, values_by_series: list[list[float | None]], names: list[str],
                  labels: list[str], formatter) -> None:
    """Gives each dot or bar a native tooltip (``<title>``): "series, label: value"."""
    for group in root.iter():
        classes = _classes(group)
        if _tag(group) != "g" or "series" not in classes:
            continue
        index = None
        for cls in classes:
            if cls.startswith("serie-") and cls[6:].isdigit():
                index = int(cls[6:])
        if index is None or index >= len(values_by_series):
            continue
        shapes = [el for el in group.iter() if _tag(el) in ("circle", "rect") and "reactive" in _classes(el)]
        values = values_by_series[index]
        if len(shapes) == len(values):  # stacked bars keep an empty slot for a missing value
            pairs = [(shape, position, value)
                     for position, (shape, value) in enumerate(zip(shapes, values, strict=True)) if value is not None]
        else:
            present = [(position, value) for position, value in enumerate(values) if value is not None]
            if len(shapes) != len(present):
                continue
            pairs = [(shape, position, value) for shape, (position, value) in zip(shapes, present, strict=True)]
        for shape, position, value in pairs:
            label = labels[position] if position < len(labels) else ""
            prefix = f"{names[index]}, {label}" if len(names) > 1 else label
            title = ET.SubElement(shape, "title")
            title.text = f"{prefix}: {formatter(value)}" if prefix else formatter(value)


def _apply_hatches(root: ET.Element) -> None:
    """Draws each marked rect's hatch as a second rect just above it."""
    for parent in list(root.iter()):
        for child in list(parent):
            pattern = child.attrib.pop("data-hatch", None)
            if not pattern:
                continue
            overlay = ET.Element("rect", {
                key: child.get(key) for key in ("x", "y", "width", "height", "rx", "ry", "transform") if child.get(key)
            })
            overlay.set("fill", f"url(#{pattern})")
            overlay.set("stroke", "none")
            overlay.set("aria-hidden", "true")
            # The bar underneath keeps the pointer, so its tooltip still shows.
            overlay.set("pointer-events", "none")
            parent.insert(list(parent).index(child) + 1, overlay)


def _finish(chart, *, title: str, description: str, kind: str, names: list[str],
            values: list[list[float | None]], labels: list[str], formatter) -> SafeString:
    root = chart.render_tree()
    chart_id = f"chart-{uuid.uuid4().hex[:12]}"
    _strip(root)

    painter = _Painter(chart_id=chart_id, kind=kind)
    for child in list(root):
        painter.paint(child, frozenset(), None)
    _point_titles(root, values, names, labels, formatter)
    _apply_hatches(root)

    view_box = root.get("viewBox", f"0 0 {WIDTH} {HEIGHT}")
    root.attrib.clear()
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    root.attrib.update({
        "xmlns": SVG_NS,
        "id": chart_id,
        "class": f"report-chart report-chart-{kind}",
        "viewBox": view_box,
        "width": "100%",
        "preserveAspectRatio": "xMidYMid meet",
        "role": "img",
        "aria-labelledby": f"{title_id} {desc_id}",
        "font-family": FONT_FAMILY,
        "fill": TEXT_COLOUR,
    })
    title_el = ET.Element("title", {"id": title_id})
    title_el.text = title
    desc_el = ET.Element("desc", {"id": desc_id})
    desc_el.text = description
    root.insert(0, title_el)
    root.insert(1, desc_el)
    patterns = painter.pattern_defs()
    if patterns:
        defs = ET.Element("defs")
        defs.extend(patterns)
        root.insert(2, defs)
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308 - serialised by ElementTree, text escaped


# --- the three charts ------------------------------------------------------


def _draw(chart_class, config: dict, cleaned, *, title, description, kind: str, labels: list[str]) -> SafeString:
    """The chart of ``chart_class`` with every series added, finished into accessible inline SVG."""
    chart = chart_class(**config)
    for name, values in cleaned:
        chart.add(name, values)
    return _finish(chart, title=str(title), description=str(description), kind=kind,
                   names=[n for n, _ in cleaned], values=[v for _, v in cleaned], labels=labels,
                   formatter=config["value_formatter"])


def line_chart(*, title: str, description: str, x_labels: Sequence[str], series: Series, y_title: str = "",
               percent: bool = False) -> SafeString:
    """Lines over time (volume per day, sentiment shares). ``None`` is a gap in the line, not a zero."""
    cleaned = _clean_series(series)
    labels = [str(label) for label in x_labels]
    config = _config(title=str(title), series_count=len(cleaned), percent=percent, largest=_largest(cleaned),
                     smallest=_smallest(cleaned))
    config.update(_sparse_major_labels(labels))
    config.update({
        "allow_interruptions": True,
        # Dots (with their tooltips) up to a month of days; longer lines stay light and fast.
        "show_dots": len(labels) <= 31,
        "dots_size": 3,
        "y_title": str(y_title) or None,
        "x_labels": labels,
    })
    return _draw(pygal.Line, config, cleaned, title=title, description=description, kind="line", labels=labels)


def stacked_bar_chart(*, title: str, description: str, x_labels: Sequence[str], series: Series,
                      percent: bool = True) -> SafeString:
    """Stacked columns per label (sentiment shares per day or week). Percent charts run 0..100."""
    cleaned = _clean_series(series)
    labels = [str(label) for label in x_labels]
    config = _config(title=str(title), series_count=len(cleaned), percent=percent,
                     largest=_largest(cleaned, stacked=True))
    config.update(_sparse_major_labels(labels))
    config.update({"x_labels": labels})
    return _draw(pygal.StackedBar, config, cleaned, title=title, description=description, kind="vertical",
                 labels=labels)


def horizontal_bar_chart(*, title: str, description: str, labels: Sequence[str], series: Series,
                         percent: bool = False, max_value: float | None = None) -> SafeString:
    """One bar per label (SLA attainment per department, objective progress), the value printed at its end."""
    # pygal stacks horizontal bars from the bottom up; reversed, the first label reads first (top).
    cleaned = [(name, list(values)[::-1]) for name, values in _clean_series(series)]
    names = [str(label) for label in labels][::-1]
    for _, values in cleaned:
        values[:0] = [None] * max(0, len(names) - len(values))
    largest = _largest(cleaned)
    if max_value is not None:
        largest = max(float(max_value), largest)
    config = _config(title=str(title), series_count=len(cleaned), percent=percent, largest=largest,
                     smallest=_smallest(cleaned), horizontal=True)
    config.update({
        # Long names (objectives) are cut on the axis; each bar's tooltip and the table keep them whole.
        "x_labels": [_shortened(name) for name in names],
        "print_values": True,
        "print_values_position": "top",
        "height": max(HEIGHT // 2, 70 + 34 * max(len(names), 1) * max(len(cleaned), 1) ** 0.5),
    })
    return _draw(pygal.HorizontalBar, config, cleaned, title=title, description=description, kind="horizontal",
                 labels=names)
