"""REST endpoints of the lifecycle: compare, promote, rollback, thresholds, the model's lifecycle state."""

from __future__ import annotations

import math
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.errors import BadRequest, Conflict, error_responses
from lifecycle.models import Event
from lifecycle.selectors.comparison import comparison_get
from lifecycle.selectors.events import event_timeline
from lifecycle.selectors.policy import policy_get
from lifecycle.selectors.staleness import staleness_get
from lifecycle.services.policy import EDITABLE, policy_update
from lifecycle.services.retraining import retraining_evidence
from lifecycle.services.stage import GateRefused, NothingToRollBack, version_promote, version_rollback
from lifecycle.services.threshold import threshold_change, threshold_recommend
from monitoring.api.views_metrics import _when
from monitoring.engine.window import clean
from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.registry import version_production

from . import serializers

ERRORS = error_responses(400, 401, 403, 404, 409)
GATE_ERRORS = {**error_responses(400, 401, 403, 404),
               409: OpenApiResponse(serializers.GateRefusedSerializer, description="The gate did not pass (not forced).")}


def _version(model: MLModel, name: str, field: str = "version") -> ModelVersion:
    found = ModelVersion.objects.filter(model=model, version=name).first()
    if found is None:
        from rest_framework.exceptions import NotFound

        raise NotFound(f"Model '{model.slug}' has no version '{name}' ({field}).")
    return found


def _actor(request) -> str:
    return str(request.user)


def _object(request) -> dict:
    if request.data in (None, ""):
        return {}
    if not isinstance(request.data, dict):
        raise BadRequest("Expected a JSON object.", {"non_field_errors": ["Expected a JSON object."]})
    return request.data


def _bad(exc: ValidationError) -> BadRequest:
    errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    field = next(iter(errors))
    return BadRequest(f"Invalid input: {field}: {errors[field][0]}", errors)


def gate_refused(exc: GateRefused) -> Response:
    gate = exc.gate
    failed = gate.failed_checks()
    return Response({
        "detail": f"The promotion gate answered {gate.outcome}: {', '.join(failed)}. "
                  "Send {\"force\": true, \"reason\": \"...\"} to go ahead anyway.",
        "errors": {"gate": failed},
        "gate": serializers.gate_body(gate),
    }, status=409)


def _gated(request, slug: str, version: str, body: type[serializers.PromoteSerializer],
           change: Callable[..., Event]) -> Response:
    """A gated change of a version (promotion, threshold): ``change(version=, actor=, **body)``;
    409 with the gate's evidence when it does not pass (unless forced), 400 naming the field."""
    found = _version(get_object_or_404(MLModel, slug=slug), version)
    data = body(data=_object(request))
    data.is_valid(raise_exception=True)
    try:
        event = change(version=found, actor=_actor(request), **data.validated_data)
    except GateRefused as exc:
        return gate_refused(exc)
    except ValidationError as exc:
        raise _bad(exc) from None
    return Response(serializers.event_body(event))


class CompareView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("a", OpenApiTypes.STR, description="version A (default: production)"),
            OpenApiParameter("b", OpenApiTypes.STR, required=True, description="version B (e.g. the shadow)"),
            OpenApiParameter("start", OpenApiTypes.DATETIME), OpenApiParameter("end", OpenApiTypes.DATETIME),
        ],
        responses={200: serializers.ComparisonSerializer, **ERRORS},
        summary="Compare two versions on the requests both predicted (paired), else on their own traffic",
        description=(
            "paired, agreement with its 95% Wilson interval, kappa, flipped decisions, Spearman score "
            "correlation, labelled, exact McNemar, metrics of both on the paired labelled requests, ROC AUC "
            "difference with a paired DeLong p-value and its one-sided test at the model's margin (binary "
            "models' primary metric; the gate's roc_auc_change), label-free estimates of both on unlabelled "
            "pairs, the change of accuracy (regression: absolute error) with an anytime-valid 95% confidence "
            "sequence (the verdict's and the gate's metric_change), and the verdict with its reason. With fewer paired requests than the policy's minimum, `unpaired` compares the versions' "
            "disjoint (canary / A-B) traffic with an anytime-valid sequence and non-inferiority at the margin."
        ),
    )
    def get(self, request, slug: str):
        model = get_object_or_404(MLModel, slug=slug)
        name_b = request.query_params.get("b")
        if not name_b:
            raise BadRequest("Invalid input: b: the version to compare is required.", {"b": ["Required."]})
        name_a = request.query_params.get("a")
        a = _version(model, name_a, "a") if name_a else version_production(model=model)
        if a is None:
            raise BadRequest("Invalid input: a: the model has no production version; name one.", {"a": ["Required."]})
        b = _version(model, name_b, "b")
        if a.pk == b.pk:
            raise BadRequest("Invalid input: b: must differ from a.", {"b": ["Must differ from a."]})
        start, end = _when(request, "start"), _when(request, "end")
        if start and end and start >= end:
            raise BadRequest("Invalid input: start: must be before end.", {"start": ["Must be before end."]})
        return Response(clean(comparison_get(model=model, a=a, b=b, start=start, end=end)))


