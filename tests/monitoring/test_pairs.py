"""paired_predictions against a pandas merge of what was ingested."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from monitoring.selectors.pairs import paired_predictions
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.registry import model_create, version_create

from .ingest_factories import SCHEMA, binary_model

pytestmark = pytest.mark.django_db
T0 = datetime(2024, 6, 3, tzinfo=UTC)


def logged(version: str, ids, rng, *, decision: bool = True) -> list[dict]:
    out = []
    for i in ids:
        score = float(rng.random())
        entry = {"request_id": f"q,{i}\"x" if i % 50 == 0 else f"q-{i}", "version": version,
                 "timestamp": (T0 + timedelta(minutes=int(i))).isoformat(), "score": score,
                 "features": {"income": 10.0, "region": "north", "has_car": True}}
        if decision and i % 7:
            entry["prediction"] = [0, 1, True, False][i % 4]
        out.append(entry)
    return out


def frame(rows: list[dict], suffix: str) -> pd.DataFrame:
    df = pd.DataFrame({"request_id": [r["request_id"] for r in rows],
                       f"score_{suffix}": [r["score"] for r in rows],
                       f"prediction_{suffix}": [float(r["prediction"]) if "prediction" in r else np.nan for r in rows],
                       f"t_{suffix}": pd.to_datetime([r["timestamp"] for r in rows], utc=True).tz_localize(None)})
    return df


def test_pairs_equal_a_pandas_merge_of_the_ingested_rows():
    rng = np.random.default_rng(5)
    model, _ = binary_model()
    version_create(model=model, version="shadow-1", features=SCHEMA, stage="shadow")
    a_rows = logged("2024-06-01", range(0, 600), rng)
    b_rows = logged("shadow-1", range(200, 900), rng)
    predictions_ingest(model=model, rows=a_rows[::2])
    predictions_ingest(model=model, rows=b_rows + a_rows[1::2])
    labels = {r["request_id"]: int(rng.random() < 0.5) for r in a_rows[::3]}
    labels_ingest(model=model, rows=[{"request_id": k, "label": v} for k, v in labels.items()])
    versions = {v.version: v for v in model.versions.all()}

    pairs = paired_predictions(model=model, version_a=versions["2024-06-01"], version_b=versions["shadow-1"])
    expected = frame(a_rows, "a").merge(frame(b_rows, "b"), on="request_id").sort_values("t_a", kind="stable")
    assert len(pairs) == len(expected) == 400
    assert pairs.request_ids.tolist() == expected["request_id"].tolist()
    assert np.array_equal(pairs.score_a, expected["score_a"].to_numpy())
    assert np.array_equal(pairs.score_b, expected["score_b"].to_numpy())
    assert np.array_equal(pairs.prediction_a, expected["prediction_a"].to_numpy(), equal_nan=True)
    assert np.array_equal(pairs.prediction_b, expected["prediction_b"].to_numpy(), equal_nan=True)
    label = expected["request_id"].map(labels).astype(float).to_numpy()
    assert np.array_equal(pairs.label, label, equal_nan=True)
    assert pairs.labelled.sum() == np.isfinite(label).sum() > 0
    assert np.array_equal(pairs.timestamps, expected["t_a"].to_numpy().astype("datetime64[us]"))
    assert pairs.classes is None
    # Without request ids (what the statistics read): the same arrays, in the same order.
    bare = paired_predictions(model=model, version_a=versions["2024-06-01"], version_b=versions["shadow-1"],
                              with_request_ids=False)
    assert bare.request_ids is None and len(bare) == 400
    for field in ("timestamps", "score_a", "score_b", "prediction_a", "prediction_b", "label"):
        assert np.array_equal(getattr(bare, field), getattr(pairs, field), equal_nan=field != "timestamps")

    # [start, end) on version a's timestamp; the reverse order swaps the columns.
    start, end = T0 + timedelta(minutes=300), T0 + timedelta(minutes=400)
    window = paired_predictions(model=model, version_a=versions["shadow-1"], version_b=versions["2024-06-01"],
                                start=start, end=end)
    naive = pd.Timestamp(start).tz_localize(None), pd.Timestamp(end).tz_localize(None)
    inside = expected[(expected["t_b"] >= naive[0]) & (expected["t_b"] < naive[1])]
    assert window.request_ids.tolist() == inside["request_id"].tolist()
    assert np.array_equal(window.score_a, inside["score_b"].to_numpy())


def test_multiclass_decisions_and_labels_come_as_class_positions():
    model = model_create(slug="tickets", name="Tickets", task="multiclass_classification")
    a = version_create(model=model, version="a", features=SCHEMA, stage="production", classes=["low", "mid"])
    b = version_create(model=model, version="b", features=SCHEMA, stage="shadow", classes=["low", "mid", "high"])
    base = {"timestamp": T0.isoformat(), "score": 0.5, "features": {"income": 1.0, "region": "north", "has_car": False}}
    predictions_ingest(model=model, rows=[
        {**base, "request_id": "t1", "version": "a", "prediction": "mid"},
        {**base, "request_id": "t1", "version": "b", "prediction": "high"},
        {**base, "request_id": "t2", "version": "a", "prediction": "low"},
        {**base, "request_id": "t2", "version": "b"},
    ])
    labels_ingest(model=model, rows=[{"request_id": "t1", "label": "high"}])
    pairs = paired_predictions(model=model, version_a=a, version_b=b)
    assert pairs.classes == ["low", "mid", "high"]
    order = np.argsort(pairs.request_ids)
    assert pairs.prediction_a[order].tolist() == [1.0, 0.0]
    assert np.array_equal(pairs.prediction_b[order], [2.0, np.nan], equal_nan=True)
    assert np.array_equal(pairs.label[order], [2.0, np.nan], equal_nan=True)


def test_no_shared_requests_give_empty_arrays_and_foreign_versions_are_refused():
    model, production = binary_model()
    shadow = version_create(model=model, version="shadow-1", features=SCHEMA, stage="shadow")
    pairs = paired_predictions(model=model, version_a=production, version_b=shadow)
    assert len(pairs) == 0 and pairs.score_a.dtype == np.float64 and pairs.timestamps.dtype == "datetime64[us]"
    other, other_version = binary_model(slug="other")
    with pytest.raises(ValueError):
        paired_predictions(model=model, version_a=production, version_b=other_version)


def test_codes_of_decisions_and_labels():
    from monitoring.engine.coding import numeric_codes

    assert numeric_codes([1, 0.25, True, False, None, "yes", {"a": 1}]) == [1.0, 0.25, 1.0, 0.0, None, None, None]
    assert numeric_codes([3, 2]) == [3.0, 2.0]
    assert numeric_codes(["b", 2, "z", None], classes=["a", "b", 2]) == [1.0, 2.0, None, None]
