"""Ranking comparison: where the items under an active blacklist or boost moved between versions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from lifecycle.selectors.comparison import comparison_get
from monitoring.services.ingest import predictions_ingest
from monitoring.services.registry import model_create
from ops.services import override_blacklist, override_boost

from .factories import T0, version

pytestmark = pytest.mark.django_db

ITEMS = ["i0", "i1", "i2", "i3"]


def test_comparison_says_where_blacklisted_and_boosted_items_moved():
    model = model_create(slug="recs", name="Recs", task="ranking")
    a, b = version(model, "a", stage="production"), version(model, "b", stage="shadow")
    # One day's list of four items, twice over: a ranks i0 first and i3 last; b swaps them.
    score = {"a": [0.9, 0.7, 0.5, 0.3], "b": [0.2, 0.7, 0.5, 0.95]}
    for name in ("a", "b"):
        rows = [{"request_id": f"r-{rep}-{i}", "version": name, "item_id": item, "entity_id": f"u{rep}",
                 "timestamp": (T0 + timedelta(minutes=10 * rep + i)).isoformat(), "features": {"x": 1.0},
                 "score": score[name][i]}
                for rep in range(2) for i, item in enumerate(ITEMS)]
        result = predictions_ingest(model=model, rows=rows)
        assert not result["rejected"], result["rejected"][:3]
    admin = User.objects.create_superuser("root", "r@x.org", "pw")

    moves = comparison_get(model=model, a=a, b=b)["ranking"]["overrides"]
    assert moves["blacklist"]["items"] == 0 and moves["blacklist"]["mean_rank_shift"] is None

    override_blacklist(actor=admin, model=model, item_id="i0", reason="recalled")
    override_boost(actor=admin, model=model, item_id="i3", mode="multiplier", value=2.0, reason="promotion")
    moves = comparison_get(model=model, a=a, b=b)["ranking"]["overrides"]
    # The day's list holds eight rows (two copies of each item): i0 is at ranks 0, 1 under a, 6, 7 under b.
    assert moves["blacklist"] == {"items": 1, "rows": 2, "mean_rank_shift": 6.0,
                                  "moved": [{"item_id": "i0", "rows": 2, "mean_rank_a": 0.5, "mean_rank_b": 6.5}]}
    assert moves["boost"]["mean_rank_shift"] == -6.0
    assert moves["boost"]["moved"] == [{"item_id": "i3", "rows": 2, "mean_rank_a": 6.5, "mean_rank_b": 0.5}]
