"""Two agents on the same queue, each at their own computer: what one does
shows in the other's list within 5 seconds without a reload, and the
other's selection and checked boxes survive the update. Then bulk resolve
with the keyboard, unread marks, and the "?" shortcut overlay."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation
from tests.accounts.factories import DepartmentFactory
from tests.browser.conftest import assert_accessible, new_page, sign_in
from tests.security.factories import SocialAccountFactory

LIVE_WITHIN_MS = 5_000


def _ingest(account, handle, text, minutes_ago, department):
    ingest_messages(account=account, items=[{
        "platform_message_id": handle, "text": text,
        "sent_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "author": {"id": handle, "handle": f"@{handle}", "display_name": handle.title()}}])
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{handle}")
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    return conversation


def _row(pg, conversation):
    return pg.locator(f"[data-row][data-conversation='{conversation.pk}']")


def test_two_agents_see_each_others_work_live_and_bulk_resolve_with_the_keyboard(
        page, browser, live_server, make_member, screenshot):
    care = DepartmentFactory(name="Customer care")
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana", last_name="Lead")
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="bob", first_name="Bob", last_name="Desk")
    # Oldest message first: dora, eli, fynn, gus.
    dora = _ingest(account, "dora", "My parcel never arrived", 40, care)
    eli = _ingest(account, "eli", "Can I change my delivery address?", 30, care)
    fynn = _ingest(account, "fynn", "Do you ship to Denmark?", 20, care)
    gus = _ingest(account, "gus", "Is the shop open on Sunday?", 10, care)

    sign_in(page, "ana")
    page.goto("/inbox/?sort=oldest")
    expect(page.get_by_test_id("conversation-row")).to_have_count(4)
    # Nothing opened yet: every row is unread, and so says the queue's count.
    expect(page.locator(".conv-row.unread")).to_have_count(4)
    expect(page.locator("a[data-queue=all] [data-testid=unread-count]")).to_contain_text("4")

    # Ana moves to Eli's conversation with j and checks it with x; she also ticks Gus's box with the mouse.
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(".conv-row.selected")).to_have_attribute("data-conversation", str(eli.pk))
    page.keyboard.press("x")
    expect(_row(page, eli).get_by_test_id("pick")).to_be_checked()
    _row(page, gus).get_by_test_id("pick").check()
    expect(page.get_by_test_id("bulk-bar")).to_contain_text("2 selected")

    bob = new_page(browser, live_server)
    try:
        sign_in(bob, "bob")
        bob.goto("/inbox/?sort=oldest")
        expect(bob.get_by_test_id("conversation-row")).to_have_count(4)

        # Bob resolves Dora's conversation with the keyboard (j, e) ...
        bob.keyboard.press("j")
        expect(bob.locator(".conv-row.selected")).to_have_attribute("data-conversation", str(dora.pk))
        bob.keyboard.press("e")
        expect(bob.locator(".messages")).to_contain_text("Status changed")

        # ... and Ana's list drops it without a reload; her cursor and her two boxes stay as they were.
        expect(_row(page, dora)).to_have_count(0, timeout=LIVE_WITHIN_MS)
        expect(page.locator("a[data-queue=all] .count").first).to_have_text("3")
        expect(page.locator(".conv-row.selected")).to_have_attribute("data-conversation", str(eli.pk))
        expect(_row(page, eli).get_by_test_id("pick")).to_be_checked()
        expect(_row(page, gus).get_by_test_id("pick")).to_be_checked()
        expect(page.get_by_test_id("bulk-bar")).to_contain_text("2 selected")

        # Bob claims Fynn's conversation (it is now his second row): Ana sees his name on it.
        bob.keyboard.press("j")
        bob.keyboard.press("j")
        expect(bob.locator(".conv-row.selected")).to_have_attribute("data-conversation", str(fynn.pk))
        bob.keyboard.press("a")
        expect(bob.locator(".messages")).to_contain_text("The conversation is yours.")
        expect(_row(page, fynn).get_by_test_id("row-assignee")).to_contain_text("Bob Desk", timeout=LIVE_WITHIN_MS)
        expect(_row(page, eli).get_by_test_id("pick")).to_be_checked()
        screenshot("after-bob")
    finally:
        bob.context.close()

    # The "?" overlay lists the shortcuts; Esc closes it.
    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcut-help")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Resolve it, or every selected conversation")
    expect(dialog.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    screenshot("shortcuts")
    assert_accessible(page)  # the list with the overlay open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # e with rows checked resolves all of them, each one reported.
    with page.expect_navigation():
        page.keyboard.press("e")
    expect(page.locator(".messages")).to_contain_text("2 resolved")
    assert set(Conversation.objects.filter(pk__in=[eli.pk, gus.pk]).values_list("status", flat=True)) == {"resolved"}
    expect(page.get_by_test_id("conversation-row")).to_have_count(1)

    # Opening Fynn's conversation marks it read for Ana (not for Bob).
    _row(page, fynn).locator("a").click()
    page.goto("/inbox/?sort=oldest")
    expect(_row(page, fynn)).not_to_have_class("unread")
    expect(page.locator("a[data-queue=all] [data-testid=unread-count]")).to_have_count(0)
    assert not page.console_errors, page.console_errors


def test_shortcut_overlay_lists_the_conversation_pages_own_shortcuts(page, make_member):
    care = DepartmentFactory(name="Customer care")
    account = SocialAccountFactory()
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana")
    dora = _ingest(account, "dora", "Hello there", 5, care)
    sign_in(page, "ana")
    page.goto(f"/inbox/c/{dora.pk}/")
    labelled = page.locator("[data-shortcut]")
    assert labelled.count() >= 1  # the note field at least (n)
    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcut-help")
    expect(dialog).to_be_visible()
    for i in range(labelled.count()):
        element = labelled.nth(i)
        key = element.get_attribute("data-shortcut")
        label = element.get_attribute("data-shortcut-label")
        expect(dialog.locator("dt", has_text=key).first).to_be_visible()
        if label:
            expect(dialog).to_contain_text(label)
    dialog.get_by_test_id("shortcut-help-close").click()
    expect(dialog).to_be_hidden()
