"""Folding, compaction and range reads of sketches, checked against direct computation."""

from datetime import timedelta

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from monitoring.engine.evaluate import drift_report
from monitoring.engine.perf_report import performance_report
from monitoring.engine.sketch_build import rows_sketch
from monitoring.engine.sketch_codec import Sketch, moments_of
from monitoring.models import SketchPartial, TrackedSegment, WindowSketch
from monitoring.selectors.metrics import sketch_range_get
from monitoring.selectors.profile import profile_load
from monitoring.services import compaction

from .engine_factories import T0, batch, draw, make_version, store_labels, store_predictions, store_reference

pytestmark = pytest.mark.django_db

ADDITIVE = ("rows", "b:income", "b:age", "b:region", "b:has_car", "q:income", "q:region", "b:__score__", "p:all")


def _day_window(version, segment=""):
    row = WindowSketch.objects.get(version=version, granularity="day", window_start=T0, segment=segment)
    return Sketch.from_bytes(row.data, row.sample)


def _fold_day(version, rng, n_batches=3, n=400, **kw):
    drawn = []
    for i in range(n_batches):
        d = draw(n, rng, **kw)
        store_predictions(version, batch(d, start=T0 + timedelta(hours=8 * i), hours=8))
        drawn.append(d)
    return {k: np.concatenate([d[k] for d in drawn]) for k in drawn[0]}


def test_hours_merge_to_the_day_computed_directly():
    version = make_version()
    store_reference(version)
    all_rows = _fold_day(version, np.random.default_rng(2))
    pending = SketchPartial.objects.count()
    assert pending > 0
    assert compaction.sketches_compact_all() == pending
    assert not SketchPartial.objects.exists()
    day = _day_window(version)
    hours = [Sketch.from_bytes(w.data, w.sample) for w in WindowSketch.objects.filter(version=version, granularity="hour")]
    assert len(hours) == 24
    merged = Sketch()
    for h in hours:
        merged.merge(h)
    layout = profile_load(version=version).layout
    cols = {k: all_rows[k] for k in ("income", "age", "region", "has_car")}
    direct = rows_sketch(layout, cols, all_rows["score"], rng=np.random.default_rng(0))
    for key in ADDITIVE:
        np.testing.assert_array_equal(day.arrays[key], direct.arrays[key], err_msg=key)
        np.testing.assert_array_equal(merged.arrays[key], direct.arrays[key], err_msg=key)
    for key in ("m:income", "m:__score__"):
        a, b = moments_of(day.arrays[key]), moments_of(direct.arrays[key])
        assert a.count == b.count and a.min == b.min and a.max == b.max
        assert a.mean == pytest.approx(b.mean, rel=1e-12)
        assert a.m2 == pytest.approx(b.m2, rel=1e-9)
    assert day.sample_population == 1200 and len(day.arrays["sample"]) == 500


def test_range_read_is_the_same_before_and_after_compaction():
    version = make_version()
    store_reference(version)
    _fold_day(version, np.random.default_rng(3))
    before = sketch_range_get(version=version, start=T0 + timedelta(hours=5), end=T0 + timedelta(hours=30))
    compaction.sketches_compact_all()
    after = sketch_range_get(version=version, start=T0 + timedelta(hours=5), end=T0 + timedelta(hours=30))
    for key in ADDITIVE:
        np.testing.assert_array_equal(before.sketch.arrays[key], after.sketch.arrays[key])
    assert before.sketch.count("rows") == 1200 * 19 / 24
    whole = sketch_range_get(version=version, start=T0, end=T0 + timedelta(days=1))
    assert whole.parts == 1  # one daily rollup answers a whole day


