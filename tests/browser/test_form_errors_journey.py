"""A refused grant in Chromium: after the reload the refusal is where the
eye is (the summary on top, in view and focused, read out as an alert), and
its link takes the focus to the field, two screens up from the form."""

from playwright.sync_api import expect

from accounts.roles import Role
from security import services
from security.models import PublishingGrant
from tests.browser.conftest import assert_accessible, sign_in
from tests.security.factories import SocialAccountFactory


def test_a_refused_grant_shows_and_focuses_the_summary_then_the_field(page, live_server, make_member):
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    ada = make_member(Role.ADMIN, username="ada", first_name="Ada", last_name="Admin")
    # A long matrix, so the grant form sits well below the first screen, as on a busy channel.
    for n in range(12):
        holder = make_member(first_name=f"Holder{n}", last_name="Person")
        services.grant_create(actor=ada, account=account, capability="draft", user=holder, reason="team")
    page.set_viewport_size({"width": 1280, "height": 700})
    sign_in(page, "ada")
    page.goto(f"/channels/{account.pk}/")

    form = page.locator("form[action$='/grants/']")
    form.locator("#id_user").select_option(label="Ada Admin")  # nobody grants rights to themselves
    form.locator("#id_reason").fill("covering the holidays")
    form.locator("button[type=submit]").scroll_into_view_if_needed()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_in_viewport()
    expect(summary).to_be_focused()
    assert_accessible(page)  # the refused form with its summary
    # The field itself is far below: not in view until the link is followed.
    person = page.locator("#id_user")
    expect(person).not_to_be_in_viewport()
    expect(person).to_have_attribute("aria-invalid", "true")

    link = summary.get_by_role("link", name="Person: Nobody grants rights to themselves.")
    link.click()
    expect(person).to_be_focused()
    expect(person).to_be_in_viewport()
    expect(page.locator("#id_user_error")).to_contain_text("Nobody grants rights to themselves.")
    # The field kept what was typed, and nothing was granted.
    expect(page.locator("#id_reason")).to_have_value("covering the holidays")
    assert not PublishingGrant.objects.filter(user__username="ada").exists()
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


def test_a_refused_revoke_opens_the_cell_and_focuses_the_summary(page, live_server, make_member):
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    ada = make_member(Role.ADMIN, username="ada", first_name="Ada", last_name="Admin")
    holder = make_member(first_name="Rita", last_name="Service")
    grant = services.grant_create(actor=ada, account=account, capability="reply", user=holder, reason="team")
    sign_in(page, "ada")
    page.goto(f"/channels/{account.pk}/")
    cell = page.locator("tr[data-holder='Rita Service'] td[data-capability='reply']")
    cell.locator("summary").click()
    # A reason of spaces passes the browser's "required" check but not the server's.
    cell.locator("input[name=reason]").fill("   ")
    with page.expect_navigation():
        cell.get_by_test_id("revoke-reply").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link").click()
    field = page.locator(f"#id_revoke{grant.pk}_reason")
    expect(field).to_be_focused()
    expect(field).to_be_visible()
