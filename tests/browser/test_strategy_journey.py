"""The strategy register in a real browser (issue 10's journey): a social
media manager drafts a strategy, adds an objective owned by customer
service (the first-response KPI), fails to activate it with one department
and sees why next to the status field, adds a sales owner, activates it,
and sees the first-response KPI the portal computed against its target."""

from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from inbox.models import ServicePeriod, ServiceWindow, TriageSettings
from security import services as security_services
from strategy import services as strategy_services
from tests.accounts.factories import DepartmentFactory
from tests.browser.conftest import sign_in
from tests.security.factories import SocialAccountFactory
from tests.strategy.test_metrics import answered, at, opened


def _answered_conversations(account, agent, monkeypatch, capture):
    """Three conversations answered through the inbox's real reply path, in
    Madrid service time: 60, 20 and 30 minutes (median 30), one unanswered."""
    weekend = opened(account, 1, at(2, 17, 30))
    holiday = opened(account, 2, at(9, 17, 50))
    lunch = opened(account, 3, at(14, 12, 50))
    opened(account, 4, at(15, 10, 0))
    answered(weekend, agent, at(5, 9, 30), monkeypatch, capture)
    answered(holiday, agent, at(13, 9, 10), monkeypatch, capture)
    answered(lunch, agent, at(14, 14, 20), monkeypatch, capture)


def test_a_social_media_manager_drafts_shares_and_activates_a_strategy(
        page, live_server, make_member, admin_user, monkeypatch, django_capture_on_commit_callbacks, axe,
        screenshot):
    marketing = DepartmentFactory(name="Marketing", slug="marketing")
    service = DepartmentFactory(name="Customer service", slug="customer-service")
    sales = DepartmentFactory(name="Sales", slug="sales")
    triage = TriageSettings.current()
    triage.default_department = service
    triage.save()
    account = SocialAccountFactory(platform="mastodon", handle="@acme_madrid", sandbox=True)
    account.departments.add(service)
    window = ServiceWindow.objects.create(account=account, time_zone="Europe/Madrid", holiday_country="ES")
    for weekday in range(5):
        ServicePeriod.objects.create(window=window, weekday=weekday, opens_minute=9 * 60, closes_minute=13 * 60)
        ServicePeriod.objects.create(window=window, weekday=weekday, opens_minute=14 * 60, closes_minute=18 * 60)
    smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=marketing, username="sofia", first_name="Sofia",
                      last_name="Manager")
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service, username="rita", first_name="Rita",
                        last_name="Service")
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=sales, username="sven", first_name="Sven",
                last_name="Sales")
    security_services.grant_create(actor=admin_user, account=account, capability="reply", user=agent,
                                   reason="answers the channel", reauthenticated_at=timezone.now())
    strategy_services.brand_create(actor=smm, name="Acme", slug="acme", accounts=[account])
    _answered_conversations(account, agent, monkeypatch, django_capture_on_commit_callbacks)

    sign_in(page, "sofia")
    page.goto("/strategy/")
    axe()
    page.get_by_test_id("new-strategy").click()
    page.select_option("#id_brand", label="Acme")
    page.fill("#id_title", "Acme on social 2027")
    page.fill("#id_summary", "Answer customers where they complain, and be heard.")
    page.get_by_role("button", name="Draft the strategy").click()
    expect(page.get_by_test_id("strategy-status")).to_have_text("Draft")
    axe()

    # Customer service owns the objective of answering fast
    page.get_by_test_id("add-owner").locator("summary").click()
    page.select_option("#id_owner_user", label="Rita Service")
    page.select_option("#id_owner_department", label="Customer service")
    page.fill("#id_owner_responsibility", "Answering customers")
    page.get_by_role("button", name="Add owner").click()
    expect(page.get_by_test_id("owners")).to_contain_text("Rita Service")

    page.get_by_test_id("add-objective").locator("summary").click()
    page.select_option("#id_objective_owner", label="Rita Service (Customer service)")
    page.fill("#id_objective_title", "Answer within the hour")
    page.select_option("#id_objective_kind", "reactive")
    page.select_option("#id_objective_category", "customer_service")
    page.select_option("#id_objective_kpi", "first_response_median")
    page.fill("#id_objective_baseline", "240")
    page.fill("#id_objective_target", "60")
    page.select_option("#id_objective_direction", "lower")
    page.fill("#id_objective_starts_on", "2026-10-01")
    page.fill("#id_objective_deadline", "2027-03-31")
    page.get_by_test_id("add-objective").get_by_label("@acme_madrid", exact=False).check()
    page.get_by_role("button", name="Add objective").click()
    expect(page.get_by_test_id("objective")).to_contain_text("Answer within the hour")

    # One department is not enough: the refusal sits next to the status field
    page.select_option("#id_status_status", "active")
    page.fill("#id_status_reason", "launch")
    page.get_by_role("button", name="Change status").click()
    refusal = page.locator("#id_status_status_error")
    expect(refusal).to_contain_text("at least two departments")
    expect(refusal).to_contain_text("Customer service")
    expect(page.get_by_test_id("strategy-status")).to_have_text("Draft")
    screenshot("refused-one-department")
    axe()

    # Sales shares it; now it becomes active
    page.get_by_test_id("add-owner").locator("summary").click()
    page.select_option("#id_owner_user", label="Sven Sales")
    page.select_option("#id_owner_department", label="Sales")
    page.get_by_role("button", name="Add owner").click()
    expect(page.get_by_test_id("owners")).to_contain_text("Sven Sales")
    page.select_option("#id_status_status", "active")
    page.fill("#id_status_reason", "shared by service and sales")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("strategy-status")).to_have_text("Active")

    # The first-response median the portal computed (30 service minutes) against its target (60)
    objective = page.get_by_test_id("objective")
    expect(objective.get_by_test_id("kpi-current")).to_have_text("30.00 minutes")
    expect(objective.get_by_test_id("kpi-target")).to_contain_text("60.00 minutes")
    expect(objective.get_by_test_id("progress")).to_have_text("On track")
    expect(objective.get_by_test_id("sparkline")).to_be_visible()  # its values over the weeks so far
    screenshot("active-with-kpi")
    axe()

    page.goto("/strategy/")
    row = page.get_by_test_id("register")
    expect(row).to_contain_text("Acme on social 2027")
    expect(row.locator("[data-department='Sales']")).to_be_visible()
    expect(row.locator("[data-department='Customer service']")).to_contain_text("1 objective")
    screenshot("register")
    page.get_by_role("link", name="Acme on social 2027").click()
    page.get_by_role("link", name="Version history").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("shared by service and sales")
    axe()
    page.get_by_test_id("compare").click()
    expect(page.get_by_test_id("differences")).to_contain_text("Active")
    axe()
