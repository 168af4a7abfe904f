"""The health verdict of a model version: the same findings the pages and the alerts read."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.errors import error_responses
from monitoring.engine.window import clean
from monitoring.health import KINDS, STATUSES
from monitoring.selectors.health import version_health

from .views_metrics import _when, resolve_version


class FindingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    severity = serializers.ChoiceField(choices=["warning", "critical"])
    summary = serializers.CharField(help_text="Plain words: what, since when, how sure.")
    since = serializers.DateTimeField(allow_null=True, help_text="Start of the first window of the finding's run.")
    features = serializers.ListField(child=serializers.CharField())
    metric = serializers.CharField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    expected = serializers.ListField(child=serializers.FloatField(), allow_null=True,
                                     help_text="[low, high]: the band the value should be in.")
    interval = serializers.ListField(child=serializers.FloatField(), allow_null=True,
                                     help_text="95% confidence interval of value, where it comes from counts.")
    n = serializers.IntegerField(allow_null=True, help_text="Rows (labelled rows for performance) behind the value.")
    basis = serializers.CharField(help_text="How the expected band was set.")


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES)
    version = serializers.CharField()
    findings = FindingSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField(), help_text="What could not be judged, and why.")


class HealthView(APIView):
    permission_classes = [scope_required("read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("version", OpenApiTypes.STR, description="model version (default: production)"),
            OpenApiParameter("at", OpenApiTypes.DATETIME,
                             description="the verdict as of this moment (default: now), from the windows stored"),
        ],
        responses={200: HealthSerializer, **error_responses(400, 401, 403, 404)},
        summary="Health verdict: status and findings",
        description=(
            "Findings from the stored daily analyses: inputs (drift, quality, volume) on the newest closed "
            "day against bands learned from the same weekday's history and the reference; performance on "
            "windows whose labels have matured, against the reference with a confidence interval; the "
            "label-free estimate until labels land. docs/statistics.md says how each verdict is reached."
        ),
    )
    def get(self, request, slug: str):
        at = _when(request, "at")
        version = resolve_version(request, slug)
        health = version_health(version=version, now=at)
        return Response(clean({"version": version.version, **health.to_dict()}))
