"""The reputation report in a real browser (issue 11's journey): an
executive opens the report from the home page, switches to the last 90
days and one channel, reads the summary and the charts, follows the
SLA-breach number to exactly the breached conversations in the inbox, comes
back and downloads the PDF; a department representative sees only their
department's part, is refused another department's, and drills down into
their own department's conversations only.

The data goes through the real paths: messages through the ingest, replies
through the reply service and the sandbox platform, resolutions through the
status service, breaches marked by the SLA sweep. The instants are relative
to now (both channels are open around the clock, so service time is real
time whatever the weekday), so the journey does not age out of "the last 90
days"."""

import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from inbox.models import RoutingRule, ServiceWindow, TriageSettings
from inbox.services import sla_sweep
from security import services as security_services
from tests.accounts.factories import DepartmentFactory
from tests.browser.conftest import sign_in
from tests.security.factories import SocialAccountFactory
from tests.strategy.test_metrics import answered, opened
from tests.strategy.test_metrics import resolved as resolved_at

KEPT_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

QUESTION = "What are your opening hours?"                                    # simple query: 30 min to answer
COMPLAINT = "This is terrible, my order never arrived and nobody answers"   # complaint: 48 h to answer
PRAISE = "I love this brand, thank you so much!"

# Which conversation (customer number) breached an SLA target, per channel and department.
MADRID_BREACHED = {1, 3, 5}       # answered 90 and 45 minutes late, a complaint never answered
LISBON_BREACHED = {8, 9}          # a complaint never answered, a question answered after 2 hours
OLD_BREACH = 6                    # 100 days ago: outside the last 90 days


def keep(page, name: str) -> None:
    """A viewport-sized copy (1280x900) of what the page shows now, kept in docs/screenshots/."""
    KEPT_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(KEPT_SCREENSHOTS / f"report-{name}.png"), full_page=False)


@pytest.fixture
def two_channels(make_member, admin_user, monkeypatch, django_capture_on_commit_callbacks):
    """Acme Madrid (customer service) and Acme Lisbon (returns), both open
    around the clock; conversations over the last 100 days, five of them
    breached an SLA target in the last 90 days (three in Madrid, two in
    Lisbon) and one breached before then."""
    capture = django_capture_on_commit_callbacks
    service = DepartmentFactory(name="Customer service", slug="customer-service")
    returns = DepartmentFactory(name="Returns", slug="returns")
    triage = TriageSettings.current()
    triage.default_department = service
    triage.save()
    madrid = SocialAccountFactory(platform="mastodon", handle="@acme_madrid", display_name="Acme Madrid",
                                  sandbox=True)
    madrid.departments.add(service)
    lisbon = SocialAccountFactory(platform="mastodon", handle="@acme_lisbon", display_name="Acme Lisbon",
                                  sandbox=True)
    lisbon.departments.add(returns)
    ServiceWindow.objects.create(account=madrid, time_zone="Europe/Madrid", always_open=True)
    ServiceWindow.objects.create(account=lisbon, time_zone="Europe/Lisbon", always_open=True)
    RoutingRule.objects.create(name="Lisbon channel", position=1, account=lisbon, department=returns)
    rita = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service, username="rita", first_name="Rita",
                       last_name="Service", time_zone="Europe/Madrid")
    lena = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=returns, username="lena", first_name="Lena",
                       last_name="Returns", time_zone="Europe/Lisbon")
    for account, agent in ((madrid, rita), (lisbon, lena)):
        security_services.grant_create(actor=admin_user, account=account, capability="reply", user=agent,
                                       reason="answers the channel", reauthenticated_at=timezone.now())
    make_member(Role.EXECUTIVE, username="eva", first_name="Eva", last_name="Executive",
                time_zone="Europe/Madrid")

    now = timezone.now().replace(second=0, microsecond=0)

    def conversation(account, n, days_ago, text, *, answer_after=None, agent=None):
        """Opened ``days_ago`` days ago; answered ``answer_after`` minutes later, then resolved."""
        opened_at = now - timedelta(days=days_ago)
        c = opened(account, n, opened_at, text)
        if answer_after is not None:
            answered(c, agent, opened_at + timedelta(minutes=answer_after), monkeypatch, capture)
            resolved_at(c, agent, opened_at + timedelta(minutes=answer_after + 30), monkeypatch)
        return c

    conversation(madrid, 1, 40, QUESTION, answer_after=90, agent=rita)     # late: breached
    conversation(madrid, 2, 20, QUESTION, answer_after=10, agent=rita)     # on time
    conversation(madrid, 3, 10, COMPLAINT)                                 # never answered: breached
    conversation(madrid, 4, 5, PRAISE, answer_after=15, agent=rita)        # on time
    conversation(madrid, 5, 60, QUESTION, answer_after=45, agent=rita)     # late: breached
    conversation(madrid, 6, 100, QUESTION, answer_after=120, agent=rita)   # late, but 100 days ago
    conversation(lisbon, 7, 3, QUESTION, answer_after=5, agent=lena)       # on time
    conversation(lisbon, 8, 15, COMPLAINT)                                 # never answered: breached
    conversation(lisbon, 9, 30, QUESTION, answer_after=120, agent=lena)    # late: breached
    sla_sweep(now=timezone.now())  # what the every-minute sweep has marked by now
    return {"madrid": madrid, "lisbon": lisbon, "service": service, "returns": returns}


