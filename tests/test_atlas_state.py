"""The comparison the crash suite relies on: it tolerates summation-order noise and nothing more."""
from __future__ import annotations

from skinmap.reliability.atlas_state import differing_views

REFERENCE = {"kpi_a_v1": [("ham10000", 0.1 + 0.2, 12)], "kpi_b_v1": [("x", None, 1), ("y", 2.5, 2)]}


def test_last_bit_differences_of_averages_are_equal():
    got = {"kpi_a_v1": [("ham10000", 0.3, 12)], "kpi_b_v1": [("x", None, 1), ("y", 2.5, 2)]}
    assert 0.1 + 0.2 != 0.3
    assert differing_views(got, REFERENCE) == []


def test_a_changed_value_a_lost_row_and_a_missing_view_differ():
    changed = {"kpi_a_v1": [("ham10000", 0.3000001, 12)], "kpi_b_v1": REFERENCE["kpi_b_v1"]}
    lost = {"kpi_a_v1": REFERENCE["kpi_a_v1"], "kpi_b_v1": [("x", None, 1)]}
    count = {"kpi_a_v1": [("ham10000", 0.3, 13)], "kpi_b_v1": REFERENCE["kpi_b_v1"]}
    assert differing_views(changed, REFERENCE) == ["kpi_a_v1"]
    assert differing_views(lost, REFERENCE) == ["kpi_b_v1"]
    assert differing_views(count, REFERENCE) == ["kpi_a_v1"]
    assert differing_views({"kpi_a_v1": REFERENCE["kpi_a_v1"]}, REFERENCE) == ["kpi_b_v1"]
