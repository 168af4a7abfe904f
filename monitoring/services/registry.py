"""Writes to the model registry: models, versions, their feature schema and stage."""

import math
import re

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from monitoring.engine.validation import InvalidInput
from monitoring.models import MLModel, ModelVersion
from monitoring.models.registry import Stage, Task
from monitoring.signals import production_set

FEATURE_TYPES = ("numeric", "categorical", "boolean")
# Labels become URL segments and part of artifact file names: no separators, no dot-names.
VERSION_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")
FEATURE_KEYS = {"name", "type", "nullable", "min", "max", "categories", "display_name", "unit", "time_derived"}


class AlreadyExists(InvalidInput):
    """The slug or version label is taken (the API answers 409)."""


class StageConflict(InvalidInput):
    """A stage change that would replace or remove a model's production version, or change its
    threshold: that is the promotion gate's, the rollback's or the threshold gate's work, audited
    by the lifecycle (the API answers 409)."""


def _api(slug: str, path: str) -> str:
    return f"POST /api/v1/models/{slug}/{path}"


def stage_change_check(*, model: MLModel, version: ModelVersion, stage: str) -> None:
    """Refuse (StageConflict naming ``stage``) moving ``version`` into production while another
    version is production, or the production version out of it.

    The first production version of a model has nothing to gate against and is allowed.
    """
    current = version.stage
    if stage == Stage.PRODUCTION and current != Stage.PRODUCTION:
        production = (ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).exclude(pk=version.pk)
                      .values_list("version", flat=True).first())
        if production is not None:
            promote = _api(model.slug, f"versions/{version.version}/promote/")
            raise StageConflict(
                f"Model '{model.slug}' already has a production version ({production}): replace it "
                f"through the promotion gate, {promote} (audited).",
                {"stage": [f"Production version {production} is replaced through {promote}."]})
    if current == Stage.PRODUCTION and stage != Stage.PRODUCTION:
        raise StageConflict(
            f"{version.version} is the production version of '{model.slug}': return to the previous one with "
            f"{_api(model.slug, 'rollback/')} or replace it with {_api(model.slug, 'versions/{version}/promote/')} "
            "(both audited).",
            {"stage": [f"Use {_api(model.slug, 'rollback/')} or {_api(model.slug, 'versions/{version}/promote/')}."]})


def threshold_change_check(*, version: ModelVersion, threshold: float | None) -> None:
    """Refuse (StageConflict naming ``threshold``) a new threshold for the production version:
    it goes through the lifecycle's threshold gate."""
    if version.stage == Stage.PRODUCTION and threshold != version.threshold:
        path = _api(version.model.slug, f"versions/{version.version}/threshold/")
        raise StageConflict(
            f"{version.version} is in production: its threshold changes through the gate, {path} (audited).",
            {"threshold": [f"Use {path}."]})


def _lock_model(model: MLModel) -> None:
    # Stage changes of a model are serialised on its row, as the lifecycle's promotion and
    # rollback do: two first-production requests at once must not both pass the check.
    MLModel.objects.select_for_update().filter(pk=model.pk).first()


def model_create(*, slug: str, name: str, task: str, description: str = "", raw_retention_days: int = 90) -> MLModel:
    if task not in Task.values:
        raise InvalidInput(f"Unknown task '{task}'.", {"task": [f"Choose one of {', '.join(Task.values)}."]})
    try:
        with transaction.atomic():
            return MLModel.objects.create(slug=slug, name=name, task=task, description=description,
                                          raw_retention_days=raw_retention_days)
    except IntegrityError:
        raise AlreadyExists(f"A model with slug '{slug}' already exists.",
                            {"slug": ["A model with this slug already exists."]}) from None


