"""Serving-side API: the active overrides of a model (with ETag) and reranking of candidates."""

import math

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.body import parse_json_body
from core.api.errors import BadRequest, error_responses

from .. import clock
from ..rerank import apply_overrides
from ..selectors import overrides_snapshot
from .serializers import RerankRequestSerializer, RerankResponseSerializer, ServingOverridesSerializer


def _etag_matches(header: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2): a W/ prefix does not matter.
    candidates = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in candidates or etag in candidates


class OverridesView(APIView):
    permission_classes = [scope_required("ops", "read")]

    @extend_schema(
        responses={200: ServingOverridesSerializer, 304: OpenApiResponse(description="Not modified: no body."),
                   **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str):
        """The blacklist entries and boosts in force now for this model (including all-model entries).

        Answers 304 with no body when If-None-Match carries the current ETag.
        """
        now = clock.now()
        etag, active = overrides_snapshot(model_slug=slug, at=now)
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = Response(status=304)
        else:
            response = Response(
                {
                    "model": slug,
                    "generated_at": now,
                    "blacklist": [
                        {
                            "item_id": item_id,
                            "scope": entry["scope"],
                            "expires_at": entry["expires_at"],
                            "reason": entry["reason"],
                        }
                        for item_id, entry in active.blacklist.items()
                    ],
                    "boosts": [
                        {
                            "item_id": item_id,
                            "mode": entry["mode"],
                            "value": entry["value"],
                            "starts_at": entry["starts_at"],
                            "ends_at": entry["ends_at"],
                        }
                        for item_id, entry in active.boosts.items()
                    ],
                }
            )
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response


def _invalid(key: str, message: str) -> BadRequest:
    return BadRequest(f"Invalid input: {key}: {message}", {key: [message]})


def parse_candidates(payload) -> tuple[list[tuple[str, float]], str | None]:
    """Validate a rerank body; 400 naming the candidate index on the first bad one."""
    if not isinstance(payload, dict):
        raise _invalid("non_field_errors", "Send a JSON object with a 'candidates' list.")
    raw = payload.get("candidates")
    if not isinstance(raw, list):
        raise _invalid("candidates", "A list is required.")
    limit = settings.VIGIL_RERANK_MAX_CANDIDATES
    if len(raw) > limit:
        raise _invalid("candidates", f"At most {limit} candidates per call; got {len(raw)}.")
    entity_id = payload.get("entity_id")
    if entity_id is not None and not isinstance(entity_id, str):
        raise _invalid("entity_id", "Must be a string.")
    candidates: list[tuple[str, float]] = []
    seen: dict[str, int] = {}
    isfinite = math.isfinite
    for index, candidate in enumerate(raw):
        # Fast path with exact type checks (bool is not int here); the slow path only words the error.
        if type(candidate) is dict:
            item_id, score = candidate.get("item_id"), candidate.get("score")
            if (
                type(item_id) is str
                and item_id
                and (type(score) is float or type(score) is int)
                and isfinite(score)
                and item_id not in seen
            ):
                seen[item_id] = index
                candidates.append((item_id, float(score)))
                continue
        field, problem = _candidate_problem(candidate, seen, index)
        raise _invalid(
            f"candidates[{index}]" + (f".{field}" if field else ""), problem or "Invalid candidate."
        )
    return candidates, entity_id


def _candidate_problem(candidate, seen: dict[str, int], index: int) -> tuple[str, str | None]:
    if not isinstance(candidate, dict):
        return "", "Each candidate must be an object with item_id and score."
    item_id = candidate.get("item_id")
    if not isinstance(item_id, str) or not item_id:
        return "item_id", "A non-empty string is required."
    score = candidate.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return "score", "A finite number is required."
    if item_id in seen:
        return "item_id", f"Duplicate item_id '{item_id}' (first at index {seen[item_id]})."
    seen[item_id] = index
    return "", None


class RerankView(APIView):
    permission_classes = [scope_required("ops", "read")]

    @extend_schema(request=RerankRequestSerializer,
                   responses={200: RerankResponseSerializer, **error_responses(400, 401, 403, 404, 413)})
    def post(self, request, slug: str):
        """Remove blacklisted candidates, apply boosts and return the new order with reasons."""
        candidates, _entity_id = parse_candidates(parse_json_body(request, settings.VIGIL_RERANK_MAX_BYTES))
        etag, active = overrides_snapshot(model_slug=slug, at=clock.now())
        kept, removed = apply_overrides(candidates, active)
        response = Response({"candidates": kept, "removed": removed})
        response["X-Overrides-ETag"] = etag
        return response
