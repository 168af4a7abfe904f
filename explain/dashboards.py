"""Explain's sections on the monitoring dashboards: importance trend and flags, dependence, waterfall.

Registered with monitoring.views.sections by ExplainConfig.ready(): monitoring shows them without
importing explain.
"""

from datetime import datetime
from types import SimpleNamespace

from monitoring.charts.base import empty_figure
from monitoring.models import MLModel, ModelVersion, Prediction
from monitoring.views.render import chart

from . import selectors
from .charts import dependence_figure, importance_figure, waterfall_figure
from .services import NoArtifact, explanation_for_prediction

FLAGS_LISTED = 8


def importance_section(*, version: ModelVersion, start: datetime, end: datetime, top: int = 8) -> dict:
    """The SHAP importance trend of the range with the jump flags marked, and the flags."""
    trend = selectors.importance_trend(version=version, start=start, end=end)
    # Flags are raised on computed days only: without a trend there are none to read.
    flags = selectors.importance_flags(version=version, start=start, end=end) if trend else []
    labels = {f["name"]: f.get("display_name") or f["name"] for f in version.features}
    reason = ""
    if not trend:
        has_artifact = selectors.artifact_current(version_id=version.pk) is not None
        reason = (
            "No predictions with computed importance in this range: importances are computed daily."
            if has_artifact
            else "No model artifact for this version: SHAP importances need the model file."
        )
    overall: dict[str, float] = {}
    for day in trend:
        for item in day["features"]:
            overall[item["feature"]] = overall.get(item["feature"], 0.0) + item["share"]
    chosen = sorted(overall, key=lambda f: -overall[f])[:top]
    by_day = [{item["feature"]: item["share"] for item in day["features"]} for day in trend]
    shares = {feature: [day.get(feature) for day in by_day] for feature in chosen}
    reference = selectors.importance_reference(version=version) if trend else None
    figure = importance_figure(
        days=[d["day"].isoformat() for d in trend],
        rows=[d["rows"] for d in trend],
        shares=shares,
        reference={i["feature"]: i["share"] for i in reference["features"]} if reference else {},
        labels=labels,
        flags=[(f["day"].isoformat(), f["feature"], f["message"]) for f in flags],
        reason=reason,
    )
    # The newest jumps first, one line per (day, feature) even when both baselines flagged it.
    listed = list({(f["day"], f["feature"]): f for f in reversed(flags)}.values())
    return {
        "chart": chart("importance", figure, description="Dotted: the reference share. Rings: importance jumps."),
        "flags": listed[:FLAGS_LISTED],
        "more_flags": max(0, len(listed) - FLAGS_LISTED),
    }


def dependence_chart(
    *, version: ModelVersion, feature: str, label: str, start: datetime, end: datetime, unit: str = ""
) -> dict:
    sample = selectors.dependence_sample(version=version, feature=feature, start=start, end=end)
    if sample["x"]:
        reason = ""
    elif selectors.artifact_current(version_id=version.pk) is None:
        reason = "No model artifact for this version: SHAP values need the model file."
    else:
        reason = "No SHAP sample in this range yet: importances are computed daily."
    return chart(
        "dependence",
        dependence_figure(feature=label, values=sample["x"], shap=sample["shap"], unit=unit, reason=reason),
    )


def waterfall_section(*, prediction: Prediction) -> dict:
    """The decision's waterfall, computed and stored on first view; an empty state without artifact."""
    try:
        explanation = explanation_for_prediction(prediction=prediction)
    except NoArtifact as exc:
        title = f"Why {prediction.request_id} scored {prediction.score:.3f}"
        figure = empty_figure(title=title, reason=str(exc) or "This version has no model artifact.")
        return {"chart": chart("waterfall", figure), "explanation": None}
    figure = waterfall_figure(explanation=explanation, version=prediction.version)
    return {"chart": chart("waterfall", figure), "explanation": explanation}


def kept_explanation_section(*, model: MLModel, request_id: str, version: str | None) -> dict | None:
    """A stored explanation whose raw row retention dropped: its waterfall, and what it kept of the
    prediction in the shape the prediction page reads. None when no explanation was stored."""
    explanation = selectors.explanation_kept(model_id=model.pk, request_id=request_id, version=version)
    if explanation is None:
        return None
    kept = SimpleNamespace(
        pk=None, request_id=explanation.request_id, version=explanation.version, served=explanation.served,
        timestamp=explanation.predicted_at, score=explanation.score, prediction=explanation.decision,
        features=explanation.features, entity_id=None, item_id=None, segment=None,
    )
    figure = waterfall_figure(explanation=explanation, version=explanation.version)
    return {"chart": chart("waterfall", figure), "explanation": explanation, "prediction": kept}
