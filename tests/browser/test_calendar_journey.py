"""The content calendar in a real browser (issue 12's journey): a marketing representative drafts a post with an
image for two accounts (a Mastodon account connected to a local fake Mastodon server and a sandbox X account),
watching each platform's count while typing, and submits it for review; she cannot approve her own post (no
approve button on its page, nothing in her review queue). A community manager approves it from his review queue
and moves it to another day by dragging its chip on the month grid (HTML5 drag and drop, which Playwright's
``drag_to`` performs in headless Chromium); it stays scheduled. The publisher's sweep
(``strategy.publishing.publish_due``, the worker's job, run here from the test at an instant after the post's new
time) sends exactly one status with the image and its alt text to the fake server, and the author, reloading the
post page, sees it published with the link to the status.

Dates are relative to today in the people's time zone (Madrid), so the journey does not age."""

import io
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.roles import Role
from inbox.models import ConnectorState, SandboxPost
from security import services as security_services
from strategy import publishing
from strategy.models import Post, PostTarget
from tests.accounts.factories import DepartmentFactory
from tests.browser.conftest import assert_accessible, sign_in
from tests.security.factories import SocialAccountFactory
from tests.strategy.conftest import grant
from tests.strategy.fake_mastodon import FakeMastodon

KEPT_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MADRID = ZoneInfo("Europe/Madrid")
TOKEN = "journey-token-123"

# Typed in two parts, to watch the counts change while typing. The snowflake (U+2744) counts 1 on Mastodon and
# 2 on X; the web address counts 23 on both.
FIRST_PART = "\u2744 Our winter opening hours start on Monday"
SECOND_PART = ": 9 to 20, Saturdays too. https://example.com/winter-opening-hours-2026"
TEXT = FIRST_PART + SECOND_PART
URL = "https://example.com/winter-opening-hours-2026"
ALT = "A shop window with the winter opening hours painted on the glass"


def mastodon_count(text: str) -> int:
    """How Mastodon counts ``text`` here: one per character, a web address as 23."""
    return len(text.replace(URL, "")) + (23 if URL in text else 0)


def x_count(text: str) -> int:
    """X: the same, but the snowflake weighs 2."""
    return mastodon_count(text) + text.count("\u2744")


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture
def fake(httpserver):
    return FakeMastodon(httpserver)


@pytest.fixture
def calendar_team(make_member, admin_user, httpserver, fake):
    """Marta (marketing representative: draft on both accounts) and Carl (community manager: approve on both, no
    draft: approving and moving an approved post need no more);
    the Mastodon account is a real one (not the sandbox) with the organisation's API token, talking to the fake
    server; the X account is a sandbox one."""
    marketing = DepartmentFactory(name="Marketing", slug="marketing")
    masto = security_services.account_create(actor=admin_user, platform="mastodon", handle="@acme@social.example",
                                              display_name="Acme Mastodon")
    security_services.credential_set(actor=admin_user, account=masto, kind="api_token", secret=TOKEN)
    ConnectorState.objects.create(account=masto, base_url=httpserver.url_for("/").rstrip("/"))
    x = SocialAccountFactory(platform="x", handle="@acme", display_name="Acme X", sandbox=True)
    marta = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=marketing, username="marta", first_name="Marta",
                        last_name="Marketing", time_zone="Europe/Madrid")
    carl = make_member(Role.COMMUNITY_MANAGER, username="carl", first_name="Carl", last_name="Community",
                       time_zone="Europe/Madrid")
    for account in (masto, x):
        grant(admin_user, account, "draft", marta)
        grant(admin_user, account, "approve", carl)
    return {"mastodon": masto, "x": x, "marta": marta, "carl": carl}


@pytest.fixture
def other_person(browser, live_server):
    """``other_person()``: a page in a fresh browser context (someone else at another computer), collecting its
    console errors like ``page`` does."""
    contexts = []

    def _open():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.console_errors = errors
        return pg

    yield _open
    for context in contexts:
        context.close()


def keep(page, name: str) -> None:
    """A viewport-sized copy (1280x900) of what the page shows now, kept in docs/screenshots/."""
    KEPT_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(KEPT_SCREENSHOTS / f"calendar-{name}.png"), full_page=False)


def png_file(tmp_path) -> Path:
    path = tmp_path / "winter-window.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def open_month_of(page, day) -> None:
    """The month grid shows whole weeks: when ``day`` is not on the grid shown, the person goes to the next month."""
    expect(page.get_by_test_id("calendar-month")).to_be_attached()
    if page.locator(f"td[data-drop-date='{day.isoformat()}']").count() == 0:
        with page.expect_navigation():
            page.get_by_test_id("calendar-next").click()
    expect(page.locator(f"td[data-drop-date='{day.isoformat()}']")).to_have_count(1)


