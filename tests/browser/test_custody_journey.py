"""Credential custody in a real browser: a community manager asks to reveal
an account's password, an executive custodian approves, and she sees the
secret exactly once, after her password and a TOTP code; afterwards the
credential is due for rotation and the secret is nowhere to be seen again.
Both are custodians, so both sign in with their authenticator code."""

import re

from playwright.sync_api import expect

from accounts.roles import Role
from security import services
from security.models import Credential, RevealRequest
from tests.accounts.factories import PASSWORD
from tests.browser.conftest import SCREENSHOT_DIR, fresh_totp_code, sign_in
from tests.security.factories import totp_device

SECRET = "Vault-Kx9#q2_Lm7!pZ-care-2024"
REASON = "Mastodon asks for the password to confirm the new recovery e-mail"


def _erik_shot(pg, name):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOT_DIR / f"custody-journey--erik-{name}.png"), full_page=True)


def _assert_no_secret(pg):
    """Neither the rendered text nor the HTML source carries the secret."""
    assert SECRET not in pg.content()
    assert SECRET not in pg.locator("body").inner_text()
    expect(pg.get_by_test_id("secret")).to_have_count(0)


def test_custodian_reveals_password_once_after_executive_approval(
        page, login, screenshot, browser, live_server, make_member, admin_user):
    account = services.account_create(actor=admin_user, platform="mastodon", handle="@care@example.social",
                                      display_name="Care")
    cora = make_member(Role.COMMUNITY_MANAGER, username="cora", first_name="Cora", last_name="Community")
    erik = make_member(Role.EXECUTIVE, username="erik", first_name="Erik", last_name="Executive")
    services.custodian_add(actor=admin_user, account=account, user=cora)
    services.custodian_add(actor=admin_user, account=account, user=erik)
    credential = services.credential_set(actor=admin_user, account=account, kind=Credential.Kind.PASSWORD,
                                         secret=SECRET)
    cora_device = totp_device(cora)
    totp_device(erik)
    assert not credential.is_rotation_due

    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))

    # --- Cora asks for a reveal, with a reason, from the custody pages ------------------------------
    assert login("cora", PASSWORD).second_factor == "code"  # a custodian: password, then her code
    expect(page.get_by_test_id("current-user")).to_have_text("Cora Community")
    page.goto("/custody/")
    overview_row = page.locator(f"section[data-account='{account.pk}']")
    expect(overview_row.locator(f"tr[data-credential='{credential.pk}']")).to_contain_text("Password")
    expect(overview_row.locator(f"tr[data-credential='{credential.pk}'] [data-testid='rotation-due']")
           ).to_have_count(0)
    overview_row.get_by_role("link", name=str(account)).click()
    expect(page).to_have_url(re.compile(rf"/custody/{account.pk}/$"))
    card = page.locator(f"#credentials article[data-credential='{credential.pk}']")
    card.locator("summary").click()
    page.fill(f"#id_reveal_{credential.pk}_reason", REASON)
    screenshot("cora-request-form")
    card.get_by_role("button", name="Ask another custodian to approve").click()

    expect(page).to_have_url(re.compile(r"/custody/reveals/\d+/$"))
    reveal = RevealRequest.objects.get(credential=credential, requester=cora)
    assert page.url.endswith(f"/custody/reveals/{reveal.pk}/")
    expect(page.get_by_test_id("reveal-status")).to_have_text("Waiting for a custodian")
    expect(page.locator("main, body").first).to_contain_text(REASON)
    expect(page.get_by_test_id("approve")).to_have_count(0)  # nobody approves their own request
    expect(page.locator("#reveal")).to_have_count(0)
    _assert_no_secret(page)
    screenshot("cora-pending")

    erik_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    erik_context.set_default_timeout(10_000)
    try:
        # --- Erik sees the request waiting for him, on /custody/ and on My work, and approves ---------
        ep = erik_context.new_page()
        # the code also confirms his access for the next minutes, so approving asks nothing more
        assert sign_in(ep, "erik", PASSWORD).second_factor == "code"
        expect(ep.get_by_test_id("current-user")).to_have_text("Erik Executive")

        ep.goto("/")
        panel = ep.get_by_test_id("my-work").get_by_test_id("panel-reveals")
        expect(panel).to_contain_text("Reveal requests waiting for you")
        expect(panel).to_contain_text("Cora Community")
        expect(panel).to_contain_text(REASON)
        expect(panel.get_by_role("link", name=str(credential))).to_have_attribute(
            "href", f"/custody/reveals/{reveal.pk}/")
        _assert_no_secret(ep)
        _erik_shot(ep, "my-work")

        ep.goto("/custody/")
        waiting = ep.get_by_test_id("waiting-for-me").locator(f"tr[data-reveal='{reveal.pk}']")
        expect(waiting).to_contain_text("Cora Community")
        expect(waiting).to_contain_text(REASON)
        expect(waiting).to_contain_text("Password")
        _assert_no_secret(ep)
        _erik_shot(ep, "custody-waiting")

        waiting.get_by_role("link", name="Decide").click()
        expect(ep).to_have_url(re.compile(rf"/custody/reveals/{reveal.pk}/$"))
        expect(ep.get_by_test_id("reveal-status")).to_have_text("Waiting for a custodian")
        ep.fill("#id_note", "ok for the recovery e-mail change")
        _erik_shot(ep, "decide")
        ep.get_by_test_id("approve").click()
        expect(ep.get_by_test_id("reveal-status")).to_have_text("Approved")
        expect(ep.locator("body")).to_contain_text("Reveal approved.")
        expect(ep.get_by_test_id("approve")).to_have_count(0)
        expect(ep.locator("#reveal")).to_have_count(0)  # only the requester reveals
        _assert_no_secret(ep)
        _erik_shot(ep, "approved")

        # the request no longer waits for him
        ep.goto("/custody/")
        expect(ep.get_by_test_id("waiting-for-me")).to_have_count(0)
        ep.goto("/")
        expect(ep.get_by_test_id("panel-reveals")).to_have_count(0)

        # --- Cora opens her approved request and reveals, with password and TOTP --------------------
        page.goto("/custody/")
        mine = page.get_by_test_id("my-open-requests")
        expect(mine).to_contain_text("Approved")
        mine.get_by_role("link", name=re.compile(r"Password")).click()
        expect(page).to_have_url(re.compile(rf"/custody/reveals/{reveal.pk}/$"))
        expect(page.get_by_test_id("reveal-status")).to_have_text("Approved")
        expect(page.locator("body")).to_contain_text("Erik Executive")
        expect(page.get_by_test_id("totp-needed")).to_have_count(0)
        _assert_no_secret(page)
        page.fill("#id_password", PASSWORD)
        page.fill("#id_otp_token", fresh_totp_code(cora_device))  # not the code she signed in with
        screenshot("cora-reveal-form")

        page.console_errors.clear()
        page_errors.clear()
        with page.expect_response(lambda r: r.request.method == "POST"
                                  and r.url.endswith(f"/custody/reveals/{reveal.pk}/")) as response_info:
            page.get_by_test_id("reveal-submit").click()
        response = response_info.value
        assert response.status == 200
        assert "no-store" in response.headers.get("cache-control", "")

        secret_box = page.get_by_test_id("secret")
        expect(secret_box).to_have_count(1)
        expect(secret_box).to_have_text(SECRET)
        assert page.content().count(SECRET) == 1
        reveal.refresh_from_db()
        assert reveal.status == RevealRequest.Status.REVEALED
        until = reveal.visible_until.strftime("%H:%M")  # TIME_ZONE is UTC
        expect(page.locator("[data-reveal-box]")).to_contain_text(f"Visible until {until}")
        # the countdown script runs (so CSP let it load) and counts down as m:ss
        expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"^1[45]:\d\d$"))
        expect(page.locator("[data-reveal-box]")).to_contain_text("This credential is now due for rotation.")
        screenshot("cora-secret-shown")
        assert page.console_errors == [], page.console_errors
        assert page_errors == [], page_errors

        # --- coming back with a GET shows the request, never the secret -----------------------------
        page.goto(f"/custody/reveals/{reveal.pk}/")
        expect(page.get_by_test_id("reveal-status")).to_have_text("Revealed")
        expect(page.locator("body")).to_contain_text("The secret was shown once")
        expect(page.locator("#reveal")).to_have_count(0)
        _assert_no_secret(page)
        screenshot("cora-after-reload")

        # --- the custody overview now flags the credential for rotation ------------------------------
        page.goto("/custody/")
        row = page.locator(f"section[data-account='{account.pk}'] tr[data-credential='{credential.pk}']")
        expect(row.get_by_test_id("rotation-due")).to_have_text("rotation due")
        expect(page.get_by_test_id("my-open-requests")).to_have_count(0)
        _assert_no_secret(page)
        screenshot("cora-overview-rotation-due")
        credential.refresh_from_db()
        assert credential.is_rotation_due

        # --- and Erik's pages never carry the secret, before or after the reveal ---------------------
        ep.goto("/custody/")
        expect(ep.locator(f"section[data-account='{account.pk}'] tr[data-credential='{credential.pk}']"
                          ).get_by_test_id("rotation-due")).to_be_visible()
        _assert_no_secret(ep)
        ep.goto(f"/custody/{account.pk}/")
        expect(ep.locator(f"article[data-credential='{credential.pk}']").get_by_test_id("rotation-due")
               ).to_be_visible()
        _assert_no_secret(ep)
        ep.goto(f"/custody/reveals/{reveal.pk}/")
        expect(ep.get_by_test_id("reveal-status")).to_have_text("Revealed")
        _assert_no_secret(ep)
        _erik_shot(ep, "after-reveal")
    finally:
        erik_context.close()
