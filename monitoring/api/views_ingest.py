"""Bulk ingestion endpoints (scope ``ingest``): predictions, labels, reference data.

Bodies are read by core.api.body (gzip, 413, orjson/CSV), never by DRF's parsers,
and validated column-wise by the services.
"""

import gc
from contextlib import contextmanager

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.body import content_type, parse_csv_body, parse_json_body
from core.api.errors import BadRequest, error_responses
from monitoring.engine.validation import InvalidInput
from monitoring.selectors.registry import model_get, version_get
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.reference import reference_rows_from_csv, reference_store

from .serializers import (
    LabelRow,
    LabelsResult,
    PredictionRow,
    PredictionsResult,
    ReferenceResult,
    ReferenceRowIn,
)

ERRORS = error_responses(400, 401, 403, 404, 413, 415)
GZIP_NOTE = " The body may be gzip-compressed (Content-Encoding: gzip)."


def json_rows(request) -> list:
    """The body as a JSON array of at most VIGIL_MAX_BATCH_ROWS rows, else a 4xx."""
    rows = parse_json_body(request)
    if not isinstance(rows, list):
        raise BadRequest(f"Expected a JSON array of rows, got a JSON {type(rows).__name__}.",
                         {"body": ["Expected a JSON array."]})
    check_row_count(len(rows))
    return rows


def check_row_count(count: int) -> None:
    limit = settings.VIGIL_MAX_BATCH_ROWS
    if count > limit:
        raise BadRequest(f"Too many rows: {count} in one request, the limit is {limit}. Split the batch.",
                         {"body": [f"At most {limit} rows per request."]})


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while a batch is parsed and stored.

    A 10k-row body becomes ~300k dicts, lists and strings, which would trigger dozens of
    collections that find nothing to free (about 12% of the parse time). Reference counting
    still frees everything; the collector runs again as soon as the request is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class IngestView(APIView):
    permission_classes = [scope_required("ingest")]


class PredictionsView(IngestView):
    @extend_schema(
        request=PredictionRow(many=True), responses={200: PredictionsResult, **ERRORS},
        summary="Log predictions (up to 50,000 rows)",
        description="Stores each valid row once per request_id; invalid rows are rejected one by one "
        "with reasons, the others stored." + GZIP_NOTE,
        examples=[OpenApiExample("One row", request_only=True, value=[{
            "request_id": "r-001", "version": "2024-06-01", "timestamp": "2024-06-03T10:00:00Z",
            "features": {"income": 52000, "region": "north", "has_car": True}, "score": 0.83,
            "prediction": 1, "entity_id": "cust-9", "segment": "web"}])],
    )
    def post(self, request, slug: str):
        model = model_get(slug=slug)
        with gc_paused():
            return Response(predictions_ingest(model=model, rows=json_rows(request)))


class LabelsView(IngestView):
    @extend_schema(
        request=LabelRow(many=True), responses={200: LabelsResult, **ERRORS},
        summary="Log labels (true outcomes)",
        description="A later label for a request_id replaces the earlier one. Labels may arrive "
        "before their prediction (pending)." + GZIP_NOTE,
        examples=[OpenApiExample("One label", request_only=True, value=[
            {"request_id": "r-001", "label": 1, "timestamp": "2024-06-10T09:00:00Z"}])],
    )
    def post(self, request, slug: str):
        model = model_get(slug=slug)
        return Response(labels_ingest(model=model, rows=json_rows(request)))


class ReferenceView(IngestView):
    @extend_schema(
        request={"application/json": ReferenceRowIn(many=True), "text/csv": {"type": "string"}},
        responses={200: ReferenceResult, **ERRORS},
        parameters=[OpenApiParameter("append", bool, description="Add to the sample instead of replacing it.")],
        summary="Upload the version's reference (training) sample",
        description="JSON array of {features, score, label} or CSV (one column per feature plus score "
        "and label). Replaces the sample unless append=true. All or nothing: any invalid row "
        "is a 400 naming the row index and field, and nothing is stored." + GZIP_NOTE,
    )
    def post(self, request, slug: str, version: str):
        found = version_get(model=model_get(slug=slug), version=version)
        append = request.query_params.get("append", "").lower() in ("1", "true", "yes")
        try:
            if content_type(request) in ("text/csv", "application/csv"):
                frame = parse_csv_body(request)
                check_row_count(len(frame))
                rows = reference_rows_from_csv(version=found, frame=frame)
            else:
                rows = json_rows(request)
            result = reference_store(version=found, rows=rows, append=append)
        except InvalidInput as exc:
            raise BadRequest(exc.detail, exc.errors) from None
        return Response(result)
