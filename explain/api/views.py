from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.body import spool_raw_body
from core.api.errors import BadRequest, Conflict, error_responses
from monitoring.models import ModelVersion
from monitoring.selectors.predictions import request_rows
from monitoring.selectors.registry import model_get
from monitoring.selectors.retention import retention_note

from ..loading import ArtifactRefused
from ..models import ArtifactFormat
from ..reasons import reasons_for
from ..selectors import explanation_kept
from ..services import NoArtifact, artifact_upload, explanation_for_prediction
from .serializers import ArtifactSerializer, ExplanationSerializer


def explanation_payload(*, explanation) -> dict:
    """The API shape of an explanation (contract fields first, then Vigil's additions), read
    from the explanation alone: the same body before and after retention drops the raw row."""
    return {
        "base_value": explanation.base_value,
        "output": explanation.output,
        "explainer": explanation.explainer,
        "contributions": explanation.contributions,
        "link": explanation.link,
        "probability": explanation.probability,
        "base_probability": explanation.base_probability,
        "additivity_error": explanation.additivity_error,
        "reasons": reasons_for(explanation=explanation, version=explanation.version),
        "request_id": explanation.request_id,
        "model": explanation.model.slug,
        "version": explanation.version.version,
        "score": explanation.score,
        "served": explanation.served,
        "computed": explanation.created_at,
    }


class JsonOnly(DefaultContentNegotiation):
    """Always JSON: ``?format=`` names the model file's format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ArtifactView(APIView):
    permission_classes = [scope_required("admin")]
    content_negotiation_class = JsonOnly
    parser_classes: list = []  # the body is the raw model file, read below with a size limit

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[OpenApiParameter("format", str, enum=list(ArtifactFormat.values),
                                     description="Auto-detected when omitted; required for pickle/joblib.")],
        responses={201: ArtifactSerializer, 200: ArtifactSerializer, **error_responses(400, 401, 403, 404, 413)},
        summary="Upload the model file of a version (checked against its schema and logged scores).",
    )
    def put(self, request, slug: str, version: str):
        model_version = get_object_or_404(ModelVersion.objects.select_related("model"), model__slug=slug,
                                          version=version)
        fmt = request.query_params.get("format") or None
        if fmt is not None and fmt not in ArtifactFormat.values:
            raise BadRequest(f"Unknown format '{fmt}'.",
                             {"format": [f"Choose from {', '.join(ArtifactFormat.values)}."]})
        try:
            with spool_raw_body(request, max_bytes=settings.VIGIL_MAX_ARTIFACT_BYTES) as upload:
                artifact, replaced = artifact_upload(version=model_version, file=upload, fmt=fmt,
                                                     uploaded_by=str(request.user))
        except ArtifactRefused as exc:
            raise BadRequest(str(exc), exc.errors or {"file": [str(exc)]}) from None
        body = {"sha256": artifact.sha256, "format": artifact.format, "size": artifact.size,
                "explainer": artifact.explainer, "link": artifact.link, "checks": artifact.checks,
                "replaced": replaced}
        return Response(body, status=200 if replaced else 201)


class ExplanationView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        responses={200: ExplanationSerializer, **error_responses(401, 403, 404, 409)},
        summary="SHAP explanation of one prediction, computed on first request then stored.",
        description="The prediction that was served for the request (the production or canary version's); "
                    "`version` picks another version's prediction of it, e.g. a shadow's.",
        parameters=[OpenApiParameter("version", OpenApiTypes.STR, required=False,
                                     description="The version whose prediction to explain (default: the served one).")],
    )
    def get(self, request, slug: str, request_id: str):
        # The common case (already explained) is one indexed query; compute only when missing.
        version = request.query_params.get("version")
        prediction = (request_rows(model_slug=slug, request_id=request_id, version=version)
                      .select_related("version__model", "model", "explanation__model", "explanation__version__model").first())
        if prediction is None:
            model = model_get(slug=slug)  # 404 naming the model when it is the model that is unknown
            # Retention may have dropped the raw row of an explanation stored before: it answers alone.
            kept = explanation_kept(model_id=model.pk, request_id=request_id, version=version)
            if kept is not None:
                return Response(explanation_payload(explanation=kept))
            which = f" by version '{version}'" if version is not None else ""
            raise Http404(f"Model '{model.slug}' has no prediction '{request_id}'{which}. "
                          f"{retention_note(model=model)}".rstrip())
        if hasattr(prediction, "explanation"):
            return Response(explanation_payload(explanation=prediction.explanation))
        try:
            explanation = explanation_for_prediction(prediction=prediction)
        except NoArtifact as exc:
            raise Conflict(str(exc)) from None
        return Response(explanation_payload(explanation=explanation))
