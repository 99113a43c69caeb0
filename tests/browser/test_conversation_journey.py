"""The conversation page in a real browser: taking over a colleague's
conversation asks first and tells them, the composer counts against the
channel's platform (X: 280) and warns before sending, r and n jump to the
reply and the note, and a reply being sent turns into "Sent" without a
reload."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Notification
from accounts.roles import Role
from inbox import services
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Reply
from security.services import grant_create
from tests.accounts.factories import PASSWORD, DepartmentFactory
from tests.browser.conftest import assert_accessible
from tests.security.factories import SocialAccountFactory


def _ingest(account, pmid, text, department):
    ingest_messages(account=account, items=[{
        "platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "author": {"id": f"a-{pmid}", "handle": "@dora", "display_name": "Dora"}}])
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    conversation.refresh_from_db()
    return conversation


def _world(make_member, admin_user):
    care = DepartmentFactory(name="Customer care")
    ana = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="ana", first_name="Ana",
                      last_name="Lead")
    carla = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="carla", first_name="Carla",
                        last_name="Care")
    return care, ana, carla


def _grant(admin, account, user):
    grant_create(actor=admin, account=account, capability="reply", user=user, reason="runs the care desk",
                 reauthenticated_at=timezone.now())


def test_take_over_asks_and_the_x_composer_warns_past_280(page, login, screenshot, make_member, admin_user):
    care, ana, carla = _world(make_member, admin_user)
    x_channel = SocialAccountFactory(platform="x", handle="@care_x", display_name="Care on X")
    _grant(admin_user, x_channel, carla)
    conversation = _ingest(x_channel, "x1", "Where is my parcel? @care_x", care)
    services.conversation_claim(actor=ana, conversation=conversation)

    login("carla", PASSWORD)
    page.goto(f"/inbox/c/{conversation.pk}/")
    expect(page.get_by_test_id("assignee")).to_contain_text("assigned to Ana Lead")

    # Taking over is asked first, naming who holds it
    page.get_by_test_id("claim").click()
    confirm = page.get_by_test_id("take-over-confirm")
    expect(confirm).to_contain_text("Ana Lead is handling this conversation.")
    expect(confirm).to_contain_text("Take over from Ana Lead? They will be told.")
    screenshot("take-over-asked")
    assert Conversation.objects.get(pk=conversation.pk).assignee == ana
    page.get_by_test_id("take-over").click()
    expect(page.get_by_test_id("assignee")).to_contain_text("assigned to Carla Care")
    expect(page.locator(".messages")).to_contain_text("Ana Lead has been told")
    assert "Carla Care took over your conversation" in Notification.objects.get(recipient=ana).text

    # r jumps to the reply box, n to the note (not while typing in a field)
    page.locator("h1").first.click()
    page.keyboard.press("r")
    composer = page.locator("textarea[data-composer]")
    expect(composer).to_be_focused()
    page.locator("h1").first.click()
    page.keyboard.press("n")
    expect(page.locator("#id_note_body")).to_be_focused()
    page.keyboard.type("rn")  # typed into the note: no jump
    expect(page.locator("#id_note_body")).to_have_value("rn")

    # The counter follows X's 280 and turns into a warning past it
    counter = page.get_by_test_id("reply-counter")
    expect(counter).to_have_text("0 of 280 characters allowed on X (Twitter)")
    composer.fill("a" * 270)
    expect(counter).to_have_text("270 of 280 characters allowed on X (Twitter)")
    composer.press("End")
    composer.press_sequentially("b" * 15)
    expect(counter).to_contain_text("285 characters: 5 over the 280 that X (Twitter) allows")
    expect(counter).to_have_class("reply-counter muted over")
    assert_accessible(page)  # the conversation page with the take-over notice and an over-limit warning
    expect(composer).to_have_value("a" * 270 + "b" * 15)  # nothing cut
    screenshot("counter-over")
    url_before = page.url
    page.get_by_test_id("reply-submit").click()
    expect(composer).to_be_focused()
    assert page.url == url_before and not Reply.objects.exists()  # warned, not sent
    composer.fill("Sorry Dora, it leaves today.")
    expect(counter).to_have_text("28 of 280 characters allowed on X (Twitter)")
    # the confirmation page came as a 409, which the browser notes; nothing else went wrong
    unexpected = [e for e in page.console_errors if "status of 409" not in e]
    assert not unexpected, unexpected


def test_a_reply_being_sent_turns_into_sent_without_a_reload(page, login, screenshot, make_member, admin_user,
                                                            connector):
    care, ana, carla = _world(make_member, admin_user)
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    _grant(admin_user, account, carla)
    conversation = _ingest(account, "m1", "Is the shop open on Sunday?", care)
    # A worker has taken the reply and is sending it right now
    reply = Reply.objects.create(conversation=conversation, author=carla, body="Yes, from 10 to 16.",
                                 status=Reply.Status.SENDING, approved_by=carla, approved_at=timezone.now(),
                                 attempts=1, lease_until=timezone.now() + timedelta(minutes=2))

    login("carla", PASSWORD)
    page.goto(f"/inbox/c/{conversation.pk}/")

    # Resolving now asks first, saying which reply is not out yet
    page.get_by_test_id("status-resolved").click()
    confirm = page.get_by_test_id("resolve-confirm")
    expect(confirm).to_contain_text("A reply on this conversation has not reached the customer")
    expect(confirm).to_contain_text("Sending")
    expect(confirm).to_contain_text("Yes, from 10 to 16.")
    expect(confirm.get_by_test_id("resolve-anyway")).to_have_text("Resolve anyway")
    assert_accessible(page)  # the "resolve anyway?" question
    screenshot("resolve-asks")
    assert Conversation.objects.get(pk=conversation.pk).status != Conversation.Status.RESOLVED

    item = page.locator(f"[data-reply='{reply.pk}']")
    expect(item.get_by_test_id("reply-state")).to_have_text("Sending")
    expect(item.get_by_test_id("reply-sending-now")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    # ... and the worker finishes (its lease ran out, so the send goes through this call)
    Reply.objects.filter(pk=reply.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    services.reply_send(reply.pk)
    assert connector.texts == ["Yes, from 10 to 16."]

    expect(item.get_by_test_id("reply-state")).to_have_text("Sent", timeout=10_000)
    expect(item.get_by_test_id("reply-sent")).to_be_visible()
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    screenshot("sent-live")
    # Nothing left on its way: the block stops asking
    expect(page.locator("#replies")).not_to_have_attribute("hx-trigger", "every 3s")
    unexpected = [e for e in page.console_errors if "status of 409" not in e]  # the question came as a 409
    assert not unexpected, unexpected
