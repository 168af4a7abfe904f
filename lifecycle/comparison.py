"""The comparison of two versions from arrays: paired (shadow) statistics and the verdict.

Pure numpy/scipy on top of lifecycle.stats and monitoring's engine statistics (no Django):
``compare_paired`` takes the aligned arrays of the requests both versions predicted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitoring.engine.stats.estimation import Calibrator, cbpe
from monitoring.engine.stats.performance import (
    binary_metrics,
    multiclass_metrics,
    regression_metrics,
    regression_sums,
)

from .stats import intervals, paired, sequential

CLASSIFICATION = {"binary_classification", "multiclass_classification", "ranking"}
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Side:
    """One version's view of the paired requests."""

    score: np.ndarray
    decision: np.ndarray  # float64 class codes (classification) or the value (regression)
    calibrator: dict | None = None


@dataclass(frozen=True)
class Rules:
    min_pairs: int = 500
    min_labels: int = 200
    margin: float = 0.01
    alpha: float = 0.05


def decisions(*, task: str, score: np.ndarray, logged: np.ndarray, threshold: float | None) -> np.ndarray:
    """The decision per request: as logged, else (binary) ``score >= threshold`` (0.5 by default)."""
    if task == "regression":
        return np.asarray(score, dtype=np.float64)
    logged = np.asarray(logged, dtype=np.float64)
    if task == "binary_classification":
        derived = (np.asarray(score) >= (0.5 if threshold is None else threshold)).astype(np.float64)
        return np.where(np.isnan(logged), derived, logged)
    return logged


def _binary(y: np.ndarray, score: np.ndarray, decision: np.ndarray) -> dict:
    pred = decision >= 0.5
    yb = y >= 0.5
    tp = int(np.count_nonzero(pred & yb))
    fp = int(np.count_nonzero(pred & ~yb))
    fn = int(np.count_nonzero(~pred & yb))
    metrics = binary_metrics(tp=tp, fp=fp, tn=int(y.size - tp - fp - fn), fn=fn)
    # One logarithm per request: of the probability given to the class that happened.
    p = np.clip(np.where(yb, score, 1.0 - score), _EPS, 1 - _EPS)
    metrics["log_loss"] = float(-np.mean(np.log(p))) if y.size else None
    metrics["brier"] = float(np.mean((score - yb) ** 2)) if y.size else None
    return metrics


def version_metrics(*, task: str, y: np.ndarray, side: Side, mask: np.ndarray) -> dict:
    """Metrics of one version on the masked (labelled) requests, as the performance endpoint names them."""
    if not mask.all():  # all labelled (the usual backfilled comparison): no copies
        y, score, decision = y[mask], side.score[mask], side.decision[mask]
    else:
        score, decision = side.score, side.decision
    if y.size == 0:
        return {}
    if task == "regression":
        return regression_metrics(regression_sums(y, score))
    if task == "binary_classification":
        return _binary(y, score, decision)
    known = ~np.isnan(decision)
    k = int(max(np.nanmax(y), np.nanmax(decision[known]) if known.any() else 0)) + 1
    codes = y[known].astype(np.int64) * k + decision[known].astype(np.int64)
    metrics = multiclass_metrics(np.bincount(codes, minlength=k * k).reshape(k, k))
    metrics["accuracy"] = float(np.mean(decision == y))  # a request with no decision counts as wrong
    return metrics


def estimate(*, side: Side, mask: np.ndarray, threshold: float | None) -> dict | None:
    """Label-free (CBPE) estimate of a binary version on the masked requests, through monitoring's
    ``cbpe`` with one bin per request (calibrated as the version's reference profile says)."""
    scores = np.sort(side.score[mask])
    if scores.size == 0:
        return None
    probs = Calibrator.from_dict(side.calibrator).apply(scores) if side.calibrator else np.clip(scores, 0, 1)
    cut = int(np.searchsorted(scores, 0.5 if threshold is None else threshold, side="left"))
    out = cbpe(bin_counts=np.ones(scores.size), bin_probs=probs, threshold_bin=cut)
    out["rows"] = int(scores.size)
    return out


