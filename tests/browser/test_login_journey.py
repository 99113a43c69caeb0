from playwright.sync_api import expect

from accounts.roles import Role
from tests.accounts.factories import PASSWORD, DepartmentFactory, WorkgroupFactory


def test_representative_logs_in_and_sees_their_dashboard(page, login, screenshot, make_member):
    department = DepartmentFactory(name="Customer service")
    workgroup = WorkgroupFactory(name="Brand & Care")
    user = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=department, workgroup=workgroup,
                       username="rita", first_name="Rita", last_name="Service")
    login(user.username, PASSWORD)
    expect(page.get_by_test_id("current-user")).to_have_text("Rita Service")
    expect(page.get_by_test_id("my-departments")).to_contain_text("Customer service")
    expect(page.get_by_test_id("my-workgroups")).to_contain_text("Brand & Care")
    expect(page.get_by_test_id("my-roles")).to_contain_text("Department representative")
    expect(page.get_by_role("link", name="People")).to_have_count(0)
    screenshot("dashboard")
    assert page.console_errors == []


def test_wrong_password_then_lockout_on_the_sixth(page, login, screenshot, make_member):
    user = make_member(username="sven")
    login(user.username, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    screenshot("wrong-password")
    for attempt in range(2, 6):
        login(user.username, f"still-wrong-{attempt}")
    expect(page.get_by_test_id("locked-out")).to_be_visible()
    # the sixth, even with the right password, stays locked out
    login(user.username, PASSWORD)
    expect(page.get_by_test_id("locked-out")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    screenshot("locked-out")
