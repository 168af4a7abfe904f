"""The version page: metadata, reference profile, and a side-by-side with another version."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from monitoring.charts.feature import score_compare_figure
from monitoring.models import MLModel
from monitoring.selectors.dashboard import profile_summary, range_metrics, score_histograms, segments_of

from .access import scientist_required
from .insights import PRIMARY_METRIC
from .render import chart
from .sections import LIFECYCLE_VERSION, section
from .state import check_segment, range_links, state_from_query

KNOWN_METADATA = {
    "hyperparameters": "Hyperparameters",
    "code_commit": "Code commit",
    "commit": "Code commit",
    "training_data": "Training data",
    "training_period": "Training data period",
    "trained_at": "Trained at",
}


def _metadata(meta: dict) -> tuple[list[tuple[str, object]], dict]:
    known = [(label, meta[key]) for key, label in KNOWN_METADATA.items() if key in meta]
    rest = {k: v for k, v in meta.items() if k not in KNOWN_METADATA}
    return known, rest


@scientist_required
def version_page(request, slug: str, version: str):
    state, errors = state_from_query(request.GET)
    model = get_object_or_404(MLModel, slug=slug)
    versions = list(model.versions.all())
    current = next((v for v in versions if v.version == version), None)
    if current is None:
        raise Http404(f"Model {slug} has no version {version!r}.")
    others = [v for v in versions if v.pk != current.pk]
    compare_name = request.GET.get("compare", "")
    other = next((v for v in others if v.version == compare_name), None)
    if compare_name and other is None:
        errors["compare"] = f"No version {compare_name!r} to compare with."
    if other is None and others and not compare_name:
        other = others[0]
    compared = [current] + ([other] if other else [])
    segments = segments_of(version=current)
    state = check_segment(state, segments, errors)
    bins, series = score_histograms(versions=compared, start=state.start, end=state.end, segment=state.segment)
    metric = PRIMARY_METRIC.get(model.task, "accuracy")
    metrics = {v.pk: range_metrics(version=v, start=state.start, end=state.end, segment=state.segment) for v in compared}
    metric_names = sorted({name for m in metrics.values() for name in m["metrics"]})
    known, rest = _metadata(current.metadata or {})
    context = {
        "nav": "dashboards",
        "model": model,
        "version": current,
        "other": other,
        "others": others,
        "versions": [],
        "state": state,
        "errors": errors,
        "ranges": range_links(state, **({"compare": other.version} if other else {})),
        "known_metadata": known,
        "other_metadata": rest,
        "profile": profile_summary(version=current),
        "compare_chart": chart("score-compare", score_compare_figure(bins=bins, series=series)),
        "metric": metric,
        "metric_rows": [
            (name, [metrics[v.pk]["metrics"].get(name) for v in compared]) for name in metric_names
        ],
        "volume_rows": [(v.version, metrics[v.pk]) for v in compared],
        "compared": compared,
        "compare_value": other.version if other else "",
        "segments": segments,
        "lifecycle": section(LIFECYCLE_VERSION, request=request, version=current),
    }
    return render(request, "monitoring/version.html", context)
