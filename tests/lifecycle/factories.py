"""Builders for the lifecycle tests: a binary model, versions, labelled predictions."""

from datetime import UTC, datetime, timedelta

import numpy as np

from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.registry import model_create, version_create

SCHEMA = [{"name": "x", "type": "numeric", "nullable": False, "min": -100, "max": 100}]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def binary_model(slug: str = "loan-default"):
    return model_create(slug=slug, name="Loan default", task="binary_classification")


def version(model, name: str, stage: str = "candidate", threshold: float = 0.5, metadata: dict | None = None):
    return version_create(model=model, version=name, features=SCHEMA, stage=stage, threshold=threshold,
                          metadata=metadata or {})


def scored(n: int, *, seed: int, skill: float = 1.0):
    """(labels, scores) of a binary problem; higher ``skill`` separates the classes better."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    latent = y * skill + rng.normal(0, 1, n)
    return y, 1 / (1 + np.exp(-(latent - 0.5 * skill)))


def log(model, version_name: str, scores, *, prefix: str = "r", start: datetime = T0, logged_decision=None) -> None:
    rows = [{"request_id": f"{prefix}-{i}", "version": version_name,
             "timestamp": (start + timedelta(seconds=30 * i)).isoformat(), "features": {"x": float(s)},
             "score": float(s), **({"prediction": int(logged_decision[i])} if logged_decision is not None else {})}
            for i, s in enumerate(scores)]
    for k in range(0, len(rows), 20000):
        result = predictions_ingest(model=model, rows=rows[k:k + 20000])
        assert not result["rejected"], result["rejected"][:3]


def label(model, labels, *, prefix: str = "r", start: datetime = T0, only=None) -> None:
    idx = range(len(labels)) if only is None else only
    rows = [{"request_id": f"{prefix}-{i}", "label": int(labels[i]),
             "timestamp": (start + timedelta(days=1, seconds=i)).isoformat()} for i in idx]
    for k in range(0, len(rows), 20000):
        labels_ingest(model=model, rows=rows[k:k + 20000])
