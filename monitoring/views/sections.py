"""Sections that apps built on monitoring add to its pages (explain: SHAP importance, dependence, waterfall).

Monitoring never imports those apps: each registers the dotted path of its builders from its
``AppConfig.ready()`` (imported on first use, so workers and commands never load them), and a
page shows a section only when an installed app provides it.
"""

from django.utils.module_loading import import_string

IMPORTANCE = "importance"  # (*, version, start, end) -> {"chart", "flags", "more_flags"}
DEPENDENCE = "dependence"  # (*, version, feature, label, start, end, unit) -> chart
WATERFALL = "waterfall"  # (*, prediction) -> {"chart", "explanation"}
# (*, model, request_id, version) -> {"chart", "explanation", "prediction"} or None: a stored
# explanation whose raw row retention dropped, "prediction" what it kept of the row.
KEPT_EXPLANATION = "kept_explanation"
LIFECYCLE_MODEL = "lifecycle_model"  # (*, request, model) -> HTML of the model page's lifecycle card
LIFECYCLE_VERSION = "lifecycle_version"  # (*, request, version) -> HTML of the version page's card
HUMAN_AUDIT = "human_audit"  # (*, model, start, end, times, realised, estimated) -> chart or None

_builders: dict[str, str] = {}


def section_register(name: str, builder_path: str) -> None:
    _builders[name] = builder_path


def section(name: str, **kwargs) -> dict | None:
    """The section ``name`` built by the app that provides it; None when no installed app does."""
    path = _builders.get(name)
    return None if path is None else import_string(path)(**kwargs)