def version_create(
    *,
    model: MLModel,
    version: str,
    features: list[dict],
    stage: str = Stage.CANDIDATE,
    threshold: float | None = None,
    classes: list | None = None,
    metadata: dict | None = None,
    actor: str = "",
) -> ModelVersion:
    """Register a version; ``features`` is checked and normalised (see feature_schema_clean).

    Registered as production, it replaces the model's production version (recorded by the lifecycle).
    """
    if not isinstance(version, str) or not VERSION_LABEL.fullmatch(version):
        raise InvalidInput(
            "Invalid version label: use 1-100 letters, digits, '.', '_', '-' or '+', starting with a letter or digit.",
            {"version": ["1-100 characters among letters, digits, '.', '_', '-', '+'; "
                         "the first a letter or digit."]})
    _check_stage(stage)
    metadata = _clean_metadata(metadata or {})
    schema = feature_schema_clean(features)
    threshold = _clean_threshold(model, threshold)
    classes = _clean_classes(model, classes)
    now = timezone.now()
    try:
        with transaction.atomic():
            previous = None
            if stage == Stage.PRODUCTION:
                _lock_model(model)
                previous = ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).first()
            created = ModelVersion.objects.create(
                model=model, version=version, stage=stage, features=schema, threshold=threshold,
                classes=classes, metadata=metadata,
                promoted_at=now if stage == Stage.PRODUCTION else None,
            )
            if stage == Stage.PRODUCTION:
                # Registering a new version straight into production (the contract's
                # POST .../versions/ with "stage": "production") replaces the current one, which
                # stays the rollback target. A new version has no shared traffic, so there is no
                # gate to run; the lifecycle records the switch as ungated in its timeline.
                if previous is not None:
                    ModelVersion.objects.filter(pk=previous.pk).update(stage=Stage.ARCHIVED)
                production_set.send(sender=ModelVersion, version=created, actor=actor, previous=previous)
            return created
    except IntegrityError:
        raise AlreadyExists(f"Model '{model.slug}' already has a version '{version}'.",
                            {"version": ["This version already exists for the model."]}) from None


def version_update(*, version: ModelVersion, changes: dict, actor: str = "") -> ModelVersion:
    """Change ``stage``, ``threshold`` and/or ``metadata``; moving to production sets ``promoted_at``.

    StageConflict when the change belongs to the lifecycle (``stage_change_check``), or sets the
    threshold of the production version (its own gate: POST .../threshold/).
    """
    unknown = set(changes) - {"stage", "threshold", "metadata"}
    if unknown:
        raise InvalidInput("Only stage, threshold and metadata can be changed.",
                           {key: ["Cannot be changed."] for key in sorted(unknown)})
    if "stage" in changes:
        _check_stage(changes["stage"])
    with transaction.atomic():
        _lock_model(version.model)
        # Stage and threshold as they are now, under the lock (a promotion or the threshold gate
        # may have changed them since ``version`` was read).
        version.stage, version.threshold = (ModelVersion.objects.filter(pk=version.pk)
                                            .values_list("stage", "threshold").get())
        became_production = False
        if "stage" in changes:
            stage_change_check(model=version.model, version=version, stage=changes["stage"])
            became_production = changes["stage"] == Stage.PRODUCTION and version.stage != Stage.PRODUCTION
            if became_production:
                version.promoted_at = timezone.now()
            version.stage = changes["stage"]
        if "threshold" in changes:
            threshold = _clean_threshold(version.model, changes["threshold"])
            if not became_production:
                threshold_change_check(version=version, threshold=threshold)
            version.threshold = threshold
        if "metadata" in changes:
            version.metadata = _clean_metadata(changes["metadata"])
        version.save(update_fields=["stage", "promoted_at", "threshold", "metadata"])
        if became_production:
            production_set.send(sender=ModelVersion, version=version, actor=actor)
    return version


def feature_schema_clean(features: list) -> list[dict]:
    """Check a feature schema and fill defaults (nullable True); InvalidInput names the entry."""
    if not isinstance(features, list):
        raise InvalidInput("features must be a list.", {"features": ["Expected a list of feature objects."]})
    if b"\\u0000" in orjson.dumps(features):
        raise InvalidInput("features contain a NUL character (\\u0000), which cannot be stored.",
                           {"features": ["Contains a NUL character."]})
    errors: dict[str, list[str]] = {}
    clean: list[dict] = []
    seen: set[str] = set()
    for i, spec in enumerate(features):
        key = f"features[{i}]"
        if not isinstance(spec, dict):
            errors[key] = ["Expected an object with name and type."]
            continue
        problems = _feature_problems(spec, seen)
        if problems:
            errors[key] = problems
            continue
        seen.add(spec["name"])
        entry = {"name": spec["name"], "type": spec["type"], "nullable": spec.get("nullable", True)}
        for optional in ("min", "max", "categories", "display_name", "unit"):
            if spec.get(optional) is not None:
                entry[optional] = spec[optional]
        if spec.get("time_derived"):
            entry["time_derived"] = True
        clean.append(entry)
    if errors:
        first = next(iter(errors))
        raise InvalidInput(f"Invalid feature schema: {first}: {errors[first][0]}", errors)
    return clean


