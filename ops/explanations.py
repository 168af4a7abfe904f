"""The explanation part of the decision page, which must still render when explanations cannot be had."""

import logging

import plotly.io

from explain import charts, reasons, services
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

