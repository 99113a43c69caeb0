"""The reputation report's PDF: WeasyPrint renders report_pdf.html with the
report's body, its charts and a footer on every page.

Without pango the PDF tests are skipped with the reason; with
REQUIRE_BROWSER=1 (as .ci/run sets) a missing pango is a failure."""

import io
import os
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string

from strategy import charts
from strategy.pdf import fetch_local, render_pdf, weasyprint_problem

PERIOD = "1 Nov 2026 – 30 Nov 2026"
SCOPE = "Madrid care <desk> & co"
VIEWER = "Ana Pérez"
SUMMARY = [
    "Negative sentiment rose from 12% to 19%.",
    "First responses inside service hours improved to a 41-minute median.",
]


@pytest.fixture(scope="module")
def weasyprint_ready():
    problem = weasyprint_problem()
    if problem:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(problem + " (REQUIRE_BROWSER=1)")
        pytest.skip(problem)


def fake_report(*, filler_sentences: int = 0):
    days = SimpleNamespace(
        key="days", title="Messages per day", empty="No messages.", note="",
        columns=[SimpleNamespace(key="day", label="Day", kind="text"),
                 SimpleNamespace(key="messages", label="Messages", kind="number")],
        rows=[{"day": f"{d} Nov", "messages": d * 3} for d in range(1, 31)],
    )
    request = SimpleNamespace(period_label=PERIOD, previous_label="2 Oct 2026 – 31 Oct 2026",
                              scope=SimpleNamespace(label=SCOPE), query_string="period=30d")
    summary = SUMMARY + [f"Filler sentence number {n} keeps the summary long." for n in range(filler_sentences)]
    return SimpleNamespace(request=request, summary=summary, figures={}, hidden=[], tables={"days": days})


def fake_charts():
    labels = [f"{d} Nov" for d in range(1, 31)]
    return {
        "volume": charts.line_chart(title="Inbound messages per day", description="Messages each day",
                                    x_labels=labels, series=[("Messages", [float(d * 3) for d in range(1, 31)])]),
        "sentiment_bars": charts.stacked_bar_chart(
            title="Sentiment mix per day", description="Shares", x_labels=labels[:5],
            series=[("Positive", [50, 40, 60, 55, 45]), ("Neutral", [30, 30, 20, 25, 35]),
                    ("Negative", [20, 30, 20, 20, 20])]),
        "sla_departments": charts.horizontal_bar_chart(
            title="Answered within the SLA target", description="Per department", labels=["Care", "Sales"],
            series=[("Within SLA", [92.5, 71.0])], percent=True, max_value=100),
    }


def render(report, **extra) -> str:
    context = {"report": report, "charts": fake_charts(), "viewer_name": VIEWER,
               "generated_at": datetime(2026, 11, 30, 9, 5, tzinfo=ZoneInfo("Europe/Madrid"))}
    context.update(extra)
    return render_to_string("strategy/report_pdf.html", context)


def page_texts(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_template_is_a_standalone_document_without_navigation():
    html = render(fake_report())
    assert html.lstrip().startswith("<!doctype html>")
    assert 'class="sidenav"' not in html and "<form" not in html
    assert "strategy/report_print.css" in html and "strategy/report.css" in html
    assert "Madrid care &lt;desk&gt; &amp; co" in html
    assert "Generated 30 Nov 2026, 09:05 CET for Ana Pérez" in html
    assert "<svg" in html and 'role="img"' in html


def test_pdf_has_summary_charts_and_a_footer_on_every_page(weasyprint_ready):
    pdf = render_pdf(render(fake_report(filler_sentences=40)))  # no base_url, as the digest renders it
    assert pdf.startswith(b"%PDF")
    pages = page_texts(pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert PERIOD in text, number
        assert SCOPE in text, number  # escaped in the HTML, plain text in the PDF
        assert "Generated 30 Nov 2026, 09:05 CET for Ana Pérez" in text, number
        assert f"{number} / {len(pages)}" in text, number
    everything = " ".join(pages)
    for sentence in SUMMARY:
        assert sentence in everything
    # The charts are drawn as vector text, so their titles and labels are in the PDF.
    for title in ("Inbound messages per day", "Sentiment mix per day", "Answered within the SLA target"):
        assert title in everything
    assert "92.5%" in everything


def test_pdf_with_the_pages_base_url_reads_static_files_from_disk(weasyprint_ready):
    # The view passes the site's address; the stylesheets still come from disk (the footer proves they applied).
    pdf = render_pdf(render(fake_report(filler_sentences=40)), base_url="http://testserver/")
    pages = page_texts(pdf)
    assert len(pages) >= 2 and all(f"{n} / {len(pages)}" in text for n, text in enumerate(pages, start=1))


def test_the_renderer_never_goes_to_the_network():
    body, mime_type, _ = fetch_local("http://portal.example.org/static/strategy/report_print.css")
    assert mime_type == "text/css" and b"@page" in body
    assert fetch_local("data:text/plain,hello")[0] == b"hello"
    for url in ("http://203.0.113.5/static/../../etc/passwd", "https://example.com/logo.png",
                "file:///etc/passwd", "http://testserver/reports/", "ftp://example.com/x.css"):
        with pytest.raises(ValueError):
            fetch_local(url)


def test_a_remote_image_is_left_out_not_fetched(weasyprint_ready, monkeypatch):
    import urllib.request

    opened = []

    def no_network(self, url, *args, **kwargs):
        opened.append(getattr(url, "full_url", url))
        raise OSError("no network in this test")

    # WeasyPrint's own fetcher goes through urllib's OpenerDirector (and swallows its errors).
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    html = render(fake_report()).replace("</body>", '<img src="https://example.com/tracker.png" alt="">'
                                                    '<img src="/reports/" alt=""></body>')
    assert render_pdf(html, base_url="http://testserver/").startswith(b"%PDF")
    assert opened == []
