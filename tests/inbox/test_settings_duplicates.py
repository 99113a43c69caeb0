"""A duplicate routing-rule name or saved-reply title (any case) is refused
on its field in words, with a 400 and nothing stored; the same name
elsewhere (another department's saved reply, the rule being edited) is
fine; a race past the check still ends as the same refusal, not a 500."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.roles import Role
from inbox import settings_services
from inbox.models import RoutingRule, SavedReply
from security.models import AuditEvent
from tests.accounts.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

RULE_EXISTS = "A routing rule with this name already exists."
TITLE_EXISTS = "This department already has a saved reply with this title."


def rule_data(name, department, **extra):
    return {"name": name, "position": 1, "is_active": "on", "intent": "sales_lead", "department": department.pk,
            "priority": 3, **extra}


def field_error(html: str, field: str) -> str:
    import re

    match = re.search(rf'<p class="field-error" data-field="{field}">([^<]*)</p>', html)
    return match.group(1) if match else ""


@pytest.fixture
def manager_client(make_member, client_for):
    return client_for(make_member(Role.SOCIAL_MEDIA_MANAGER))


def test_a_second_rule_with_the_same_name_in_any_case_is_refused_on_the_name(manager_client):
    sales = DepartmentFactory(name="Sales")
    assert manager_client.post(reverse("inbox:routing-rules"), rule_data("Leads", sales)).status_code == 302
    response = manager_client.post(reverse("inbox:routing-rules"), rule_data("  lEADS ", sales))
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "name") == RULE_EXISTS
    assert html.count(RULE_EXISTS) == 2  # next to the field and in the summary on top, not a third time
    assert 'href="#id_name">Name: A routing rule with this name already exists.</a>' in html
    assert RoutingRule.objects.count() == 1
    assert AuditEvent.objects.filter(action="routing_rule.save").count() == 1


def test_editing_a_rule_keeps_its_own_name_but_not_another_rules(manager_client):
    sales = DepartmentFactory(name="Sales")
    manager_client.post(reverse("inbox:routing-rules"), rule_data("Leads", sales))
    manager_client.post(reverse("inbox:routing-rules"), rule_data("Complaints", sales))
    leads, complaints = RoutingRule.objects.get(name="Leads"), RoutingRule.objects.get(name="Complaints")
    response = manager_client.post(reverse("inbox:routing-rule-edit", args=[leads.pk]),
                                   rule_data("LEADS", sales, position=5))
    assert response.status_code == 302
    leads.refresh_from_db()
    assert leads.name == "LEADS" and leads.position == 5
    response = manager_client.post(reverse("inbox:routing-rule-edit", args=[complaints.pk]),
                                   rule_data("leads", sales))
    assert response.status_code == 400 and field_error(response.content.decode(), "name") == RULE_EXISTS
    complaints.refresh_from_db()
    assert complaints.name == "Complaints"


def test_the_service_refuses_a_duplicate_rule_name_on_the_field(make_member):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    sales = DepartmentFactory()
    fields = {"name": "Leads", "position": 1, "is_active": True, "intent": "", "keywords": "", "account": None,
              "language": "", "sentiment": "", "department": sales, "priority": 3}
    settings_services.routing_rule_save(actor=manager, **fields)
    with pytest.raises(ValidationError) as refused:
        settings_services.routing_rule_save(actor=manager, **{**fields, "name": "LEADS"})
    assert refused.value.message_dict == {"name": [RULE_EXISTS]}


def test_a_rule_saved_by_someone_else_in_between_is_the_same_refusal(manager_client):
    sales = DepartmentFactory(name="Sales")
    manager_client.post(reverse("inbox:routing-rules"), rule_data("Leads", sales))
    # The other save lands after our check: the database's constraint refuses ours.
    with mock.patch.object(settings_services, "routing_rule_name_check"), \
            mock.patch("inbox.forms_settings.routing_rule_name_check"), \
            mock.patch.object(RoutingRule, "full_clean"):
        response = manager_client.post(reverse("inbox:routing-rules"), rule_data("leads", sales))
    assert response.status_code == 400 and field_error(response.content.decode(), "name") == RULE_EXISTS
    assert RoutingRule.objects.count() == 1


@pytest.fixture
def care_member(make_member):
    care = DepartmentFactory(name="Customer care")
    return care, make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care)


def test_a_second_saved_reply_with_the_same_title_in_the_department_is_refused(care_member, client_for):
    care, member = care_member
    client = client_for(member)
    data = {"department": care.pk, "title": "Refunds", "body": "Refunds take 5 days.", "language": "en"}
    assert client.post(reverse("inbox:saved-replies"), data).status_code == 302
    response = client.post(reverse("inbox:saved-replies"), {**data, "title": "REFUNDS", "body": "Other text"})
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "title") == TITLE_EXISTS
    assert f'href="#id_title">Title: {TITLE_EXISTS}</a>' in html
    assert SavedReply.objects.count() == 1
    assert SavedReply.objects.get().body == "Refunds take 5 days."


def test_the_same_title_in_another_department_is_fine(care_member, make_member, client_for, admin_user):
    care, member = care_member
    sales = DepartmentFactory(name="Sales")
    client = client_for(admin_user)
    for department in (care, sales):
        response = client.post(reverse("inbox:saved-replies"),
                               {"department": department.pk, "title": "Refunds", "body": "x"})
        assert response.status_code == 302
    assert SavedReply.objects.filter(title="Refunds").count() == 2


def test_a_saved_reply_stored_by_someone_else_in_between_is_the_same_refusal(care_member):
    care, member = care_member
    settings_services.saved_reply_insert(actor=member, department=care, title="Refunds", body="x")
    real_filter = SavedReply.objects.filter

    def nothing_yet(*args, **kwargs):
        return real_filter(pk__in=[])  # the check sees no duplicate yet

    with mock.patch.object(SavedReply.objects, "filter", side_effect=nothing_yet):
        with pytest.raises(ValidationError) as refused:
            settings_services.saved_reply_insert(actor=member, department=care, title="refunds", body="y")
    assert refused.value.message_dict == {"title": [TITLE_EXISTS]}
    assert SavedReply.objects.count() == 1



@pytest.mark.django_db
def test_the_api_refuses_a_duplicate_routing_rule_name_with_a_400_naming_it(api_for, admin_user):
    from inbox.models import RoutingRule
    from tests.accounts.factories import DepartmentFactory

    department = DepartmentFactory()
    api = api_for(admin_user)
    first = api.post("/api/routing-rules/", {"name": "Refunds", "department": department.pk}, format="json")
    assert first.status_code == 201, first.content
    again = api.post("/api/routing-rules/", {"name": "REFUNDS", "department": department.pk}, format="json")
    assert again.status_code == 400
    assert "already exists" in str(again.json()["name"])
    assert RoutingRule.objects.filter(name__iexact="refunds").count() == 1
    other = api.post("/api/routing-rules/", {"name": "Other", "department": department.pk}, format="json").json()
    renamed = api.patch(f"/api/routing-rules/{other['id']}/", {"name": "refunds"}, format="json")
    assert renamed.status_code == 400 and "name" in renamed.json()
