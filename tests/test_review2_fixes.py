"""Regressions from the second review: names leaked by id, stale panels,
odd input turned into 500s, rights shown to the wrong people."""

import pytest
from django.urls import reverse

from accounts.roles import Role
from accounts.services import membership_end
from inbox.ingest import ingest_messages
from inbox.models import Conversation, TriageSettings
from inbox.services import conversation_claim
from security import services as security
from tests.accounts.factories import DepartmentFactory, UserFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory


@pytest.fixture
def world(db, admin_user, make_member):
    service = DepartmentFactory(name="Service")
    row = TriageSettings.current()
    row.default_department = service
    row.save()
    account = SocialAccountFactory(handle="@care@example.social")
    ingest_messages(account=account, items=[{"platform_message_id": "1", "text": "Where is it?",
                                             "sent_at": "2026-11-27T10:00:00Z", "author": {"id": "c", "handle": "@c"}}])
    agent = make_member(department=service)
    return {"service": service, "account": account, "agent": agent, "admin": admin_user,
            "conversation": Conversation.objects.get()}


@pytest.mark.django_db
def test_assigning_by_id_does_not_reveal_who_that_is(world, api_for):
    secret_person = UserFactory(first_name="Otto", last_name="Secretname")
    response = api_for(world["agent"]).post(f"/api/conversations/{world['conversation'].pk}/assign/",
                                            {"assignee": secret_person.pk}, format="json")
    assert response.status_code == 400 and "Secretname" not in response.content.decode()


@pytest.mark.django_db
def test_my_work_forgets_conversations_of_a_department_left(world, client_for):
    conversation_claim(actor=world["agent"], conversation=world["conversation"])
    assert "@c" in client_for(world["agent"]).get(reverse("dashboard")).content.decode()
    membership_end(actor=world["admin"], membership=world["agent"].memberships.get())
    assert 'href="/inbox/c/' not in client_for(fresh(world["agent"])).get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("request_kind", ["search", "tag-remove", "tag-delete-api", "filter-api", "queue-form"])
def test_odd_input_is_a_400(world, client_for, api_for, request_kind):
    conversation = world["conversation"]
    if request_kind == "search":
        response = client_for(world["agent"]).get(reverse("search"), {"q": "ab\x00cd"})
    elif request_kind == "tag-remove":
        response = client_for(world["agent"]).post(reverse("inbox:tag-remove", args=[conversation.pk]), {})
    elif request_kind == "tag-delete-api":
        response = api_for(world["agent"]).delete(f"/api/conversations/{conversation.pk}/tags/a%00b/")
    elif request_kind == "filter-api":
        response = api_for(world["agent"]).get("/api/conversations/", {"department": "9" * 30})
    else:
        response = client_for(world["admin"]).post(reverse("inbox:triage-settings"),
                                                   {"form": "queue", "department": "abc"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_people_search_by_email_is_for_admins_only(world, client_for, make_member):
    colleague_workgroup = world["agent"].memberships.get().workgroup
    colleague = make_member(workgroup=colleague_workgroup, first_name="Pat", last_name="Private",
                            email="pat.private@gmail.example")
    colleague.email = "pat.private@gmail.example"
    colleague.save()
    def search_as(user):
        return client_for(user).get(reverse("search"), {"q": "gmail.example"}).content.decode()

    assert "Pat Private" not in search_as(world["agent"])
    assert "Pat Private" in search_as(world["admin"])


@pytest.mark.django_db
def test_the_rights_matrix_is_for_those_who_oversee_the_channel(world, client_for, make_member):
    world["account"].departments.add(world["service"])
    security.grant_create(actor=world["admin"], account=world["account"], capability="reply", user=world["agent"],
                          reason="covers the desk")
    other = make_member(department=world["service"], first_name="Nosy", last_name="Neighbour")
    html = client_for(other).get(reverse("security:account-detail", args=[world["account"].pk])).content.decode()
    assert 'data-testid="rights-matrix"' not in html and "covers the desk" not in html
    assert 'data-testid="my-rights-here"' in html
    own = client_for(fresh(world["agent"])).get(reverse("security:account-detail", args=[world["account"].pk]))
    assert "Reply" in own.content.decode()
    exec_html = client_for(make_member(Role.EXECUTIVE)).get(
        reverse("security:account-detail", args=[world["account"].pk])).content.decode()
    assert 'data-testid="rights-matrix"' in exec_html and "covers the desk" in exec_html


@pytest.mark.django_db
def test_no_composer_on_a_suspended_channel(world, client_for):
    from inbox.permissions import reply_mode

    security.grant_create(actor=world["admin"], account=world["account"], capability="draft", user=world["agent"],
                          reason="x")
    assert reply_mode(fresh(world["agent"]), world["conversation"]) == "approval"
    security.account_update(actor=world["admin"], account=world["account"], status="suspended")
    world["conversation"].account.refresh_from_db()
    assert reply_mode(fresh(world["agent"]), world["conversation"]) == "none"
