"""Plain-language readings of stored results: the "what changed" summary and model health.

Pure functions over WindowRow lists (no database), so their rules are tested directly. The
health rules and thresholds live in monitoring.health.
"""

import statistics
from collections.abc import Sequence
from datetime import datetime

from monitoring.charts.model import METRIC_LABELS
from monitoring.health import (  # noqa: F401 - Health, health_from_rows and PRIMARY_METRIC: the views' names
    LOWER_IS_BETTER,
    PRIMARY_METRIC,
    QUALITY_RATE,
    Health,
    health_from_rows,
    join_names,
    metric_series,
)
from monitoring.selectors.dashboard import WindowRow

# A verdict "stays" when it holds in this share of the windows from its first day on.
PERSISTENT_SHARE = 0.8
METRIC_CHANGE = 0.02


def _when(moment: datetime, granularity: str) -> str:
    if granularity == "hour":
        return moment.strftime("%-d %B %H:00")
    return moment.strftime("%-d %B")


def persistent_drift_start(flags: Sequence[bool], *, share: float = PERSISTENT_SHARE) -> int | None:
    """Index of the first window from which the verdict holds in >= ``share`` of the
    windows to the end (at least two of them), else None. One backward pass."""
    n = len(flags)
    if n == 1:
        return 0 if flags[0] else None
    suffix = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + bool(flags[i])
    for i in range(n - 1):
        if flags[i] and suffix[i] >= share * (n - i):
            return i
    return None


SPIKE_MIN_ROWS = 30  # a finer window needs this many rows before its rate can be a peak


def summarise(
    *, rows: Sequence[WindowRow], granularity: str, metric: str, labels: dict[str, str] | None = None,
    fine: Sequence[WindowRow] | None = None,
) -> list[str]:
    """Sentences saying what changed over ``rows``; empty if there is nothing to say.
    ``labels`` maps feature names to the display names used in the sentences; ``fine``
    (hourly rows of a daily view) is where spikes are read: a day's average hides its peak."""
    if not rows:
        return []
    labels = labels or {}
    sentences: list[str] = []
    features = sorted({name for r in rows for name in r.drift})
    starts: dict[int, list[str]] = {}
    for name in features:
        flags = [bool(r.drift.get(name, {}).get("drifted")) for r in rows]
        first = persistent_drift_start(flags)
        if first is not None:
            starts.setdefault(first, []).append(name)
    for first in sorted(starts):
        names = [labels.get(name, name) for name in starts[first]]
        since = "throughout the range" if first == 0 else f"from {_when(rows[first].start, granularity)}"
        sentences.append(f"{join_names(names)} drifted {since}.")
    if features and not starts:
        sentences.append("No feature drifted persistently.")

    for key, label in (("null_rate", "null rate"), ("out_of_range_rate", "out-of-range rate"), ("unseen_rate", "unseen-category rate")):
        spikes: dict[str, tuple[float, datetime]] = {}
        # Hours too small to tell a peak from noise are skipped; without any, the view's own windows.
        spike_rows = [r for r in fine or [] if r.rows >= SPIKE_MIN_ROWS] or rows
        spike_granularity = "hour" if spike_rows is not rows else granularity
        for r in spike_rows:
            value, name = r.worst.get(key, (None, None))
            if value is not None and value >= QUALITY_RATE and value > spikes.get(name, (0.0,))[0]:
                spikes[name] = (value, r.start)
        for name, (value, when) in sorted(spikes.items(), key=lambda item: -item[1][0])[:3]:
            sentences.append(
                f"{labels.get(name, name)} {label} peaked at {100 * value:.0f}% on {_when(when, spike_granularity)}."
            )

    realised, estimated = metric_series(rows, metric)
    known = [(r.start, v) for r, v in zip(rows, realised, strict=True) if v is not None]
    if len(known) >= 2:
        # Medians of the first and last three labelled windows: a partial first day or a
        # last window with a handful of labels should not decide the sentence alone.
        k = min(3, len(known) // 2)
        first = statistics.median(v for _, v in known[:k])
        last = statistics.median(v for _, v in known[-k:])
        sentences.append(_metric_sentence(metric, first, last, granularity, known, "realised"))
    guessed = [(r.start, v) for r, v, real in zip(rows, estimated, realised, strict=True) if v is not None and real is None]
    if guessed:
        last_when, last_value = guessed[-1]
        sentences.append(
            f"Without labels yet, estimated {metric_words(metric)} is {last_value:.2f} on {_when(last_when, granularity)}."
        )
    anomalies = [r.start for r in rows if r.volume_anomaly]
    if anomalies:
        sentences.append(f"Volume was anomalous in {len(anomalies)} window{'s' if len(anomalies) > 1 else ''}.")
    concept = persistent_drift_start([r.concept_drift for r in rows])
    if concept is not None:
        sentences.append(
            f"Concept drift suspected from {_when(rows[concept].start, granularity)}: "
            "performance fell while inputs were stable."
        )
    return sentences


def metric_words(metric: str) -> str:
    """A metric's name inside a sentence: "accuracy", "macro F1", but "MAE" and "ROC AUC" stay capitals."""
    label = METRIC_LABELS.get(metric, metric)
    return label if label.split()[0].isupper() else label[:1].lower() + label[1:]


def _metric_sentence(metric, first, last, granularity, known, kind) -> str:
    worse = last > first if metric in LOWER_IS_BETTER else last < first
    name = metric_words(metric)
    if abs(last - first) < METRIC_CHANGE:
        return f"{kind.capitalize()} {name} held at {last:.2f} ({_when(known[0][0], granularity)} to {_when(known[-1][0], granularity)})."
    verb = "fell" if worse else "improved"
    if metric in LOWER_IS_BETTER:
        verb = "worsened" if worse else "improved"
    return f"{kind.capitalize()} {name} {verb} from {first:.2f} to {last:.2f}."
