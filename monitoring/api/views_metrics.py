"""Monitoring reads: drift and performance for any range, time series of stored results.

Answers come from sketches and analysis results only, never from raw prediction rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.auth import scope_required
from core.api.errors import BadRequest, Conflict, error_responses
from core.dates import BadMoment, parse_moment
from monitoring.engine.evaluate import drift_report, quality_report
from monitoring.engine.perf_report import performance_report
from monitoring.engine.window import clean
from monitoring.selectors.metrics import sketch_range_get, version_for
from monitoring.selectors.profile import profile_load
from monitoring.selectors.registry import model_get
from monitoring.selectors.timeseries import METRICS, timeseries_get

from .serializers_metrics import DriftSerializer, PerformanceSerializer, TimeseriesSerializer

DEFAULT_RANGE = timedelta(days=7)

RANGE_PARAMS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME, description="ISO date/datetime, UTC if no offset, years 1678-2261 (default: end - 7 days). "
                     "Must be before end: start == end is a 400"),
    OpenApiParameter("end", OpenApiTypes.DATETIME, description="ISO date/datetime, exclusive, years 1678-2261 (default: now)"),
    OpenApiParameter("version", OpenApiTypes.STR, description="model version (default: the production version)"),
]
SEGMENT = OpenApiParameter("segment", OpenApiTypes.STR, description="restrict to one segment")
ERRORS = error_responses(400, 401, 403, 404, 409)


def _when(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        # A "+" of an offset arrives as a space when the client did not encode it.
        return parse_moment(raw.replace(" ", "+"))
    except BadMoment as exc:
        raise BadRequest(f"Invalid input: {name}: {exc}.", {name: [f"{str(exc).capitalize()}."]}) from None


def parse_range(request) -> tuple[datetime, datetime]:
    start, end = _when(request, "start"), _when(request, "end")
    end = end or (start + DEFAULT_RANGE if start else timezone.now())
    start = start or end - DEFAULT_RANGE
    if start >= end:
        raise BadRequest("Invalid input: start: must be before end.", {"start": ["Must be before end."]})
    return start, end


def name_param(request, name: str) -> str:
    """A version or segment name from the query; NUL cannot be in any stored name."""
    value = request.query_params.get(name, "")
    if "\x00" in value or len(value) > 200:
        raise BadRequest(f"Invalid input: {name}: not a valid name.",
                         {name: ["At most 200 characters, no NUL character."]})
    return value


def resolve_version(request, slug: str):
    model = model_get(slug=slug)
    name = name_param(request, "version") or None
    version = version_for(model=model, version=name)
    if version is None:
        raise NotFound(f"Model '{slug}' has no version '{name}'." if name else f"Model '{slug}' has no version yet.")
    return version


class MetricsView(APIView):
    permission_classes = [scope_required("read")]

    def range_of(self, request, slug: str):
        """The version asked for, its reference profile (409 without one) and the merged sketch of the range."""
        start, end = parse_range(request)
        version = resolve_version(request, slug)
        profile = profile_load(version=version)
        if profile is None:
            raise Conflict(f"Version '{version.version}' has no reference data yet: upload it to compare against.")
        segment = name_param(request, "segment")
        return version, profile, sketch_range_get(version=version, start=start, end=end, segment=segment)


class DriftView(MetricsView):
    @extend_schema(
        parameters=[*RANGE_PARAMS, SEGMENT],
        responses={200: DriftSerializer, **ERRORS},
        summary="Drift of a range against the reference",
        description=(
            "Merges the hourly/daily sketches of [start, end) (widened to whole UTC hours) and compares "
            "them with the version's reference profile: per feature PSI, JS distance, KS statistic and "
            "p-value or chi-squared p-value, Wasserstein distance (reference sd units) and the verdict; "
            "the same for the score; label shift and data quality. The multivariate score is per "
            "window: see the timeseries endpoint (metric=multivariate)."
        ),
    )
    def get(self, request, slug: str):
        version, profile, span = self.range_of(request, slug)
        report = drift_report(profile=profile, sketch=span.sketch, model_settings=version.model.settings)
        body = {
            "window": {"start": span.start, "end": span.end, "rows": int(span.sketch.count("rows"))},
            "version": version.version,
            "complete": span.binned,
            **report,
            "quality": quality_report(profile_layout=profile.layout, sketch=span.sketch),
        }
        return Response(clean(body))


class PerformanceView(MetricsView):
    @extend_schema(
        parameters=[*RANGE_PARAMS, SEGMENT],
        responses={200: PerformanceSerializer, **ERRORS},
        summary="Performance of a range (realised where labelled, estimated for binary models)",
        description=(
            "rows, labelled, label_coverage, metrics (binary: accuracy, precision, recall, f1, fpr, fnr, "
            "roc_auc, log_loss, brier; multiclass: accuracy, macro_f1, weighted_f1; regression: mae, rmse, "
            "mape, r2), confusion_matrix, and for binary models `estimated`: the label-free (CBPE) "
            "estimate of accuracy, precision, recall, f1 and roc_auc over all rows of the range."
        ),
    )
    def get(self, request, slug: str):
        version, profile, span = self.range_of(request, slug)
        report = performance_report(layout=profile.layout, sketch=span.sketch, calibrator=profile.spec.get("calibrator"))
        body = {"window": {"start": span.start, "end": span.end}, "version": version.version, **report}
        return Response(clean(body))


class TimeseriesView(MetricsView):
    @extend_schema(
        parameters=[
            OpenApiParameter("metric", OpenApiTypes.STR, required=True, enum=sorted(METRICS)),
            OpenApiParameter("granularity", OpenApiTypes.STR, enum=["hour", "day"], description="default day"),
            OpenApiParameter("feature", OpenApiTypes.STR, description="feature name (drift and quality metrics)"),
            *RANGE_PARAMS,
            OpenApiParameter("segment", OpenApiTypes.STR,
                             description="one of the version's tracked segments (default: all rows)"),
        ],
        responses={200: TimeseriesSerializer, **ERRORS},
        summary="Time series of one metric from the stored window analyses",
        description='`{"metric", "granularity", "feature", "points": [{"t": ISO, "value": float|null, ...}]}`.',
    )
    def get(self, request, slug: str):
        start, end = parse_range(request)
        metric = request.query_params.get("metric", "")
        if metric not in METRICS:
            raise BadRequest(
                f"Invalid input: metric: unknown metric {metric!r}.", {"metric": [f"One of: {', '.join(sorted(METRICS))}."]}
            )
        granularity = request.query_params.get("granularity", "day")
        if granularity not in ("hour", "day"):
            raise BadRequest("Invalid input: granularity: use hour or day.", {"granularity": ["Use hour or day."]})
        feature = request.query_params.get("feature") or None
        version = resolve_version(request, slug)
        if METRICS[metric].needs_feature:
            names = [*version.feature_names, "score"]
            if feature not in names:
                raise BadRequest(
                    f"Invalid input: feature: metric {metric!r} needs one of the version's features.",
                    {"feature": [f"One of: {', '.join(names)}."]},
                )
        segment = name_param(request, "segment")
        points = timeseries_get(
            version=version, metric=metric, granularity=granularity, start=start, end=end, feature=feature,
            segment=segment,
        )
        body = {"metric": metric, "granularity": granularity, "feature": feature, "version": version.version,
                "segment": segment, "points": points}
        return Response(clean(body))
