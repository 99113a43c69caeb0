"""Signing in with a second factor, in a real browser.

(a) An executive without an authenticator is sent to enrol one on her way to
the page she asked for, keeps her recovery codes, continues there; at her
next sign-in the password alone is not enough: a wrong code is refused next
to the field, the right one lets her in.
(b) A person creates an API token on her Security page (shown once), uses it
against the live API, then signs out everywhere: her other browser, this one
and the token all stop working.
(c) The Django admin is reached only through the portal's sign-in and second
factor, and shows a person without a password field or a Save button."""

import json
import re
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import ApiToken
from accounts.roles import Role
from tests.accounts.factories import PASSWORD, UserFactory, WorkgroupFactory
from tests.browser.conftest import (
    ENROL_PATH,
    TOTP_STEP,
    VERIFY_PATH,
    fresh_totp_code,
    key_from_page_secret,
    new_page,
    path_of,
    sign_in,
    totp_from_key,
    wait_out_throttle,
    wrong_totp_code,
)
from tests.security.factories import totp_device


def _api_me(live_server, token):
    """GET /api/me/ with ``Authorization: Token ...``, as a script would: (status, body)."""
    request = urllib.request.Request(f"{live_server.url}/api/me/",
                                     headers={"Authorization": f"Token {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _at(pg, path: str, next_url: str | None = None) -> None:
    """``pg`` shows ``path`` (with ``?next=next_url`` when given; Django's and
    the portal's redirects encode it differently)."""
    expect(pg).to_have_url(re.compile(re.escape(path) + r"(\?|$)"))
    url = urlsplit(pg.url)
    assert url.path == path, pg.url
    if next_url is not None:
        assert parse_qs(url.query).get("next") == [next_url], pg.url


def _sign_out(pg):
    with pg.expect_navigation():
        pg.locator("header.topbar").get_by_role("button", name="Sign out").click()
    expect(pg).to_have_url(re.compile(r"/login/$"))


def test_executive_enrols_on_first_sign_in_and_needs_the_code_next_time(page, screenshot, make_member):
    elena = make_member(Role.EXECUTIVE, username="elena", first_name="Elena", last_name="Exec")
    WorkgroupFactory(name="Brand & Care").supervisors.add(elena)
    assert not TOTPDevice.objects.filter(user__username="elena").exists()

    # --- she follows a link to the workgroups and is asked to sign in -------------------------------
    page.goto("/workgroups/")
    _at(page, "/login/", "/workgroups/")
    page.fill("#id_username", "elena")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    # --- the password was right, but an executive needs an authenticator: enrolment -----------------
    assert path_of(page) == ENROL_PATH, page.url
    expect(page.get_by_test_id("totp-setup")).to_be_visible()
    expect(page.get_by_test_id("totp-qr")).to_be_visible()
    expect(page.get_by_test_id("totp-setup")).to_contain_text("admins, executives")
    screenshot("1-enrol")
    # nothing is reachable before that (and the way back keeps where she was going)
    page.goto("/workgroups/")
    _at(page, ENROL_PATH, "/workgroups/")

    # she types the key into her app and confirms with her password and the code it shows
    key = key_from_page_secret(page.get_by_test_id("totp-secret").inner_text())
    device = TOTPDevice.objects.get(user__username="elena")
    assert key == device.bin_key and not device.confirmed
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", totp_from_key(key, int(time.time()) // TOTP_STEP))
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("totp-confirmed")).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").locator("code")
    expect(codes).to_have_count(10)
    assert len(set(codes.all_inner_texts())) == 10
    expect(page.get_by_test_id("totp-secret")).to_have_count(0)
    screenshot("2-recovery-codes")
    device.refresh_from_db()
    assert device.confirmed

    # "I have stored them: continue" takes her where she was going
    with page.expect_navigation():
        page.get_by_test_id("totp-continue").click()
    expect(page).to_have_url(re.compile(r"/workgroups/$"))
    expect(page.get_by_test_id("current-user")).to_have_text("Elena Exec")
    expect(page.locator("main")).to_contain_text("Brand & Care")
    _sign_out(page)

    # --- next time: password, then the code ---------------------------------------------------------
    page.fill("#id_username", "elena")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert path_of(page) == VERIFY_PATH, page.url
    expect(page.get_by_test_id("login-verify")).to_contain_text("Enter your authenticator code")
    screenshot("3-verify")
    page.goto("/workgroups/")  # the password alone opens nothing
    _at(page, VERIFY_PATH, "/workgroups/")

    # a wrong code: refused, with the error next to the field, and still not signed in
    page.fill("#id_otp_token", wrong_totp_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Verify").click()
    assert path_of(page) == VERIFY_PATH, page.url
    field = page.locator(".field.has-error").filter(has=page.locator("#id_otp_token"))
    expect(field.locator("p.field-error[data-field=otp_token]")).to_contain_text("The code is not correct")
    screenshot("4-wrong-code")
    page.console_errors.clear()  # the refused form is answered with a 400, which Chromium logs
    page.goto("/workgroups/")
    _at(page, VERIFY_PATH, "/workgroups/")

    # django-otp slows guessing down after the failure: she waits for it, then types the right code
    wait_out_throttle(device)
    page.fill("#id_otp_token", fresh_totp_code(device))
    with page.expect_navigation():
        page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/workgroups/$"))  # the page she asked for, once more
    expect(page.get_by_test_id("current-user")).to_have_text("Elena Exec")
    page.goto("/")
    expect(page.get_by_test_id("my-roles")).to_contain_text("Executive")
    screenshot("5-signed-in")
    assert page.console_errors == [], page.console_errors


def test_api_token_shown_once_then_ended_by_sign_out_everywhere(page, screenshot, browser, live_server,
                                                                make_member):
    rita = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="rita", first_name="Rita", last_name="Service")
    totp_device(rita)  # she opted in to an authenticator: signing in asks for its code

    # she is also signed in on another computer
    elsewhere = new_page(browser, live_server)
    try:
        assert sign_in(elsewhere, "rita").second_factor == "code"
        expect(elsewhere.get_by_test_id("current-user")).to_have_text("Rita Service")

        assert sign_in(page, "rita").second_factor == "code"
        with page.expect_navigation():
            page.get_by_test_id("my-security-link").click()
        expect(page).to_have_url(re.compile(r"/me/security/$"))
        expect(page.get_by_test_id("second-factor")).to_contain_text("Authenticator app set up")

        # --- a token for her reporting script: shown once ---------------------------------------
        tokens = page.get_by_test_id("api-tokens")
        tokens.get_by_label("Name").fill("reporting script")
        with page.expect_navigation():
            tokens.get_by_role("button", name="Create token").click()
        shown = page.get_by_test_id("new-token-value")
        expect(shown).to_have_count(1)
        token = shown.inner_text().strip()
        assert token.startswith("sop_") and len(token) > 40
        expect(page.get_by_test_id("new-token")).to_contain_text('"reporting script"')
        expect(page.get_by_test_id("token-row")).to_have_count(1)
        screenshot("1-token-shown")
        stored = ApiToken.objects.get(user=rita)
        assert token not in (stored.digest, stored.token_key) and token.startswith(stored.token_key)

        # coming back to the page: the token is gone, only its name (and first characters) listed
        page.goto("/me/security/")
        expect(page.get_by_test_id("new-token")).to_have_count(0)
        assert token not in page.content()
        row = page.get_by_test_id("token-row")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("reporting script")
        expect(row).to_contain_text("never")  # not used yet
        screenshot("2-token-listed")

        # --- the script uses it ------------------------------------------------------------------
        status, body = _api_me(live_server, token)
        assert status == 200, body
        assert body["username"] == "rita"
        page.reload()
        expect(page.get_by_test_id("token-row")).not_to_contain_text("never")  # "last used" now has a time

        # --- Sign out everywhere --------------------------------------------------------------
        with page.expect_navigation():
            page.get_by_test_id("sign-out-everywhere").click()
        expect(page).to_have_url(re.compile(r"/login/$"))
        expect(page.locator(".messages")).to_contain_text("Signed out everywhere")
        expect(page.get_by_test_id("current-user")).to_have_count(0)
        screenshot("3-signed-out-everywhere")

        status, body = _api_me(live_server, token)
        assert status == 401, body
        assert not ApiToken.objects.filter(user=rita).exists()
        # her other browser is signed out too
        elsewhere.goto("/me/security/")
        _at(elsewhere, "/login/", "/me/security/")
        # and this one: the Security page asks her to sign in again
        page.goto("/me/security/")
        _at(page, "/login/", "/me/security/")
    finally:
        elsewhere.context.close()


def test_django_admin_goes_through_the_portal_sign_in_and_is_read_only(page, screenshot, make_member):
    ada = UserFactory(username="ada", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True)
    make_member(Role.ADMIN, user=ada)
    totp_device(ada)
    erik = make_member(Role.EXECUTIVE, username="erik", first_name="Erik", last_name="Executive")

    failed_loads: list[str] = []
    page.on("console", lambda m: failed_loads.append(m.location.get("url", "")) if m.type == "error" else None)

    # /admin/ leads to the portal's own sign-in, not Django's admin login form
    page.goto("/admin/")
    _at(page, "/login/", "/admin/")
    expect(page.locator("main h1")).to_have_text("Sign in")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    # the password is not enough: the second factor first
    _at(page, VERIFY_PATH, "/admin/")
    screenshot("1-verify")
    page.goto("/admin/")  # the admin stays closed until then
    _at(page, VERIFY_PATH, "/admin/")
    page.fill("#id_otp_token", fresh_totp_code(TOTPDevice.objects.get(user=ada)))
    with page.expect_navigation():
        page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#content h1")).to_have_text("Site administration")
    screenshot("2-admin-index")

    # a person's page in the admin: viewing only, no password, nothing to save
    page.goto(f"/admin/accounts/user/{erik.pk}/change/")
    expect(page.locator("#content h1")).to_have_text("View user")
    expect(page.locator("#content")).to_contain_text("erik")
    form = page.locator("#content-main")
    expect(form.locator("input[type=password]")).to_have_count(0)
    expect(form.locator(".field-password, [name=password], a[href*='password']")).to_have_count(0)
    expect(form.get_by_role("button", name=re.compile("Save"))).to_have_count(0)
    expect(form.locator("input[type=submit]")).to_have_count(0)
    assert erik.password not in page.content()
    screenshot("3-admin-user")
    # the only error: Django's admin pages link no icon, so Chromium asks for /favicon.ico (404)
    assert all(url.endswith("/favicon.ico") for url in failed_loads), failed_loads

    # and Django's "set this person's password" form is not there at all
    page.goto(f"/admin/accounts/user/{erik.pk}/password/")
    _at(page, "/admin/")  # no such page: Django sends her back to the index
    expect(page.locator("input[type=password]")).to_have_count(0)
