"""The explanation part of the decision page, which must still render when explanations cannot be had."""

import logging

import plotly.io

from monitoring.models import Prediction

logger = logging.getLogger(__name__)


def explanation_context(*, prediction: Prediction) -> dict:
    """{"reasons", "waterfall_json"} or {"explanation_error": a sentence for the agent}."""
    try:
        from explain import charts, reasons, services
    except ImportError:
        return {"explanation_error": "Explanations are not available in this installation."}
    version = prediction.version
    try:
        explanation = services.explanation_for_prediction(prediction=prediction)
    except services.NoArtifact:
        return {
            "explanation_error": f"No explanation for this decision: version {version.version} has no model "
            "artifact uploaded, so its factors cannot be computed. Ask a data scientist to upload it."
        }
    except Exception:
        # The agent is on the phone: show the rest of the decision rather than an error page.
        logger.exception("Explanation failed for prediction %s", prediction.pk)
        return {"explanation_error": "The explanation could not be computed for this decision."}
    found = reasons.reasons_for(explanation=explanation, version=version, top=3)
    figure = charts.waterfall_figure(explanation=explanation, version=version)
    return {
        "reasons": {
            "summary": found.get("summary", ""),
            "up": [reason_text(r) for r in found.get("up", [])],
            "down": [reason_text(r) for r in found.get("down", [])],
        },
        "waterfall_json": plotly.io.to_json(figure),
    }


def reason_text(reason) -> str:
    """One factor as a sentence, whether the explain app gives strings or dicts."""
    if isinstance(reason, str):
        return reason
    if isinstance(reason, dict):
        for key in ("text", "sentence", "message"):
            if reason.get(key):
                return str(reason[key])
        name = reason.get("display_name") or reason.get("feature") or "?"
        value = reason.get("value")
        return f"{name} = {value}" if value is not None else str(name)
    return str(reason)
