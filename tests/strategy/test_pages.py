"""The strategy register's pages: the register, a strategy read as a
document, its forms (refusals are 400s naming the field, nothing saved;
rights are 403s), version history and compare."""

from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from inbox.models import ServicePeriod, ServiceWindow
from strategy import services
from strategy.models import Campaign, Decision, Objective, Spend, Strategy, StrategyOwner
from tests.conftest import sign_in
from tests.security.factories import SocialAccountFactory
from tests.strategy.test_register_services import objective_fields, world  # noqa: F401


@pytest.fixture
def owned(world):  # noqa: F811
    """Marketing and customer service own parts; a campaign near its budget."""
    w = world
    w["marketing_owner"] = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"],
                                              department=w["marketing"])
    w["service_owner"] = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"],
                                            department=w["service"])
    w["objective"] = services.objective_create(actor=w["agent"], strategy=w["strategy"], owner=w["service_owner"],
                                               accounts=[w["account"]], **objective_fields())
    w["campaign"] = services.campaign_create(actor=w["marketer"], strategy=w["strategy"], owner=w["marketing_owner"],
                                             name="Spring", starts_on=date(2027, 3, 1), ends_on=date(2027, 4, 30),
                                             budget=Decimal("1000"), currency="EUR")
    services.spend_add(actor=w["marketer"], campaign=w["campaign"], amount=Decimal("930"), currency="EUR",
                       spent_on=timezone.localdate())
    return w


def page_of(client_for, user, path):
    response = client_for(user).get(path)
    return response, response.content.decode()


def url(strategy, rest=""):
    return f"/strategy/{strategy.pk}/{rest}"


def field_error(html: str, field: str) -> bool:
    return f'data-field="{field}"' in html


# --- reading -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_representative_reads_every_page_without_budgets(owned, client_for, make_member):
    w = owned
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="fiona")  # finance, owns nothing
    response, html = page_of(client_for, outsider, "/strategy/")
    assert response.status_code == 200
    assert "Acme on social 2027" in html
    response, html = page_of(client_for, outsider, url(w["strategy"]))
    assert response.status_code == 200
    assert "Spring" in html and "Answer faster" in html
    assert "930" not in html and "1000" not in html
    assert "Costs and budgets are visible to the strategy's owners, social media managers, admins and " \
           "executives." in unescape(html)
    assert 'data-testid="add-objective"' not in html and 'data-testid="status-form"' not in html
    assert page_of(client_for, outsider, url(w["strategy"], "history/"))[0].status_code == 200


@pytest.mark.django_db
def test_an_owner_sees_the_budget_bar_amber_past_90_percent(owned, client_for):
    w = owned
    response, html = page_of(client_for, w["marketer"], url(w["strategy"]))
    assert response.status_code == 200
    assert "930.00 of 1000.00 EUR spent (93%)" in html
    assert 'class="fill warn"' in html and "Past 90% of the budget." in html
    assert 'data-testid="money-hidden"' not in html


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(owned):
    response = Client().get(url(owned["strategy"]))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_the_register_shows_departments_side_by_side_and_flags_one_department(world, client_for):  # noqa: F811
    w = world
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    services.objective_create(actor=w["agent"], strategy=w["strategy"], owner=owner, **objective_fields())
    services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="active", reason="launch")
    html = page_of(client_for, w["marketer"], "/strategy/")[1]
    assert 'data-department="Customer service"' in html and 'data-department="Marketing"' in html
    assert "1 objective" in html
    assert "needs a second department" not in html

    services.owner_end(actor=w["smm"], owner=owner, reason="moved on")
    html = page_of(client_for, w["marketer"], "/strategy/")[1]
    assert "Owned by Marketing only: needs a second department." in html