class PromoteView(APIView):
    permission_classes = [scope_required("admin")]

    @extend_schema(request=serializers.PromoteSerializer, responses={200: serializers.StageChangeSerializer, **GATE_ERRORS},
                   summary="Promote a version to production through the promotion gate")
    def post(self, request, slug: str, version: str):
        return _gated(request, slug, version, serializers.PromoteSerializer, version_promote)


class RollbackView(APIView):
    permission_classes = [scope_required("admin")]

    @extend_schema(request=serializers.ReasonSerializer, responses={200: serializers.StageChangeSerializer, **ERRORS},
                   summary="Return production to the previous version")
    def post(self, request, slug: str):
        model = get_object_or_404(MLModel, slug=slug)
        data = serializers.ReasonSerializer(data=_object(request))
        data.is_valid(raise_exception=True)
        try:
            event = version_rollback(model=model, actor=_actor(request), reason=data.validated_data.get("reason", ""))
        except NothingToRollBack as exc:
            raise Conflict(str(exc)) from None
        return Response(serializers.event_body(event))


def _target(request) -> dict:
    params = request.query_params
    given = [name for name in ("min_recall", "min_precision") if params.get(name) not in (None, "")]
    if len(given) != 1:
        msg = "Give exactly one of min_recall and min_precision."
        raise BadRequest(msg, {name: [msg] for name in ("min_recall", "min_precision")})
    name = given[0]
    try:
        value = float(params[name])
    except ValueError:
        value = math.nan
    if not 0.0 < value <= 1.0:
        raise BadRequest(f"Invalid input: {name}: a number in (0, 1].", {name: ["A number in (0, 1]."]})
    return {name: value}


class ThresholdView(APIView):
    permission_classes = [scope_required("read", "admin")]

    def get_permissions(self):
        return [scope_required("admin")()] if self.request.method == "POST" else [scope_required("read")()]

    @extend_schema(
        parameters=[OpenApiParameter("min_recall", OpenApiTypes.FLOAT), OpenApiParameter("min_precision", OpenApiTypes.FLOAT)],
        responses={200: serializers.ThresholdSerializer, **ERRORS},
        summary="The best threshold under a recall (or precision) target, from labelled predictions",
        description="Among thresholds meeting the target, the highest precision (or recall); bounds are the "
                    "lower ends of 95% Clopper-Pearson intervals. `threshold` is null when none meets it.",
    )
    def get(self, request, slug: str, version: str):
        model = get_object_or_404(MLModel, slug=slug)
        found = _version(model, version)
        if model.task != "binary_classification":
            raise Conflict("Thresholds apply to binary classification models only.")
        return Response(clean(threshold_recommend(version=found, **_target(request))))

    @extend_schema(request=serializers.ThresholdChangeSerializer, responses={200: serializers.StageChangeSerializer, **GATE_ERRORS},
                   summary="Set the version's threshold through the gate (409 when it does not pass, unless forced)")
    def post(self, request, slug: str, version: str):
        return _gated(request, slug, version, serializers.ThresholdChangeSerializer, threshold_change)


class LifecycleView(APIView):
    permission_classes = [scope_required("read", "admin")]

    def get_permissions(self):
        return [scope_required("admin")()] if self.request.method == "PATCH" else [scope_required("read")()]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS},
                   summary="The model's lifecycle: policy, timeline, staleness and the retraining trigger")
    def get(self, request, slug: str):
        model = get_object_or_404(MLModel, slug=slug)
        return Response(clean({
            "policy": serializers.policy_body(policy_get(model=model)),
            "staleness": staleness_get(model=model),
            "retraining": retraining_evidence(model=model),
            "timeline": [serializers.event_body(e) for e in event_timeline(model=model)],
        }))

    @extend_schema(request=serializers.PolicySerializer, responses={200: serializers.PolicySerializer, **ERRORS},
                   summary="Change the model's lifecycle policy (margin, minimums, webhooks, watch, retraining)")
    def patch(self, request, slug: str):
        model = get_object_or_404(MLModel, slug=slug)
        body = _object(request)
        unknown = sorted(set(body) - set(EDITABLE))
        if unknown:
            raise BadRequest(f"Invalid input: {unknown[0]}: not a policy setting.", {k: ["Not a policy setting."] for k in unknown})
        data = serializers.PolicySerializer(data=body, partial=True)
        data.is_valid(raise_exception=True)
        try:
            policy = policy_update(model=model, **data.validated_data)
        except ValidationError as exc:
            raise _bad(exc) from None
        return Response(serializers.policy_body(policy))
