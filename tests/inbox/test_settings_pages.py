import pytest
from django.urls import reverse

from accounts.roles import Role
from inbox.models import RoutingRule, ServiceWindow, SlaPolicy, TriageSettings
from security.models import AuditEvent
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


@pytest.mark.django_db
def test_coverage_shows_hours_and_open_now(admin_user, client_for, make_member):
    account = SocialAccountFactory(handle="@care@example.social")
    client = client_for(admin_user)
    response = client.post(reverse("inbox:service-window", args=[account.pk]), {
        "time_zone": "America/New_York", "holiday_country": "US", "monday": "09:00-13:00, 14:00-18:00",
        "tuesday": "09:00-18:00"})
    assert response.status_code == 302
    window = ServiceWindow.objects.get(account=account)
    assert window.periods.count() == 3 and window.holiday_country == "US"
    html = client.get(reverse("inbox:coverage")).content.decode()
    assert "@care@example.social" in html and "09:00-13:00, 14:00-18:00" in html and "America/New_York" in html
    assert AuditEvent.objects.filter(action="service_window.save", account_id=account.pk).exists()
    # a representative sees coverage but cannot change hours
    rep = make_member()
    assert client_for(rep).get(reverse("inbox:coverage")).status_code == 200
    assert client_for(rep).get(reverse("inbox:service-window", args=[account.pk])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("periods,field", [("9-17", "monday"), ("18:00-09:00", "monday"), ("09:00-12:00, 11:00-13:00",
                                                                                         "monday")])
def test_bad_service_hours_are_a_400_naming_the_day(admin_user, client_for, periods, field):
    account = SocialAccountFactory()
    response = client_for(admin_user).post(reverse("inbox:service-window", args=[account.pk]),
                                           {"time_zone": "Europe/Madrid", "monday": periods})
    assert response.status_code == 400 and f'data-field="{field}"' in response.content.decode()
    assert not ServiceWindow.objects.exists()


@pytest.mark.django_db
def test_unknown_time_zone_and_country_are_refused(admin_user, client_for):
    account = SocialAccountFactory()
    response = client_for(admin_user).post(reverse("inbox:service-window", args=[account.pk]),
                                           {"time_zone": "Mars/Olympus", "always_open": "on"})
    assert response.status_code == 400 and 'data-field="time_zone"' in response.content.decode()
    response = client_for(admin_user).post(reverse("inbox:service-window", args=[account.pk]),
                                           {"time_zone": "UTC", "always_open": "on", "holiday_country": "XX"})
    assert response.status_code == 400 and 'data-field="holiday_country"' in response.content.decode()


@pytest.mark.django_db
def test_sla_targets_are_editable_by_admins(admin_user, client_for, make_member):
    client = client_for(admin_user)
    response = client.post(reverse("inbox:sla-policies"), {"intent": "complaint", "first_response_minutes": 120,
                                                           "resolution_minutes": 600})
    assert response.status_code == 302
    assert SlaPolicy.objects.get(intent="complaint", account=None).first_response_minutes == 120
    response = client.post(reverse("inbox:sla-policies"), {"intent": "complaint", "first_response_minutes": 120,
                                                           "resolution_minutes": 60})
    assert response.status_code == 400 and 'data-field="resolution_minutes"' in response.content.decode()
    assert client_for(make_member(Role.SOCIAL_MEDIA_MANAGER)).get(reverse("inbox:sla-policies")).status_code == 403


@pytest.mark.django_db
def test_routing_rules_for_managers_only(make_member, client_for):
    sales = DepartmentFactory(name="Sales")
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    client = client_for(manager)
    response = client.post(reverse("inbox:routing-rules"), {"name": "Leads", "position": 1, "is_active": "on",
                                                            "intent": "sales_lead", "department": sales.pk,
                                                            "priority": 3})
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.department == sales and rule.created_by == manager
    client.post(reverse("inbox:routing-rule-edit", args=[rule.pk]), {"delete": "1"})
    assert not RoutingRule.objects.exists()
    assert client_for(make_member()).get(reverse("inbox:routing-rules")).status_code == 403
    assert AuditEvent.objects.filter(action__startswith="routing_rule.").count() == 2


@pytest.mark.django_db
def test_triage_settings_and_sensitive_terms(admin_user, client_for):
    service = DepartmentFactory(name="Service")
    client = client_for(admin_user)
    client.post(reverse("inbox:triage-settings"), {"form": "settings", "influencer_followers": 2500,
                                                   "default_department": service.pk})
    row = TriageSettings.current()
    assert row.influencer_followers == 2500 and row.default_department == service
    client.post(reverse("inbox:triage-settings"), {"form": "term", "language": "es", "category": "legal",
                                                   "term": "Notario"})
    from inbox.triage import triage_text

    assert triage_text("hablaré con mi notario", language_hint="es").sensitive_categories == ["legal"]


@pytest.mark.django_db
def test_round_robin_per_queue(admin_user, client_for, make_member):
    from inbox.ingest import ingest_messages
    from inbox.models import Conversation

    service = DepartmentFactory(name="Service desk")
    row = TriageSettings.current()
    row.default_department = service
    row.save()
    first, second = make_member(department=service), make_member(department=service)
    client = client_for(admin_user)
    client.post(reverse("inbox:triage-settings"), {"form": "queue", "department": service.pk, "auto_assign": "on"})
    account = SocialAccountFactory()
    from security.services import grant_create

    for member in (first, second):  # the round robin only gives a conversation to someone who can answer on it
        grant_create(actor=admin_user, account=account, capability="reply", user=member, reason="desk")
    ingest_messages(account=account, items=[{"platform_message_id": str(n), "text": "hello?",
                                             "sent_at": "2026-11-27T10:00:00Z",
                                             "author": {"id": f"a{n}", "handle": f"@a{n}"}} for n in range(4)])
    assignees = list(Conversation.objects.order_by("pk").values_list("assignee_id", flat=True))
    assert sorted(assignees) == sorted([first.pk, second.pk] * 2) and assignees[0] != assignees[1]
    client.post(reverse("inbox:triage-settings"), {"form": "queue", "department": service.pk})
    ingest_messages(account=account, items=[{"platform_message_id": "late", "text": "hi?",
                                             "sent_at": "2026-11-27T11:00:00Z", "author": {"id": "z", "handle": "@z"}}])
    assert Conversation.objects.get(messages__platform_message_id="late").assignee is None
