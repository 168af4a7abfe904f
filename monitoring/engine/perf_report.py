"""Realised performance (where labels exist) and the label-free estimate, from a sketch."""

from __future__ import annotations

import numpy as np

from monitoring.engine.sketch_build import BINARY_SUMS, REGRESSION_SUMS, Layout, sums_dict
from monitoring.engine.sketch_codec import Sketch
from monitoring.engine.stats.binning import threshold_bin
from monitoring.engine.stats.estimation import Calibrator, cbpe
from monitoring.engine.stats.performance import (
    binary_metrics,
    brier_from_sums,
    log_loss_from_sums,
    multiclass_metrics,
    regression_metrics,
    roc_auc_from_counts,
)


def _labelled_metrics(layout: Layout, arrays: dict, prefix: str = "lab:") -> tuple[dict, dict]:
    """(metrics, extra) from the label entries of a sketch (``prefix`` "reflab:" for the reference)."""
    n = int(arrays[f"{prefix}n"].sum()) if f"{prefix}n" in arrays else 0
    if n <= 0:
        return {}, {}
    if layout.task == "binary_classification":
        tp, fp, tn, fn = (int(v) for v in arrays[f"{prefix}conf"])
        sums = sums_dict(arrays[f"{prefix}sums"], BINARY_SUMS)
        metrics = binary_metrics(tp=tp, fp=fp, tn=tn, fn=fn)
        metrics["roc_auc"] = roc_auc_from_counts(arrays[f"{prefix}pos"], arrays[f"{prefix}neg"])
        metrics["log_loss"] = log_loss_from_sums(sums["sum_log_loss"], int(sums["n"]))
        metrics["brier"] = brier_from_sums(sums["sum_brier"], int(sums["n"]))
        return metrics, {"confusion_matrix": [[tn, fp], [fn, tp]], "classes": [0, 1]}
    if layout.task == "multiclass_classification":
        conf = arrays[f"{prefix}conf"]
        return multiclass_metrics(conf), {"confusion_matrix": conf.astype(int).tolist(), "classes": layout.classes}
    return regression_metrics(sums_dict(arrays[f"{prefix}sums"], REGRESSION_SUMS)), {}


def estimate_binary(layout: Layout, sketch: Sketch, calibrator: dict | None) -> dict | None:
    """CBPE: expected metrics from the counts per score bin, with calibrated bin probabilities."""
    counts = sketch.arrays.get("p:all")
    if counts is None or counts.sum() <= 0:
        return None
    edges = layout.prob_edges
    bounds = np.concatenate([[0.0], edges, [1.0]])
    mid = (bounds[:-1] + bounds[1:]) / 2
    mean = np.divide(sketch.arrays["p:sum"], counts, out=mid.copy(), where=counts > 0)
    probs = Calibrator.from_dict(calibrator).apply(mean) if calibrator else mean
    out = cbpe(bin_counts=counts, bin_probs=probs, threshold_bin=threshold_bin(edges, layout.threshold))
    out["calibrated"] = bool(calibrator)
    return out


def performance_report(*, layout: Layout, sketch: Sketch, calibrator: dict | None = None) -> dict:
    """``{"rows", "labelled", "label_coverage", "metrics", "confusion_matrix", "estimated"}``.

    ``estimated`` (binary only) is the label-free estimate over all rows of the window;
    when labels cover the window both can be compared.
    """
    rows = int(sketch.count("rows"))
    labelled = int(sketch.count("lab:n"))
    metrics, extra = _labelled_metrics(layout, sketch.arrays)
    report = {
        "rows": rows,
        "labelled": labelled,
        "label_coverage": min(labelled / rows, 1.0) if rows else None,
        "metrics": metrics,
        **extra,
    }
    if layout.task == "binary_classification":
        report["estimated"] = estimate_binary(layout, sketch, calibrator)
    return report


def reference_performance(*, layout: Layout, profile_arrays: dict) -> dict:
    """Metrics of the reference data's own scores and labels (for the concept-drift check)."""
    metrics, _ = _labelled_metrics(layout, profile_arrays, prefix="reflab:")
    return metrics


def reference_counts(*, profile_arrays: dict) -> dict:
    """Labelled rows of the reference, and (binary) its positives and negatives."""
    n = int(profile_arrays["reflab:n"].sum()) if "reflab:n" in profile_arrays else 0
    out = {"n": n}
    conf = profile_arrays.get("reflab:conf")
    if conf is not None and conf.ndim == 1 and conf.size == 4:
        tp, fp, tn, fn = (int(v) for v in conf)
        out.update(n_pos=tp + fn, n_neg=tn + fp)
    return out
