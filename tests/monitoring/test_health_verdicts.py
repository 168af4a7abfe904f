"""The health verdict (monitoring.health) on generated windows, without a database: each
finding kind, matured labels, learned seasonal baselines, small windows."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats as sps

from monitoring.engine.stats.baselines import auc_interval, label_delay, robust_band, seasonal_band, wilson
from monitoring.health import KINDS, Context, Finding, WindowStats, conditions, missing_windows, verdict

START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
FEATURES = ("income", "age", "hour_of_day", "is_weekend")


def _confusion(rng, n: int, accuracy: float) -> list:
    correct = rng.binomial(n, accuracy)
    tp = correct // 2
    tn = correct - tp
    fp = (n - correct) // 2
    return [[tn, fp], [n - correct - fp, tp]]


def window(day: int, rng, *, rows=2000, psi=None, nulls=0.01, accuracy=0.80, estimated=0.80, coverage=0.9,
           score_psi=0.01, mv=0.5, label_psi=0.001, granularity="day", start=START) -> WindowStats:
    step = timedelta(days=1) if granularity == "day" else timedelta(hours=1)
    t = start + day * step
    weekend = t.weekday() >= 5
    psi = {**{"income": abs(rng.normal(0.01, 0.004)), "age": abs(rng.normal(0.01, 0.004)),
              # Time-derived: a day holds every hour, unlike the reference's mix; a weekend day is
              # all weekend. High against the reference, and stable for each weekday.
              "hour_of_day": 0.8 + rng.normal(0, 0.03), "is_weekend": (6.0 if weekend else 2.0) + rng.normal(0, 0.05)},
           **(psi or {})}
    labelled = int(rows * coverage)
    confusion = _confusion(rng, labelled, accuracy) if labelled else None
    realised = (confusion[0][0] + confusion[1][1]) / labelled if labelled else None
    return WindowStats(
        start=t, granularity=granularity, rows=rows, psi=psi, drifted={k: v >= 0.1 for k, v in psi.items()},
        score_psi=score_psi, score_drifted=score_psi >= 0.1, multivariate=(mv, 0.3, 0.7),
        quality={f: {"null_rate": nulls if f == "income" else 0.0, "out_of_range_rate": 0.0, "unseen_rate": 0.0}
                 for f in FEATURES},
        labelled=labelled, coverage=coverage if rows else None,
        metrics={"accuracy": realised, "roc_auc": 0.85} if realised is not None else {},
        estimated={"accuracy": estimated}, confusion=confusion, label_psi=label_psi, label_drifted=label_psi >= 0.1,
        reference={"accuracy": 0.80, "roc_auc": 0.85},
    )


def judge(windows, *, now, time_derived=frozenset(), delay=None, mature=None, task="binary_classification"):
    ctx = Context(task=task, now=now, reference={"accuracy": 0.80, "roc_auc": 0.85}, time_derived=time_derived,
                  label_delay=delay, mature_coverage=mature)
    judged = [(w, conditions(w, windows[max(0, i - 28) : i], ctx)) for i, w in enumerate(windows)]
    return judged, verdict(windows=judged[-14:], ctx=ctx)


def after(days: int) -> datetime:
    return START + timedelta(days=days, hours=12)


def test_intervals_from_counts():
    lo, hi = wilson(80, 100)
    assert lo == pytest.approx(0.7112, abs=1e-3) and hi == pytest.approx(0.8666, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0) and wilson(0, 0) is None
    lo, hi = auc_interval(0.85, 100, 400)
    assert lo < 0.85 < hi and hi - lo < 0.12 and auc_interval(0.8, 0, 10) is None
    median, low, high = robust_band([0.9, 1.0, 1.1, 1.0, 0.95, 1.05, 1.0, 1.2, 0.8])
    assert median == 1.0 and low < 0.8 and high > 1.2 and robust_band([1.0] * 3) is None


def test_a_generated_seasonal_set_with_no_drift_comes_out_ok():
    """Weekly volume, is_weekend and hour_of_day drifting against the reference every day (not
    declared time-derived): nothing here is a change, so no finding, for weeks on end."""
    rng = np.random.default_rng(1)
    windows = []
    for d in range(56):
        weekend = (START + timedelta(days=d)).weekday() >= 5
        windows.append(window(d, rng, rows=int(rng.poisson(900 if weekend else 2000)), nulls=rng.uniform(0, 0.02)))
    judged, health = judge(windows, now=after(56))
    assert health.status == "ok", health.reasons
    breached = [c for _, conds in judged[10:] for c in conds if c.breached]
    assert breached == [], [(c.window_start.date(), c.kind, c.features) for c in breached][:5]
    # Against the reference alone the same windows drift every day: that was the false alarm.
    assert all(w.drifted["is_weekend"] for w in windows)


def test_weekly_hourly_volume_has_no_false_alarm_and_a_real_collapse_is_flagged():
    rng = np.random.default_rng(2)
    hours = []
    for h in range(24 * 21):
        t = START + timedelta(hours=h)
        base = (40 + 200 * np.exp(-((t.hour - 14) ** 2) / 18)) * (0.5 if t.weekday() >= 5 else 1.0)
        hours.append(WindowStats(start=t, granularity="hour", rows=int(rng.poisson(base))))
    ctx = Context(task="regression", now=START + timedelta(days=22))
    conds = [c for i, w in enumerate(hours) for c in conditions(w, hours[max(0, i - 192) : i], ctx)
             if c.kind == "volume" and i >= 24 * 8]
    assert conds and not [c for c in conds if c.breached]
    collapsed = WindowStats(start=START + timedelta(days=21, hours=14), granularity="hour", rows=20)
    vol = [c for c in conditions(collapsed, hours[-192:], ctx) if c.kind == "volume"][0]
    assert vol.judged and vol.breached and vol.expected[0] > 20
    # The still-open window is not judged on volume (nor anything else about its inputs).
    still_open = WindowStats(start=ctx.now - timedelta(minutes=20), granularity="hour", rows=3)
    vol = [c for c in conditions(still_open, hours[-192:], ctx) if c.kind == "volume"][0]
    assert not vol.judged and vol.detail["reason"] == "window still open"


def test_small_windows_get_no_verdict_and_say_so():
    rng = np.random.default_rng(3)
    # A low-traffic model (night-sized windows), whose newest window has wild values: too
    # small to say anything about its inputs. Its volume is as usual.
    windows = [window(d, rng, rows=40) for d in range(20)]
    windows.append(window(20, rng, rows=40, psi={"age": 2.0}, nulls=0.5, coverage=0.0))
    judged, health = judge(windows, now=after(21))
    small = judged[-1][1]
    inputs = [c for c in small if c.kind in ("drift", "quality")]
    assert inputs and all(not c.judged and "fewer than" in c.detail["reason"] for c in inputs)
    assert health.status == "ok" and any("too few to judge" in note for note in health.notes)


def test_drift_quality_prediction_and_multivariate_findings():
    rng = np.random.default_rng(4)
    windows = [window(d, rng) for d in range(30)]
    windows += [window(d, rng, psi={"income": 0.6}, nulls=0.3, score_psi=0.4, mv=0.9) for d in range(30, 33)]
    _, health = judge(windows, now=after(33))
    kinds = {f.kind: f for f in health.findings}
    assert {"drift", "quality", "prediction_drift", "multivariate_drift"} <= set(kinds), health.reasons
    drift = kinds["drift"]
    assert drift.features == ("income",) and drift.since == START + timedelta(days=30)
    assert drift.value > drift.expected[1] and "Data drift in income" in drift.summary
    quality = kinds["quality"]
    assert quality.features == ("income",) and quality.severity == "critical" and quality.metric == "null_rate"
    assert health.status == "critical"


def test_a_stable_high_time_derived_drift_is_not_an_alarm_but_a_change_in_it_is():
    rng = np.random.default_rng(5)
    windows = [window(d, rng) for d in range(35)]
    _, health = judge(windows, now=after(35))
    assert health.status == "ok"
    windows.append(window(35, rng, psi={"hour_of_day": 3.0}))  # traffic moved to other hours
    _, health = judge(windows, now=after(36))
    assert [f.features for f in health.findings if f.kind == "drift"] == [("hour_of_day",)]
    # Declared time-derived and no history yet: judged against nothing rather than the reference.
    judged, health = judge([window(0, rng)], now=after(1), time_derived=frozenset({"hour_of_day", "is_weekend"}))
    hour = [c for c in judged[0][1] if c.features == ("hour_of_day",)][0]
    assert not hour.judged and "time-derived" in hour.detail["reason"]
    assert not any("is_weekend" in f.features for f in health.findings)


def test_volume_and_no_data_findings():
    rng = np.random.default_rng(6)
    windows = [window(d, rng, rows=int(rng.poisson(2000))) for d in range(30)] + [window(30, rng, rows=300)]
    _, health = judge(windows, now=after(31))
    assert [f.kind for f in health.findings] == ["volume"], health.reasons
    ctx = Context(task="binary_classification", now=after(32))
    gap = missing_windows(windows, windows, START + timedelta(days=31), START + timedelta(days=32), "day", ctx)
    assert [(c.kind, c.breached, c.value) for c in gap] == [("no_data", True, 0.0)]


def test_performance_is_judged_on_matured_labels_only():
    """Labels arrive 2-5 days late: the newest windows carry few labels, and the ones that came
    first are the early-resolving cases. Only windows whose labels matured are judged."""
    rng = np.random.default_rng(7)
    now = after(30)
    windows = []
    for d in range(30):
        age = (now - (START + timedelta(days=d + 1))).total_seconds() / 86400
        coverage = 0.9 * min(1.0, max(0.0, (age - 2) / 3))
        accuracy = 0.62 if d in (28, 29) else 0.80  # only the unlabelled days look bad
        windows.append(window(d, rng, coverage=max(coverage, 0.02), accuracy=accuracy))
    learned = label_delay([(now - w.end).total_seconds() / 86400 for w in windows], [w.coverage for w in windows])
    assert learned is not None and 4.0 <= learned[0] <= 5.5 and learned[1] == pytest.approx(0.9)
    judged, health = judge(windows, now=now, delay=learned[0], mature=learned[1])
    newest = [c for c in judged[-1][1] if c.kind == "performance"]
    assert newest and not any(c.judged for c in newest)
    assert all("labelled rows" in c.detail["reason"] or "not matured" in c.detail["reason"] for c in newest)
    assert not any(f.kind == "performance" for f in health.findings), health.reasons
    # Once matured, a fall beyond noise is a finding with its interval and dates.
    windows = [window(d, rng, accuracy=0.62 if d >= 23 else 0.80) for d in range(30)]
    _, health = judge(windows, now=after(37), delay=4.0, mature=0.9)
    perf = [f for f in health.findings if f.kind == "performance"][0]
    assert perf.severity == "critical" and perf.metric == "accuracy" and perf.since == START + timedelta(days=23)
    assert perf.interval[1] < perf.expected[0] < 0.80 and "fell from 0.80" in perf.summary


def test_a_fall_within_noise_is_not_a_finding():
    rng = np.random.default_rng(8)
    windows = [window(d, rng, rows=100, coverage=0.5, accuracy=0.77) for d in range(20)]
    _, health = judge(windows, now=after(27), delay=3.0, mature=0.5)
    assert not any(f.kind == "performance" for f in health.findings), health.reasons


def test_concept_drift_realised_below_the_estimate_and_estimated_performance():
    rng = np.random.default_rng(9)
    windows = [window(d, rng, accuracy=0.62 if d >= 25 else 0.80, estimated=0.79) for d in range(30)]
    _, health = judge(windows, now=after(35), delay=4.0, mature=0.9)
    concept = [f for f in health.findings if f.kind == "concept_drift"][0]
    assert concept.severity == "critical" and concept.since == START + timedelta(days=25)
    assert "cannot see" in concept.summary
    # Before labels land: the estimate falls (a covariate shift CBPE can see) -> a warning.
    windows = [window(d, rng, estimated=0.70 if d >= 27 else 0.80, coverage=0.9 if d < 27 else 0.0)
               for d in range(30)]
    _, health = judge(windows, now=after(30), delay=4.0, mature=0.9)
    est = [f for f in health.findings if f.kind == "estimated_performance"]
    assert est and est[0].severity == "warning" and est[0].value == pytest.approx(0.70)


def test_label_shift_finding():
    rng = np.random.default_rng(10)
    windows = [window(d, rng, label_psi=0.3 if d >= 26 else 0.001) for d in range(30)]
    _, health = judge(windows, now=after(35), delay=4.0, mature=0.9)
    shift = [f for f in health.findings if f.kind == "label_shift"]
    assert shift and shift[0].since == START + timedelta(days=26)


def test_no_data_status_and_the_contract_shape():
    _, health = judge([], now=after(1))
    assert health.status == "no_data" and health.findings == []
    finding = Finding(kind="staleness", severity="warning", summary="Trained 200 days ago.")
    body = verdict(windows=[], ctx=Context(task="regression", now=after(1)), extra=[finding]).to_dict()
    assert body["status"] == "warning" and set(KINDS) >= {f["kind"] for f in body["findings"]}
    assert set(body["findings"][0]) >= {"kind", "severity", "summary", "since", "features", "metric", "value",
                                        "expected"}


def test_seasonal_band_uses_the_same_weekday():
    history = [(START + timedelta(days=d), 6.0 if (START + timedelta(days=d)).weekday() >= 5 else 2.0)
               for d in range(28)]
    saturday = START + timedelta(days=33)
    median, low, high, basis = seasonal_band(history, saturday, "day")
    assert basis == "same weekday" and median == 6.0
    assert sps.norm.cdf(4) > 0.9999  # the band's k=4 robust sds


def test_multiclass_per_class_metrics_match_scikit_learn():
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from monitoring.engine.stats.performance import per_class_metrics

    rng = np.random.default_rng(11)
    y = rng.integers(0, 3, 500)
    pred = np.where(rng.uniform(size=500) < 0.7, y, rng.integers(0, 3, 500))
    got = per_class_metrics(confusion_matrix(y, pred, labels=[0, 1, 2]), ["a", "b", "c"])
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=[0, 1, 2])
    for i, name in enumerate("abc"):
        assert got["per_class"][name]["precision"] == pytest.approx(p[i])
        assert got["per_class"][name]["recall"] == pytest.approx(r[i])
        assert got["per_class"][name]["f1"] == pytest.approx(f[i]) and got["per_class"][name]["support"] == s[i]
    assert got["macro_precision"] == pytest.approx(p.mean()) and got["macro_recall"] == pytest.approx(r.mean())


def test_spike_summaries_read_the_finest_granularity_with_enough_rows():
    from monitoring.selectors.dashboard import WindowRow
    from monitoring.views.insights import summarise

    day = datetime(2026, 11, 12, tzinfo=UTC)
    rates = {"null_rate": 0.24, "out_of_range_rate": 0.0, "unseen_rate": 0.0}
    rows = [WindowRow(start=day, rows=2000, quality={"employment_years": rates})]
    hours = [WindowRow(start=day + timedelta(hours=h), rows=80,
                       quality={"employment_years": {**rates, "null_rate": 0.40 if h == 14 else 0.2}})
             for h in range(24)]
    # A night hour of 3 rows with one null is noise, not the peak.
    hours[3] = WindowRow(start=day + timedelta(hours=3), rows=3, quality={"employment_years": {**rates, "null_rate": 0.67}})
    text = " ".join(summarise(rows=rows, granularity="day", metric="accuracy", fine=hours))
    assert "employment_years null rate peaked at 40% on 12 November 14:00." in text
    coarse = " ".join(summarise(rows=rows, granularity="day", metric="accuracy"))
    assert "peaked at 24% on 12 November." in coarse
