"""Ranking metrics: per slate against a direct numpy (and scikit-learn) computation, and
through the real pipeline (ingest with slate_id, late and replaced labels, compaction,
analysis) against the same computation on the stored rows."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from monitoring.engine.stats.ranking import (
    ITEM_BUCKETS,
    POSITIONS,
    K,
    distinct_items,
    gini,
    item_counts,
    ranking_report,
    slate_arrays,
    slate_metrics,
)

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def direct(slates: list[tuple[np.ndarray, np.ndarray]], k: int = K) -> dict:
    """The textbook definitions on the raw rows, one slate at a time."""
    ndcg, rr, prec = [], [], []
    shown, clicks = np.zeros(POSITIONS), np.zeros(POSITIONS)
    for scores, rel in slates:
        ranked = rel[np.argsort(-scores, kind="stable")]
        top = min(k, len(ranked))
        disc = 1 / np.log2(np.arange(2, top + 2))
        ideal = np.sum(np.sort(rel)[::-1][:top] * disc)
        if ideal > 0:
            ndcg.append(np.sum(ranked[:top] * disc) / ideal)
        first = np.flatnonzero(ranked > 0)
        rr.append(1 / (first[0] + 1) if first.size else 0.0)
        prec.append(np.mean(ranked[:top] > 0))
        for pos, r in enumerate(ranked):
            shown[min(pos, POSITIONS - 1)] += 1
            clicks[min(pos, POSITIONS - 1)] += r
    return {"ndcg": np.mean(ndcg), "mrr": np.mean(rr), "precision_at_k": np.mean(prec),
            "ctr": [c / s if s else None for c, s in zip(clicks, shown, strict=True)]}


def _slates(rng, n=300, size=5):
    return [(rng.uniform(size=size), (rng.uniform(size=size) < 0.25).astype(float)) for _ in range(n)]


def test_slate_sums_agree_with_numpy_and_scikit_learn():
    rng = np.random.default_rng(0)
    slates = _slates(rng)
    total: dict = {}
    for scores, rel in slates:
        for key, value in slate_arrays(slate_metrics(scores, rel)).items():
            total[key] = total.get(key, 0) + value
    report = ranking_report(total)
    expected = direct(slates)
    assert report["ndcg"] == pytest.approx(expected["ndcg"], abs=1e-12)
    assert report["mrr"] == pytest.approx(expected["mrr"], abs=1e-12)
    assert report["precision_at_k"] == pytest.approx(expected["precision_at_k"], abs=1e-12)
    assert report["ctr_by_position"][:5] == pytest.approx(expected["ctr"][:5], abs=1e-12)
    with_clicks = [(s, r) for s, r in slates if r.sum() > 0]
    sk = np.mean([ndcg_score(r[None, :], s[None, :], k=K) for s, r in with_clicks])
    assert report["ndcg"] == pytest.approx(sk, abs=1e-9)


def test_a_relabelled_slate_is_recounted_exactly():
    scores, rel = np.array([0.9, 0.5, 0.2]), [None, None, 1.0]
    before = slate_arrays(slate_metrics(scores, rel))
    after = slate_arrays(slate_metrics(scores, [1.0, 0.0, 1.0]))
    total = {k: before[k] - before[k] + after[k] for k in after}
    direct_after = direct([(scores, np.array([1.0, 0.0, 1.0]))])
    assert ranking_report(total)["ndcg"] == pytest.approx(direct_after["ndcg"])
    assert slate_metrics(scores, [None, None, None]) is None


def test_item_exposure_coverage_and_concentration():
    rng = np.random.default_rng(1)
    items = [f"sku-{i:04d}" for i in rng.zipf(1.3, 20000) % 400]
    counts = item_counts(items)
    assert counts.shape == (ITEM_BUCKETS,) and counts.sum() == 20000
    true_distinct = len(set(items))
    assert distinct_items(counts) == pytest.approx(true_distinct, rel=0.03)
    exposures = np.unique(items, return_counts=True)[1]
    assert gini(counts) == pytest.approx(gini(exposures), abs=0.02)
    report = ranking_report({"rk:items": counts}, catalogue_size=400)
    assert report["catalogue_coverage"] == pytest.approx(true_distinct / 400, rel=0.03)
    assert 0.5 < report["top_decile_share"] <= 1.0


@pytest.mark.django_db
def test_ranking_metrics_through_the_pipeline_match_the_stored_rows():
    from monitoring.models import AnalysisResult, ReferenceRow
    from monitoring.services.analysis import version_analyse
    from monitoring.services.compaction import sketches_compact_all
    from monitoring.services.ingest import predictions_ingest
    from monitoring.services.labels import labels_ingest
    from monitoring.services.profile import profile_build
    from monitoring.services.registry import model_create, version_create

    rng = np.random.default_rng(5)
    model = model_create(slug="recs", name="recs", task="ranking")
    version = version_create(model=model, version="v1", stage="production",
                             features=[{"name": "affinity", "type": "numeric"}], metadata={"catalogue_size": 100})
    ReferenceRow.objects.bulk_create(
        ReferenceRow(version=version, features={"affinity": float(a)}, score=float(a), label=int(a > 0.7))
        for a in rng.uniform(size=300)
    )
    profile_build(version=version)
    rows, truth = [], {}
    for s in range(120):
        when = DAY + timedelta(hours=int(s % 20), minutes=3)
        for j in range(5):
            rid = f"r-{s}-{j}"
            score = float(rng.uniform())
            rows.append({"request_id": rid, "version": "v1", "timestamp": when.isoformat(), "score": score,
                         "features": {"affinity": score}, "item_id": f"sku-{int(rng.integers(0, 60))}",
                         "slate_id": f"s-{s}"})
            truth[rid] = int(rng.uniform() < 0.3)
    ids = list(truth)
    # Some labels before their predictions (pending), most after, in two batches; then some replaced.
    early = ids[::7]
    labels_ingest(model=model, rows=[{"request_id": r, "label": truth[r]} for r in early])
    assert predictions_ingest(model=model, rows=rows)["accepted"] == len(rows)
    rest = [r for r in ids if r not in set(early)]
    labels_ingest(model=model, rows=[{"request_id": r, "label": truth[r]} for r in rest[: len(rest) // 2]])
    labels_ingest(model=model, rows=[{"request_id": r, "label": truth[r]} for r in rest[len(rest) // 2 :]])
    flipped = ids[::11]
    for r in flipped:
        truth[r] = 1 - truth[r]
    labels_ingest(model=model, rows=[{"request_id": r, "label": truth[r]} for r in flipped])
    sketches_compact_all(version_id=version.pk)
    version_analyse(version_id=version.pk)

    payload = AnalysisResult.objects.get(version=version, granularity="day", segment="", window_start=DAY).payload
    ranking = payload["performance"]["ranking"]
    slates = [(np.array([r["score"] for r in rows[5 * s : 5 * s + 5]]),
               np.array([truth[r["request_id"]] for r in rows[5 * s : 5 * s + 5]], dtype=float)) for s in range(120)]
    expected = direct(slates)
    assert ranking["slates"] == 120
    assert ranking["ndcg"] == pytest.approx(expected["ndcg"], abs=1e-9)
    assert ranking["mrr"] == pytest.approx(expected["mrr"], abs=1e-9)
    assert ranking["precision_at_k"] == pytest.approx(expected["precision_at_k"], abs=1e-9)
    assert ranking["ctr_by_position"][:5] == pytest.approx(expected["ctr"][:5], abs=1e-9)
    distinct = len({r["item_id"] for r in rows})
    assert ranking["distinct_items"] == pytest.approx(distinct, abs=1.5)
    assert ranking["catalogue_coverage"] == pytest.approx(distinct / 100, abs=0.02)
    assert payload["performance"]["metrics"]["ndcg"] == ranking["ndcg"]

    # A new reference profile re-folds the sketches from raw rows: the slates are counted again, once.
    from monitoring.services.rebuild import sketches_rebuild

    sketches_rebuild(version=version)
    version_analyse(version_id=version.pk, force=True)
    again = AnalysisResult.objects.get(version=version, granularity="day", segment="", window_start=DAY).payload
    rebuilt = again["performance"]["ranking"]
    assert rebuilt["slates"] == 120 and rebuilt["ndcg"] == pytest.approx(expected["ndcg"], abs=1e-9)
    assert rebuilt["mrr"] == pytest.approx(expected["mrr"], abs=1e-9)
    assert rebuilt["distinct_items"] == pytest.approx(distinct, abs=1.5)
