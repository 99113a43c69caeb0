"""The shared inbox in a real browser: a customer-service representative
takes an overdue complaint and answers it with a saved reply; a marketing
representative with only the draft right sends a reply for approval."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Reply, RoutingRule, SavedReply, TriageSettings
from inbox.services import sla_sweep
from security.services import grant_create
from tests.accounts.factories import PASSWORD, DepartmentFactory
from tests.browser.conftest import SCREENSHOT_DIR, assert_accessible
from tests.security.factories import SocialAccountFactory

SAVED_BODY = "We are sorry about this. Please send us your order number and we will make it right."


def _ingest(account, pmid, text, handle, sent_at, department):
    """Ingests one message; the routing (default queue, sales rule) must put it in ``department``."""
    ingest_messages(account=account, items=[{
        "platform_message_id": pmid, "text": text, "sent_at": sent_at.isoformat(),
        "author": {"id": handle, "handle": handle, "display_name": handle.strip("@").title()}}])
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    assert conversation.department == department
    return conversation


def _shot(pg, name):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOT_DIR / f"inbox-journey--{name}.png"), full_page=True)


def _login_in(context, username):
    pg = context.new_page()
    pg.goto("/login/")
    pg.fill("#id_username", username)
    pg.fill("#id_password", PASSWORD)
    pg.click("button[type=submit]")
    expect(pg.get_by_test_id("current-user")).to_be_visible()
    return pg


def test_overdue_complaint_answered_and_marketing_reply_waits_for_approval(
        page, login, screenshot, browser, live_server, make_member, admin_user, connector):
    care = DepartmentFactory(name="Customer care")
    marketing = DepartmentFactory(name="Marketing")
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    carla = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="carla", first_name="Carla",
                        last_name="Care")
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana",
                      last_name="Lead")
    make_member(Role.DEPARTMENT_REPRESENTATIVE, department=marketing, username="mark", first_name="Mark",
                last_name="Eting")
    grant_create(actor=admin_user, account=account, capability="reply", user=carla, reason="runs the care desk")
    grant_create(actor=admin_user, account=account, capability="draft", department=marketing,
                 reason="marketing drafts")
    SavedReply.objects.create(department=care, title="Apology", body=SAVED_BODY, language="en")
    settings_row = TriageSettings.current()
    settings_row.default_department = care
    settings_row.save()
    RoutingRule.objects.create(name="Sales leads to marketing", intent="sales_lead", department=marketing)

    now = timezone.now()
    complaint = _ingest(account, "c1", "My heater arrived broken and I want a refund. <b>Unacceptable</b>",
                        "@dora", now - timedelta(days=3), care)
    _ingest(account, "c2", "Thanks, great job on the new app!", "@eli", now - timedelta(minutes=10), care)
    lead = _ingest(account, "m1", "How much is a bulk order of 200 units?", "@fynn", now - timedelta(minutes=20),
                   marketing)
    sla_sweep()
    complaint.refresh_from_db()
    assert complaint.sla_breached and complaint.intent == "complaint"

    # Ana looks at the complaint first: Carla will see her there
    ana_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    mark_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    try:
        ana_page = _login_in(ana_context, "ana")
        ana_page.goto(f"/inbox/c/{complaint.pk}/")
        expect(ana_page.get_by_test_id("thread")).to_contain_text("heater arrived broken")

        # Carla opens the inbox and filters the overdue conversations
        login("carla", PASSWORD)
        expect(page.get_by_test_id("current-user")).to_be_visible()
        page.goto("/inbox/")
        expect(page.get_by_test_id("conversation-row")).to_have_count(2)
        expect(page.get_by_test_id("conversation-list")).to_contain_text("<b>Unacceptable</b>")  # shown, not run
        screenshot("inbox")
        page.locator("a[data-queue=overdue]").click()
        expect(page.get_by_test_id("conversation-row")).to_have_count(1)
        row = page.get_by_test_id("conversation-row")
        expect(row).to_contain_text("@dora")
        expect(row.get_by_test_id("sla-clock")).to_contain_text("overdue by")
        screenshot("overdue")

        # ... opens the complaint and claims it
        row.locator("a").click()
        expect(page.get_by_test_id("thread")).to_contain_text("heater arrived broken")
        expect(page.get_by_test_id("presence")).to_contain_text("Ana Lead is viewing")
        page.get_by_test_id("claim").click()
        expect(page.get_by_test_id("assignee")).to_contain_text("assigned to Carla Care")

        # ... inserts the saved reply through the page's script (no reload) and sends it
        page.select_option("#saved-reply-select", label="Apology (Customer care, en)")
        page.get_by_test_id("insert-saved").click()
        expect(page.locator("textarea[data-composer]")).to_have_value(SAVED_BODY)
        assert "saved=" not in page.url
        expect(page.get_by_test_id("reply-submit")).to_have_text("Send")
        screenshot("composer")
        page.get_by_test_id("reply-submit").click()
        expect(page.locator(".msg.out")).to_contain_text("Please send us your order number")
        assert connector.texts == [SAVED_BODY]
        screenshot("sent")
        complaint.refresh_from_db()
        assert complaint.first_response_at is not None and complaint.assignee == carla

        # back in the list, the keyboard: j selects the first row, a assigns it to her
        page.goto("/inbox/?unassigned=1")
        expect(page.get_by_test_id("conversation-row")).to_have_count(1)
        page.keyboard.press("j")
        expect(page.locator(".conv-row.selected")).to_contain_text("@eli")
        page.keyboard.press("a")
        expect(page.locator(".messages")).to_contain_text("The conversation is yours.")
        assert Conversation.objects.get(author__handle="@eli").assignee == carla
        assert not page.console_errors, page.console_errors

        # Mark, with only the department's draft right, answers the sales lead
        mark_page = _login_in(mark_context, "mark")
        mark_page.goto("/inbox/")
        expect(mark_page.get_by_test_id("conversation-row")).to_have_count(1)
        mark_page.get_by_test_id("conversation-row").locator("a").click()
        expect(mark_page.get_by_test_id("thread")).to_contain_text("bulk order of 200 units")
        expect(mark_page.get_by_test_id("reply-submit")).to_have_text("Send for approval")
        expect(mark_page.get_by_test_id("needs-approval")).to_be_visible()
        expect(mark_page.get_by_test_id("routing")).to_contain_text("Sales leads to marketing")
        mark_page.fill("textarea[data-composer]", "Thanks! 200 units come with 15% off, I'll send a quote.")
        _shot(mark_page, "marketing-draft")
        mark_page.get_by_test_id("reply-submit").click()
        expect(mark_page.get_by_test_id("reply-pending")).to_contain_text("Waiting for approval")
        expect(mark_page.get_by_test_id("waiting-approval")).to_be_visible()
        _shot(mark_page, "marketing-pending")
        assert Reply.objects.get(conversation=lead).status == Reply.Status.PENDING_APPROVAL
        assert connector.texts == [SAVED_BODY]

        assert_accessible(mark_page)

        # on a phone the conversation is a screen of its own, with the way back to the list
        mark_page.set_viewport_size({"width": 390, "height": 844})
        mark_page.reload()
        _shot(mark_page, "phone")
        expect(mark_page.get_by_test_id("thread")).to_be_visible()
        expect(mark_page.locator(".inbox-list")).to_be_hidden()
        expect(mark_page.get_by_test_id("back-to-list")).to_be_visible()
        assert re.search(r"/inbox/c/\d+/", mark_page.url)
    finally:
        ana_context.close()
        mark_context.close()