def _feature_problems(spec: dict, seen: set[str]) -> list[str]:
    problems = []
    name, kind = spec.get("name"), spec.get("type")
    if not isinstance(name, str) or not name or len(name) > 200:
        problems.append("name: a non-empty string of at most 200 characters is required.")
    elif name in seen:
        problems.append(f"name: '{name}' is declared twice.")
    if kind not in FEATURE_TYPES:
        problems.append(f"type: choose one of {', '.join(FEATURE_TYPES)}.")
    unknown = set(spec) - FEATURE_KEYS
    if unknown:
        problems.append(f"unknown keys: {', '.join(sorted(unknown))}.")
    for flag, default in (("nullable", True), ("time_derived", False)):
        if not isinstance(spec.get(flag, default), bool):
            problems.append(f"{flag}: expected true or false.")
    for bound in ("min", "max"):
        value = spec.get(bound)
        if value is None:
            continue
        if kind != "numeric":
            problems.append(f"{bound}: only numeric features have a range.")
        elif type(value) not in (int, float) or not math.isfinite(value):
            problems.append(f"{bound}: expected a finite number.")
    if not problems and spec.get("min") is not None and spec.get("max") is not None and spec["min"] > spec["max"]:
        problems.append("min: must not exceed max.")
    categories = spec.get("categories")
    if categories is not None:
        if kind != "categorical":
            problems.append("categories: only categorical features have categories.")
        elif not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            problems.append("categories: expected a list of strings.")
        elif len(set(categories)) != len(categories):
            problems.append("categories: contains duplicates.")
    for text in ("display_name", "unit"):
        if spec.get(text) is not None and not isinstance(spec[text], str):
            problems.append(f"{text}: expected a string.")
    return problems


def _clean_metadata(metadata) -> dict:
    """Free-form metadata, bounded: an object of at most VIGIL_MAX_METADATA_BYTES as JSON,
    VIGIL_MAX_METADATA_DEPTH levels deep, with no NUL character (jsonb cannot hold one)."""
    if not isinstance(metadata, dict):
        raise InvalidInput("metadata must be an object.", {"metadata": ["Expected an object."]})
    most_deep, most_bytes = settings.VIGIL_MAX_METADATA_DEPTH, settings.VIGIL_MAX_METADATA_BYTES
    stack, depth = [(metadata, 1)], 1
    while stack:  # iterative: a deep document must not exhaust the interpreter's stack
        value, level = stack.pop()
        depth = max(depth, level)
        if depth > most_deep:
            raise InvalidInput(f"metadata is nested deeper than {most_deep} levels.",
                               {"metadata": [f"At most {most_deep} levels of nesting."]})
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    text = orjson.dumps(metadata)
    if len(text) > most_bytes:
        raise InvalidInput(f"metadata is larger than {most_bytes} bytes as JSON.",
                           {"metadata": [f"At most {most_bytes} bytes as JSON."]})
    if b"\\u0000" in text:
        raise InvalidInput("metadata contains a NUL character (\\u0000), which cannot be stored.",
                           {"metadata": ["Contains a NUL character."]})
    return metadata


def _check_stage(stage: str) -> None:
    if stage not in Stage.values:
        raise InvalidInput(f"Unknown stage '{stage}'.", {"stage": [f"Choose one of {', '.join(Stage.values)}."]})


def _clean_threshold(model: MLModel, threshold) -> float | None:
    if threshold is None:
        return None
    if type(threshold) not in (int, float) or not math.isfinite(threshold):
        raise InvalidInput("threshold must be a finite number.", {"threshold": ["Expected a finite number."]})
    if model.task == Task.BINARY and not 0 <= threshold <= 1:
        raise InvalidInput("threshold must be between 0 and 1.", {"threshold": ["Expected a value in [0, 1]."]})
    return float(threshold)


def _clean_classes(model: MLModel, classes) -> list | None:
    if model.task != Task.MULTICLASS:
        if classes is not None:
            raise InvalidInput("Only multiclass models have classes.", {"classes": ["Only for multiclass models."]})
        return None
    if (
        not isinstance(classes, list)
        or len(classes) < 2
        or not all(type(c) in (str, int) for c in classes)
        or len({str(c) for c in classes}) != len(classes)
    ):
        raise InvalidInput("classes: a multiclass model needs a list of at least 2 distinct classes.",
                           {"classes": ["Expected a list of at least 2 distinct strings or integers."]})
    return classes