@pytest.mark.django_db
def test_the_register_filters_by_brand_status_department_and_review_due(owned, client_for, make_member):
    w = owned
    other = services.brand_create(actor=w["smm"], name="Zeta", slug="zeta")
    services.strategy_create(actor=w["smm"], brand=other, title="Zeta plan")
    smm = w["smm"]
    assert "Zeta plan" in page_of(client_for, smm, f"/strategy/?brand={other.pk}")[1]
    assert "Acme on social 2027" not in page_of(client_for, smm, f"/strategy/?brand={other.pk}")[1]
    html = page_of(client_for, smm, f"/strategy/?department={w['service'].pk}")[1]
    assert "Acme on social 2027" in html and "Zeta plan" not in html
    services.strategy_set_status(actor=smm, strategy=w["strategy"], status="active", reason="launch")
    Strategy.objects.filter(pk=w["strategy"].pk).update(next_review_on=timezone.localdate() - timedelta(days=2))
    html = page_of(client_for, smm, "/strategy/?status=active&review_due=on")[1]
    assert "Acme on social 2027" in html and "Zeta plan" not in html
    assert 'data-testid="review-overdue"' in html
    response = client_for(smm).get("/strategy/?status=nonsense")
    assert response.status_code == 400 and field_error(response.content.decode(), "status")


@pytest.mark.django_db
def test_the_register_runs_a_fixed_number_of_queries_as_strategies_grow(world, client_for, make_member):  # noqa: F811
    w = world
    client = client_for(w["smm"])

    def add_strategy(n):
        strategy = services.strategy_create(actor=w["smm"], brand=w["brand"], title=f"Plan {n}")
        owner = services.owner_add(actor=w["smm"], strategy=strategy, user=w["marketer"], department=w["marketing"])
        services.owner_add(actor=w["smm"], strategy=strategy, user=w["agent"], department=w["service"])
        services.objective_create(actor=w["smm"], strategy=strategy, owner=owner, **objective_fields())

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/strategy/").status_code == 200
        return len(queries)

    add_strategy(1)
    client.get("/strategy/")  # warm the session and caches
    few = count()
    for n in range(2, 8):
        add_strategy(n)
    many = count()
    assert "Plan 7" in client.get("/strategy/").content.decode()
    assert many == few


@pytest.mark.django_db
def test_a_script_in_a_title_is_shown_as_text(world, client_for):  # noqa: F811
    w = world
    services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="test",
                             title="<script>alert(1)</script>")
    for path in ("/strategy/", url(w["strategy"]), url(w["strategy"], "history/")):
        html = page_of(client_for, w["smm"], path)[1]
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_the_computed_kpi_shows_its_current_value_against_target(owned, client_for):
    w = owned
    html = page_of(client_for, w["agent"], url(w["strategy"]))[1]
    assert 'data-kpi="first_response_median"' in html
    assert "60.00 minutes" in html  # the target
    assert "no value yet" in html  # no answered conversation yet


@pytest.mark.django_db
def test_a_manual_kpi_value_is_entered_by_the_owning_department(owned, client_for):
    w = owned
    objective = services.objective_create(
        actor=w["marketer"], strategy=w["strategy"], owner=w["marketing_owner"],
        **objective_fields(title="More followers", kind="proactive", category="awareness", kpi="followers",
                           baseline=Decimal("1000"), target=Decimal("5000"), direction="higher"))
    client = client_for(w["marketer"])
    path = url(w["strategy"], f"objectives/{objective.pk}/values/")
    bad = client.post(path, {"value": "1200", "measured_on": "2026-11-01", "source": " "})
    assert bad.status_code == 400 and field_error(bad.content.decode(), "source")
    assert objective.manual_values.count() == 0
    ok = client.post(path, {"value": "1200", "measured_on": "2026-11-01", "source": "Mastodon stats"})
    assert ok.status_code == 302
    html = client.get(url(w["strategy"])).content.decode()
    assert "1200.00 followers" in html and "Mastodon stats" in html
    assert 'data-testid="sparkline"' not in html  # one value is not a line yet
    client.post(path, {"value": "1500", "measured_on": "2026-11-15", "source": "Mastodon stats"})
    html = client.get(url(w["strategy"])).content.decode()
    assert "1500.00 followers" in html and 'aria-label="2 values, from 1200.00 to 1500.00"' in html
    # Customer service does not enter marketing's figures.
    assert client_for(w["agent"]).post(path, {"value": "9", "measured_on": "2026-11-02",
                                              "source": "x"}).status_code == 403


