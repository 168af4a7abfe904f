"""Performance metrics from counts and sums, checked against scikit-learn on raw rows."""

import numpy as np
import pytest
from sklearn import metrics

from monitoring.engine.sketch_build import Layout, labels_sketch
from monitoring.engine.sketch_codec import Sketch
from monitoring.engine.stats.binning import bin_counts, probability_edges, threshold_bin
from monitoring.engine.stats.estimation import calibration_needed
from monitoring.engine.stats.performance import (
    binary_metrics,
    binary_sums,
    brier_from_sums,
    log_loss_from_sums,
    multiclass_metrics,
    regression_metrics,
    regression_sums,
    roc_auc_from_counts,
)

RNG = np.random.default_rng(3)


def _scores(n: int, sharpness: float, bias: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    x = RNG.normal(size=n)
    p = 1 / (1 + np.exp(-(sharpness * x + bias)))
    return p, (RNG.random(n) < p).astype(int)


def test_binary_metrics_exact_vs_sklearn_from_folded_confusion():
    scores, labels = _scores(5_000, 2.0)
    # Fold in three chunks and add the sketches, as the hourly sketches do (the production
    # path: labels_sketch folds the confusion counts at the model's threshold).
    layout = Layout(task="binary_classification", threshold=0.4, features=[])
    total = Sketch()
    for chunk in np.array_split(np.arange(5_000), 3):
        total.merge(labels_sketch(layout, scores[chunk], [None] * len(chunk), labels[chunk].tolist()))
    tp, fp, tn, fn = (int(v) for v in total.arrays["lab:conf"])
    m = binary_metrics(tp=tp, fp=fp, tn=tn, fn=fn)
    pred = (scores >= 0.4).astype(int)
    assert m["accuracy"] == metrics.accuracy_score(labels, pred)
    assert m["precision"] == metrics.precision_score(labels, pred)
    assert m["recall"] == metrics.recall_score(labels, pred)
    assert m["f1"] == pytest.approx(metrics.f1_score(labels, pred), abs=1e-15)
    tn, fp, fn, tp = metrics.confusion_matrix(labels, pred).ravel()
    assert m["fpr"] == fp / (fp + tn) and m["fnr"] == fn / (fn + tp)


def test_binary_metrics_undefined_are_none():
    m = binary_metrics(tp=0, fp=0, tn=5, fn=0)
    assert m["precision"] is None and m["recall"] is None and m["f1"] is None
    assert m["accuracy"] == 1.0 and m["fpr"] == 0.0
    assert binary_metrics(tp=0, fp=0, tn=0, fn=0)["accuracy"] is None


@pytest.mark.parametrize(("sharpness", "bias"), [(0.5, 0.0), (2.0, -1.0), (6.0, -3.0), (25.0, -5.0)])
def test_binned_roc_auc_within_0002_of_sklearn(sharpness, bias):
    scores, labels = _scores(20_000, sharpness, bias)
    edges = probability_edges(include=(0.5,))
    pos = bin_counts(scores[labels == 1], edges)
    neg = bin_counts(scores[labels == 0], edges)
    assert abs(roc_auc_from_counts(pos, neg) - metrics.roc_auc_score(labels, scores)) < 0.002


def test_roc_auc_ties_count_half_and_single_class_is_none():
    # One bin holding everything: every pair tied.
    assert roc_auc_from_counts(np.array([5]), np.array([7])) == 0.5
    scores = np.array([0.1, 0.1, 0.4, 0.4, 0.8])
    labels = np.array([0, 1, 0, 1, 1])
    edges = np.array([0.2, 0.6])
    auc = roc_auc_from_counts(bin_counts(scores[labels == 1], edges), bin_counts(scores[labels == 0], edges))
    assert auc == pytest.approx(metrics.roc_auc_score(labels, scores))
    assert roc_auc_from_counts(np.array([3, 0]), np.array([0, 0])) is None


def test_log_loss_and_brier_from_merged_sums():
    scores, labels = _scores(3_000, 3.0)
    scores[0], labels[0] = 0.0, 1  # clipped like sklearn
    parts = [binary_sums(scores[c], labels[c]) for c in np.array_split(np.arange(3_000), 4)]
    sums = {k: sum(p[k] for p in parts) for k in parts[0]}
    assert sums["n"] == 3_000 and sums["n_pos"] == labels.sum()
    assert log_loss_from_sums(sums["sum_log_loss"], sums["n"]) == pytest.approx(
        metrics.log_loss(labels, scores), rel=1e-10
    )
    assert brier_from_sums(sums["sum_brier"], sums["n"]) == pytest.approx(
        metrics.brier_score_loss(labels, scores), rel=1e-10
    )
    assert log_loss_from_sums(0.0, 0) is None


def test_multiclass_metrics_exact_vs_sklearn():
    y = RNG.integers(0, 4, 2_000)
    pred = np.where(RNG.random(2_000) < 0.7, y, RNG.integers(0, 4, 2_000))
    pred[pred == 3] = 2  # class 3 never predicted: its F1 is 0
    confusion = np.zeros((6, 6), dtype=np.int64)  # classes 4 and 5 never appear at all
    np.add.at(confusion, (y, pred), 1)
    m = multiclass_metrics(confusion)
    assert m["accuracy"] == metrics.accuracy_score(y, pred)
    assert m["macro_f1"] == pytest.approx(metrics.f1_score(y, pred, average="macro"), abs=1e-14)
    assert m["weighted_f1"] == pytest.approx(metrics.f1_score(y, pred, average="weighted"), abs=1e-14)
    assert multiclass_metrics(np.zeros((2, 2)))["accuracy"] is None


def test_regression_metrics_exact_vs_sklearn_from_merged_sums():
    y = RNG.normal(50, 10, 4_000)
    f = y + RNG.normal(0, 3, 4_000)
    parts = [regression_sums(y[c], f[c]) for c in np.array_split(np.arange(4_000), 3)]
    sums = {k: sum(p[k] for p in parts) for k in parts[0]}
    m = regression_metrics(sums)
    assert m["mae"] == pytest.approx(metrics.mean_absolute_error(y, f), rel=1e-12)
    assert m["rmse"] == pytest.approx(metrics.root_mean_squared_error(y, f), rel=1e-12)
    assert m["mape"] == pytest.approx(metrics.mean_absolute_percentage_error(y, f), rel=1e-12)
    assert m["r2"] == pytest.approx(metrics.r2_score(y, f), rel=1e-10)


def test_regression_edge_cases():
    zero = regression_sums(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
    assert zero["n_ape"] == 1 and regression_metrics(zero)["mape"] == 0.5
    const = regression_metrics(regression_sums(np.array([3.0, 3.0]), np.array([3.0, 3.0])))
    assert const["r2"] == 1.0
    assert regression_metrics(regression_sums(np.array([]), np.array([])))["mae"] is None


def test_calibration_from_the_folded_probability_bins():
    # What the sketches fold for calibration: positives and negatives per probability bin
    # (labels_sketch), added across chunks; the isotonic fit is skipped when calibrated.
    layout = Layout(task="binary_classification", threshold=0.5, features=[])
    edges = layout.prob_edges
    scores, labels = _scores(20_000, 1.5)
    total = Sketch()
    for chunk in np.array_split(np.arange(20_000), 4):
        total.merge(labels_sketch(layout, scores[chunk], [None] * len(chunk), labels[chunk].tolist()))
    pos, neg = total.arrays["lab:pos"], total.arrays["lab:neg"]
    assert np.array_equal(pos, bin_counts(scores[labels == 1], edges))
    assert np.array_equal(neg, bin_counts(scores[labels == 0], edges))
    assert int(pos.sum() + neg.sum()) == 20_000
    # Scores are true probabilities, so each decile's observed rate is near its mean score.
    decile = np.minimum((scores * 10).astype(int), 9)
    bin_of = np.searchsorted(edges, scores, side="right")
    for d in range(10):
        bins = np.unique(bin_of[decile == d])
        observed = pos[bins].sum() / (pos[bins].sum() + neg[bins].sum())
        assert abs(observed - scores[decile == d].mean()) < 0.05
    assert not calibration_needed(scores, labels)
    assert threshold_bin(edges, 0.5) > 0
