"""Publishing rights in a real browser: an admin grants publish, the holder
(now required to use a second factor) enrols at her next sign-in and sees
the right, another admin revokes it."""

from playwright.sync_api import expect

from accounts.roles import Role
from tests.accounts.factories import PASSWORD
from tests.browser.conftest import sign_in
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory


def _login_in(context, username, **kwargs):
    page = context.new_page()
    result = sign_in(page, username, PASSWORD, **kwargs)
    expect(page.get_by_test_id("current-user")).to_be_visible()
    return page, result


def test_admin_grants_publish_and_another_admin_revokes(browser, live_server, make_member):
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    first_admin = make_member(Role.ADMIN, username="ada", first_name="Ada", last_name="Admin")
    make_member(Role.ADMIN, username="bob", first_name="Bob", last_name="Admin")
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="rita", first_name="Rita", last_name="Service")
    TrainingRecordFactory(user=rep, recorded_by=first_admin)

    contexts = [browser.new_context(base_url=live_server.url) for _ in range(3)]
    for ctx in contexts:
        ctx.set_default_timeout(10_000)
    try:
        # Admins must use a second factor: without an authenticator yet, both enrol on the way in,
        # which also confirms their access for the next minutes (granting publish asks for that)
        (ada, ada_in), (bob, bob_in) = (_login_in(ctx, name) for ctx, name in zip(contexts[:2], ["ada", "bob"],
                                                                                  strict=True))
        assert ada_in.second_factor == bob_in.second_factor == "enrolled"

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

        # Rita signs in: holding publish now, she sets up an authenticator first, then sees it under My access
        rita, rita_in = _login_in(contexts[2], "rita", next_url="/me/access/")
        assert rita_in.second_factor == "enrolled" and len(rita_in.recovery_codes) == 10
        assert rita.url.endswith("/me/access/")
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
