"""Writes for explanations: artifact upload (with checks) and per-decision explanations."""

import logging
import math
from typing import IO

import numpy as np
from django.conf import settings
from django.core.files.base import File
from django.db import IntegrityError, transaction

from monitoring.models import ModelVersion, Prediction

from .frames import synthetic_row
from .loading import ArtifactRefused, detect_format, load_model_object, on_disk, sha256_of_file
from .models import ModelArtifact
from .probability import probability_points
from .runtime import ADDITIVITY_TOLERANCE, ModelRuntime, build_runtime, runtime_for, runtime_remember
from .selectors import artifact_current, background_rows

logger = logging.getLogger(__name__)
SCORE_CHECK_ROWS = 20


class NoArtifact(Exception):
    """The prediction's version has no model artifact, so it cannot be explained."""


def _scores_agree(ours: float, logged: float) -> bool:
    diff = abs(ours - logged)
    return diff <= 1e-4 or diff <= 1e-6 * abs(logged)


def _check_runtime(runtime: ModelRuntime, version: ModelVersion) -> dict:
    """Prove the model takes the schema's input and reproduces logged scores; return the report."""
    checks: dict = {"features": runtime.feature_names, "explainer": runtime.explainer, "link": runtime.link}
    try:
        runtime.score(runtime.frame([synthetic_row(schema=version.features)]))
    except Exception as exc:
        raise ArtifactRefused(
            f"The model cannot score a row of the version's features: {exc}",
            {"features": [str(exc)]},
        ) from None
    rows = list(
        version.reference_rows.filter(score__isnull=False).order_by("id").values("id", "features", "score")[
            :SCORE_CHECK_ROWS
        ]
    )
    source = "reference"
    if not rows:
        rows = list(
            Prediction.objects.filter(version=version).order_by("timestamp").values("id", "features", "score")[
                :SCORE_CHECK_ROWS
            ]
        )
        source = "predictions"
    if not rows:
        checks["scores"] = {"rows": 0, "note": "no logged scores to compare with"}
        sample = [synthetic_row(schema=version.features)]
    else:
        sample = [r["features"] for r in rows]
        try:
            ours = runtime.score(runtime.frame(sample))
        except Exception as exc:
            raise ArtifactRefused(f"The model failed on the {source} rows: {exc}", {"features": [str(exc)]}) from None
        bad = {
            f"{source}[{i}]": [f"row id {r['id']}: logged score {r['score']:.6g}, model gives {ours[i]:.6g}"]
            for i, r in enumerate(rows)
            if not _scores_agree(float(ours[i]), float(r["score"]))
        }
        if bad:
            raise ArtifactRefused(
                f"The model does not reproduce the logged scores of {len(bad)} of {len(rows)} {source} rows "
                f"(tolerance 1e-4 absolute or 1e-6 relative).",
                bad,
            )
        checks["scores"] = {"rows": len(rows), "source": source,
                            "max_abs_diff": float(np.max(np.abs(ours - [r["score"] for r in rows])))}
    explained = runtime.explain(runtime.frame(sample))
    error = float(explained.additivity_error.max())
    checks["additivity"] = {"max_error": error, "ok": error <= ADDITIVITY_TOLERANCE}
    if runtime.explainer != "permutation" and error > ADDITIVITY_TOLERANCE:
        raise ArtifactRefused(f"SHAP values do not add up to the model output (error {error:.3g}).")
    return checks


def artifact_upload(*, version: ModelVersion, data: bytes | None = None, file: IO[bytes] | None = None,
                    fmt: str | None = None, uploaded_by: str = "") -> tuple[ModelArtifact, bool]:
    """Check and store ``data`` (or the open ``file``) as ``version``'s current artifact.

    Returns (artifact, replaced). Raises ArtifactRefused (a clear 400) without storing
    anything when a check fails. The model is loaded from a file on disk and stored by
    streaming it, so a large upload is never held in memory more than its loader needs.
    """
    with on_disk(data, file) as path:
        return _artifact_store(version=version, path=path, fmt=fmt, uploaded_by=uploaded_by)


