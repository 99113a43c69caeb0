"""The portal on a phone (390 x 844, the width of a common phone held
upright), with the demo organisation: no page scrolls sideways, a menu
button opens the navigation (with the search and the user menu), wide
tables scroll inside their own box, and the inbox's list and conversation
are separate screens with a way back."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from tests.browser.conftest import SCREENSHOT_DIR, assert_accessible, path_of, sign_in

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def page_width(pg) -> int:
    return pg.evaluate("document.documentElement.scrollWidth")


WIDER_THAN_THE_PHONE = """limit => Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > limit && !el.parentElement.closest('.table-scroll'))
    .slice(0, 6).map(el => el.outerHTML.slice(0, 160))"""


def assert_fits(pg) -> None:
    width = page_width(pg)
    if width > PHONE["width"]:
        culprits = "\n".join(pg.evaluate(WIDER_THAN_THE_PHONE, PHONE["width"] + 1))
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SCREENSHOT_DIR / "phone-too-wide.png"), full_page=True)
        raise AssertionError(f"{path_of(pg)} is {width}px wide on a {PHONE['width']}px phone:\n{culprits}")


def test_a_day_on_a_phone(phone):
    call_command("seed_demo", quiet_logins=True)
    pg = phone
    pg.goto("/login/")
    assert_fits(pg)
    sign_in(pg, "ada", DEMO_PASSWORD)
    assert path_of(pg) == "/"

    menu = pg.get_by_role("button", name="Menu")
    nav = pg.get_by_role("navigation", name="Main")
    search = pg.get_by_role("searchbox", name="Search")

    # Every page of the day fits the width; the navigation waits behind the menu button.
    pg.goto("/inbox/")
    conversation = pg.get_by_test_id("conversation-row").first.locator("a.conv-link").get_attribute("href")
    pg.goto("/channels/")
    channel = next(h for h in pg.locator("main a[href]").evaluate_all("a => a.map(l => l.getAttribute('href'))")
                   if re.fullmatch(r"/channels/\d+/", h))
    for path in ["/", "/inbox/", conversation, "/channels/", channel, "/audit/", "/people/"]:
        pg.goto(path)
        assert_fits(pg)
        expect(menu).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(nav).to_be_hidden()
        expect(search).to_be_hidden()
        assert_accessible(pg)

    # Tables wider than the phone scroll inside their own box, which the keyboard can reach.
    pg.goto("/people/")
    box = pg.locator(".table-scroll").first
    expect(box.locator("table")).to_be_visible()
    if box.evaluate("b => b.scrollWidth > b.clientWidth"):
        expect(box).to_have_attribute("tabindex", "0")
        expect(box).to_have_attribute("role", "region")

    # The menu button opens the navigation, the search and the user menu; a link in it works.
    pg.goto("/")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(search).to_be_visible()
    expect(pg.get_by_role("button", name="Sign out")).to_be_visible()
    assert_fits(pg)
    assert_accessible(pg)
    pg.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    with pg.expect_navigation():
        nav.get_by_role("link", name="Inbox").click()
    assert path_of(pg) == "/inbox/"
    expect(nav).to_be_hidden()

    # The list is one screen: the queues and the conversations, no empty reading pane.
    rows = pg.get_by_test_id("conversation-row")
    expect(rows.first).to_be_visible()
    expect(pg.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(pg.get_by_text("Choose a conversation to read the thread")).to_be_hidden()
    expect(pg.get_by_test_id("back-to-list")).to_have_count(0)

    # The conversation is another: the thread alone, with the way back to the list.
    author = rows.first.locator(".author").inner_text()
    with pg.expect_navigation():
        rows.first.locator("a.conv-link").click()
    assert re.fullmatch(r"/inbox/c/\d+/", path_of(pg))
    expect(pg.get_by_test_id("thread")).to_be_visible()
    expect(pg.get_by_role("heading", level=1)).to_contain_text(author)
    expect(pg.get_by_test_id("conversation-list")).to_be_hidden()
    expect(pg.get_by_test_id("queues")).to_be_hidden()
    assert_fits(pg)
    back = pg.get_by_role("link", name="Back to the list")
    expect(back).to_be_visible()
    with pg.expect_navigation():
        back.click()
    assert path_of(pg) == "/inbox/"
    expect(pg.get_by_test_id("conversation-list")).to_be_visible()


def test_a_filtered_list_is_kept_on_the_way_back(phone):
    call_command("seed_demo", quiet_logins=True)
    sign_in(phone, "ada", DEMO_PASSWORD)
    phone.goto("/inbox/")
    queue = phone.locator("[data-queue^=department-]").first
    queue_name = queue.get_attribute("data-queue")
    with phone.expect_navigation():
        queue.click()
    query = phone.url.split("?", 1)[1]
    with phone.expect_navigation():
        phone.get_by_test_id("conversation-row").first.locator("a.conv-link").click()
    with phone.expect_navigation():
        phone.get_by_role("link", name="Back to the list").click()
    assert path_of(phone) == "/inbox/"
    assert query in phone.url
    expect(phone.locator(f"[data-queue={queue_name}]")).to_have_attribute("aria-current", "page")


def test_on_a_laptop_the_navigation_stays_open(page):
    call_command("seed_demo", quiet_logins=True)
    sign_in(page, "cora", DEMO_PASSWORD)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    page.goto("/inbox/")
    expect(page.get_by_test_id("conversation-list")).to_be_visible()
    expect(page.get_by_test_id("back-to-list")).to_be_hidden()