@pytest.mark.django_db
def test_a_plan_promising_24_7_on_a_business_hours_inbox_is_warned_and_unstaffed_inboxes_named(owned, client_for):
    w = owned
    window = ServiceWindow.objects.create(account=w["account"], time_zone="Europe/Madrid")
    ServicePeriod.objects.create(window=window, weekday=0, opens_minute=9 * 60, closes_minute=17 * 60)
    w["account"].departments.add(w["service"])
    client = client_for(w["smm"])
    response = client.post(url(w["strategy"], "channels/"), {
        "owner": w["service_owner"].pk, "account": w["account"].pk, "rationale": "Where they complain",
        "posts_per_week": 2, "promised_coverage": "always", "budget": "0", "currency": "eur"})
    assert response.status_code == 302
    html = client.get(url(w["strategy"])).content.decode()
    assert 'data-testid="coverage-warning"' in html and "promises 24/7" in html
    assert "Monday: 09:00-17:00" in html
    assert "Nobody staffs" not in html

    second = SocialAccountFactory(handle="@acme_second")
    w["brand"].accounts.add(second)
    third = SocialAccountFactory(handle="@acme_third")
    w["brand"].accounts.add(third)
    for account in (second, third):
        services.channel_plan_create(actor=w["smm"], strategy=w["strategy"], owner=w["marketing_owner"],
                                     account=account, rationale="reach", promised_coverage="always")
    html = client.get(url(w["strategy"])).content.decode()
    assert "Nobody staffs the inbox of" in html and "acme_second" in html
    assert "plans 3 channels, but the departments staffing their inboxes cover 1" in html


# --- forms: refusals name the field and save nothing -----------------------------------

@pytest.mark.django_db
def test_an_objective_with_its_deadline_before_its_start_is_a_400_naming_deadline(owned, client_for):
    w = owned
    before = Objective.objects.count()
    response = client_for(w["agent"]).post(url(w["strategy"], "objectives/"), {
        "owner": w["service_owner"].pk, "title": "Backwards", "kind": "reactive", "category": "customer_service",
        "kpi": "first_response_median", "target": "30", "direction": "lower", "starts_on": "2027-02-01",
        "deadline": "2027-01-01"})
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "deadline") and "The deadline must come after the start." in html
    assert Objective.objects.count() == before


@pytest.mark.django_db
def test_an_objective_without_a_kpi_is_a_400_naming_kpi(owned, client_for):
    w = owned
    response = client_for(w["smm"]).post(url(w["strategy"], "objectives/"), {
        "owner": w["service_owner"].pk, "title": "Vanity", "kind": "proactive", "category": "awareness",
        "kpi": "", "target": "100", "direction": "higher", "starts_on": "2027-01-01", "deadline": "2027-02-01"})
    assert response.status_code == 400 and field_error(response.content.decode(), "kpi")
    assert not Objective.objects.filter(title="Vanity").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("amount, currency, field", [
    ("50", "USD", "currency"),
    ("-5", "EUR", "amount"),
    ("lots", "EUR", "amount"),
])
def test_bad_spend_is_a_400_naming_the_field_and_nothing_is_saved(owned, client_for, amount, currency, field):
    w = owned
    before = Spend.objects.count()
    response = client_for(w["marketer"]).post(url(w["strategy"], f"campaigns/{w['campaign'].pk}/spend/"), {
        "amount": amount, "currency": currency, "spent_on": "2026-11-01"})
    assert response.status_code == 400
    assert field_error(response.content.decode(), field)
    assert Spend.objects.count() == before


@pytest.mark.django_db
def test_a_campaign_ending_before_it_starts_is_a_400(owned, client_for):
    w = owned
    response = client_for(w["marketer"]).post(url(w["strategy"], "campaigns/"), {
        "owner": w["marketing_owner"].pk, "name": "Backwards", "starts_on": "2027-05-01", "ends_on": "2027-04-01",
        "budget": "100", "currency": "EUR"})
    assert response.status_code == 400 and field_error(response.content.decode(), "ends_on")
    assert not Campaign.objects.filter(name="Backwards").exists()


@pytest.mark.django_db
def test_activation_with_one_department_is_refused_next_to_the_status_field(world, client_for):  # noqa: F811
    w = world
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    response = client_for(w["smm"]).post(url(w["strategy"], "status/"), {"status": "active", "reason": "launch"})
    html = response.content.decode()
    assert response.status_code == 400
    assert field_error(html, "status") and "at least two departments" in html and "Marketing" in html
    assert 'id="id_status_status_error"' in html
    assert Strategy.objects.get(pk=w["strategy"].pk).status == "draft"


