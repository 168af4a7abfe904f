"""The explanation part of the decision page, which must still render when explanations cannot be had."""

import logging

import plotly.io

from explain import charts, reasons, services
from explain.selectors import explanation_kept
from monitoring.models import Prediction

logger = logging.getLogger(__name__)


def explanation_context(*, prediction: Prediction) -> dict:
    """{"reasons", "waterfall_json"} or {"explanation_error": a sentence for the agent}."""
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
    figure = charts.waterfall_figure(explanation=explanation, version=version)
    return {
        "reasons": reasons.reasons_for(explanation=explanation, version=version, top=3),
        "waterfall_json": plotly.io.to_json(figure),
    }



def raw_removed_note(*, model) -> str:
    """What a page says of a decision whose raw row retention dropped."""
    model.refresh_from_db(fields=["raw_purged_before", "raw_retention_days"])
    when = f" (raw rows before {model.raw_purged_before:%Y-%m-%d %H:%M} UTC)" if model.raw_purged_before else ""
    return (f"Raw row removed by retention{when}, kept {model.raw_retention_days} days: shown is what was kept "
            "with the decision.")


def kept_explanation_context(*, prediction) -> dict:
    """explanation_context for a decision whose raw row is gone: the explanation stored before, if any
    (a new one cannot be computed without the row's features in full)."""
    explanation = explanation_kept(model_id=prediction.model.pk, request_id=prediction.request_id,
                                   version=prediction.version.version if prediction.version else None)
    if explanation is None:
        return {"explanation_error": "No explanation for this decision: none was stored before retention removed "
                                    "its raw row, and a new one needs that row."}
    figure = charts.waterfall_figure(explanation=explanation, version=explanation.version)
    return {
        "reasons": reasons.reasons_for(explanation=explanation, version=explanation.version, top=3),
        "waterfall_json": plotly.io.to_json(figure),
    }
