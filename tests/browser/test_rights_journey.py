from playwright.sync_api import expect

from accounts.roles import Role
from tests.accounts.factories import PASSWORD
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory


def _login_in(context, base_url, username):
    page = context.new_page()
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    return page


def test_admin_grants_publish_and_another_admin_revokes(browser, live_server, make_member):
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    first_admin = make_member(Role.ADMIN, username="ada", first_name="Ada", last_name="Admin")
    make_member(Role.ADMIN, username="bob", first_name="Bob", last_name="Admin")
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="rita", first_name="Rita", last_name="Service")
    TrainingRecordFactory(user=rep, recorded_by=first_admin)

    contexts = [browser.new_context(base_url=live_server.url) for _ in range(3)]
    try:
        ada, rita, bob = (_login_in(ctx, live_server.url, name) for ctx, name in zip(contexts, ["ada", "rita", "bob"],
                                                                                       strict=True))
        # Ada grants publish on the account to Rita, with a reason
        ada.goto(f"{live_server.url}/channels/{account.pk}/")
        ada.select_option("#id_capability", "publish")
        ada.select_option("#id_user", label="Rita Service")
        ada.fill("#id_reason", "runs the care channel")
        ada.click("form[action$='/grants/'] button[type=submit]")
        matrix = ada.get_by_test_id("rights-matrix")
        expect(matrix.locator("tr[data-holder='Rita Service'] td[data-capability='publish']")).to_contain_text(
            "Publish")
        ada.screenshot(path=str(_shot_path("ada-granted")), full_page=True)

        # Rita sees it under My access
        rita.goto(f"{live_server.url}/me/access/")
        expect(rita.get_by_test_id("my-access")).to_contain_text("@care@example.social")
        expect(rita.get_by_test_id("my-access")).to_contain_text("Publish")

        # Bob revokes it
        bob.goto(f"{live_server.url}/channels/{account.pk}/")
        cell = bob.locator("tr[data-holder='Rita Service'] td[data-capability='publish']")
        cell.locator("summary").click()
        cell.locator("input[name=reason]").fill("moved to another team")
        cell.get_by_test_id("revoke-publish").click()
        expect(bob.get_by_test_id("rights-matrix")).not_to_contain_text("Rita Service")

        # at Rita's next page load the right is gone
        rita.reload()
        expect(rita.get_by_test_id("my-access")).not_to_contain_text("@care@example.social")
        expect(rita.get_by_test_id("my-access")).to_contain_text("You hold no rights")
        rita.screenshot(path=str(_shot_path("rita-after-revoke")), full_page=True)
    finally:
        for ctx in contexts:
            ctx.close()


def _shot_path(name):
    from tests.browser.conftest import SCREENSHOT_DIR

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / f"rights-journey--{name}.png"
