"""The reranking arithmetic alone: no database."""

from datetime import UTC, datetime

import pytest

from ops.rerank import ActiveOverrides, apply_overrides

END = datetime(2026, 12, 1, tzinfo=UTC)


def boost(mode: str, value: float) -> dict:
    return {"id": 1, "mode": mode, "value": value, "starts_at": END, "ends_at": END, "reason": "promo"}


def test_no_overrides_sorts_by_score_keeping_input_order_for_ties():
    kept, removed = apply_overrides([("a", 0.2), ("b", 0.5), ("c", 0.2), ("d", 0.9)], ActiveOverrides())
    assert [c["item_id"] for c in kept] == ["d", "b", "a", "c"]
    assert [c["rank"] for c in kept] == [1, 2, 3, 4]
    assert [c["original_rank"] for c in kept] == [1, 2, 3, 4]
    assert all(c["reason"] is None and c["score"] == c["original_score"] for c in kept)
    assert removed == []


def test_blacklist_removes_and_closes_the_gap():
    active = ActiveOverrides(blacklist={"b": {"id": 3, "scope": "all", "expires_at": None, "reason": "recall"}})
    kept, removed = apply_overrides([("a", 0.2), ("b", 0.5), ("c", 0.1)], active)
    assert [(c["item_id"], c["rank"], c["original_rank"]) for c in kept] == [("a", 1, 2), ("c", 2, 3)]
    assert removed == [{"item_id": "b", "reason": "blacklisted for all models: recall"}]


def test_multiplier_and_additive_boosts():
    active = ActiveOverrides(boosts={"c": boost("multiplier", 10.0), "a": boost("additive", -0.15)})
    kept, _ = apply_overrides([("a", 0.2), ("b", 0.5), ("c", 0.1)], active)
    assert [c["item_id"] for c in kept] == ["c", "b", "a"]
    by_item = {c["item_id"]: c for c in kept}
    assert by_item["c"]["score"] == pytest.approx(1.0, abs=1e-7)
    assert by_item["a"]["score"] == pytest.approx(0.05, abs=1e-7)
    assert by_item["c"]["reason"] == "boost x10 until 2026-12-01T00:00:00Z: promo"
    assert by_item["a"]["reason"] == "boost -0.15 until 2026-12-01T00:00:00Z: promo"
    assert by_item["c"]["original_rank"] == 3


def test_boost_into_a_tie_ranks_after_the_originally_better():
    kept, _ = apply_overrides([("a", 0.5), ("b", 0.25)], ActiveOverrides(boosts={"b": boost("multiplier", 2.0)}))
    assert [c["item_id"] for c in kept] == ["a", "b"]
