"""The sandbox channel in a real browser: an agent answers a customer on a
demo (sandbox) channel, the reply goes out through the task runner as any
reply does, and the agent finds it on the sandbox channel page as the
customer would see it. On a channel no connector sends to, the failed reply
is posted by hand and marked sent with its link."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Reply, SandboxPost
from security.services import grant_create
from tests.accounts.factories import PASSWORD, DepartmentFactory
from tests.security.factories import SocialAccountFactory

REPLY = "Sorry for the wait! Your parcel left our warehouse this morning."
LINK = "https://x.com/care_x/status/1862000000000000001"


def _ingest(account, pmid, text, department):
    ingest_messages(account=account, items=[{
        "platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - timedelta(minutes=20)).isoformat(),
        "author": {"id": f"a-{pmid}", "handle": "@dora@example.social", "display_name": "Dora"}}])
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    return conversation


def test_a_sandbox_reply_shows_on_the_sandbox_page_and_a_reply_posted_by_hand_is_marked_sent(
        page, login, screenshot, axe, make_member, admin_user):
    care = DepartmentFactory(name="Customer care")
    carla = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="carla", first_name="Carla",
                        last_name="Care")
    sandbox = SocialAccountFactory(handle="@care@sandbox.example", display_name="Care (sandbox)", sandbox=True)
    x_channel = SocialAccountFactory(platform="x", handle="@care_x", display_name="Care on X")
    for account in (sandbox, x_channel):
        account.departments.add(care)
        grant_create(actor=admin_user, account=account, capability="reply", user=carla, reason="runs the care desk",
                     reauthenticated_at=timezone.now())
    conversation = _ingest(sandbox, "s1", "Where is my parcel? <script>alert(1)</script>", care)

    login("carla", PASSWORD)
    page.goto(f"/inbox/c/{conversation.pk}/")
    expect(page.get_by_test_id("thread")).to_contain_text("<script>alert(1)</script>")  # shown, not run
    page.locator("textarea[data-composer]").fill(REPLY)
    page.get_by_test_id("reply-submit").click()
    # The send task runs (django-q in sync mode in tests), through the sandbox connector.
    expect(page.locator(".msg.out")).to_contain_text("Your parcel left our warehouse")
    reply = Reply.objects.get(conversation=conversation)
    assert reply.status == Reply.Status.SENT
    assert SandboxPost.objects.get(account=sandbox).platform_id == reply.platform_message_id

    # From the reply in the thread to the channel as the customer sees it
    page.locator(".msg.out").get_by_test_id("on-sandbox").click()
    expect(page.get_by_test_id("sandbox-banner")).to_contain_text("Sandbox channel: nothing here was posted online")
    thread = page.get_by_test_id("sandbox-thread")
    expect(thread).to_have_count(1)
    expect(thread.locator("[data-direction=in]")).to_contain_text("Where is my parcel? <script>alert(1)</script>")
    expect(thread.locator("[data-direction=out]")).to_contain_text(REPLY)
    expect(thread.locator("[data-direction=out]")).to_contain_text("Care (sandbox)")
    screenshot("sandbox-channel")
    axe()
    page.get_by_role("link", name="All sandbox channels").click()
    expect(page.get_by_test_id("sandbox-channels")).to_contain_text("Care (sandbox)")
    expect(page.get_by_test_id("sandbox-channels")).not_to_contain_text("Care on X")
    axe()

    # On X nothing can send: the reply fails, Carla posts it herself and pastes the link
    on_x = _ingest(x_channel, "x1", "Is the store open on Sunday?", care)
    page.goto(f"/inbox/c/{on_x.pk}/")
    page.locator("textarea[data-composer]").fill("Yes, from 10 to 16!")
    page.get_by_test_id("reply-submit").click()
    expect(page.get_by_test_id("last-error")).to_contain_text("No connector sends to")
    form = page.get_by_test_id("by-hand-form")
    form.get_by_label("Posted it by hand? Paste the link").fill("javascript:alert(1)")
    form.get_by_test_id("mark-sent-by-hand").click()
    expect(page.locator('.field-error[data-field="url"]')).to_contain_text("https://")
    assert Reply.objects.get(conversation=on_x).status == Reply.Status.FAILED
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.console_errors.clear()  # the refusal above is a 400 page, as it should be
    page.get_by_test_id("by-hand-form").get_by_label("Posted it by hand? Paste the link").fill(LINK)
    page.get_by_test_id("by-hand-form").get_by_test_id("mark-sent-by-hand").click()
    expect(page.locator(".messages")).to_contain_text("marked as posted by hand")
    out = page.locator(".msg.out")
    expect(out.get_by_test_id("sent-by-hand")).to_have_text("Sent by hand by Carla Care")
    expect(out.locator(f'a[href="{LINK}"]')).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(page.get_by_test_id("by-hand-form")).to_have_count(0)
    screenshot("sent-by-hand")
    axe()
    assert Reply.objects.get(conversation=on_x).sent_by_hand == carla
    assert not page.console_errors, page.console_errors