@pytest.mark.django_db
def test_the_status_changes_with_two_departments(owned, client_for):
    w = owned
    response = client_for(w["smm"]).post(url(w["strategy"], "status/"), {"status": "active", "reason": "launch"})
    assert response.status_code == 302
    assert Strategy.objects.get(pk=w["strategy"].pk).status == "active"
    assert "Active" in client_for(w["smm"]).get(url(w["strategy"])).content.decode()


@pytest.mark.django_db
def test_a_representative_who_owns_nothing_gets_403_posting_an_objective(owned, client_for, make_member):
    w = owned
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="fiona")
    response = client_for(outsider).post(url(w["strategy"], "objectives/"), {
        "owner": w["service_owner"].pk, **{k: str(v) for k, v in objective_fields(title="Sneaky").items()}})
    assert response.status_code == 403
    assert not Objective.objects.filter(title="Sneaky").exists()
    for path in ("status/", "owners/", "decisions/", "review/"):
        assert client_for(outsider).post(url(w["strategy"], path), {}).status_code == 403


@pytest.mark.django_db
def test_an_owner_adds_parts_only_for_themselves(owned, client_for):
    w = owned
    response = client_for(w["marketer"]).post(url(w["strategy"], "objectives/"), {
        "owner": w["service_owner"].pk, **{k: str(v) for k, v in objective_fields(title="Not mine").items()}})
    assert response.status_code == 400 and field_error(response.content.decode(), "owner")
    assert not Objective.objects.filter(title="Not mine").exists()
    html = client_for(w["marketer"]).get(url(w["strategy"])).content.decode()
    assert 'data-testid="add-objective"' in html and 'data-testid="status-form"' not in html