def _artifact_store(*, version: ModelVersion, path: str, fmt: str | None, uploaded_by: str) -> tuple[ModelArtifact, bool]:
    sha, size = sha256_of_file(path)
    if not size:
        raise ArtifactRefused("The artifact body is empty.", {"file": ["Empty file."]})
    fmt = fmt or detect_format(path)
    obj = load_model_object(path=path, fmt=fmt, sha256=sha)
    runtime = build_runtime(obj=obj, schema=version.features, background_rows=background_rows(version=version),
                            background_size=settings.VIGIL_SHAP_BACKGROUND)
    checks = _check_runtime(runtime, version)
    with transaction.atomic():
        previous = ModelArtifact.objects.select_for_update().filter(version=version, current=True).first()
        if previous is not None:
            ModelArtifact.objects.filter(pk=previous.pk).update(current=False)
        artifact = ModelArtifact(version=version, sha256=sha, format=fmt, size=size,
                                 explainer=runtime.explainer, link=runtime.link, checks=checks,
                                 uploaded_by=uploaded_by)
        with open(path, "rb") as handle:
            artifact.file.save(f"{sha}.{fmt}", File(handle), save=False)
        try:
            artifact.save()
        except IntegrityError:
            artifact.file.delete(save=False)
            raise
        transaction.on_commit(lambda: _enqueue_importance(version.pk))
    if runtime.explainer == "tree":  # others are keyed by their background too (runtime_for)
        runtime_remember(key=(sha, version.pk), runtime=runtime)
    return artifact, previous is not None


def _enqueue_importance(version_id: int) -> None:
    """Start the version's importance trends now rather than at the next hourly beat."""
    from .tasks import importance_version_task

    try:
        importance_version_task.delay(version_id)
    except Exception:  # no broker reachable: the beat schedule will pick the version up
        logger.warning("Could not enqueue importance trends for version %s", version_id, exc_info=True)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def explanation_build(*, prediction: Prediction, artifact: ModelArtifact):
    """Compute (not store) the Explanation of one prediction with its version's artifact."""
    from .models import Explanation

    runtime = runtime_for(artifact=artifact)
    explained = runtime.explain(runtime.frame([prediction.features]))
    shap_row = explained.shap[0]
    base, raw = float(explained.base[0]), float(explained.raw[0])
    probability = base_probability = None
    if runtime.link == "logit":
        probability, base_probability = _sigmoid(raw), _sigmoid(base)
    points = probability_points(shap=shap_row, link=runtime.link, base=base,
                                classifier=runtime.link == "logit" or runtime._extra.get("classifier", False))
    contributions = [
        {"feature": name, "value": prediction.features.get(name), "shap": float(shap_row[j]),
         "probability_points": None if points is None else float(points[j])}
        for j, name in enumerate(runtime.feature_names)
    ]
    contributions.sort(key=lambda c: -abs(c["shap"]))
    return Explanation(**Explanation.kept_from(prediction), artifact=artifact, explainer=runtime.explainer,
                       link=runtime.link,
                       base_value=base, output=raw, probability=probability, base_probability=base_probability,
                       additivity_error=float(explained.additivity_error[0]), contributions=contributions)


def explanation_for_prediction(*, prediction: Prediction):
    """The stored explanation of ``prediction``, computing and storing it on first use.

    Raises NoArtifact when the prediction's version has no artifact.
    """
    from .models import Explanation

    stored = Explanation.objects.filter(prediction=prediction).first()
    if stored is not None:
        return stored
    artifact = artifact_current(version_id=prediction.version_id)
    if artifact is None:
        raise NoArtifact(
            f"Version {prediction.version.version} of model {prediction.model.slug} has no model artifact: "
            "upload one (PUT .../artifact/) to explain its predictions."
        )
    try:
        explanation = explanation_build(prediction=prediction, artifact=artifact)
    except (OSError, ArtifactRefused) as exc:
        # The stored file is gone or no longer loads here (e.g. a library upgrade): say so.
        raise NoArtifact(
            f"The model artifact of version {prediction.version.version} (sha256 {artifact.sha256[:12]}) "
            f"cannot be loaded: {exc}. Upload it again."
        ) from None
    try:
        with transaction.atomic():
            explanation.save()
    except IntegrityError:  # another request stored it first: read theirs
        return Explanation.objects.get(prediction=prediction)
    return explanation
