"""The comparison of two versions of a model over a range, read from the stored predictions."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.utils import timezone

from lifecycle.comparison import Rules, Side, compare_paired, compare_unpaired, decisions
from lifecycle.stats import ranking
from monitoring.models import MLModel, ModelVersion, Prediction
from monitoring.selectors.pairs import paired_predictions
from monitoring.selectors.profile import profile_load
from ops.selectors import overrides_active

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
    task = model.task
    # Request ids only for what lists requests: the flipped table and the ranking's overrides.
    pairs = paired_predictions(model=model, version_a=a, version_b=b, start=start, end=end,
                               with_request_ids=with_pairs or task == "ranking")
    # The calibrators serve only the label-free estimates of unlabelled pairs: no profile read
    # (two queries of the versions' reference profiles) when every pair is labelled.
    estimates = task == "binary_classification" and bool(np.isnan(pairs.label).any())
    side_a = Side(pairs.score_a, decisions(task=task, score=pairs.score_a, logged=pairs.prediction_a, threshold=a.threshold),
                  _calibrator(a) if estimates else None)
    side_b = Side(pairs.score_b, decisions(task=task, score=pairs.score_b, logged=pairs.prediction_b, threshold=b.threshold),
                  _calibrator(b) if estimates else None)
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
            "overrides": _override_moves(model, a, groups, pairs),
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


MOVED_ITEMS = 20  # items listed per override kind, the most moved first


def _override_moves(model: MLModel, a: ModelVersion, groups: np.ndarray, pairs) -> dict:
    """Where the items under an active blacklist or boost rank under each version (0: top of its
    day's list): per kind, the mean shift (b - a; positive: b ranks them lower) and the items."""
    active = overrides_active(model_id=model.pk, at=timezone.now())
    kinds = {"blacklist": set(active.blacklist), "boost": set(active.boosts)}
    watched = kinds["blacklist"] | kinds["boost"]
    out: dict = {kind: {"items": 0, "rows": 0, "mean_rank_shift": None, "moved": []} for kind in kinds}
    if not watched:
        return out
    # Joined on the item (indexed), not on a list of every paired request id.
    item_of = dict(Prediction.objects.filter(model=model, version=a, item_id__in=watched)
                   .values_list("request_id", "item_id"))
    if not item_of:
        return out
    items = np.array([item_of.get(r) for r in pairs.request_ids], dtype=object)
    _, codes = np.unique(groups, return_inverse=True)
    rank_a = ranking.ranks_within(codes, pairs.score_a)
    rank_b = ranking.ranks_within(codes, pairs.score_b)
    for kind, ids in kinds.items():
        mask = np.array([i in ids for i in items], dtype=bool)
        if not mask.any():
            continue
        moved = []
        for item in sorted(set(items[mask])):
            rows = items == item
            moved.append({"item_id": item, "rows": int(rows.sum()), "mean_rank_a": float(rank_a[rows].mean()),
                          "mean_rank_b": float(rank_b[rows].mean())})
        moved.sort(key=lambda m: -abs(m["mean_rank_b"] - m["mean_rank_a"]))
        out[kind] = {"items": len(moved), "rows": int(mask.sum()),
                     "mean_rank_shift": ranking.mean_rank_shift(groups, pairs.score_a, pairs.score_b, mask),
                     "moved": moved[:MOVED_ITEMS]}
    return out


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
