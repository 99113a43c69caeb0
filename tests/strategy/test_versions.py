"""Any two moments of a strategy compared field by field, with who, when and why."""

from decimal import Decimal

import pytest
from django.utils import timezone

from strategy import services, versions
from tests.strategy.test_register_services import objective_fields, world  # noqa: F401


@pytest.mark.django_db
def test_compare_shows_each_changed_field_and_each_added_part(world):  # noqa: F811
    w = world
    first = timezone.now()
    owner = services.owner_add(actor=w["smm"], strategy=w["strategy"], user=w["agent"], department=w["service"])
    objective = services.objective_create(actor=w["agent"], strategy=w["strategy"], owner=owner,
                                          **objective_fields())
    services.strategy_update(actor=w["smm"], strategy=w["strategy"], reason="customer focus",
                             summary="Answer every complaint the same day.")
    middle = timezone.now()
    services.objective_update(actor=w["agent"], objective=objective, reason="we can do better",
                              target=Decimal("45"))
    last = timezone.now()

    early = versions.compare(w["strategy"], first, middle)
    as_rows = {(d.section, d.field, d.before, d.after) for d in early}
    assert ("Strategy", "summary", "", "Answer every complaint the same day.") in as_rows
    assert any(d.section == "Objectives" and d.field == "(added)" and d.item == "Answer faster" for d in early)
    assert any(d.section == "Owners" and d.field == "(added)" for d in early)

    late = versions.compare(w["strategy"], middle, last)
    assert [(d.section, d.item, d.field, d.before, d.after) for d in late] == [
        ("Objectives", "Answer faster", "target", "60.00", "45.00")]

    changes = versions.timeline(w["strategy"])
    newest = changes[0]
    assert (newest.what, newest.who, newest.why, newest.kind) == (
        "Objectives", str(w["agent"]), "we can do better", "changed")
    assert {c.why for c in changes} >= {"created", "customer focus", "owner added", "objective added"}
