"""The model page's "human audit" chart: accuracy estimated from reviewed samples beside the accuracy
realised from labels and the label-free estimate (monitoring shows it through its section hook)."""

from datetime import datetime

from monitoring.charts.base import BLUE, GREEN, ORANGE, layout
from monitoring.models import MLModel
from monitoring.views.render import chart

from .models import ReviewBatch
from .review_selectors import batch_summary


def human_audit_series(*, model: MLModel, start: datetime, end: datetime) -> list[dict]:
    """One point per review batch overlapping [start, end) that has reviews: at the middle of the
    batch's period, its Hajek accuracy and 95% interval."""
    points = []
    for batch in ReviewBatch.objects.filter(model=model, end__gt=start, start__lt=end).select_related("model").order_by("start"):
        summary = batch_summary(batch=batch)
        estimate = summary["estimate"]
        if estimate.get("accuracy") is None:
            continue
        low, high = estimate["ci"]
        middle = batch.start + (batch.end - batch.start) / 2
        points.append({"time": middle.isoformat(), "accuracy": estimate["accuracy"], "low": low, "high": high,
                       "reviewed": summary["reviewed"], "batch": batch.pk})  # fmt: skip
    return points


def human_audit_chart(*, model: MLModel, start: datetime, end: datetime, times: list, realised: list, estimated: list):
    """The chart, or None when no review batch of the range has a review (the page then shows nothing)."""
    points = human_audit_series(model=model, start=start, end=end)
    if not points:
        return None
    data = [
        {"type": "scatter", "mode": "lines+markers", "name": "Accuracy (realised, from labels)", "x": times,
         "y": realised, "line": {"color": BLUE, "width": 2}, "marker": {"size": 4}},
        {"type": "scatter", "mode": "lines", "name": "Accuracy (estimated, no labels needed)", "x": times,
         "y": estimated, "line": {"color": ORANGE, "width": 2, "dash": "dash"}},
        {"type": "scatter", "mode": "markers", "name": "Accuracy (human audit)",
         "x": [p["time"] for p in points], "y": [p["accuracy"] for p in points],
         "error_y": {"type": "data", "symmetric": False, "array": [p["high"] - p["accuracy"] for p in points],
                     "arrayminus": [p["accuracy"] - p["low"] for p in points]},
         "customdata": [[p["reviewed"], p["batch"]] for p in points],
         "marker": {"color": GREEN, "size": 11, "symbol": "diamond"},
         "hovertemplate": "%{x}<br>human audit accuracy: %{y:.3f}<br>%{customdata[0]} reviewed (batch "
                          "%{customdata[1]})<extra></extra>"},
    ]  # fmt: skip
    figure = {"data": data, "layout": layout(title="Human audit: accuracy from reviewed samples", y_title="Accuracy")}
    return chart(
        "human-audit",
        figure,
        description="Diamonds: accuracy estimated from each review batch, weighted by inverse inclusion probability, "
        "with its 95% interval; beside the accuracy realised from labels (solid) and the label-free estimate (dashed).",
    )
