"""The verdict: a model's findings from its windows' conditions. Pure.

Inputs come from daily windows (closed ones only; the open day is not judged: its rows so
far are a biased part of a day). Input checks (drift, quality, volume) read the newest
closed window; performance reads the newest windows whose labels have matured.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from monitoring.engine.stats.baselines import wilson
from monitoring.health.findings import Finding, Health, WindowCondition, health_of
from monitoring.health.rules import CRITICAL_QUALITY_FACTOR, CRITICAL_SHARE_DRIFTED, join_names
from monitoring.health.windows import MIN_ROWS, Context, WindowStats

LABELS = {"null_rate": "nulls", "out_of_range_rate": "out-of-range values", "unseen_rate": "unseen categories"}
# Performance is pooled over at most this many of the newest matured windows of a run.
POOL = 3


def day(moment: datetime) -> str:
    return moment.strftime("%-d %b")


def span(a: datetime, b: datetime) -> str:
    return day(a) if day(a) == day(b) else f"{day(a)}-{day(b)}"


def _run(windows: Sequence[list[WindowCondition]], match) -> list[WindowCondition]:
    """The breached conditions of the newest run: consecutive judged windows (newest back)
    whose matching condition breached; windows without a judged one are skipped over."""
    run: list[WindowCondition] = []
    for conds in reversed(windows):
        judged = [c for c in conds if match(c) and c.judged]
        if not judged:
            continue
        hit = [c for c in judged if c.breached]
        if not hit:
            break
        run.append(hit[0])
    return list(reversed(run))


def _pooled(run: list[WindowCondition], stats: dict[datetime, WindowStats]) -> tuple[float, tuple | None, int]:
    recent = run[-POOL:]
    n = sum(c.n for c in recent)
    if recent[0].metric == "accuracy":
        correct = sum(stats[c.window_start].correct or 0 for c in recent)
        if n:
            return correct / n, wilson(correct, n), n
    value = sum((c.value or 0.0) * c.n for c in recent) / n if n else recent[-1].value
    return value, recent[-1].detail.get("interval"), n


def _performance(windows, stats, ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    metrics = []
    for conds in windows:
        for c in conds:
            if c.kind == "performance" and c.metric not in metrics:
                metrics.append(c.metric)
    runs = {m: _run(windows, lambda c, m=m: c.kind == "performance" and c.metric == m) for m in metrics}
    fell = [m for m in metrics if runs[m]]
    if fell:
        metric = fell[0]
        run = runs[metric]
        value, interval, n = _pooled(run, stats)
        ref = run[-1].detail.get("reference")
        verb = "rose" if metric in ("mae", "rmse") else "fell"
        ci = f", 95% CI {interval[0]:.2f}-{interval[1]:.2f}" if interval else ""
        delay = f"; labels arrive about {ctx.label_delay:.0f} days late" if ctx.label_delay else ""
        also = [m for m in fell[1:]]
        extra = f" ({join_names(also)} too)" if also else ""
        findings.append(Finding(
            kind="performance", severity="critical", metric=metric, value=value, expected=run[-1].expected,
            interval=interval, n=n, since=run[0].window_start, basis="reference with confidence interval",
            summary=(f"{metric} fell from {ref:.2f} (reference) to {value:.2f} on labelled windows "
                     f"{span(run[0].window_start, run[-1].window_start)} (n={n}{ci}){extra}{delay}.")
            if verb == "fell" else
            (f"{metric} rose from {ref:.2f} (reference) to {value:.2f} on labelled windows "
             f"{span(run[0].window_start, run[-1].window_start)} (n={n}{ci}){delay}."),
        ))
    concept = _run(windows, lambda c: c.kind == "concept_drift")
    if concept:
        last = concept[-1]
        est = last.detail.get("estimated")
        words = (f"realised accuracy {last.value:.2f} is below the label-free estimate {est:.2f}: the relation "
                 "between inputs and outcome changed, which an estimate from scores cannot see"
                 if est is not None else "performance fell while the inputs stayed stable")
        findings.append(Finding(
            kind="concept_drift", severity="critical", metric=last.metric, value=last.value, expected=last.expected,
            interval=last.detail.get("interval"), n=last.n, since=concept[0].window_start,
            basis=last.detail.get("signature", ""),
            summary=f"Concept drift since {day(concept[0].window_start)}: {words}.",
        ))
    shift = _run(windows, lambda c: c.kind == "label_shift")
    if shift:
        findings.append(Finding(
            kind="label_shift", severity="warning", metric="psi", value=shift[-1].value, n=shift[-1].n,
            since=shift[0].window_start, basis="reference label distribution",
            summary=f"The label distribution shifted from the reference since {day(shift[0].window_start)} "
                    f"(PSI {shift[-1].value:.2f}).",
        ))
    return findings


def _estimated(windows, realised: bool) -> list[Finding]:
    run = _run(windows, lambda c: c.kind == "estimated_performance" and not c.detail.get("matured"))
    if not run or realised:
        return []
    last = run[-1]
    return [Finding(
        kind="estimated_performance", severity="warning", metric=last.metric, value=last.value,
        expected=last.expected, n=last.n, since=run[0].window_start, basis="label-free estimate (CBPE)",
        summary=(f"Estimated {last.metric} {last.value:.2f} (reference {last.detail.get('reference', 0):.2f}) "
                 f"since {day(run[0].window_start)}, before labels arrive; an estimate from scores cannot see a "
                 "concept shift."),
    )]


def _inputs(windows, closed: list[WindowCondition]) -> list[Finding]:
    """Drift, quality, volume and no-data findings from the newest closed window."""
    findings: list[Finding] = []
    key = lambda c: (c.kind, c.features)  # noqa: E731
    breached = {key(c): c for c in closed if c.breached}
    since = {k: (_run(windows, lambda c, k=k: key(c) == k) or [breached[k]])[0].window_start for k in breached}
    drift = sorted((c for c in breached.values() if c.kind == "drift"), key=lambda c: -(c.value or 0))
    judged = [c for c in closed if c.kind == "drift" and c.judged]
    if drift:
        names = [c.features[0] for c in drift]
        share = len(drift) / len(judged) if judged else 1.0
        first = min(since[key(c)] for c in drift)
        top = drift[0]
        band = f" (expected up to {top.expected[1]:.2f}, {top.detail.get('basis')})" if top.expected else ""
        more = f" and {len(names) - 4} more" if len(names) > 4 else ""
        findings.append(Finding(
            kind="drift", severity="critical" if share >= CRITICAL_SHARE_DRIFTED else "warning",
            features=tuple(names), metric="psi", value=top.value, expected=top.expected, n=top.n, since=first,
            basis=top.detail.get("basis", ""),
            summary=f"Drift in {join_names(names[:4])}{more} since {day(first)}: PSI up to {top.value:.2f}{band}.",
        ))
    for c in breached.values():
        when = since[key(c)]
        if c.kind == "prediction_drift":
            findings.append(Finding(
                kind=c.kind, severity="warning", metric="psi", value=c.value, expected=c.expected, n=c.n, since=when,
                summary=f"The score distribution drifted since {day(when)} (PSI {c.value:.2f}).",
            ))
        elif c.kind == "multivariate_drift":
            findings.append(Finding(
                kind=c.kind, severity="warning", metric=c.metric, value=c.value, expected=c.expected, n=c.n,
                since=when, basis="reference chunks",
                summary=f"The joint distribution of the inputs moved since {day(when)} "
                        f"(reconstruction error {c.value:.3f}, expected {c.expected[0]:.3f}-{c.expected[1]:.3f}).",
            ))
        elif c.kind == "quality":
            rate = c.expected[1] if c.expected else 0.0
            findings.append(Finding(
                kind="quality", severity="critical" if c.value >= CRITICAL_QUALITY_FACTOR * max(rate, 0.05) else "warning",
                features=c.features, metric=c.metric, value=c.value, expected=c.expected, n=c.n, since=when,
                basis=c.detail.get("basis", ""),
                summary=f"{100 * c.value:.0f}% {LABELS.get(c.metric, c.metric)} in {c.features[0]} on "
                        f"{day(c.window_start)} (expected at most {100 * rate:.0f}%){c.detail.get('peak', '')}.",
            ))
        elif c.kind == "volume":
            low, high = c.expected
            findings.append(Finding(
                kind="volume", severity="warning", metric="rows", value=c.value, expected=c.expected, n=c.n,
                since=when, basis=c.detail.get("basis", ""),
                summary=f"{c.value:.0f} predictions on {day(c.window_start)}, expected {low:.0f}-{high:.0f} "
                        f"({c.detail.get('basis')}).",
            ))
        elif c.kind == "no_data":
            findings.append(Finding(
                kind="no_data", severity="critical", metric="rows", value=0.0, expected=c.expected, n=0, since=when,
                summary=f"No predictions on {day(c.window_start)}, expected about {c.expected[0]:.0f} or more.",
            ))
    return findings


def verdict(
    *, windows: Sequence[tuple[WindowStats, list[WindowCondition]]], ctx: Context, extra: Sequence[Finding] = ()
) -> Health:
    """The model's health from its daily windows (oldest first) and their conditions.

    ``extra``: findings judged elsewhere (e.g. staleness, from the model lifecycle).
    """
    if not windows and not extra:
        return health_of([], ["no analysed data yet"], no_data=True)
    stats = {w.start: w for w, _ in windows}
    conds = [c for _, c in windows]
    closed = [(w, c) for w, c in windows if w.end <= ctx.now]
    newest = closed[-1][1] if closed else []
    notes: list[str] = []
    findings = list(_inputs(conds, newest)) if closed else []
    if closed and closed[-1][0].rows < MIN_ROWS and closed[-1][0].rows:
        notes.append(f"{day(closed[-1][0].start)} had {closed[-1][0].rows} rows, too few to judge its inputs.")
    performance = _performance(conds, stats, ctx)
    findings += performance
    findings += _estimated(conds, any(f.kind == "performance" for f in performance))
    findings += list(extra)
    if ctx.label_delay is not None:
        notes.append(f"Labels arrive about {ctx.label_delay:.1f} days late and settle at "
                     f"{100 * (ctx.mature_coverage or 0):.0f}% coverage; newer windows are not judged on them.")
    unjudged = [c for c in conds[-7:] for c in c if c.kind == "performance" and not c.judged]
    if unjudged:
        notes.append(f"{len({c.window_start for c in unjudged})} of the last 7 days have labels too immature "
                     "or too few for a performance verdict.")
    return health_of(findings, notes)
