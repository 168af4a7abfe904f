"""Small synthetic models, reference data and prediction batches for the engine tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np

from monitoring.engine.batch import HOUR_NS, PredictionBatch
from monitoring.models import MLModel, ModelVersion, ReferenceRow

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, 00:00 UTC

_ids = itertools.count()

FEATURES = [
    {"name": "income", "type": "numeric", "min": 0, "max": 1000},
    {"name": "age", "type": "numeric"},
    {"name": "region", "type": "categorical", "categories": ["north", "south"]},
    {"name": "has_car", "type": "boolean"},
]


def make_version(*, slug: str = "loan", task: str = "binary_classification", threshold: float = 0.5):
    model = MLModel.objects.create(slug=slug, name=slug, task=task)
    return ModelVersion.objects.create(
        model=model, version="v1", stage="production", threshold=threshold, features=FEATURES
    )


def draw(n: int, rng: np.random.Generator, *, shift: float = 0.0) -> dict:
    """Feature columns, scores and labels; ``shift`` moves income's mean by that many sd."""
    income = rng.normal(500 + 100 * shift, 100, n)
    age = rng.normal(40, 10, n)
    region = rng.choice(np.array(["north", "south", "east"], dtype=object), n, p=[0.6, 0.399, 0.001])
    has_car = (rng.random(n) < 0.3).astype(np.float64)
    logit = (income - 500) / 100 + (age - 40) / 20
    score = 1 / (1 + np.exp(-logit))
    label = (rng.random(n) < score).astype(int)
    return {"income": income, "age": age, "region": region, "has_car": has_car, "score": score, "label": label}


def store_reference(version: ModelVersion, n: int = 3000, seed: int = 1) -> dict:
    d = draw(n, np.random.default_rng(seed))
    ReferenceRow.objects.bulk_create(
        ReferenceRow(
            version=version,
            features={
                "income": float(d["income"][i]),
                "age": float(d["age"][i]),
                "region": str(d["region"][i]),
                "has_car": bool(d["has_car"][i]),
            },
            score=float(d["score"][i]),
            label=int(d["label"][i]),
        )
        for i in range(n)
    )
    from monitoring.services.profile import profile_build

    profile_build(version=version)
    return d


def batch(d: dict, *, start: datetime = T0, hours: int = 1, segments=None, received_ns: int | None = None) -> PredictionBatch:
    """A PredictionBatch of the drawn rows spread evenly over ``hours`` hours from ``start``."""
    n = len(d["score"])
    t0 = int(start.timestamp()) * 1_000_000_000
    ts = t0 + (np.arange(n) * (hours * HOUR_NS // max(n, 1))).astype(np.int64)
    ids = np.array([f"r-{next(_ids)}" for _ in range(n)], dtype=object)
    d["request_ids"] = ids
    return PredictionBatch(
        request_ids=ids,
        timestamps=ts,
        scores=np.asarray(d["score"], dtype=np.float64),
        features={k: d[k] for k in ("income", "age", "region", "has_car")},
        segments=np.array(segments if segments is not None else [None] * n, dtype=object),
        predictions=[int(s >= 0.5) for s in d["score"]],
        received_at_ns=received_ns if received_ns is not None else int(ts.max()) + 60_000_000_000,
    )


def store_predictions(version: ModelVersion, b: PredictionBatch, *, fold: bool = True) -> None:
    """Store the batch's rows as ingestion would, then fold them (same transaction as the caller)."""
    from monitoring.models import Prediction
    from monitoring.services.sketching import sketch_fold_predictions

    received = datetime.fromtimestamp(b.received_at_ns / 1e9, tz=UTC)
    Prediction.objects.bulk_create(
        Prediction(
            model_id=version.model_id,
            version=version,
            request_id=b.request_ids[i],
            timestamp=datetime.fromtimestamp(int(b.timestamps[i]) / 1e9, tz=UTC),
            features={
                k: (None if (isinstance(v[i], float) and v[i] != v[i]) else (v[i].item() if hasattr(v[i], "item") else v[i]))
                for k, v in b.features.items()
            },
            score=float(b.scores[i]),
            prediction=b.predictions[i] if b.predictions else None,
            segment=b.segments[i],
            received_at=received,
        )
        for i in range(len(b))
    )
    if fold:
        sketch_fold_predictions(version=version, batch=b)


def store_labels(model: MLModel, pairs: list[tuple[str, object]]) -> None:
    """Upsert labels as ingestion would and fold them (old value passed for replacements)."""
    from django.utils import timezone

    from monitoring.engine.batch import LabelChange
    from monitoring.models import Label
    from monitoring.services.sketching import sketch_fold_labels

    old = dict(Label.objects.filter(model=model, request_id__in=[r for r, _ in pairs]).values_list("request_id", "value"))
    now = timezone.now()
    for request_id, value in pairs:
        Label.objects.update_or_create(
            model=model, request_id=request_id, defaults={"value": value, "timestamp": now, "received_at": now}
        )
    sketch_fold_labels(model=model, changes=[LabelChange(r, v, old.get(r)) for r, v in pairs])


def api_rows(d: dict, *, start: datetime = T0, hours: int = 1, prefix: str = "a", version: str = "v1") -> list[dict]:
    """The drawn rows in the REST API's JSON shape, spread evenly over ``hours`` from ``start``."""
    n = len(d["score"])
    t0 = start.timestamp()
    return [
        {
            "request_id": f"{prefix}-{i}",
            "version": version,
            "timestamp": datetime.fromtimestamp(t0 + i * hours * 3600 / n, tz=UTC).isoformat(),
            "features": {
                "income": None if np.isnan(d["income"][i]) else float(d["income"][i]),
                "age": float(d["age"][i]),
                "region": str(d["region"][i]),
                "has_car": bool(d["has_car"][i]),
            },
            "score": float(d["score"][i]),
        }
        for i in range(n)
    ]


def labelled_shift_version() -> ModelVersion:
    """Two days of labelled predictions from T0 (600 a day over 24 hours) whose income shifts by
    one sd on the second day, with a reference, compacted; not analysed."""
    from monitoring.services.compaction import sketches_compact_all

    version = make_version()
    store_reference(version)
    rng = np.random.default_rng(21)
    for day, shift in ((0, 0.0), (1, 1.0)):
        d = draw(600, rng, shift=shift)
        b = batch(d, start=T0 + timedelta(days=day), hours=24)
        store_predictions(version, b)
        store_labels(version.model, list(zip(b.request_ids, [int(v) for v in d["label"]], strict=True)))
    sketches_compact_all()
    return version
