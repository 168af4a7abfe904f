"""A small loan scenario for the dashboard tests, built through the real services:
registry, reference store, ingestion (which folds sketches), labels, compaction, analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from monitoring.models import MLModel, ModelVersion, ReferenceRow
from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.profile import profile_build
from monitoring.services.registry import model_create, version_create

REGIONS = ["north", "south", "east", "west"]


def schema(n_numeric: int) -> list[dict]:
    numeric = [
        {"name": f"x{i}", "type": "numeric", "nullable": True, "min": -10, "max": 10, "display_name": f"Feature {i}", "unit": "sd"}
        for i in range(n_numeric)
    ]
    return numeric + [{"name": "region", "type": "categorical", "categories": REGIONS}]


def _draw(rng: np.random.Generator, n: int, n_numeric: int, *, shift: float = 0.0, nulls: float = 0.0):
    x = rng.normal(0, 1, (n, n_numeric))
    if shift:
        x[:, 0] += shift
    region = rng.choice(REGIONS, n)
    logit = x[:, 0] - 0.5 * x[:, 1 % n_numeric]
    score = 1 / (1 + np.exp(-logit))
    label = (rng.random(n) < 1 / (1 + np.exp(-(x[:, 0] - 0.5 * x[:, 1 % n_numeric])))).astype(int)
    rows = []
    for i in range(n):
        feats = {f"x{j}": float(x[i, j]) for j in range(n_numeric)}
        if nulls and i % round(1 / nulls) == 0:  # spread evenly: no window is all nulls
            feats[f"x{n_numeric - 1}"] = None
        feats["region"] = str(region[i])
        rows.append((feats, float(score[i]), int(label[i])))
    return rows


def loan_scenario(
    *,
    slug: str = "loan",
    n_numeric: int = 3,
    days: int = 6,
    per_hour: int = 8,
    shift_day: int = 3,
    null_day: int = 1,
    labelled_days: int = 4,
    end: datetime | None = None,
    seed: int = 7,
) -> ModelVersion:
    """A binary model whose x0 shifts from ``shift_day``, with nulls in the last numeric
    feature on ``null_day`` and labels for the first ``labelled_days`` days; analysed."""
    rng = np.random.default_rng(seed)
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=days)).replace(hour=0)
    model = model_create(slug=slug, name=slug.replace("-", " ").title(), task="binary_classification")
    version = version_create(
        model=model, version="v1", features=schema(n_numeric), stage="production", threshold=0.5,
    )
    ModelVersion.objects.filter(pk=version.pk).update(
        metadata={"hyperparameters": {"num_leaves": 31}, "code_commit": "abc1234", "training_period": "2026-01/2026-03"}
    )
    reference = _draw(rng, 1500, n_numeric)
    ReferenceRow.objects.bulk_create(
        ReferenceRow(version=version, features=f, score=s, label=y) for f, s, y in reference
    )
    profile_build(version=version)
    rows, labels = [], []
    hour = start
    k = 0
    while hour < end:
        day = (hour - start).days
        drawn = _draw(rng, per_hour, n_numeric, shift=2.0 if day >= shift_day else 0.0, nulls=0.5 if day == null_day else 0.0)
        for feats, score, label in drawn:
            k += 1
            rid = f"{slug}-{k}"
            rows.append({
                "request_id": rid, "version": "v1", "timestamp": (hour + timedelta(minutes=k % 60)).isoformat(),
                "features": feats, "score": score, "entity_id": f"cust-{k % 50}", "segment": "web" if k % 3 else "branch",
            })
            if day < labelled_days:
                labels.append({"request_id": rid, "label": label})
        hour += timedelta(hours=1)
    result = predictions_ingest(model=model, rows=rows)
    assert not result["rejected"], result["rejected"][:3]
    labels_ingest(model=model, rows=labels)
    sketches_compact_all(version_id=version.pk)
    version_analyse(version_id=version.pk)
    return version


def model_count() -> int:
    return MLModel.objects.count()
