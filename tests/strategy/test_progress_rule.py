"""The objective status rule, with known answers: the straight line from the
baseline at the start to the target at the deadline; at risk within 10%."""

from decimal import Decimal as D

import pytest

from strategy.kpis import expected_value, progress


@pytest.mark.parametrize("current, elapsed, expected_status", [
    # higher is better: baseline 100 -> target 200; halfway the line says 150 (10% of it: 15)
    (D("150"), 0.5, "on_track"),
    (D("160"), 0.5, "on_track"),
    (D("136"), 0.5, "at_risk"),   # 14 short: within 15
    (D("135"), 0.5, "at_risk"),   # exactly 10% short
    (D("134"), 0.5, "off_track"),
    (D("200"), 0.1, "on_track"),  # the target reached early
    (None, 0.5, None),
])
def test_higher_is_better(current, elapsed, expected_status):
    assert progress(baseline=D("100"), target=D("200"), current=current, direction="higher",
                    elapsed=elapsed) == expected_status


@pytest.mark.parametrize("current, expected_status", [
    # lower is better: first response 240 -> 60 minutes; three quarters in, the line says 105 (10%: 10.5)
    (D("100"), "on_track"),
    (D("115"), "at_risk"),
    (D("116"), "off_track"),
])
def test_lower_is_better(current, expected_status):
    assert expected_value(baseline=D("240"), target=D("60"), elapsed=0.75) == D("105")
    assert progress(baseline=D("240"), target=D("60"), current=current, direction="lower",
                    elapsed=0.75) == expected_status


def test_without_a_baseline_the_target_is_the_line():
    assert progress(baseline=None, target=D("80"), current=D("73"), direction="higher", elapsed=0.2) == "at_risk"
    assert progress(baseline=None, target=D("80"), current=D("71"), direction="higher", elapsed=0.2) == "off_track"
