"""Which load traders trade on CQG, and the joined ledger the invariants judge."""

from __future__ import annotations

import pytest

from harness.load.venues import joined_ledger, per_venue, routed_indices


def test_routed_traders_are_spread_over_the_population() -> None:
    assert routed_indices(10, 0) == frozenset()
    assert routed_indices(10, 2) == {0, 5}
    assert routed_indices(10, 3) == {0, 3, 6}
    assert routed_indices(4, 4) == {0, 1, 2, 3}
    assert len(routed_indices(5000, 50)) == 50 and max(routed_indices(5000, 50)) == 4900


@pytest.mark.parametrize("routed", [-1, 11])
def test_more_routed_traders_than_the_population_is_refused(routed: int) -> None:
    with pytest.raises(ValueError, match="must be between 0 and 10"):
        routed_indices(10, routed)


def test_the_joined_ledger_marks_each_entry_with_its_venue_and_keeps_duplicates_apart() -> None:
    rithmic = {"orders": [{"client_tag": "a"}], "fills": [{"client_tag": "a", "fill_id": "1"}]}
    cqg = {
        "orders": [{"client_tag": "b"}, {"client_tag": "c"}],
        "fills": [
            {"client_tag": "b", "fill_id": "1"},
            {"client_tag": "b", "fill_id": "2", "duplicate_of": "1"},
        ],
    }
    joined = joined_ledger({"rithmic": rithmic, "cqg": cqg})
    assert joined["venues"] == ["cqg", "rithmic"]
    assert sorted((o["client_tag"], o["venue"]) for o in joined["orders"]) == [
        ("a", "rithmic"),
        ("b", "cqg"),
        ("c", "cqg"),
    ]
    assert len(joined["fills"]) == 3  # fill ids repeat across venues: each entry is kept as it was
    assert per_venue(joined, ["rithmic", "cqg"]) == {
        "rithmic": {"orders": 1, "fills": 1},
        "cqg": {"orders": 2, "fills": 1},
    }
    assert per_venue(joined_ledger({}), ["cqg"]) == {"cqg": {"orders": 0, "fills": 0}}
