"""CBPE: label-free estimates track the realised metrics of a well-calibrated model."""

import json

import numpy as np
import pytest
from sklearn import metrics

from monitoring.engine.stats.binning import bin_counts, probability_edges, threshold_bin
from monitoring.engine.stats.estimation import (
    Calibrator,
    calibration_needed,
    cbpe,
    expected_calibration_error,
    fit_calibrator,
)

RNG = np.random.default_rng(5)
EDGES = probability_edges(include=(0.5,))
BOUNDS = np.concatenate([[0.0], EDGES, [1.0]])
CENTRES = (BOUNDS[:-1] + BOUNDS[1:]) / 2
T_BIN = threshold_bin(EDGES, 0.5)


def _model(n: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A calibrated model: score = P(y=1 | x); covariate shift moves x."""
    x = RNG.normal(shift, 1, n)
    p = 1 / (1 + np.exp(-(2 * x - 1)))
    return p, (RNG.random(n) < p).astype(int)


def _realised(scores: np.ndarray, labels: np.ndarray) -> dict:
    pred = (scores >= 0.5).astype(int)
    return {
        "accuracy": metrics.accuracy_score(labels, pred),
        "precision": metrics.precision_score(labels, pred),
        "recall": metrics.recall_score(labels, pred),
        "f1": metrics.f1_score(labels, pred),
        "roc_auc": metrics.roc_auc_score(labels, scores),
    }


def _tolerance(key: str, value: float, scores: np.ndarray, labels: np.ndarray) -> float:
    """0.02, widened to 3 sampling sd of the realised metric when its denominator is small."""
    pred = scores >= 0.5
    rows = {
        "accuracy": labels.size,
        "precision": pred.sum(),
        "recall": labels.sum(),
        "f1": min(pred.sum(), labels.sum()),
    }.get(key)
    if rows is None:
        return 0.02
    return max(0.02, 3 * float(np.sqrt(value * (1 - value) / rows)))


@pytest.fixture(scope="module")
def calibrator() -> Calibrator:
    scores, labels = _model(20_000)
    return fit_calibrator(scores, labels)


def _estimate(calibrator: Calibrator, scores: np.ndarray) -> dict:
    return cbpe(
        bin_counts=bin_counts(scores, EDGES), bin_probs=calibrator.apply(CENTRES), threshold_bin=T_BIN
    )


def test_estimate_within_002_at_5000_rows(calibrator):
    scores, labels = _model(5_000)
    est, real = _estimate(calibrator, scores), _realised(scores, labels)
    for key in ("accuracy", "roc_auc", "recall", "f1"):
        assert est[key] == pytest.approx(real[key], abs=0.02), key
    assert est["precision"] == pytest.approx(real["precision"], abs=0.03)


@pytest.mark.parametrize("shift", [-0.8, 0.8])
def test_estimate_tracks_a_covariate_shift(calibrator, shift):
    base_scores, base_labels = _model(20_000)
    scores, labels = _model(20_000, shift)
    base, real = _realised(base_scores, base_labels), _realised(scores, labels)
    est = _estimate(calibrator, scores)
    # The shift really moves the metrics, and the estimate moves with them.
    assert abs(real["recall"] - base["recall"]) > 0.1
    for key in real:
        assert est[key] == pytest.approx(real[key], abs=_tolerance(key, real[key], scores, labels)), key


def test_cbpe_on_exact_bins():
    est = cbpe(bin_counts=np.array([10, 10]), bin_probs=np.array([0.2, 0.9]), threshold_bin=1)
    # TP 9, FP 1, FN 2, TN 8.
    assert est["accuracy"] == pytest.approx(17 / 20)
    assert est["precision"] == pytest.approx(0.9)
    assert est["recall"] == pytest.approx(9 / 11)
    assert est["f1"] == pytest.approx(18 / 21)
    assert est["roc_auc"] == pytest.approx((9 * 8 + 0.5 * (9 * 1 + 2 * 8)) / (11 * 9))
    assert cbpe(bin_counts=np.zeros(2), bin_probs=np.array([0.2, 0.9]), threshold_bin=1)["accuracy"] is None


def test_calibrator_roundtrip_and_monotone(calibrator):
    again = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    grid = np.linspace(0, 1, 101)
    assert np.array_equal(again.apply(grid), calibrator.apply(grid))
    assert np.all(np.diff(calibrator.apply(grid)) >= 0)
    assert np.all((calibrator.apply(grid) >= 0) & (calibrator.apply(grid) <= 1))


def test_calibration_needed_only_for_miscalibrated_scores():
    scores, labels = _model(5_000)
    assert expected_calibration_error(scores, labels) < 0.03
    assert not calibration_needed(scores, labels)
    assert calibration_needed(scores**3, labels)
    # A recalibrated distorted score is fine again.
    cal = fit_calibrator(scores**3, labels)
    fresh, fresh_labels = _model(5_000)
    assert not calibration_needed(cal.apply(fresh**3), fresh_labels)


def test_calibration_needed_when_cbpe_overstates_the_reference_accuracy():
    # An overconfident model (a boosted tree's scores) on a thousand reference rows: its ECE is
    # within the test's noise allowance, yet CBPE would overstate its accuracy by several points,
    # which every later window then reads as concept drift.
    rng = np.random.default_rng(11)
    x = rng.normal(0, 1, 1_000)
    p = 1 / (1 + np.exp(-(1.2 * x - 0.3)))
    labels = (rng.random(1_000) < p).astype(int)
    sharp = 1 / (1 + np.exp(-1.6 * (1.2 * x - 0.3)))
    pred = sharp >= 0.5
    promised = np.where(pred, sharp, 1 - sharp).mean()
    realised = np.mean(pred == (labels == 1))
    assert promised - realised > 0.03
    assert expected_calibration_error(sharp, labels) < 0.02 + 2 * np.sqrt(2 / np.pi) * np.mean(
        np.sqrt(sharp * (1 - sharp) / 100))  # the ECE test alone lets it through
    assert calibration_needed(sharp, labels)
    # Calibrated on that reference, CBPE's promise matches what the rows realise.
    cal = fit_calibrator(sharp, labels).apply(sharp)
    assert abs(np.where(pred, cal, 1 - cal).mean() - realised) < 0.01
    # The same sample with its true probabilities needs nothing.
    assert not calibration_needed(p, labels)
