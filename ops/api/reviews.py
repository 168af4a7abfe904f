"""Review samples over the API: draw a batch, send reviews, read the estimates (scope ``ops``)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.body import parse_json_body
from core.api.errors import BadRequest, error_responses
from monitoring.models import MLModel

from ..models import ReviewBatch
from ..review_selectors import batch_summary
from ..services import review
from .review_serializers import (
    ReviewBatchCreatedSerializer,
    ReviewBatchRequestSerializer,
    ReviewBatchStatusSerializer,
    ReviewResultsAnswerSerializer,
    ReviewResultSerializer,
)

MAX_RESULTS_BYTES = 8 * 1024 * 1024


def _bad(error: ValidationError) -> BadRequest:
    errors = {key: [str(m) for m in messages] for key, messages in error.message_dict.items()}
    key = next(iter(errors))
    return BadRequest(f"Invalid input: {key}: {errors[key][0]}", errors)


def _moment(payload: dict, key: str):
    raw = payload.get(key)
    moment = parse_datetime(raw) if isinstance(raw, str) else None
    if moment is None:
        raise BadRequest(
            f"Invalid input: {key}: an ISO 8601 date-time is required.",
            {key: ["An ISO 8601 date-time is required."]},
        )
    if moment.utcoffset() is None:
        raise BadRequest(
            f"Invalid input: {key}: give a time zone (e.g. Z).", {key: ["Give a time zone (e.g. Z)."]}
        )
    return moment


class ReviewBatchCreateView(APIView):
    permission_classes = [scope_required("ops")]

    @extend_schema(
        request=ReviewBatchRequestSerializer,
        responses={201: ReviewBatchCreatedSerializer, **error_responses(400, 401, 403, 404, 413)},
    )
    def post(self, request, slug: str):
        """Draw a stratified random sample of the model's decisions in [start, end) for review; each item
        carries the probability it had of being drawn."""
        model = get_object_or_404(MLModel, slug=slug)
        payload = parse_json_body(request, MAX_RESULTS_BYTES)
        if not isinstance(payload, dict):
            raise BadRequest(
                "Send a JSON object with size, start and end.",
                {"non_field_errors": ["A JSON object is required."]},
            )
        start, end = _moment(payload, "start"), _moment(payload, "end")
        try:
            batch = review.batch_create(
                model=model, start=start, end=end, size=payload.get("size"),
                double_share=payload.get("double_share", 0.1), actor=request.user,
            )  # fmt: skip
        except ValidationError as error:
            raise _bad(error) from None
        items = [
            {"request_id": i.request_id, "stratum": i.stratum, "inclusion_probability": i.inclusion_probability,
             "reviews_needed": i.reviews_needed}
            for i in batch.items.order_by("position")
        ]  # fmt: skip
        return Response({"id": batch.pk, "population": batch.population, "items": items}, status=201)


class ReviewResultsView(APIView):
    permission_classes = [scope_required("ops")]

    @extend_schema(
        request=ReviewResultSerializer(many=True),
        responses={200: ReviewResultsAnswerSerializer, **error_responses(400, 401, 403, 404, 413)},
    )
    def post(self, request, id: int):
        """Record reviews; each first review of a decision becomes its human label (an observed label is
        never replaced: a disagreement is counted instead). A reviewer's second review of a decision counts once."""
        batch = get_object_or_404(ReviewBatch.objects.select_related("model"), pk=id)
        rows = parse_json_body(request, MAX_RESULTS_BYTES)
        try:
            return Response(review.results_record(batch=batch, rows=rows))
        except ValidationError as error:
            raise _bad(error) from None


class ReviewBatchView(APIView):
    permission_classes = [scope_required("ops")]

    @extend_schema(responses={200: ReviewBatchStatusSerializer, **error_responses(401, 403, 404)})
    def get(self, request, id: int):
        """Progress and the Hajek estimates of the batch (weighted by inverse inclusion probability)."""
        batch = get_object_or_404(ReviewBatch.objects.select_related("model"), pk=id)
        return Response(batch_summary(batch=batch))
