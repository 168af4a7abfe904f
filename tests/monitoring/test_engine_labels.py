"""Label sketches of every task against scikit-learn, and the codec (no database)."""

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from monitoring.engine.perf_report import performance_report
from monitoring.engine.sketch_build import FeatureLayout, Layout, labels_sketch
from monitoring.engine.sketch_codec import Sketch, merge_moments, moments_array, moments_of, pack, unpack
from monitoring.engine.stats.moments import Moments


def _layout(task, classes=()):
    return Layout(task=task, threshold=0.5, features=[FeatureLayout(name="x", kind="numeric")], classes=list(classes))


def _with_rows(sketch: Sketch, n: int) -> Sketch:
    sketch.arrays["rows"] = np.array([n])
    return sketch


def test_binary_labels_split_and_replaced_equal_sklearn():
    rng = np.random.default_rng(1)
    s = rng.random(3000)
    y = (rng.random(3000) < s).astype(int)
    layout = _layout("binary_classification")
    parts = [labels_sketch(layout, s[i::3], [None] * len(s[i::3]), y[i::3].tolist()) for i in range(50, 53)]
    # A wrong label stored first, then replaced: old contribution out, new one in.
    wrong = labels_sketch(layout, s[:50], [None] * 50, (1 - y[:50]).tolist())
    fix = labels_sketch(layout, s[:50], [None] * 50, y[:50].tolist()).merge(wrong.negate())
    total = Sketch()
    for part in [*parts, wrong, fix]:
        total.merge(Sketch.from_bytes(part.to_bytes()))
    report = performance_report(layout=layout, sketch=_with_rows(total, 3000))
    m = report["metrics"]
    assert report["labelled"] == 3000
    assert m["accuracy"] == accuracy_score(y, s >= 0.5)
    assert abs(m["roc_auc"] - roc_auc_score(y, s)) < 0.002
    assert m["log_loss"] == pytest.approx(log_loss(y, s), rel=1e-9)


def test_multiclass_and_regression_equal_sklearn():
    rng = np.random.default_rng(2)
    classes = ["a", "b", "c"]
    y = rng.choice(classes, 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.choice(classes, 500))
    layout = _layout("multiclass_classification", classes)
    sk = labels_sketch(layout, np.zeros(500), pred.tolist(), y.tolist())
    m = performance_report(layout=layout, sketch=_with_rows(sk, 500))["metrics"]
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    yt = rng.normal(10, 3, 400)
    yhat = yt + rng.normal(0, 1, 400)
    layout = _layout("regression")
    halves = labels_sketch(layout, yhat[:200], [None] * 200, yt[:200].tolist()).merge(
        labels_sketch(layout, yhat[200:], [None] * 200, yt[200:].tolist())
    )
    m = performance_report(layout=layout, sketch=_with_rows(halves, 400))["metrics"]
    assert m["mae"] == pytest.approx(mean_absolute_error(yt, yhat))
    assert m["rmse"] == pytest.approx(root_mean_squared_error(yt, yhat))
    assert m["r2"] == pytest.approx(r2_score(yt, yhat), abs=1e-9)


def test_codec_round_trip_and_moment_merge():
    arrays = {"a": np.arange(5, dtype=np.int64), "b": np.eye(3), "m:x": moments_array(Moments.from_values(np.arange(4.0)))}
    back, meta = unpack(pack(arrays, {"k": 1}))
    assert meta == {"k": 1}
    for key, value in arrays.items():
        np.testing.assert_array_equal(back[key], value)
    x = np.random.default_rng(3).normal(size=101)
    merged = Sketch(arrays={"m:x": moments_array(Moments.from_values(x[:40]))}).merge(
        Sketch(arrays={"m:x": moments_array(Moments.from_values(x[40:]))})
    )
    m = moments_of(merged.arrays["m:x"])
    assert m.count == 101 and m.mean == pytest.approx(x.mean()) and m.std == pytest.approx(x.std(ddof=1))
    # The fast merge agrees with the Moments dataclass to the bit, empty sides included.
    parts = [x[:40], x[40:41], x[41:], np.array([])]
    for left in parts:
        for right in parts:
            a, b = moments_array(Moments.from_values(left)), moments_array(Moments.from_values(right))
            np.testing.assert_array_equal(merge_moments(a, b), moments_array(moments_of(a).merge(moments_of(b))))
    with pytest.raises(ValueError):
        Sketch(arrays={"a": np.zeros(2)}).merge(Sketch(arrays={"a": np.zeros(3)}))
