"""Fixes from the review of the strategy register."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from strategy import services, versions
from strategy.models import Strategy
from tests.strategy.test_register_services import objective_fields, world  # noqa: F401


def _activate(w):
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="active", reason="launch")


@pytest.mark.django_db
def test_a_postponed_review_is_reminded_again_when_it_falls_due(world):  # noqa: F811
    w = world
    _activate(w)
    today = timezone.localdate()
    Strategy.objects.filter(pk=w["strategy"].pk).update(next_review_on=today - timedelta(days=1))
    assert services.send_review_reminders(today=today)["overdue"] == 1
    services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="after the launch",
                             next_review_on=today + timedelta(days=30))
    assert services.send_review_reminders(today=today + timedelta(days=35))["overdue"] == 1


@pytest.mark.django_db
def test_a_retired_strategy_changes_no_more(world):  # noqa: F811
    w = world
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    services.strategy_set_status(actor=w["smm"], strategy=w["strategy"], status="retired", reason="dropped")
    for attempt in (
        lambda: services.objective_create(actor=w["agent"], strategy=Strategy.objects.get(pk=w["strategy"].pk),
                                          owner=owner, **objective_fields()),
        lambda: services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["seller"], department=w["sales"]),
        lambda: services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="x", title="Back"),
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert "retired" in str(refused.value)


@pytest.mark.django_db
def test_a_review_moves_the_date_as_a_version(world):  # noqa: F811
    w = world
    _activate(w)
    services.review_complete(actor=w["smm"], strategy=w["strategy"], changes="Kept the targets.")
    latest = w["strategy"].history.first()
    assert latest.history_change_reason == "reviewed"
    assert latest.next_review_on == Strategy.objects.get(pk=w["strategy"].pk).next_review_on


@pytest.mark.django_db
def test_a_channel_plan_takes_only_its_own_strategy_s_segments(world):  # noqa: F811
    w = world
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    other = services.strategy_create(actor=w["smm"], brand=w["brand"], title="Other plan")
    other_owner = services.owner_add(actor=w["smm"], strategy=other, user=w["marketer"], department=w["marketing"])
    foreign = services.segment_create(actor=w["smm"], strategy=other, owner=other_owner, name="Students",
                                      kind="life_stage")
    with pytest.raises(ValidationError) as refused:
        services.channel_plan_create(actor=w["smm"], strategy=w["strategy"], owner=owner, account=w["account"],
                                     rationale="Where they are", segments=[foreign])
    assert "segments" in refused.value.message_dict


@pytest.mark.django_db
def test_the_history_costs_the_same_queries_however_many_owners(world, make_member):  # noqa: F811
    from accounts.roles import Role

    w = world

    def count():
        with CaptureQueriesContext(connection) as captured:
            versions.timeline(Strategy.objects.get(pk=w["strategy"].pk))
        return len(captured)

    services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["marketer"], department=w["marketing"])
    few = count()
    for n in range(5):
        person = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=w["sales"], username=f"seller{n}")
        services.owner_add(actor=w["smm"], strategy=w["strategy"], user=person, department=w["sales"])
    assert count() == few


@pytest.mark.django_db
@pytest.mark.parametrize("query, field", [
    ({"from": "2026-02-30T10:00:00Z", "to": "2026-03-01T10:00:00Z"}, "from"),
    ({"from": "2026-03-01T10:00:00+02:00", "to": "2026-03-02T10:00:00"}, None),
    ({"from": "2026-03-02T10:00:00Z", "to": "2026-03-01T10:00:00Z"}, "to"),
])
def test_compare_through_the_api_never_answers_500(world, api_for, query, field):  # noqa: F811
    response = api_for(world["smm"]).get(f"/api/strategies/{world['strategy'].pk}/compare/", query)
    if field is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 400 and field in response.json()
