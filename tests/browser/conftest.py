"""Browser journeys: Playwright for Python driving Debian's Chromium against
pytest-django's live server.

Without a Chromium the journeys are skipped with a hint; with
REQUIRE_BROWSER=1 (as .ci/run sets) a missing browser is a failure."""

import base64
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; the Django ORM
# calls made by the test body itself are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    message = "Chromium not found: install it with `apt-get install -y chromium` to run the browser journeys."
    if path is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (REQUIRE_BROWSER=1)")
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("playwright is not installed (REQUIRE_BROWSER=1)")
        pytest.skip("playwright is not installed: `make test` installs it from requirements-dev.txt")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    console_errors: list[str] = []
    pg.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    pg.console_errors = console_errors
    yield pg
    context.close()


@pytest.fixture
def screenshot(page, request):
    """``screenshot("name")`` saves the current page under test-artifacts/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def _shot(name: str) -> Path:
        path = SCREENSHOT_DIR / f"{prefix}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


# --- signing in as a person does: password, then the second factor ----------------------------------

TOTP_STEP, TOTP_DIGITS = 30, 6  # what the enrolment page tells the person to set in their app
VERIFY_PATH, ENROL_PATH = "/login/verify/", "/security/totp/"


def totp_from_key(key: bytes, counter: int, digits: int = TOTP_DIGITS) -> str:
    """The code an authenticator app shows for time step ``counter``
    (RFC 6238 is HOTP over the step number)."""
    from django_otp.oath import hotp

    return str(hotp(key, counter, digits=digits)).zfill(digits)


def key_from_page_secret(text: str) -> bytes:
    """The key behind the grouped base32 text of [data-testid=totp-secret]."""
    secret = re.sub(r"\s+", "", text).upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def wait_out_throttle(device) -> None:
    """django-otp slows guessing down after a wrong code (1 s, doubling, with
    the factor the settings give); a person waits, and so does the journey."""
    device.refresh_from_db()
    allowed, info = device.verify_is_allowed()
    if not allowed and info and info.get("locked_until"):
        from django.utils import timezone

        pause = (info["locked_until"] - timezone.now()).total_seconds()
        assert pause <= 8, f"throttled for {pause:.1f}s: too many wrong codes in one journey"
        time.sleep(max(pause, 0) + 0.1)


def fresh_totp_code(device) -> str:
    """A code from ``device``'s key that the server accepts now: the one the
    app shows, or, when that one was already used in this time step (django-otp
    refuses a code twice), the next one, which its one-step tolerance for clock
    drift accepts. Only when neither fits does it wait for the next step."""
    wait_out_throttle(device)
    while True:
        device.refresh_from_db()
        now = time.time()
        current = int(now - device.t0) // device.step
        highest = current + device.drift + device.tolerance
        counter = max(current, device.last_t + 1, current + device.drift - device.tolerance)
        if counter <= highest:
            return totp_from_key(device.bin_key, counter, device.digits)
        time.sleep(device.step - (now - device.t0) % device.step + 0.05)


def wrong_totp_code(device) -> str:
    """Six digits no authenticator shows for ``device`` around now."""
    device.refresh_from_db()
    current = int(time.time() - device.t0) // device.step + device.drift
    valid = {totp_from_key(device.bin_key, c, device.digits) for c in range(current - 2, current + 3)}
    return next(f"{n:06d}" for n in range(123456, 1_000_000, 111_111) if f"{n:06d}" not in valid)


def confirmed_totp_device(username: str):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user__username=username, confirmed=True).order_by("pk").first()


@dataclass
class SignIn:
    """What happened: ``second_factor`` is "", "code" (the verification step)
    or "enrolled" (the authenticator was set up on the way)."""

    second_factor: str = ""
    recovery_codes: list[str] = field(default_factory=list)


def path_of(pg) -> str:
    return urlsplit(pg.url).path


def submit_password(pg, username: str, password: str, next_url: str | None = None) -> None:
    pg.goto("/login/" + (f"?{urlencode({'next': next_url})}" if next_url else ""))
    pg.fill("#id_username", username)
    pg.fill("#id_password", password)
    with pg.expect_navigation():
        pg.click("main button[type=submit]")


def enrol_authenticator(pg, password: str) -> list[str]:
    """On the enrolment page: type the key shown into "the app", confirm with
    the password and the app's code, note the recovery codes, continue."""
    from playwright.sync_api import expect

    secret = pg.get_by_test_id("totp-secret")
    expect(secret).to_be_visible()
    key = key_from_page_secret(secret.inner_text())
    pg.fill("#id_password", password)
    pg.fill("#id_otp_token", totp_from_key(key, int(time.time()) // TOTP_STEP))
    with pg.expect_navigation():
        pg.get_by_role("button", name="Confirm").click()
    codes = pg.get_by_test_id("recovery-codes").locator("code")
    expect(codes).to_have_count(10)
    recovery = [c.strip() for c in codes.all_inner_texts()]
    proceed = pg.get_by_test_id("totp-continue")
    if proceed.count():
        with pg.expect_navigation():
            proceed.click()
    return recovery


def enter_second_factor(pg, username: str) -> None:
    device = confirmed_totp_device(username)
    assert device is not None, f"{username} was asked for a code but has no authenticator"
    pg.fill("#id_otp_token", fresh_totp_code(device))
    with pg.expect_navigation():
        pg.get_by_role("button", name="Verify").click()


def sign_in(pg, username: str, password: str | None = None, *, next_url: str | None = None,
            second_factor: bool = True) -> SignIn:
    """Signs in through the pages: the password on /login/, then, when the
    portal asks, a code from the person's authenticator on /login/verify/ or
    the enrolment of a new one on /security/totp/ (followed by "continue").
    A wrong password leaves the page on /login/ and returns an empty result."""
    from tests.accounts.factories import PASSWORD

    password = PASSWORD if password is None else password
    submit_password(pg, username, password, next_url)
    result = SignIn()
    if not second_factor:
        return result
    if path_of(pg) == VERIFY_PATH:
        enter_second_factor(pg, username)
        result.second_factor = "code"
    elif path_of(pg) == ENROL_PATH:
        result.recovery_codes = enrol_authenticator(pg, password)
        result.second_factor = "enrolled"
    if result.second_factor:
        assert path_of(pg) not in (VERIFY_PATH, ENROL_PATH), f"still asked for a second factor: {pg.url}"
    return result


def new_page(browser, live_server):
    """A page in a fresh browser context (another person at another computer)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def login(page):
    """``login(username, password)`` signs in on ``page`` like a person,
    second factor included (see ``sign_in``)."""

    def _login(username: str, password: str | None = None, **kwargs) -> SignIn:
        return sign_in(page, username, password, **kwargs)

    return _login


# --- accessibility: axe-core on the page as it is now ---------------------------------------------

# What fails a journey: every critical or serious violation axe-core reports, plus two rules the issue
# named that axe rates otherwise: a table header without text ("minor" in axe) and a control whose
# accessible name does not contain its visible text (an experimental rule, off unless enabled).
AXE_FAILING_IMPACTS = ("critical", "serious")
AXE_ALSO_FAILING_RULES = ("empty-table-header", "label-content-name-mismatch")
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"label-content-name-mismatch": {"enabled": True}}}


def axe_violations(pg, context=None) -> list[dict]:
    """The violations that fail a journey, as axe-core reports them. The
    bundled axe-core is evaluated through Playwright (the DevTools protocol),
    which the page's Content-Security-Policy does not restrict, so the
    portal's CSP stays on while it is checked."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(pg, context=context, options=AXE_OPTIONS)
    return [v for v in results.response["violations"]
            if v.get("impact") in AXE_FAILING_IMPACTS or v["id"] in AXE_ALSO_FAILING_RULES]


def describe_violations(violations: list[dict], where: str = "") -> str:
    """One line per element: impact, rule id, CSS selector of the element, what is wrong."""
    lines = [f"{len(violations)} accessibility violation(s){' on ' + where if where else ''}:"]
    for violation in violations:
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or violation.get("help", "")).replace("\n", " ").strip()
            summary = re.sub(r"^Fix (any|all) of the following:\s*", "", summary)
            lines.append(f"  [{violation.get('impact')}] {violation['id']}: {target}: {summary}")
        lines.append(f"      ({violation['help']}: {violation.get('helpUrl', '')})")
    return "\n".join(lines)


def assert_accessible(pg, context=None) -> None:
    """Fails with a readable list when axe-core finds a critical or serious
    violation (or one of AXE_ALSO_FAILING_RULES) on the page as it is now."""
    violations = axe_violations(pg, context)
    assert not violations, describe_violations(violations, urlsplit(pg.url).path + (
        "?" + urlsplit(pg.url).query if urlsplit(pg.url).query else ""))


@pytest.fixture
def axe(page):
    """``axe()`` checks ``page`` as it is now (see ``assert_accessible``);
    ``axe(other_page)`` checks another page."""

    def _check(pg=None, context=None) -> None:
        assert_accessible(pg or page, context)

    return _check