def listed_customers(page) -> set[int]:
    """The customer numbers (``@customer<n>``) of the conversations the inbox lists."""
    rows = page.get_by_test_id("conversation-row")
    handles = rows.locator(".handle").all_inner_texts()
    return {int(m.group(1)) for h in handles for m in [re.search(r"@customer(\d+)", h)] if m}


def test_an_executive_reads_the_report_drills_into_breaches_and_downloads_the_pdf(
        page, live_server, two_channels, axe, screenshot):
    sign_in(page, "eva")
    page.goto("/")
    panel = page.get_by_test_id("panel-report")
    expect(panel).to_be_visible()
    screenshot("home-panel")
    panel.get_by_role("link", name="Open the reputation report").click()
    expect(page).to_have_url(re.compile(r"/strategy/reports/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reputation report")
    screenshot("report-default")

    # The last 90 days, one channel
    page.get_by_label("Period").select_option(label="Last 90 days")
    page.get_by_label("Scope").select_option(label="Channel Acme Madrid")
    with page.expect_navigation():
        page.get_by_role("button", name="Show report").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["period"] == ["90d"] and query["scope"] == [f"account:{two_channels['madrid'].pk}"]
    expect(page.locator("#report-title")).to_contain_text("Channel Acme Madrid")
    expect(page.locator("#report-title")).to_contain_text("Last 90 days")
    summary = page.get_by_test_id("report-summary")
    expect(summary).to_be_visible()
    sentences = [s.strip() for s in summary.locator("li").all_inner_texts()]
    assert sentences and all(sentences), "the summary has no sentence"

    # Charts: inline SVGs, each with a title naming what it shows
    charts = page.locator(".chart svg")
    assert charts.count() >= 3, f"only {charts.count()} chart(s) on the page"
    for i in range(charts.count()):
        chart = charts.nth(i)
        expect(chart).to_be_visible()
        assert chart.get_attribute("role") == "img"
        title = chart.locator("title").first.text_content().strip()
        assert title, f"chart {i} has an empty title"
        assert chart.locator("desc").count() >= 1, f"chart {i} ({title}) has no description"
    # Madrid's three breaches in the last 90 days (the one 100 days ago is outside; Lisbon's are not counted)
    breaches = page.get_by_test_id("figure-link-breaches")
    expect(breaches).to_have_text("3")
    page.evaluate("window.scrollTo(0, 0)")
    keep(page, "top")
    screenshot("report-90-days-madrid")
    axe()
    report_url = page.url

    # The SLA-breach number (named with its label for a screen reader's list of links) leads to
    # exactly the breached conversations of Madrid in those 90 days
    page.get_by_role("link", name="SLA breaches 3", exact=True).click()
    expect(page).to_have_url(re.compile(r"/inbox/\?"))
    banner = page.get_by_test_id("report-filters")
    expect(banner).to_contain_text("Filtered from the report")
    expect(page.get_by_test_id("conversation-row")).to_have_count(len(MADRID_BREACHED))
    assert listed_customers(page) == MADRID_BREACHED
    keep(page, "drilldown")
    screenshot("breached-conversations")
    axe()

    # Back to the report, then the PDF of the same report
    page.go_back()
    expect(page).to_have_url(report_url)
    expect(page.get_by_test_id("figure-link-breaches")).to_have_text("3")
    with page.expect_download(timeout=60_000) as download_info:  # WeasyPrint takes seconds here
        page.get_by_role("link", name="Download PDF").click(timeout=60_000)
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf_bytes = Path(download.path()).read_bytes()
    assert pdf_bytes.startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf_bytes)).pages)
    flat = re.sub(r"\s+", " ", text)
    assert "Channel Acme Madrid" in flat
    for sentence in sentences:
        # the first words of each summary sentence (a long one wraps across lines in the PDF)
        start = " ".join(sentence.split()[:4])
        assert start in flat, f"the PDF lacks the summary sentence {sentence!r}"
    screenshot("after-pdf")


