"""The strategy API: reads for every member, money only for those allowed,
writes through the services with 400s that name the field and save nothing."""

from decimal import Decimal

import pytest

from strategy import services
from strategy.models import Brand, Campaign, Objective, Spend, Strategy
from tests.strategy.test_register_services import objective_fields, world  # noqa: F401


@pytest.fixture
def owned(world):  # noqa: F811
    w = world
    w["marketing_owner"] = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"],
                                              department=w["marketing"])
    w["service_owner"] = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"],
                                            department=w["service"])
    w["campaign"] = services.campaign_create(actor=w["marketer"], strategy=w["strategy"], owner=w["marketing_owner"],
                                             name="Spring", starts_on="2027-03-01", ends_on="2027-04-30",
                                             budget=Decimal("1000"), currency="EUR")
    return w


@pytest.mark.django_db
def test_a_representative_reads_the_register_without_budgets_an_owner_with_them(owned, api_for, make_member):
    from accounts.roles import Role

    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="fiona")  # finance, owns nothing
    body = api_for(outsider).get("/api/strategies/").json()
    assert [s["title"] for s in body["results"]] == ["Acme on social 2027"]
    campaign = api_for(outsider).get("/api/campaigns/").json()["results"][0]
    assert campaign["name"] == "Spring" and "budget" not in campaign and "spent" not in campaign
    owner_view = api_for(owned["marketer"]).get("/api/campaigns/").json()["results"][0]
    assert owner_view["budget"] == "1000.00"
    assert api_for(outsider).get("/api/spend/").json()["results"] == []


@pytest.mark.django_db
def test_activation_with_one_department_is_a_400_naming_status(world, api_for):  # noqa: F811
    w = world
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    response = api_for(w["smm"]).post(f"/api/strategies/{w['strategy'].pk}/status/",
                                      {"status": "active", "reason": "launch"}, format="json")
    assert response.status_code == 400
    assert "two departments" in str(response.json()["status"])
    assert Strategy.objects.get(pk=w["strategy"].pk).status == "draft"


@pytest.mark.django_db
@pytest.mark.parametrize("change, field", [
    ({"kpi": "", "target": "60"}, "kpi"),
    ({"deadline": "2026-09-01"}, "deadline"),
    ({"target": None}, "target"),
])
def test_bad_objectives_through_the_api_are_400s_naming_the_field(owned, api_for, change, field):
    w = owned
    payload = {**{k: str(v) for k, v in objective_fields().items()}, "strategy": w["strategy"].pk,
               "owner": w["service_owner"].pk, **change}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = api_for(w["agent"]).post("/api/objectives/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Objective.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("amount, currency, field", [("-10", "EUR", "amount"), ("ten", "EUR", "amount"),
                                                     ("10", "USD", "currency")])
def test_bad_spend_is_a_400_naming_the_field(owned, api_for, amount, currency, field):
    w = owned
    response = api_for(w["marketer"]).post("/api/spend/", {"campaign": w["campaign"].pk, "amount": amount,
                                                           "currency": currency, "spent_on": "2027-03-02"},
                                           format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Spend.objects.exists()
    assert Campaign.objects.get(pk=w["campaign"].pk).alerted_90 is False


@pytest.mark.django_db
def test_a_strategy_for_a_brand_you_do_not_manage_is_a_400_naming_brand(world, api_for, make_member):  # noqa: F811
    from accounts.roles import Role

    other_smm = make_member(Role.SOCIAL_MEDIA_MANAGER, username="otto")
    other_brand = Brand.objects.create(name="Other", slug="other")
    response = api_for(other_smm).post("/api/strategies/", {"brand": other_brand.pk, "title": "Mine now"},
                                       format="json")
    assert response.status_code == 400
    assert "brand" in response.json()
    assert not Strategy.objects.filter(title="Mine now").exists()


@pytest.mark.django_db
def test_versions_and_compare_through_the_api(owned, api_for):
    w = owned
    strategy_id = w["strategy"].pk
    api = api_for(w["smm"])
    before = api.get(f"/api/strategies/{strategy_id}/versions/").json()[0]["at"]
    response = api.patch(f"/api/strategies/{strategy_id}/", {"summary": "Same-day answers.", "reason": "focus"},
                         format="json")
    assert response.status_code == 200, response.content
    versions = api.get(f"/api/strategies/{strategy_id}/versions/").json()
    assert versions[0]["why"] == "focus"
    diff = api.get(f"/api/strategies/{strategy_id}/compare/", {"from": before, "to": versions[0]["at"]}).json()
    assert {"section": "Strategy", "item": "Acme on social 2027", "field": "summary", "before": "",
            "after": "Same-day answers."} in diff
    bad = api.get(f"/api/strategies/{strategy_id}/compare/", {"from": "yesterday", "to": versions[0]["at"]})
    assert bad.status_code == 400 and "from" in bad.json()


@pytest.mark.django_db
def test_compare_leaves_budgets_out_for_people_who_may_not_see_money(owned, api_for, make_member):
    from accounts.roles import Role

    w = owned
    strategy_id = w["strategy"].pk
    start = api_for(w["smm"]).get(f"/api/strategies/{strategy_id}/versions/").json()[-1]["at"]
    services.campaign_create(actor=w["marketer"], strategy=w["strategy"], owner=w["marketing_owner"], name="Summer",
                             starts_on="2027-06-01", ends_on="2027-07-31", budget=Decimal("5000"), currency="EUR")
    end = api_for(w["smm"]).get(f"/api/strategies/{strategy_id}/versions/").json()[0]["at"]
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="fiona")
    moments = {"from": start, "to": end}
    seen = api_for(outsider).get(f"/api/strategies/{strategy_id}/compare/", moments).json()
    owner_seen = api_for(w["marketer"]).get(f"/api/strategies/{strategy_id}/compare/", moments).json()
    assert any(d["item"] == "Summer" for d in seen)
    assert not any(d["field"] == "budget" for d in seen)
    assert any(d["field"] == "budget" and d["after"] == "5000.00" for d in owner_seen)