def _correct(task: str, y: np.ndarray, decision: np.ndarray) -> np.ndarray:
    """Per request: 1 when right (classification); minus the absolute error (regression)."""
    if task == "regression":
        return -np.abs(decision - y)
    return (decision == y).astype(np.float64)


def compare_paired(
    *, task: str, a: Side, b: Side, label: np.ndarray, rules: Rules,
    thresholds: tuple[float | None, float | None] = (None, None),
) -> dict:
    """The contract's comparison body plus extras (kappa, flips, estimates, the change's sequence)."""
    n = int(a.score.size)
    labelled_mask = ~np.isnan(label)
    labelled = int(labelled_mask.sum())
    body: dict = {"paired": n, "labelled": labelled}
    if task in CLASSIFICATION:
        same = int(np.count_nonzero(a.decision == b.decision))
        body["agreement"] = same / n if n else None
        body["agreement_ci"] = list(intervals.wilson_interval(same, n)) if n else None
        body["kappa"] = paired.cohen_kappa(a.decision, b.decision) if n else None
        body["flipped"] = paired.flipped_table(a.decision, b.decision)
    else:
        body["agreement"] = body["agreement_ci"] = body["kappa"] = None
        body["flipped"] = []
    ranks = (paired.dense_ranks(a.score), paired.dense_ranks(b.score)) if n else None
    body["score_correlation"] = paired.spearman(a.score, b.score, ranks=ranks)
    y = label[labelled_mask]
    body["metrics"] = {
        "a": version_metrics(task=task, y=label, side=a, mask=labelled_mask),
        "b": version_metrics(task=task, y=label, side=b, mask=labelled_mask),
    }
    body["mcnemar"] = None
    body["roc_auc_difference"] = None
    if task in CLASSIFICATION and labelled:
        m = paired.mcnemar_exact(a.decision[labelled_mask] == y, b.decision[labelled_mask] == y)
        body["mcnemar"] = {"a_only_right": m.a_only_right, "b_only_right": m.b_only_right, "p_value": m.p_value}
    if task == "binary_classification" and labelled:
        # Dense codes of a subset keep their order: one sort per version serves both statistics.
        d = paired.delong_paired(y >= 0.5, a.score[labelled_mask], b.score[labelled_mask],
                                 ranks=(ranks[0][labelled_mask], ranks[1][labelled_mask]))
        if d is not None:
            body["metrics"]["a"]["roc_auc"], body["metrics"]["b"]["roc_auc"] = d.auc_a, d.auc_b
            t = paired.auc_margin_test(d, margin=rules.margin, alpha=rules.alpha)
            body["roc_auc_difference"] = {
                "value": d.difference, "p_value": d.p_value, "std_error": d.std_error, "ci": list(d.ci),
                "a": d.auc_a, "b": d.auc_b,
                "margin_test": {"margin": t.margin, "lower": t.lower, "upper": t.upper,
                                "p_non_inferior": t.p_non_inferior, "p_worse": t.p_worse, "outcome": t.outcome},
            }
    if task == "binary_classification":
        unlabelled = ~labelled_mask
        body["estimated"] = {
            "rows": int(unlabelled.sum()),
            "a": estimate(side=a, mask=unlabelled, threshold=thresholds[0]),
            "b": estimate(side=b, mask=unlabelled, threshold=thresholds[1]),
        }
    change = _change(task, y, a.decision[labelled_mask], b.decision[labelled_mask], rules)
    body["change"] = change
    body["verdict"], body["reason"] = verdict(n=n, labelled=labelled, change=change, rules=rules, task=task)
    if body["roc_auc_difference"] is not None and n >= rules.min_pairs and labelled >= rules.min_labels:
        body["reason"] += " " + auc_sentence(body["roc_auc_difference"])
    return body