def test_a_department_representative_sees_only_their_department(page, live_server, two_channels, axe,
                                                                screenshot):
    service, returns = two_channels["service"], two_channels["returns"]
    sign_in(page, "rita")
    page.goto("/")
    page.locator("nav.sidenav").get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/strategy/reports/"))

    # The only scope offered is her department; the page says what it leaves out
    scope = page.get_by_label("Scope")
    # expect() waits for the page to be there (the URL changes before the new page is parsed).
    expect(scope.locator("option")).to_have_text(["Department Customer service"])
    hidden = page.get_by_test_id("report-hidden")
    expect(hidden).to_be_visible()
    expect(hidden).to_contain_text("you see your department's part")
    assert page.locator("[data-table='objectives']").count() == 0

    page.get_by_label("Period").select_option(label="Last 90 days")
    with page.expect_navigation():
        page.get_by_role("button", name="Show report").click()
    expect(page.locator("#report-title")).to_contain_text("Department Customer service")
    breaches = page.get_by_test_id("figure-link-breaches")
    expect(breaches).to_have_text("3")  # not the 5 of the whole organisation
    page.evaluate("window.scrollTo(0, 0)")
    keep(page, "department")
    screenshot("department-report")
    axe()
    report_url = page.url

    # Another department's report, asked for in the address: refused with a message, not a 500
    response = page.goto(f"/strategy/reports/?period=90d&scope=department:{returns.pk}")
    assert response.status == 403
    expect(page.get_by_test_id("report-error")).to_contain_text("You may not see the report for this scope.")
    screenshot("other-department-refused")
    axe()

    # The drill-down: only her department's breached conversations
    page.goto(report_url)
    link = page.get_by_test_id("figure-link-breaches").get_attribute("href")
    assert parse_qs(urlsplit(link).query)["department"] == [str(service.pk)]
    page.get_by_test_id("figure-link-breaches").click()
    expect(page.get_by_test_id("report-filters")).to_contain_text("Filtered from the report")
    expect(page.get_by_test_id("conversation-row")).to_have_count(len(MADRID_BREACHED))
    assert listed_customers(page) == MADRID_BREACHED
    screenshot("department-drilldown")

    # The same link without the department: the inbox still shows her only what she may see
    query = [(k, v[0]) for k, v in parse_qs(urlsplit(link).query).items() if k != "department"]
    page.goto("/inbox/?" + urlencode(query))
    expect(page.get_by_test_id("report-filters")).to_be_visible()
    expect(page.get_by_test_id("conversation-row")).to_have_count(len(MADRID_BREACHED))
    assert listed_customers(page).isdisjoint(LISBON_BREACHED)


def test_kept_screenshots_are_small_viewport_images():
    """The copies kept in the repository are viewport screenshots, not whole pages."""
    shots = sorted(KEPT_SCREENSHOTS.glob("report-*.png"))
    if not shots:
        pytest.skip("the journeys above write them")
    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1280, 900), f"{shot.name} is {width}x{height}"
        assert len(data) < 400_000, f"{shot.name} is {len(data)} bytes"

