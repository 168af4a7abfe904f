"""Per-window conditions: does this window breach its expected band, kind by kind.

Pure. Input: stored analysis payloads (layout: monitoring.engine.window.window_analyse)
flattened to WindowStats, the trailing history of the same series, and the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitoring.engine.stats.baselines import (
    Z_WINDOW,
    auc_interval,
    mean_interval,
    phase_band,
    seasonal_band,
    wilson,
)
from monitoring.health.findings import WindowCondition
from monitoring.health.rules import LOWER_IS_BETTER, QUALITY_RATE

STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# Fewer rows than this and a window gets no verdict on its inputs (drift, quality): a night
# hour of 20 rows says nothing about a feature's distribution.
MIN_ROWS = 100
# Fewer labelled rows than this and a window's realised performance is not judged.
MIN_LABELLED = 30
# A window's labels have matured when its coverage reached this share of the coverage that
# old windows settle at, and it is at least the learned label delay old.
MATURE_SHARE = 0.9
# Smallest changes worth a finding, whatever the sample size (large windows make any
# difference "significant"): absolute for scores in [0, 1], relative for error metrics.
MIN_EFFECT = {"accuracy": 0.05, "roc_auc": 0.05, "macro_f1": 0.05, "ndcg": 0.05, "mae": 0.2, "rmse": 0.2}
# Metrics judged per task. Binary: accuracy (what users read, Wilson interval from counts)
# and ROC AUC (the ranking quality, blind to the threshold and the base rate).
JUDGED = {
    "binary_classification": ("accuracy", "roc_auc"),
    "multiclass_classification": ("accuracy",),
    "regression": ("mae",),
    "ranking": ("ndcg",),
}
PSI_FLOOR = 0.05
VOLUME_SHARE = 0.5  # the smallest relative change of a window's row count that is a volume finding
# Realised accuracy this far below the label-free estimate (beyond noise) is the concept-shift
# signature; smaller gaps are within what calibration error alone explains.
DISAGREEMENT = 0.03  # a learned drift band is never narrower than the minimum drift effect
RATES = ("null_rate", "out_of_range_rate", "unseen_rate")
RANKING_METRICS = ("ndcg", "mrr", "precision_at_k")


@dataclass
class WindowStats:
    """What the verdict reads of one stored window."""

    start: datetime
    granularity: str
    rows: int = 0
    psi: dict[str, float] = field(default_factory=dict)
    drifted: dict[str, bool] = field(default_factory=dict)
    score_psi: float | None = None
    score_drifted: bool = False
    multivariate: tuple[float, float, float] | None = None  # (error, lower, upper)
    quality: dict[str, dict] = field(default_factory=dict)
    labelled: int = 0
    coverage: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    confusion: list | None = None
    label_psi: float | None = None
    label_drifted: bool = False
    reference: dict = field(default_factory=dict)  # the reference's metrics, as stored with the window
    slates: int = 0  # labelled slates (ranking): the sample size of per-slate metrics

    @property
    def end(self) -> datetime:
        return self.start + STEP[self.granularity]

    @property
    def correct(self) -> int | None:
        """Correctly classified labelled rows (the confusion matrix's diagonal)."""
        if not self.confusion:
            return None
        return int(sum(self.confusion[i][i] for i in range(len(self.confusion))))


def _num(v) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and v == v else None


def window_stats(start: datetime, granularity: str, payload: dict) -> WindowStats:
    drift = payload.get("drift") or {}
    feats = [f for f in drift.get("features") or [] if isinstance(f, dict)]
    perf = payload.get("performance") or {}
    mv = payload.get("multivariate") or {}
    pred = drift.get("prediction") or {}
    label = drift.get("label_shift") or {}
    quality = {
        q["name"]: {k: _num(q.get(k)) for k in RATES}
        for q in (payload.get("quality") or {}).get("features") or []
        if isinstance(q, dict) and "name" in q
    }
    error = _num(mv.get("error"))
    return WindowStats(
        start=start,
        granularity=granularity,
        rows=int(payload.get("rows") or 0),
        psi={f["name"]: p for f in feats if (p := _num(f.get("psi"))) is not None},
        drifted={f["name"]: bool(f.get("drifted")) for f in feats if _num(f.get("psi")) is not None},
        score_psi=_num(pred.get("psi")),
        score_drifted=bool(pred.get("drifted")),
        multivariate=(error, _num(mv.get("lower")) or 0.0, _num(mv.get("upper")) or 0.0) if error is not None else None,
        quality=quality,
        labelled=int(perf.get("labelled") or 0),
        coverage=_num(perf.get("label_coverage")),
        metrics={k: n for k, v in (perf.get("metrics") or {}).items() if (n := _num(v)) is not None},
        estimated={k: n for k, v in (perf.get("estimated") or {}).items() if (n := _num(v)) is not None},
        confusion=perf.get("confusion_matrix"),
        label_psi=_num(label.get("psi")),
        label_drifted=bool(label.get("drifted")),
        reference=_reference(payload),
        # NDCG averages over the slates with a relevant item only: the smaller, safer count.
        slates=int((perf.get("ranking") or {}).get("relevant_slates") or 0),
    )


def _reference(payload: dict) -> dict:
    ref = (payload.get("reference") or {}).get("metrics")
    if ref is None:  # stored before the reference travelled with the window: the primary metric only
        drop = payload.get("performance_drop") or {}
        ref = {drop["metric"]: drop.get("reference")} if drop.get("metric") else {}
    return {k: n for k, v in ref.items() if (n := _num(v)) is not None}


@dataclass
class Context:
    """What judging a window needs besides its own history."""

    task: str
    now: datetime
    reference: dict = field(default_factory=dict)  # metric -> value
    reference_counts: dict = field(default_factory=dict)  # {"n", "n_pos", "n_neg"}
    time_derived: frozenset[str] = frozenset()
    label_delay: float | None = None  # days
    mature_coverage: float | None = None
    quality_rate: float = QUALITY_RATE


def matured(w: WindowStats, ctx: Context) -> tuple[bool, str]:
    """Have the window's labels arrived (enough of them, and as many as they ever will)?"""
    if w.labelled < MIN_LABELLED:
        return False, f"{w.labelled} labelled rows (fewer than {MIN_LABELLED})"
    if ctx.mature_coverage is None or ctx.label_delay is None:
        return True, ""
    age = (ctx.now - w.end).total_seconds() / 86400
    if age < ctx.label_delay and (w.coverage or 0.0) < MATURE_SHARE * ctx.mature_coverage:
        return False, (
            f"labels not matured: {100 * (w.coverage or 0):.0f}% coverage of an expected "
            f"{100 * ctx.mature_coverage:.0f}% (labels arrive about {ctx.label_delay:.1f} days late)"
        )
    return True, ""


def performance_band(metric: str, ref: float, w: WindowStats, value_n: int) -> tuple[tuple[float, float], tuple | None]:
    """(expected band around the reference value, the window value's own interval).

    Higher-is-better metrics breach below the band's low end, error metrics above its high
    end. The band is the range a window of this many rows shows with no change (Wilson for
    proportions, Hanley-McNeil for ROC AUC, the mean's standard error for MAE), widened to
    at least the minimum effect.
    """
    effect = MIN_EFFECT.get(metric, 0.05)
    interval = None
    if metric in LOWER_IS_BETTER:
        noise = None
        if metric == "mae" and "rmse" in w.metrics:
            sd = max(w.metrics["rmse"] ** 2 - w.metrics["mae"] ** 2, 0.0) ** 0.5
            interval = mean_interval(w.metrics["mae"], sd, value_n)
            noise = mean_interval(ref, sd, value_n, z=Z_WINDOW)
        high = max(ref * (1 + effect), noise[1] if noise else 0.0)
        return (0.0, high), interval
    if metric in ("accuracy", "macro_f1", "ndcg"):
        noise = wilson(ref * value_n, value_n, z=Z_WINDOW)
        if metric == "accuracy" and w.correct is not None and w.labelled:
            interval = wilson(w.correct, w.labelled)
    elif metric == "roc_auc" and w.confusion and len(w.confusion) == 2:
        (tn, fp), (fn, tp) = w.confusion
        noise = auc_interval(ref, fn + tp, tn + fp, z=Z_WINDOW)
        interval = auc_interval(w.metrics.get("roc_auc", ref), fn + tp, tn + fp)
    else:
        noise = None
    low = min(ref - effect, noise[0] if noise else ref - effect)
    return (low, max(ref + effect, noise[1] if noise else 1.0)), interval


def _cond(w: WindowStats, kind: str, **kw) -> WindowCondition:
    base = {"features": (), "metric": None, "value": None, "expected": None, "breached": False, "judged": True,
            "n": w.rows, "detail": {}}
    base.update(kw)
    return WindowCondition(window_start=w.start, window_end=w.end, granularity=w.granularity, kind=kind, **base)


def _history(history: Sequence[WindowStats], pick, min_rows: int = MIN_ROWS) -> list[tuple[datetime, float]]:
    return [(h.start, v) for h in history if h.rows >= min_rows and (v := pick(h)) is not None]


class _Phases:
    """A window's history split once by phase, so each of its hundred series (features, rates)
    draws its band from the few windows of the same phase rather than walking the whole history:
    ``band(pick)`` is ``seasonal_band(_history(history, pick), w.start, w.granularity)``."""

    def __init__(self, w: WindowStats, history: Sequence[WindowStats]):
        self.history, self.granularity = history, w.granularity
        weekday, hour = w.start.weekday(), w.start.hour
        day = w.granularity == "day"
        # Hours: 8 days of history hold one window of the same weekday-hour, so the bands come from
        # the same hour of day; both subsets are drawn once here.
        self.same_hour = [h for h in history if day or h.start.hour == hour]
        self.same = [h for h in self.same_hour if h.start.weekday() == weekday]

    def band(self, pick, min_rows: int = MIN_ROWS) -> tuple[float, float, float, str] | None:
        def values(windows):
            return [v for h in windows if h.rows >= min_rows and (v := pick(h)) is not None]

        return phase_band(values(self.same), lambda: values(self.same_hour), lambda: values(self.history),
                          self.granularity)


def _drift(w, phases: _Phases, ctx, kind, name, value, vs_reference) -> WindowCondition:
    features = (name,) if name else ()
    if value is None:
        return _cond(w, kind, features=features, metric="psi", judged=False, detail={"reason": "not comparable"})
    pick = (lambda h: h.psi.get(name)) if name else (lambda h: h.score_psi)
    band = phases.band(pick)
    if band is not None:
        median, low, high, basis = band
        high = max(high, median + max(PSI_FLOOR, 0.25 * median))
        return _cond(w, kind, features=features, metric="psi", value=value, expected=(max(low, 0.0), high),
                     breached=vs_reference and value > high,
                     detail={"basis": f"learned from {basis}", "vs_reference": vs_reference})
    if name in ctx.time_derived:
        return _cond(w, kind, features=features, metric="psi", value=value, judged=False,
                     detail={"reason": "time-derived feature: judged only against its own history, not enough yet"})
    return _cond(w, kind, features=features, metric="psi", value=value, breached=vs_reference,
                 detail={"basis": "reference", "vs_reference": vs_reference})


def input_conditions(w: WindowStats, history: Sequence[WindowStats], ctx: Context) -> list[WindowCondition]:
    """Drift, prediction drift, multivariate drift, quality and volume of one window."""
    out: list[WindowCondition] = []
    closed = w.end <= ctx.now
    phases = _Phases(w, history)
    if not closed:
        out.append(_cond(w, "volume", metric="rows", value=float(w.rows), judged=False,
                         detail={"reason": "window still open"}))
    else:
        band = phases.band(lambda h: float(h.rows), 0)
        # Counts vary at least like a Poisson variable: never narrower than 4 sqrt(expected); and
        # never narrower than half the expected count, whatever a few same-hour values say (a new
        # version's band comes from three to five of them): a volume anomaly worth a warning is a
        # collapse or a surge, not an hour 10% busier than the last Mondays.
        if band is None:
            out.append(_cond(w, "volume", metric="rows", value=float(w.rows), judged=False,
                             detail={"reason": "not enough history for a learned band"}))
        else:
            median, low, high, basis = band
            half = max(4 * median**0.5, 10.0, VOLUME_SHARE * median)
            low, high = max(min(low, median - half), 0.0), max(high, median + half)
            out.append(_cond(w, "volume", metric="rows", value=float(w.rows), expected=(low, high),
                             breached=not low <= w.rows <= high, detail={"basis": f"learned from {basis}"}))
    if w.rows < MIN_ROWS or not closed:
        reason = "window still open" if not closed else f"{w.rows} rows (fewer than {MIN_ROWS})"
        for name in w.psi:
            out.append(_cond(w, "drift", features=(name,), metric="psi", value=w.psi[name], judged=False,
                             detail={"reason": reason}))
        for name in w.quality:
            out.append(_cond(w, "quality", features=(name,), judged=False, detail={"reason": reason}))
        return out
    for name, value in w.psi.items():
        out.append(_drift(w, phases, ctx, "drift", name, value, w.drifted.get(name, False)))
    if w.score_psi is not None:
        out.append(_drift(w, phases, ctx, "prediction_drift", None, w.score_psi, w.score_drifted))
    if w.multivariate is not None:
        error, lower, upper = w.multivariate
        # Only an error above the band is a drift: inputs easier to reconstruct than the
        # reference's chunks (a day of typical rows) are not a change worth an alarm.
        outside = error > upper
        band = phases.band(lambda h: h.multivariate[0] if h.multivariate else None)
        if band is not None:
            # The reference's chunks are a mix of every hour and weekday; a day is not. The
            # error's own history says how far a day usually sits from them.
            # A few same-weekday values give a narrow MAD: never narrower than 5% of the median.
            lo, hi = min(lower, band[1]), max(upper, band[2], 1.05 * band[0])
            out.append(_cond(w, "multivariate_drift", metric="reconstruction_error", value=error, expected=(lo, hi),
                             breached=outside and error > hi,
                             detail={"basis": f"reference chunks and learned from {band[3]}"}))
        else:
            out.append(_cond(w, "multivariate_drift", metric="reconstruction_error", value=error,
                             expected=(lower, upper), breached=outside, detail={"basis": "reference chunks"}))
    for name, rates in w.quality.items():
        worst = None
        for key in RATES:
            value = rates.get(key)
            if value is None:
                continue
            band = phases.band(lambda h, k=key, f=name: (h.quality.get(f) or {}).get(k))
            high = max(band[2], ctx.quality_rate) if band else ctx.quality_rate
            breached = value >= ctx.quality_rate and value > high
            if worst is None or (breached, value - high) > (worst[2], worst[1] - worst[3]):
                worst = (key, value, breached, high, band[3] if band else "")
        if worst is not None:
            key, value, breached, high, basis = worst
            out.append(_cond(w, "quality", features=(name,), metric=key, value=value, expected=(0.0, high),
                             breached=breached, detail={"basis": f"learned from {basis}" if basis else "fixed rate"}))
    return out


def performance_conditions(w: WindowStats, history: Sequence[WindowStats], ctx: Context) -> list[WindowCondition]:
    """Realised performance, label shift and concept drift (matured windows only), and the
    label-free estimate (binary) of one window."""
    out: list[WindowCondition] = []
    if w.end > ctx.now:
        # The open window's rows so far are a biased part of it (the morning of a day): its
        # labels, outcomes and estimate wait for it to close, like its inputs.
        for metric in JUDGED.get(ctx.task, ()):
            if w.metrics.get(metric) is not None:
                out.append(_cond(w, "performance", metric=metric, value=w.metrics[metric], judged=False,
                                 n=w.labelled, detail={"reason": "window still open"}))
        return out
    ok, reason = matured(w, ctx)
    for metric in JUDGED.get(ctx.task, ()):
        value, ref = w.metrics.get(metric), ctx.reference.get(metric)
        if value is None:
            continue
        if not ok:
            out.append(_cond(w, "performance", metric=metric, value=value, judged=False, n=w.labelled,
                             detail={"reason": reason, "coverage": w.coverage}))
            continue
        if ref is None:
            # No reference value (ranking metrics need slates, which reference data lacks):
            # the band is learned from the metric's own history of matured windows.
            learned = seasonal_band(_history([h for h in history if matured(h, ctx)[0]],
                                             lambda h, m=metric: h.metrics.get(m), 0), w.start, w.granularity,
                                    floor=MIN_EFFECT.get(metric, 0.05))
            if learned is None:
                out.append(_cond(w, "performance", metric=metric, value=value, judged=False, n=w.labelled,
                                 detail={"reason": "no reference value and not enough history", "coverage": w.coverage}))
                continue
            median, low, high, basis = learned
            # A few same-weekday values say little about the noise of one window: never
            # narrower than what sampling alone gives at this window's size (Wilson, per slate
            # for ranking metrics, which are means over slates).
            n_eff = w.slates if metric in RANKING_METRICS else w.labelled
            noise = wilson(median * n_eff, n_eff, z=Z_WINDOW) if metric not in LOWER_IS_BETTER and 0 <= median <= 1 else None
            if noise is not None:
                low, high = min(low, noise[0]), max(high, noise[1])
            breached = value > high if metric in LOWER_IS_BETTER else value < low
            out.append(_cond(w, "performance", metric=metric, value=value, expected=(low, high), breached=breached,
                             n=w.labelled, detail={"reference": median, "coverage": w.coverage,
                                                   "basis": f"learned from {basis}"}))
            continue
        band, interval = performance_band(metric, ref, w, w.labelled)
        breached = value > band[1] if metric in LOWER_IS_BETTER else value < band[0]
        out.append(_cond(w, "performance", metric=metric, value=value, expected=band, breached=breached,
                         n=w.labelled, detail={"reference": ref, "interval": interval, "coverage": w.coverage,
                                               "basis": "reference with confidence interval"}))
    estimated = w.estimated.get("accuracy")
    if estimated is not None and ctx.reference.get("accuracy") is not None and w.rows >= MIN_ROWS:
        band, _ = performance_band("accuracy", ctx.reference["accuracy"], w, w.rows)
        out.append(_cond(w, "estimated_performance", metric="accuracy", value=estimated, expected=band,
                         breached=estimated < band[0], detail={"reference": ctx.reference["accuracy"],
                                                               "matured": ok}))
        realised = w.metrics.get("accuracy")
        if ok and realised is not None and w.correct is not None:
            # The concept-shift signature: CBPE assumes P(y | score) is unchanged, so a
            # changed relation leaves the estimate at its old level while realised falls.
            # Under CBPE's assumption the realised accuracy of n labelled rows varies around the
            # estimate like a proportion: below the estimate's Wilson band at that n, and by at
            # least DISAGREEMENT, the two disagree.
            lo, hi = wilson(w.correct, w.labelled) or (0.0, 1.0)
            band_lo, band_hi = wilson(estimated * w.labelled, w.labelled, z=Z_WINDOW) or (0.0, 1.0)
            disagree = realised < band_lo and estimated - realised >= DISAGREEMENT
            out.append(_cond(w, "concept_drift", metric="accuracy", value=realised,
                             expected=(min(band_lo, estimated - DISAGREEMENT), band_hi), breached=disagree,
                             n=w.labelled, detail={"estimated": estimated, "interval": (lo, hi),
                                                   "signature": "realised below estimated"}))
    elif ok and w.metrics:
        perf = [c for c in out if c.kind == "performance" and c.judged]
        fell = any(c.breached for c in perf)
        stable = not any(w.drifted.values())
        out.append(_cond(w, "concept_drift", metric=perf[0].metric if perf else None,
                         value=perf[0].value if perf else None, breached=fell and stable, n=w.labelled,
                         detail={"signature": "performance fell while inputs were stable"}))
    if w.label_psi is not None:
        if not ok:
            out.append(_cond(w, "label_shift", metric="psi", value=w.label_psi, judged=False, n=w.labelled,
                             detail={"reason": reason}))
        else:
            band = seasonal_band(_history([h for h in history if matured(h, ctx)[0]], lambda h: h.label_psi, 0),
                                 w.start, w.granularity)
            if band is None:
                out.append(_cond(w, "label_shift", metric="psi", value=w.label_psi, breached=w.label_drifted,
                                 n=w.labelled, detail={"basis": "reference label distribution"}))
            else:
                # Outcomes are seasonal too (weekend deliveries take longer): the shift must
                # also leave the label PSI's own band.
                high = max(band[2], band[0] + max(PSI_FLOOR, 0.25 * band[0]))
                out.append(_cond(w, "label_shift", metric="psi", value=w.label_psi, expected=(max(band[1], 0.0), high),
                                 breached=w.label_drifted and w.label_psi > high, n=w.labelled,
                                 detail={"basis": f"reference label distribution and learned from {band[3]}"}))
    return out


def conditions(w: WindowStats, history: Sequence[WindowStats], ctx: Context) -> list[WindowCondition]:
    """Every condition of one window; ``history`` holds earlier windows of the same granularity."""
    return input_conditions(w, history, ctx) + performance_conditions(w, history, ctx)


def missing_windows(
    present: Sequence[WindowStats], history: Sequence[WindowStats], start: datetime, end: datetime,
    granularity: str, ctx: Context,
) -> list[WindowCondition]:
    """``no_data`` conditions for closed windows in [start, end) with no rows although their
    learned volume says there should be some (at least 10 rows expected, and zero below the band)."""
    have = {w.start for w in present}
    out = []
    step = STEP[granularity]
    t = start
    series = _history(history, lambda h: float(h.rows), 0)
    # Empty windows are never stored: without them the history says an hour that is often empty
    # (a few requests of five rows each) always has rows, and one more empty hour looks like an
    # outage. Absent windows between the first stored one and the window judged count as zeros.
    stored = {h.start for h in history}
    zeros = []
    slot = min(stored, default=end)
    while slot < end:
        if slot not in stored:
            zeros.append((slot, 0.0))
        slot += step
    while t < end:
        if t not in have and t + step <= ctx.now:
            band = seasonal_band(series + [z for z in zeros if z[0] < t], t, granularity)
            empty = WindowStats(start=t, granularity=granularity)
            # An empty window inside the learned band (an hour that is often empty) is no outage.
            if band is not None and band[0] >= 10 and band[1] > 0:
                out.append(_cond(empty, "no_data", metric="rows", value=0.0, expected=(band[1], band[2]),
                                 breached=True, n=0, detail={"basis": f"learned from {band[3]}"}))
        t += step
    return out


def data_present(windows: Sequence[WindowStats], start: datetime, end: datetime, ctx: Context) -> list[WindowCondition]:
    """A judged, non-breaching ``no_data`` condition for each closed window in [start, end) that
    has rows: the observation a no-data alert needs to resolve once data comes back."""
    return [
        _cond(w, "no_data", metric="rows", value=float(w.rows), n=w.rows, detail={"basis": "rows arrived"})
        for w in windows
        if start <= w.start < end and w.end <= ctx.now and w.rows > 0
    ]