@pytest.mark.django_db
def test_csrf_is_enforced_through_the_real_url(owned):
    w = owned
    client = sign_in(Client(enforce_csrf_checks=True), w["smm"])
    response = client.post(url(w["strategy"], "decisions/"), {
        "title": "Mastodon first", "decided_on": "2026-11-01", "decided_by": w["smm"].pk, "rationale": "fits"})
    assert response.status_code == 403
    assert not Decision.objects.exists()
    page = client.get(url(w["strategy"]))
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    response = client.post(url(w["strategy"], "decisions/"), {
        "title": "Mastodon first", "decided_on": "2026-11-01", "decided_by": w["smm"].pk, "rationale": "fits",
        "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Decision.objects.get().title == "Mastodon first"


@pytest.mark.django_db
def test_owners_are_added_and_ended_with_a_reason(owned, client_for):
    w = owned
    client = client_for(w["smm"])
    response = client.post(url(w["strategy"], "owners/"), {"user": w["seller"].pk, "department": w["marketing"].pk})
    assert response.status_code == 400 and field_error(response.content.decode(), "department")
    response = client.post(url(w["strategy"], "owners/"), {"user": w["seller"].pk, "department": w["sales"].pk,
                                                           "responsibility": "Sales campaigns"})
    assert response.status_code == 302
    owner = StrategyOwner.objects.get(user=w["seller"])
    response = client.post(url(w["strategy"], f"owners/{owner.pk}/end/"), {"reason": ""})
    assert response.status_code == 400 and field_error(response.content.decode(), "reason")
    assert client.post(url(w["strategy"], f"owners/{owner.pk}/end/"), {"reason": "left"}).status_code == 302
    assert StrategyOwner.objects.get(pk=owner.pk).ended_at is not None


@pytest.mark.django_db
def test_edit_strategy_and_objective_need_a_reason_and_keep_versions(owned, client_for):
    w = owned
    client = client_for(w["smm"])
    edit = url(w["strategy"], "edit/")
    assert client.get(edit).status_code == 200
    data = {"title": "Acme 2027", "summary": "Answer and be heard", "accountable": w["smm"].pk,
            "review_cadence_months": 3}
    response = client.post(edit, {**data, "reason": ""})
    assert response.status_code == 400 and field_error(response.content.decode(), "reason")
    assert client.post(edit, {**data, "reason": "sharper"}).status_code == 302
    assert Strategy.objects.get(pk=w["strategy"].pk).title == "Acme 2027"

    objective_edit = url(w["strategy"], f"objectives/{w['objective'].pk}/edit/")
    assert client_for(w["marketer"]).get(objective_edit).status_code == 403
    fields = {k: str(v) for k, v in objective_fields(target=Decimal("45")).items()}
    assert client_for(w["agent"]).post(objective_edit, {**fields, "reason": "tighter",
                                                        "accounts": [w["account"].pk]}).status_code == 302
    assert Objective.objects.get(pk=w["objective"].pk).target == Decimal("45")
    html = client.get(url(w["strategy"], "history/")).content.decode()
    assert "sharper" in html and "tighter" in html


@pytest.mark.django_db
def test_new_strategy_for_a_brand_one_does_not_manage_is_refused(world, client_for, make_member):  # noqa: F811
    w = world
    other_smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=w["marketing"], username="otto")
    response = client_for(other_smm).post("/strategy/new/", {"brand": w["brand"].pk, "title": "Mine now",
                                                              "review_cadence_months": 3})
    assert response.status_code == 400 and field_error(response.content.decode(), "brand")
    assert not Strategy.objects.filter(title="Mine now").exists()
    assert client_for(w["marketer"]).get("/strategy/new/").status_code == 403
    response = client_for(w["smm"]).post("/strategy/new/", {"brand": w["brand"].pk, "title": "Acme 2028",
                                                            "review_cadence_months": 3})
    assert response.status_code == 302
    assert Strategy.objects.get(title="Acme 2028").accountable == w["smm"]
    assert 'data-testid="new-strategy"' in client_for(w["smm"]).get("/strategy/").content.decode()
    assert 'data-testid="new-strategy"' not in client_for(w["marketer"]).get("/strategy/").content.decode()


@pytest.mark.django_db
def test_segments_decisions_and_reviews_through_the_page(owned, client_for):
    w = owned
    client = client_for(w["smm"])
    assert client.post(url(w["strategy"], "segments/"), {
        "owner": w["marketing_owner"].pk, "name": "Night owls", "kind": "behavioural",
        "accounts": [w["account"].pk]}).status_code == 302
    response = client.post(url(w["strategy"], "review/"), {"changes": " "})
    assert response.status_code == 400 and field_error(response.content.decode(), "changes")
    assert client.post(url(w["strategy"], "review/"), {"changes": "Tightened the first-response target"}
                       ).status_code == 302
    html = client.get(url(w["strategy"])).content.decode()
    assert "Night owls" in html and "Tightened the first-response target" in html


# --- versions ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_compare_shows_two_versions_side_by_side(owned, client_for):
    w = owned
    first = timezone.now()
    services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="sharper", title="Acme 2027")
    later = timezone.now()
    client = client_for(w["smm"])
    history = client.get(url(w["strategy"], "history/")).content.decode()
    assert 'name="from"' in history and 'name="to"' in history
    response = client.get(url(w["strategy"], "compare/"), {"from": first.isoformat(), "to": later.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Acme on social 2027" in html and "Acme 2027" in html and ">title<" in html


@pytest.mark.django_db
@pytest.mark.parametrize("params, field", [
    ({"from": "yesterday", "to": "2026-11-30T10:00:00+00:00"}, "from"),
    ({"from": "2026-11-30T10:00:00+00:00", "to": "2026-11-29T10:00:00+00:00"}, "to"),
    ({"from": "2026-11-30T10:00:00+00:00"}, "to"),
])
def test_a_reversed_or_malformed_range_is_a_400_naming_the_field(owned, client_for, params, field):
    response = client_for(owned["smm"]).get(url(owned["strategy"], "compare/"), params)
    assert response.status_code == 400
    assert field_error(response.content.decode(), field)


@pytest.mark.django_db
def test_compare_hides_budgets_from_those_who_do_not_see_money(owned, client_for, make_member):
    w = owned
    first = timezone.now()
    campaign = Campaign.objects.get(pk=w["campaign"].pk)
    campaign.budget = Decimal("2000")
    campaign._change_reason = "more"
    campaign.save()
    later = timezone.now()
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="fiona")
    params = {"from": first.isoformat(), "to": later.isoformat()}
    assert "2000" not in client_for(outsider).get(url(w["strategy"], "compare/"), params).content.decode()
    assert "2000" in client_for(w["marketer"]).get(url(w["strategy"], "compare/"), params).content.decode()