def test_a_post_is_drafted_approved_dragged_on_the_calendar_and_published(
        page, live_server, calendar_team, fake, other_person, screenshot, tmp_path):
    masto, x = calendar_team["mastodon"], calendar_team["x"]
    today = timezone.localtime(timezone.now(), MADRID).date()
    post_day = today + timedelta(days=2)

    # --- 1. Marta drafts the post from the calendar --------------------------------------------------------------
    sign_in(page, "marta")
    page.locator("nav.sidenav").get_by_role("link", name="Calendar").click()
    expect(page).to_have_url(re.compile(r"/strategy/calendar/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar")
    assert_accessible(page)
    page.get_by_test_id("calendar-new-post").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New post")

    page.get_by_label("Mastodon @acme@social.example").check()
    page.get_by_label("X (Twitter) @acme", exact=False).check()
    masto_card, x_card = page.get_by_test_id(f"preview-{masto.pk}"), page.get_by_test_id(f"preview-{x.pk}")
    expect(masto_card).to_be_visible()
    expect(x_card).to_be_visible()
    text_box = page.get_by_label("Text", exact=True)
    text_box.press_sequentially(FIRST_PART)
    expect(masto_card.locator(".count")).to_have_text(f"{mastodon_count(FIRST_PART)} / 500")
    expect(x_card.locator(".count")).to_have_text(f"{x_count(FIRST_PART)} / 280")
    expect(masto_card.locator("[data-preview-text]")).to_have_text(FIRST_PART)
    text_box.press_sequentially(SECOND_PART)
    expect(masto_card.locator(".count")).to_have_text(f"{mastodon_count(TEXT)} / 500")
    expect(x_card.locator(".count")).to_have_text(f"{x_count(TEXT)} / 280")
    assert mastodon_count(TEXT) != len(TEXT) and x_count(TEXT) == mastodon_count(TEXT) + 1
    expect(x_card.get_by_text("Too long for")).to_be_hidden()

    page.get_by_label("Image 1", exact=True).set_input_files(str(png_file(tmp_path)))
    page.get_by_label("Alt text for image 1").fill(ALT)
    page.get_by_label("Date", exact=True).fill(post_day.isoformat())
    page.get_by_label("Time", exact=True).fill("10:00")
    keep(page, "composer")
    screenshot("composer-filled")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("Draft saved. Submit it for review when it is ready.")).to_be_visible()
    expect(page.get_by_test_id("post-state")).to_have_text("Draft")
    expect(page.get_by_test_id("post-text")).to_have_text(TEXT)
    media = page.get_by_test_id("post-media")
    expect(media.get_by_role("img", name=ALT)).to_be_visible()
    expect(media).to_contain_text(ALT)
    post = Post.objects.get(text=TEXT)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Post #{post.pk}")
    expect(page.get_by_test_id("scheduled-at")).to_contain_text(
        f"{post_day.strftime('%A')} {post_day.day} {post_day.strftime('%B %Y')}, 10:00")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for review.")).to_be_visible()
    expect(page.get_by_test_id("post-state")).to_have_text("In review")

    # --- 2. Her own post: no approve button, nothing waiting for her approval -----------------------------------
    expect(page.get_by_test_id("approvals-needed")).to_contain_text("an approval from someone with the approve right")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_test_id("action-approve")).to_have_count(0)
    keep(page, "post-in-review")
    screenshot("author-post-in-review")
    page.goto("/strategy/posts/")
    page.get_by_role("link", name="Waiting for my approval").click()
    expect(page.get_by_test_id("review-queue-empty")).to_be_visible()
    expect(page.get_by_test_id(f"queue-post-{post.pk}")).to_have_count(0)
    page.go_back()  # to "My posts": her post is there, in review; she keeps its page open
    page.get_by_test_id("mine-in_review").get_by_role("link", name=re.compile("winter opening hours")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Post #{post.pk}")
    assert not page.console_errors, page.console_errors

    # --- 3. Carl approves it from his queue, then drags it to another day -----------------------------------------
    carl = other_person()
    sign_in(carl, "carl")
    carl.goto("/strategy/posts/review/")  # no page links the queue for someone who drafts nothing (see the report)
    expect(carl.get_by_role("heading", level=1)).to_have_text("Waiting for my approval")
    item = carl.get_by_test_id(f"queue-post-{post.pk}")
    expect(item).to_contain_text(TEXT)
    expect(item).to_contain_text("By Marta Marketing")
    expect(item).to_contain_text("1 image")
    expect(item).to_contain_text("Mastodon @acme@social.example")
    expect(item).to_contain_text("X (Twitter) @acme")
    screenshot("carl-review-queue")
    assert_accessible(carl)
    item.get_by_role("button", name="Approve").click()
    expect(carl.get_by_text("Approved.", exact=True)).to_be_visible()
    expect(carl.get_by_test_id("review-queue-empty")).to_be_visible()
    assert Post.objects.get(pk=post.pk).state == Post.State.SCHEDULED

    carl.locator("nav.sidenav").get_by_role("link", name="Calendar").click()
    expect(carl).to_have_url(re.compile(r"/strategy/calendar/$"))
    open_month_of(carl, post_day)
    chip = carl.get_by_test_id(f"chip-g-{post.pk}")
    here = carl.locator(f"td[data-drop-date='{post_day.isoformat()}']")
    expect(here.get_by_test_id(f"chip-g-{post.pk}")).to_be_visible()
    expect(chip).to_contain_text("Scheduled")
    expect(chip).to_contain_text("10:00")
    expect(chip).to_contain_text("by Marta Marketing")
    # One day later, unless the post's day ends the grid: then one day earlier (still ahead of today).
    new_day = post_day + timedelta(days=1)
    if carl.locator(f"td[data-drop-date='{new_day.isoformat()}']").count() == 0:
        new_day = post_day - timedelta(days=1)
    there = carl.locator(f"td[data-drop-date='{new_day.isoformat()}']")
    assert there.get_by_test_id(f"chip-g-{post.pk}").count() == 0
    screenshot("calendar-before-drag")
    chip.drag_to(there)

    notice = carl.get_by_test_id("calendar-notice")
    expect(notice).to_contain_text("Post moved to")
    moved = carl.locator(f"td[data-drop-date='{new_day.isoformat()}']").get_by_test_id(f"chip-g-{post.pk}")
    expect(moved).to_be_visible()
    expect(moved).to_contain_text("Scheduled")
    expect(moved).to_contain_text("10:00")  # a day moved, the time of day kept
    expect(carl.locator(f"td[data-drop-date='{post_day.isoformat()}']")
           .get_by_test_id(f"chip-g-{post.pk}")).to_have_count(0)
    expect(carl.get_by_test_id("calendar-alert")).to_have_text("")
    # The list the screen reader and the keyboard use says the same
    listed_day = carl.locator(f"h4[data-date='{new_day.isoformat()}']")
    expect(listed_day).to_be_visible()
    expect(carl.get_by_test_id(f"chip-l-{post.pk}")).to_contain_text("Scheduled")
    moved.evaluate("chip => chip.scrollIntoView({block: 'center'})")
    keep(carl, "month")
    screenshot("calendar-after-drag")
    assert_accessible(carl)
    carl.reload()  # what was saved, not only what the page drew
    expect(carl.locator(f"td[data-drop-date='{new_day.isoformat()}']")
           .get_by_test_id(f"chip-g-{post.pk}")).to_be_visible()
    post.refresh_from_db()
    expected_at = datetime.combine(new_day, time(10, 0), tzinfo=MADRID)
    assert post.scheduled_at == expected_at
    assert post.state == Post.State.SCHEDULED and post.approvals.filter(version=post.version).count() == 1
    carl.get_by_test_id(f"chip-l-{post.pk}").get_by_role("link").click()
    expect(carl.get_by_test_id("post-state")).to_have_text("Scheduled")
    expect(carl.get_by_test_id("approval-current")).to_contain_text("Approved by Carl Community")
    assert not carl.console_errors, carl.console_errors

    # --- 4. The publisher's sweep runs after the new time: one status with the image -----------------------------
    assert fake.status_posts == 0
    early = publishing.publish_due(now=expected_at - timedelta(minutes=1))
    assert early["started"] == 0 and fake.status_posts == 0
    fake.now = expected_at + timedelta(minutes=1)
    outcome = publishing.publish_due(now=expected_at + timedelta(minutes=1))
    assert outcome["started"] == 1 and outcome["published"] == 2, outcome
    assert fake.status_posts == 1 and fake.created == 1
    status, sent = fake.statuses[0], fake.status_requests[0]
    assert sent["status"] == TEXT and sent["authorization"] == f"Bearer {TOKEN}"
    assert len(fake.media) == 1 and sent["media_ids"] == [fake.media[0]["id"]]
    assert fake.media[0]["description"] == ALT and fake.media[0]["content_type"] == "image/png"
    assert status["media_attachments"][0]["id"] == fake.media[0]["id"]
    assert SandboxPost.objects.count() >= 1  # the sandbox X account got its copy
    assert publishing.publish_due(now=expected_at + timedelta(minutes=2))["attempted"] == 0
    assert fake.status_posts == 1  # a second sweep sends nothing again

    page.reload()
    expect(page.get_by_test_id("post-state")).to_have_text("Published")
    row = page.get_by_test_id(f"target-{masto.pk}")
    expect(row).to_contain_text("Published")
    link = row.get_by_test_id("published-url")
    expect(link).to_have_text(status["url"])
    expect(link).to_have_attribute("href", status["url"])
    expect(page.get_by_test_id(f"target-{x.pk}")).to_contain_text("Published")
    assert PostTarget.objects.filter(post=post, state=PostTarget.State.PUBLISHED).count() == 2
    keep(page, "published")
    screenshot("author-post-published")
    assert_accessible(page)
    assert not page.console_errors, page.console_errors