def test_binned_statistics_match_scipy_and_sklearn():
    version = make_version()
    ref = store_reference(version, n=4000)
    rng = np.random.default_rng(4)
    cur = _fold_day(version, rng, n=1500, shift=0.3)
    store_labels(version.model, list(zip(_ids_of(version), [int(v) for v in cur["label"]], strict=True)))
    compaction.sketches_compact_all()
    profile = profile_load(version=version)
    rng_sketch = sketch_range_get(version=version, start=T0, end=T0 + timedelta(days=1)).sketch
    report = drift_report(profile=profile, sketch=rng_sketch, model_settings={})
    income = next(f for f in report["features"] if f["name"] == "income")
    assert abs(income["ks_statistic"] - ks_2samp(ref["income"], cur["income"]).statistic) < 0.005
    assert income["drifted"] and report["drifted_features"] == ["income"]
    perf = performance_report(layout=profile.layout, sketch=rng_sketch)
    y, s = cur["label"], cur["score"]
    pred = (s >= 0.5).astype(int)
    assert perf["labelled"] == perf["rows"] == 4500
    assert abs(perf["metrics"]["roc_auc"] - roc_auc_score(y, s)) < 0.002
    assert perf["metrics"]["accuracy"] == accuracy_score(y, pred)
    assert perf["metrics"]["precision"] == precision_score(y, pred)
    assert perf["metrics"]["recall"] == recall_score(y, pred)
    assert perf["metrics"]["f1"] == pytest.approx(f1_score(y, pred), abs=1e-12)
    # The scores are calibrated by construction: the label-free estimate is close to the truth.
    assert abs(perf["estimated"]["accuracy"] - perf["metrics"]["accuracy"]) < 0.03


def _ids_of(version):
    from monitoring.models import Prediction

    return list(Prediction.objects.filter(version=version).order_by("id").values_list("request_id", flat=True))


def test_compaction_killed_half_way_loses_and_doubles_nothing(monkeypatch):
    version = make_version()
    store_reference(version)
    _fold_day(version, np.random.default_rng(5))
    partials = SketchPartial.objects.count()
    real = compaction._merge_window
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(compaction, "_merge_window", dying)
    with pytest.raises(RuntimeError):
        compaction.sketches_compact()
    assert SketchPartial.objects.count() == partials  # rolled back: nothing claimed
    assert not WindowSketch.objects.exists()
    monkeypatch.setattr(compaction, "_merge_window", real)
    compaction.sketches_compact_all(limit=2)  # several small transactions merge into existing windows
    assert _day_window(version).count("rows") == 1200
    assert sum(Sketch.from_bytes(w.data).count("rows") for w in WindowSketch.objects.filter(granularity="hour")) == 1200


def test_segments_are_sketched_apart():
    version = make_version()
    store_reference(version)
    d = draw(300, np.random.default_rng(6))
    segs = ["web" if i % 3 else "app" for i in range(300)]
    store_predictions(version, batch(d, hours=2, segments=segs))
    web = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=2), segment="web")
    app = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=2), segment="app")
    total = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=2))
    assert (web.sketch.count("rows"), app.sketch.count("rows"), total.sketch.count("rows")) == (200, 100, 300)
    np.testing.assert_array_equal(
        web.sketch.arrays["b:income"] + app.sketch.arrays["b:income"], total.sketch.arrays["b:income"]
    )


def test_only_the_first_segments_up_to_the_cap_get_sketches_of_their_own(settings):
    settings.VIGIL_MAX_SEGMENTS = 2
    version = make_version()
    store_reference(version)
    d = draw(300, np.random.default_rng(8))
    # One batch with three segments: the two most frequent are tracked, the third is not.
    segs = ["web"] * 150 + ["app"] * 100 + ["kiosk"] * 50
    store_predictions(version, batch(d, segments=segs))
    later = draw(60, np.random.default_rng(9))
    store_predictions(version, batch(later, segments=["partner"] * 30 + ["web"] * 30))
    compaction.sketches_compact_all(version_id=version.pk)
    assert set(TrackedSegment.objects.filter(version=version).values_list("segment", flat=True)) == {"web", "app"}
    assert set(WindowSketch.objects.filter(version=version).exclude(segment="").values_list("segment", flat=True)) == {
        "web", "app"}  # fmt: skip
    assert _day_window(version).count("rows") == 360  # every row counts in the all-rows sketch
    assert _day_window(version, "web").count("rows") == 180
    # A label for an untracked segment's prediction folds into all rows only.
    store_labels(version.model, [(rid, 1) for rid in later["request_ids"]])
    compaction.sketches_compact_all(version_id=version.pk)
    assert _day_window(version).count("lab:n") == 60
    assert _day_window(version, "web").count("lab:n") == 30
    assert not WindowSketch.objects.filter(segment__in=["kiosk", "partner"]).exists()


