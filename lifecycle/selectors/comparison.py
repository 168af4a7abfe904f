"""The comparison of two versions of a model over a range, read from the stored predictions."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from lifecycle.comparison import Rules, Side, compare_paired, compare_unpaired, decisions
from lifecycle.stats import ranking
from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.pairs import paired_predictions
from monitoring.selectors.profile import profile_load

from .labelled import labelled_rows
from .policy import policy_get


def rules_for(*, model: MLModel) -> Rules:
    policy = policy_get(model=model)
    return Rules(min_pairs=policy.min_pairs, min_labels=policy.min_labels, margin=policy.margin)


def _calibrator(version: ModelVersion) -> dict | None:
    profile = profile_load(version=version)
    return profile.spec.get("calibrator") if profile is not None else None


def _arm(version: ModelVersion, other: ModelVersion, start, end) -> dict:
    score, logged, label = labelled_rows(version=version, start=start, end=end, unpaired_with=other)
    if not label.size:
        return {"labelled": 0, "accuracy": None}
    decided = decisions(task=version.model.task, score=score, logged=logged, threshold=version.threshold)
    return {"labelled": int(label.size), "accuracy": float(np.mean(decided == label))}


def comparison_get(
    *, model: MLModel, a: ModelVersion, b: ModelVersion, start: datetime | None = None, end: datetime | None = None,
    with_pairs: bool = False,
) -> dict:
    """The contract's comparison body plus extras, and (``with_pairs``) the arrays under it."""
    pairs = paired_predictions(model=model, version_a=a, version_b=b, start=start, end=end)
    task = model.task
    side_a = Side(pairs.score_a, decisions(task=task, score=pairs.score_a, logged=pairs.prediction_a, threshold=a.threshold),
                  _calibrator(a) if task == "binary_classification" else None)
    side_b = Side(pairs.score_b, decisions(task=task, score=pairs.score_b, logged=pairs.prediction_b, threshold=b.threshold),
                  _calibrator(b) if task == "binary_classification" else None)
    rules = rules_for(model=model)
    body = compare_paired(task=task, a=side_a, b=side_b, label=pairs.label, rules=rules,
                          thresholds=(a.threshold, b.threshold))
    body = {"a": a.version, "b": b.version, **body}
    if pairs.classes:
        body["classes"] = pairs.classes
    if task == "ranking" and len(pairs):
        # One list per request time is not known here; the day's candidates of a version form a list.
        groups = pairs.timestamps.astype("datetime64[D]")
        body["ranking"] = {
            "jaccard_at_10": ranking.jaccard_at_k(groups, pairs.score_a, pairs.score_b, k=10),
            "mean_rank_displacement": ranking.mean_rank_displacement(groups, pairs.score_a, pairs.score_b),
        }
    if len(pairs) < rules.min_pairs:
        # Canary / A-B traffic: disjoint requests, compared unpaired with an anytime-valid sequence.
        unpaired = compare_unpaired(a=_arm(a, b, start, end), b=_arm(b, a, start, end), rules=rules)
        body["unpaired"] = unpaired
        if unpaired["difference"] is not None:
            body["verdict"], body["reason"] = _unpaired_verdict(unpaired, rules, len(pairs))
    if with_pairs:
        body["_pairs"] = (pairs, side_a, side_b)
    return body


def _unpaired_verdict(unpaired: dict, rules: Rules, paired: int) -> tuple[str, str]:
    d = unpaired["difference"]
    na, nb = unpaired["a"]["labelled"], unpaired["b"]["labelled"]
    span = (f"on disjoint traffic ({na} and {nb} labelled requests) the change in accuracy is {d['value']:+.3f} "
            f"(anytime-valid 95% interval {d['low']:+.3f} to {d['high']:+.3f})")
    if min(na, nb) < rules.min_labels:
        return "inconclusive", f"Only {paired} paired requests, and {span}: at least {rules.min_labels} labels per arm are needed."
    if d["low"] > 0:
        return "better", f"B is better: {span}, entirely above zero."
    if d["high"] < 0:
        return "worse", f"B is worse: {span}, entirely below zero."
    if d["low"] > -rules.margin and d["high"] < rules.margin:
        return "no_difference", f"No difference that matters: {span}, within the margin of {rules.margin:g}."
    return "inconclusive", f"Not yet decided: {span}, still spanning zero and the margin of {rules.margin:g}."