def auc_sentence(auc: dict) -> str:
    """The ROC AUC (binary models' primary metric) next to the accuracy verdict, in words."""
    t = auc["margin_test"]
    said = {"pass": "not worse by the margin", "fail": "significantly worse by more than the margin",
            "inconclusive": "not yet shown either way against the margin"}[t["outcome"]]
    return (f"ROC AUC B - A is {_fmt(auc['value'])} (paired DeLong, two-sided p = {auc['p_value']:.3g}; "
            f"one-sided 95% bounds {_fmt(t['lower'])} to {_fmt(t['upper'])}): {said} of {t['margin']:g}.")


def _change(task: str, y: np.ndarray, dec_a: np.ndarray, dec_b: np.ndarray, rules: Rules) -> dict | None:
    """The change b - a of the per-request metric (accuracy of the decisions, or minus the absolute
    error) with its anytime-valid sequence.

    Per request, not the model's primary metric for binary models (ROC AUC): a mean of bounded
    per-request values has the anytime-valid sequence below, an AUC (a two-sample U-statistic)
    has no standard one. Binary comparisons carry ROC AUC's paired DeLong test next to it
    (``roc_auc_difference``) and the gate checks both.
    """
    if y.size == 0:
        return None
    diff = _correct(task, y, dec_b) - _correct(task, y, dec_a)
    var = float(diff.var(ddof=1)) if diff.size > 1 else 0.0
    seq = sequential.mean_sequence(float(diff.mean()), var, int(diff.size), alpha=rules.alpha)
    metric = "mae" if task == "regression" else "accuracy"
    return {"metric": metric, "value": seq.estimate, "low": seq.low, "high": seq.high,
            "higher_is_better": True, "margin": rules.margin, "anytime_valid": True,
            "note": ("b - a of accuracy, each version's decisions at its own threshold" if metric == "accuracy"
                     else "a's MAE - b's MAE (positive: b better)")}


def _fmt(x: float) -> str:
    return f"{x:+.3f}" if math.isfinite(x) else str(x)


def verdict(*, n: int, labelled: int, change: dict | None, rules: Rules, task: str) -> tuple[str, str]:
    """better | worse | no_difference | inconclusive, and why, in words."""
    if n < rules.min_pairs:
        return "inconclusive", f"Only {n} requests were predicted by both versions; at least {rules.min_pairs} are needed."
    if change is None or labelled < rules.min_labels:
        return "inconclusive", f"Only {labelled} of the {n} paired requests have labels; at least {rules.min_labels} are needed."
    metric, low, high = change["metric"], change["low"], change["high"]
    span = f"the change in {metric} is {_fmt(change['value'])} (anytime-valid 95% interval {_fmt(low)} to {_fmt(high)})"
    if low > 0:
        return "better", f"B is better: {span}, entirely above zero."
    if high < 0:
        return "worse", f"B is worse: {span}, entirely below zero."
    if low > -rules.margin and high < rules.margin:
        return "no_difference", f"No difference that matters: {span}, within the margin of {rules.margin:g}."
    return "inconclusive", f"Not yet decided: {span}, which still includes both zero and a change beyond the margin of {rules.margin:g}."


def compare_unpaired(*, a: dict, b: dict, rules: Rules) -> dict:
    """Canary / A-B traffic (disjoint requests): each arm's labelled accuracy, the anytime-valid
    sequence of b - a and non-inferiority at the margin. ``a``/``b``: {"labelled", "accuracy"}."""
    na, nb = int(a.get("labelled") or 0), int(b.get("labelled") or 0)
    if not na or not nb or a.get("accuracy") is None or b.get("accuracy") is None:
        return {"a": a, "b": b, "difference": None, "non_inferior": None}
    sa, sb = round(a["accuracy"] * na), round(b["accuracy"] * nb)
    seq = sequential.difference_sequence(sa, na, sb, nb, alpha=rules.alpha)
    return {
        "a": a, "b": b, "metric": "accuracy",
        "difference": {"value": seq.estimate, "low": seq.low, "high": seq.high},
        "non_inferior": sequential.non_inferior(seq, rules.margin),
    }