def test_nulls_out_of_range_unseen_and_late_rows_are_counted():
    version = make_version()
    store_reference(version)
    d = draw(100, np.random.default_rng(7))
    d["income"][:10] = np.nan
    d["income"][10:13] = 5000.0  # above the declared max of 1000
    d["region"][20:25] = "mars"
    b = batch(d, received_ns=int(T0.timestamp() + 3 * 3600) * 10**9)  # 2-3 hours after
    store_predictions(version, b)
    s = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=1)).sketch
    assert list(s.arrays["q:income"]) == [10, 3, 0]
    assert s.arrays["q:region"][2] == 5 and s.unseen["region"] == {"mars": 5}
    assert s.count("late") == 100


def test_rebuild_from_raw_rows_reproduces_the_folded_sketches():
    from django.core.management import call_command

    from monitoring.models import AnalysisResult

    version = make_version()
    store_reference(version)
    _fold_day(version, np.random.default_rng(8))
    compaction.sketches_compact_all()
    before = _day_window(version)
    call_command("compute_metrics", model="loan", rebuild=True, verbosity=0)
    after = _day_window(version)
    for key in (*ADDITIVE, "late"):
        np.testing.assert_array_equal(before.arrays[key], after.arrays[key], err_msg=key)
    assert AnalysisResult.objects.filter(version=version).count() == 25  # 24 hours + the day


def test_long_ranges_read_weekly_rollups():
    version = make_version()
    store_reference(version)
    d = draw(900, np.random.default_rng(9))
    store_predictions(version, batch(d, start=T0 - timedelta(days=2), hours=24 * 12))  # Sat .. Wed next week
    start, end = T0 - timedelta(days=1, hours=3), T0 + timedelta(days=8, hours=5)
    before = sketch_range_get(version=version, start=start, end=end)
    compaction.sketches_compact_all()
    after = sketch_range_get(version=version, start=start, end=end)
    # Edge hours (Sat 21-24h, Tue 0-5h), Sunday, the week from Monday T0, the next Monday.
    assert after.parts == 3 + 1 + 1 + 1 + 5
    for key in ADDITIVE:
        np.testing.assert_array_equal(before.sketch.arrays[key], after.sketch.arrays[key], err_msg=key)
    # Row i is at hour 0.32 * i from Saturday 00:00: rows 66..765 fall in [21 h, 245 h).
    assert after.sketch.count("rows") == 700


def test_an_hour_with_only_nulls_in_a_feature_is_reported_not_compared():
    # The demo's upstream bug: every value of a feature null for a whole hour.
    version = make_version()
    store_reference(version)
    d = draw(200, np.random.default_rng(4))
    d["income"] = np.full(200, np.nan)
    store_predictions(version, batch(d, start=T0, hours=1))
    compaction.sketches_compact_all()
    window = sketch_range_get(version=version, start=T0, end=T0 + timedelta(hours=1))
    profile = profile_load(version=version)
    for light in (True, False):
        report = drift_report(profile=profile, sketch=window.sketch, model_settings={}, light=light)
        income = next(f for f in report["features"] if f["name"] == "income")
        assert income["psi"] is None and income["drifted"] is False and income["comparable"] is False
        age = next(f for f in report["features"] if f["name"] == "age")
        assert age["psi"] is not None
