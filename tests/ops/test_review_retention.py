"""A review batch whose decisions' raw rows retention dropped: its items still show (with what they
kept, saying the raw row is gone), still count in the estimates, and can still be reviewed."""

from datetime import timedelta

import numpy as np
import pytest

from core.roles import SUPPORT_AGENTS
from monitoring.models import Label, Prediction
from monitoring.services.ingest import predictions_ingest
from monitoring.services.partitions import partition_ensure, partition_name
from monitoring.services.retention import retention_apply
from ops.models import ReviewItem
from tests.monitoring.engine_factories import T0, make_version, store_reference

from .conftest import make_user

pytestmark = pytest.mark.django_db
N = 200
AFTER_RETENTION = T0 + timedelta(days=120)


@pytest.fixture
def batch_id(client_with):
    partition_ensure(start=T0)
    version = make_version(slug="loan")
    store_reference(version)
    scores = np.random.default_rng(3).random(N)
    rows = [{"request_id": f"r-{i}", "version": "v1", "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
             "features": {"income": float(400 + i), "age": 30.0, "region": "north", "has_car": False},
             "score": float(scores[i])} for i in range(N)]  # fmt: skip
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == N
    created = client_with("ops").post("/api/v1/models/loan/reviews/", {
        "size": 40, "start": T0.isoformat(), "end": (T0 + timedelta(days=1)).isoformat(), "double_share": 0},
        format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    return created.json()["id"]


def review(client, batch_id: int, items) -> dict:
    # Reviewers say "score >= 0.5" is right except for every 3rd item.
    results = [{"request_id": i.request_id, "label": int(i.score >= 0.5) ^ (k % 3 == 0), "reviewer": "ann"}
               for k, i in enumerate(items)]  # fmt: skip
    answer = client.post(f"/api/v1/reviews/{batch_id}/results/", results, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_items_of_dropped_rows_still_show_count_and_can_be_reviewed(batch_id, client_with, client):
    ops = client_with("ops")
    items = list(ReviewItem.objects.filter(batch_id=batch_id).order_by("position"))
    kept = {p.pk: p for p in Prediction.objects.filter(pk__in=[i.prediction_id for i in items])}
    assert all((i.version_id, i.predicted_at, i.score, i.features) == (
        kept[i.prediction_id].version_id, kept[i.prediction_id].timestamp, kept[i.prediction_id].score,
        kept[i.prediction_id].features) for i in items)
    assert review(ops, batch_id, items[:20])["recorded"] == 20
    before = ops.get(f"/api/v1/reviews/{batch_id}/").json()
    assert before["reviewed"] == 20 and before["estimate"]["n"] == 20

    steps = retention_apply(now=AFTER_RETENTION)
    assert ("drop", partition_name(T0), True) in [(s.kind, s.table, s.done) for s in steps]
    assert not Prediction.objects.exists()

    # The estimates read the items' own copy: the same answer without the raw rows.
    assert ops.get(f"/api/v1/reviews/{batch_id}/").json() == before
    # The reviewer's page shows a remaining item with what it kept, and says the raw row is gone.
    client.force_login(make_user("agent", SUPPORT_AGENTS))
    page = client.get(f"/ops/reviews/{batch_id}/review/")
    assert page.status_code == 200
    text = page.content.decode()
    shown = next(i for i in items[20:] if f"Decision {i.request_id}<" in text)
    assert 'data-testid="raw-removed"' in text and "Raw row removed by retention (raw rows before" in text
    assert f"score {shown.score:.4g}" in text and f"{shown.predicted_at:%Y-%m-%d %H:%M:%S}" in text
    assert "none was stored before retention removed its raw row" in text
    assert client.get(f"/ops/reviews/{batch_id}/").status_code == 200
    # Reviews of the rest are recorded and become labels, by request id.
    answer = review(ops, batch_id, items[20:])
    assert (answer["recorded"], answer["labels_written"]) == (20, 20)
    assert Label.objects.filter(model__slug="loan", human_corrected=True).count() == 40
    after = ops.get(f"/api/v1/reviews/{batch_id}/").json()
    assert after["reviewed"] == 40 and after["estimate"]["n"] == 40
    truth = np.array([k % 3 != 0 for k in range(20)] * 2, dtype=float)  # the model right: two chunks of 20
    weights = np.array([1 / i.inclusion_probability for i in items])
    assert after["estimate"]["accuracy"] == pytest.approx(np.sum(weights * truth) / np.sum(weights))
