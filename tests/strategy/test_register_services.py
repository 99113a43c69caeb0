"""The strategy register's services: the two-department rule, who may do
what, versions with who and why, reviews, budgets, bad input."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Membership, Notification
from accounts.roles import Role
from security.models import AuditEvent
from strategy import services
from strategy.models import Brand, Campaign, Objective, Spend, Strategy
from strategy.selectors import flagged, register
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


@pytest.fixture
def world(make_member, admin_user):
    marketing = DepartmentFactory(name="Marketing", slug="marketing")
    service = DepartmentFactory(name="Customer service", slug="customer-service")
    sales = DepartmentFactory(name="Sales", slug="sales")
    smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=marketing, username="sofia")
    marketer = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=marketing, username="mark")
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service, username="rita")
    seller = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=sales, username="sven")
    executive = make_member(Role.EXECUTIVE, username="erik")
    account = SocialAccountFactory()
    brand = services.brand_create(actor=smm, name="Acme", slug="acme", accounts=[account])
    strategy = services.strategy_create(actor=smm, brand=brand, title="Acme on social 2027")
    return {"marketing": marketing, "service": service, "sales": sales, "smm": smm, "marketer": marketer,
            "agent": agent, "seller": seller, "executive": executive, "admin": admin_user, "account": account,
            "brand": brand, "strategy": strategy}


def objective_fields(**overrides):
    fields = {"title": "Answer faster", "kind": "reactive", "category": "customer_service",
              "kpi": "first_response_median", "baseline": Decimal("240"), "target": Decimal("60"),
              "direction": "lower", "starts_on": date(2026, 10, 1), "deadline": date(2027, 3, 31)}
    return {**fields, **overrides}


@pytest.mark.django_db
def test_a_strategy_owned_by_one_department_refuses_to_become_active_and_says_why(world):
    w = world
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    with pytest.raises(ValidationError) as refused:
        services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="active", reason="launch")
    assert "at least two departments" in str(refused.value.message_dict["status"])
    assert "Marketing" in str(refused.value.message_dict["status"])
    assert Strategy.objects.get(pk=w["strategy"].pk).status == "draft"

    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="active", reason="launch")
    assert Strategy.objects.get(pk=w["strategy"].pk).status == "active"
    assert AuditEvent.objects.filter(action="strategy.status_changed").count() == 1


@pytest.mark.django_db
def test_an_active_strategy_is_flagged_when_an_owner_leaves_their_department(world):
    w = world
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="active", reason="launch")
    assert not flagged(register()).exists()

    Membership.objects.filter(user=w["agent"]).update(ended_at=timezone.now())  # the agent left customer service
    rows = list(register())
    assert rows[0].owner_departments == 1
    assert list(flagged(register())) == [w["strategy"]]


@pytest.mark.django_db
def test_only_the_accountable_smm_admins_and_executives_change_the_status(world):
    w = world
    for person in (w["marketer"], w["agent"]):
        with pytest.raises(PermissionDenied):
            services.strategy_set_status(actor=person, strategy=w["strategy"], status="retired", reason="x")
    services.strategy_set_status(actor=w["executive"], strategy=w["strategy"], status="retired", reason="dropped")
    assert Strategy.objects.get(pk=w["strategy"].pk).status == "retired"


@pytest.mark.django_db
def test_owners_edit_only_the_parts_they_own(world):
    w = world
    marketing_owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"],
                                         department=w["marketing"])
    service_owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"],
                                       department=w["service"])
    objective = services.objective_create(actor=w["agent"], strategy=w["strategy"], owner=service_owner,
                                          accounts=[w["account"]], **objective_fields())
    with pytest.raises(PermissionDenied):  # the marketer does not own it
        services.objective_update(actor=w["marketer"], objective=objective, reason="tighter", target=Decimal("30"))
    with pytest.raises(PermissionDenied):  # nor may they add one in the name of customer service
        services.objective_create(actor=w["marketer"], strategy=w["strategy"], owner=service_owner,
                                  **objective_fields(title="Other"))
    services.objective_update(actor=w["agent"], objective=objective, reason="tighter", target=Decimal("45"))
    assert Objective.objects.get(pk=objective.pk).target == Decimal("45")
    assert marketing_owner.objectives.count() == 0


@pytest.mark.django_db
def test_every_change_is_a_version_with_who_and_why(world):
    w = world
    services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="sharper title", title="Acme 2027")
    latest = w["strategy"].history.first()
    assert latest.title == "Acme 2027"
    assert latest.history_user == w["smm"]
    assert latest.history_change_reason == "sharper title"
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes] == ["title"]
    with pytest.raises(ValidationError) as refused:
        services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="  ", title="No reason")
    assert "reason" in refused.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("overrides, field", [
    ({"kpi": ""}, "kpi"),
    ({"deadline": date(2026, 9, 1)}, "deadline"),
    ({"kind": "proactive"}, "category"),
])
def test_bad_objectives_are_refused_naming_the_field_and_nothing_is_saved(world, overrides, field):
    w = world
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    with pytest.raises(ValidationError) as refused:
        services.objective_create(actor=w["agent"], strategy=w["strategy"], owner=owner,
                                  **objective_fields(**overrides))
    assert field in refused.value.message_dict
    assert not Objective.objects.exists()


@pytest.mark.django_db
def test_spend_in_another_currency_or_negative_is_refused_and_alerts_fire_once_at_90_and_100(world):
    w = world
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    campaign = services.campaign_create(actor=w["marketer"], strategy=w["strategy"], owner=owner, name="Spring",
                                        starts_on=date(2027, 3, 1), ends_on=date(2027, 4, 30),
                                        budget=Decimal("1000.00"), currency="EUR")
    for amount, currency, field in (("-5", "EUR", "amount"), ("abc", "EUR", "amount"), ("10", "USD", "currency")):
        with pytest.raises(ValidationError) as refused:
            services.spend_add(actor=w["marketer"], campaign=campaign, amount=amount, currency=currency,
                               spent_on=date(2027, 3, 2))
        assert field in refused.value.message_dict
    assert not Spend.objects.exists()

    def spend(amount, day):
        services.spend_add(actor=w["marketer"], campaign=campaign, amount=amount, currency="EUR",
                           spent_on=date(2027, 3, day))

    spend("899.99", 2)
    assert not Notification.objects.filter(kind="strategy.budget").exists()
    spend("0.01", 3)
    spend("50", 4)
    alerts = list(Notification.objects.filter(kind="strategy.budget", recipient=w["smm"])
                  .values_list("text", flat=True))
    assert len(alerts) == 1 and "(90%)" in alerts[0]
    spend("60", 5)
    spend("1", 6)
    alerts = list(Notification.objects.filter(kind="strategy.budget").order_by("pk").values_list("text", flat=True))
    assert len(alerts) == 2 and "(101%)" in alerts[1]
    assert Campaign.objects.get(pk=campaign.pk).alerted_100


@pytest.mark.django_db
def test_review_reminders_go_once_when_due_and_once_when_overdue(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    w = world
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="active", reason="launch")
    today = timezone.localdate()
    Strategy.objects.filter(pk=w["strategy"].pk).update(next_review_on=today + timedelta(days=3))

    assert services.send_review_reminders(today=today) == {"due": 1, "overdue": 0}
    assert services.send_review_reminders(today=today) == {"due": 0, "overdue": 0}  # a duplicated run sends nothing
    due = Notification.objects.filter(kind="strategy.review_due")
    assert {n.recipient.username for n in due} == {"sofia", "mark", "rita"}
    assert len(mail.outbox) == 3

    later = today + timedelta(days=4)
    assert services.send_review_reminders(today=later) == {"due": 0, "overdue": 1}
    assert Notification.objects.filter(kind="strategy.review_overdue").count() == 3

    review = services.review_complete(actor=w["smm"], strategy=w["strategy"], changes="Targets kept; new segment.")
    strategy = Strategy.objects.get(pk=w["strategy"].pk)
    assert strategy.next_review_on == review.next_review_on > today
    assert strategy.review_overdue_reminded_on is None


@pytest.mark.django_db
def test_brand_accounts_bound_what_objectives_cover(world):
    w = world
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    elsewhere = SocialAccountFactory()
    with pytest.raises(ValidationError) as refused:
        services.objective_create(actor=w["agent"], strategy=w["strategy"], owner=owner, accounts=[elsewhere],
                                  **objective_fields())
    assert "accounts" in refused.value.message_dict
    assert Brand.objects.get(pk=w["brand"].pk).accounts.count() == 1
