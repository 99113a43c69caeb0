"""A refused form says so where the eye is: a summary on top of the page
(role="alert") whose items link to the fields, each field marked
aria-invalid and described by its own error, and a 4xx status."""

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ServiceClosure
from security import services
from security.models import PublishingGrant
from tests.accounts.factories import DepartmentFactory, WorkgroupFactory
from tests.helpers import reauthenticate
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(r'<div class="error error-summary"[^>]*role="alert"[^>]*>(.*?)</div>', re.S)


def summary_links(html: str) -> list[tuple[str, str]]:
    """(target id, text) of each link in the page's error summary."""
    match = SUMMARY.search(html)
    assert match, "no error summary on the refused page"
    assert "There is a problem" in match.group(1)
    return [(target, html_lib.unescape(re.sub(r"<[^>]+>", "", text)).strip())
            for target, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', match.group(1), re.S)]


def tag_with_id(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert match, f"no field with id {element_id}"
    return match.group(0)


def assert_points_at_field(response, field_id: str, label: str, reason: str) -> None:
    assert 400 <= response.status_code < 500
    html = response.content.decode()
    links = summary_links(html)
    assert (field_id, f"{label}: {reason}") in links, links
    # The summary comes before the form, right at the top of the page's main content.
    assert html.index("error-summary") < html.index(f'id="{field_id}"')
    assert html.index("error-summary") - html.index('<main id="main">') < 400
    field = tag_with_id(html, field_id)
    assert 'aria-invalid="true"' in field
    described_by = re.search(r'aria-describedby="([^"]+)"', field).group(1).split()
    assert f"{field_id}_error" in described_by
    error = re.search(rf'<div id="{field_id}_error">(.*?)</div>', html, re.S)
    assert error and reason in html_lib.unescape(error.group(1))


def test_a_refused_grant_is_summarised_on_top_with_a_link_to_the_person(admin_user, client_for):
    account = SocialAccountFactory()
    client = reauthenticate(client_for(admin_user))
    response = client.post(reverse("security:grant-create", args=[account.pk]),
                           {"capability": "draft", "user": admin_user.pk, "reason": "covering"})
    assert_points_at_field(response, "id_user", "Person", "Nobody grants rights to themselves.")
    assert not PublishingGrant.objects.exists()
    # The fields that were fine are not marked.
    assert 'aria-invalid' not in tag_with_id(response.content.decode(), "id_reason")


def test_a_grant_missing_two_fields_lists_both_in_the_form_order(admin_user, client_for):
    account = SocialAccountFactory()
    response = client_for(admin_user).post(reverse("security:grant-create", args=[account.pk]),
                                           {"capability": "draft", "reason": ""})
    links = summary_links(response.content.decode())
    assert [target for target, _text in links] == ["id_user", "id_reason"]
    assert response.status_code == 400


def test_a_refused_revoke_opens_its_own_cell_and_links_to_its_reason(admin_user, make_member, client_for):
    account = SocialAccountFactory()
    client = client_for(admin_user)
    client.post(reverse("security:grant-create", args=[account.pk]),
                {"capability": "reply", "user": make_member().pk, "reason": "cover"})
    grant = PublishingGrant.objects.get()
    response = client.post(reverse("security:grant-revoke", args=[grant.pk]), {"reason": ""})
    field_id = f"id_revoke{grant.pk}_reason"
    assert_points_at_field(response, field_id, "Reason (on record)", "This field is required.")
    assert re.search(r"<details open>\s*<summary>Revoke</summary>", response.content.decode())


def test_a_refused_note_is_summarised_on_the_conversation_page(admin_user, make_member, client_for):
    care = DepartmentFactory(name="Customer care")
    rep = make_member(department=care)
    account = SocialAccountFactory()
    ingest_messages(account=account, items=[{
        "platform_message_id": "1", "text": "Hello?", "sent_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "author": {"id": "a1", "handle": "@ana"}}])
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(department=care)
    response = client_for(rep).post(reverse("inbox:note", args=[conversation.pk]), {"body": ""})
    assert_points_at_field(response, "id_note_body", "Internal note", "This field is required.")


def test_a_refused_closure_is_summarised_on_the_service_hours_page(admin_user, client_for):
    account = SocialAccountFactory()
    response = client_for(admin_user).post(reverse("inbox:closure-add", args=[account.pk]), {
        "starts_at": "2026-12-24T18:00", "ends_at": "", "reason": "Christmas"})
    assert_points_at_field(response, "id_closure_ends_at", "until", "This field is required.")
    assert not ServiceClosure.objects.exists()
    # The service-hours form on the same page is not refused and not marked.
    assert "aria-invalid" not in tag_with_id(response.content.decode(), "id_time_zone")


def test_a_refused_person_is_summarised_with_links_to_each_field(admin_user, client_for):
    User.objects.create(username="ana")
    response = client_for(admin_user).post(reverse("person-create"), {
        "username": "ana", "email": "not an address", "time_zone": "Mars/Olympus"})
    html = response.content.decode()
    assert_points_at_field(response, "id_email", "Email", "Enter a valid email address.")
    targets = [target for target, _text in summary_links(html)]
    assert "id_time_zone" in targets
    # A field with help text is described by the help and by the error.
    described_by = re.search(r'aria-describedby="([^"]+)"', tag_with_id(html, "id_email")).group(1).split()
    assert described_by == ["id_email_helptext", "id_email_error"] and 'id="id_email_helptext"' in html


def test_a_refused_role_names_the_field(admin_user, make_member, client_for):
    person = make_member()
    response = client_for(admin_user).post(reverse("membership-add"), {
        "user": person.pk, "role": "no-such-role", "department": DepartmentFactory().pk,
        "workgroup": WorkgroupFactory().pk})
    assert response.status_code == 400
    assert any(target == "id_role" for target, _text in summary_links(response.content.decode()))
    assert Membership.objects.filter(user=person).count() == 1


def test_errors_about_no_visible_field_link_to_the_box_on_top_of_the_form(admin_user, client_for):
    response = client_for(admin_user).get(reverse("security:audit"), {"before": "-3"})
    html = response.content.decode()
    assert response.status_code == 400
    links = summary_links(html)
    assert len(links) == 1
    target, text = links[0]
    assert text.startswith("Before: ")
    assert re.search(rf'<div class="error form-errors" id="{target}" tabindex="-1">', html)


def test_a_page_without_a_refusal_has_no_summary_and_loads_the_focus_script(admin_user, client_for):
    html = client_for(admin_user).get(reverse("security:account-create")).content.decode()
    assert "error-summary" not in html and "aria-invalid" not in html
    assert re.search(r'<script src="/static/socialops/forms\.js" defer></script>', html)


def test_the_focus_script_is_served_and_has_no_inline_code_on_the_page(admin_user, client_for):
    from django.contrib.staticfiles import finders

    path = finders.find("socialops/forms.js")
    assert path and "data-error-summary" in open(path).read()
    account = SocialAccountFactory()
    response = client_for(admin_user).post(reverse("security:grant-create", args=[account.pk]),
                                           {"capability": "draft", "reason": ""})
    assert "onload" not in response.content.decode() and "<script>" not in response.content.decode()


def test_a_refused_queue_switch_links_to_the_box_in_the_queues_section(admin_user, client_for):
    response = client_for(admin_user).post(reverse("inbox:triage-settings"), {"form": "queue", "department": "999"})
    html = response.content.decode()
    assert response.status_code == 400
    [(target, text)] = summary_links(html)
    assert text.startswith("Queue: Select a valid choice")
    queues = html.split('data-testid="queues"')[1]
    assert f'id="{target}"' in queues


def test_a_refused_unlock_is_the_people_page_with_the_reason_on_top(admin_user, client_for):
    response = client_for(admin_user).post(reverse("person-unlock"), {"username": ""})
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="lockouts"' in html
    [(target, text)] = summary_links(html)
    assert text == "Username: This field is required."
    # Not the "add a person" form's username field on the same page.
    assert target != "id_username" and f'id="{target}"' in html.split('data-testid="lockouts"')[1]


def test_a_refused_reveal_request_in_a_credential_row_is_summarised(make_member, admin_user, client_for):
    # The reveal form sits in one credential's row (a list of dicts in the page's context), in a closed <details>.
    account = SocialAccountFactory()
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    services.custodian_add(actor=admin_user, account=account, user=manager)
    services.custodian_add(actor=admin_user, account=account, user=make_member(Role.EXECUTIVE))
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret="s3cr3t-value!")
    response = client_for(manager).post(reverse("security:reveal-request-create", args=[credential.pk]),
                                        {"reason": "need"})
    html = response.content.decode()
    assert response.status_code == 400
    [(target, text)] = summary_links(html)
    assert target == f"id_reveal_{credential.pk}_reason" and text.startswith("Why is the secret needed?")
    field = tag_with_id(html, target)
    assert 'aria-invalid="true"' in field and f"{target}_error" in field
