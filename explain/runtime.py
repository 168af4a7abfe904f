"""The explainer layer: one loaded model + its version's schema -> raw outputs, scores, SHAP.

Choice of explainer (recorded as ``explainer``):
- ``tree``: LightGBM and XGBoost boosters (their own exact TreeSHAP via ``pred_contrib``,
  which is what shap.TreeExplainer calls too), scikit-learn trees/forests/gradient boosting,
  also as the last step of a Pipeline (contributions of one-hot columns summed back per
  input feature);
- ``linear``: scikit-learn linear models, shap.LinearExplainer (interventional, exact) with
  the background sample;
- ``permutation``: anything else, permutation SHAP (explain/permutation.py, shap's algorithm
  in numpy) on the whole model with the background sample (additive by construction; the
  per-feature split is an estimate).
"""

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from monitoring.models import ReferenceRow

from .frames import features_frame
from .loading import ArtifactRefused, load_model_object, on_disk
from .models import ModelArtifact
from .selectors import background_rows

ADDITIVITY_TOLERANCE = 1e-6
_TREE_NAMES = (
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "LGBMClassifier",
    "LGBMRegressor",
    "XGBClassifier",
    "XGBRegressor",
)
_LOGIT_CLASSIFIERS = ("LogisticRegression", "LogisticRegressionCV", "GradientBoostingClassifier",
                      "LGBMClassifier", "XGBClassifier")


@dataclass
class ExplainedBatch:
    """SHAP for n rows: ``shap`` (n, features) in raw space, ``base`` (n,), ``raw`` (n,)."""

    shap: np.ndarray
    base: np.ndarray
    raw: np.ndarray

    @property
    def additivity_error(self) -> np.ndarray:
        return np.abs(self.base + self.shap.sum(axis=1) - self.raw)


@dataclass
class ModelRuntime:
    obj: Any
    schema: list[dict]
    kind: str = ""  # lightgbm | xgboost | sklearn
    link: str = "identity"
    explainer: str = ""
    _estimator: Any = None
    _pre: Any = None
    _group: np.ndarray | None = None
    _shap: Any = None
    _background: pd.DataFrame | None = None
    _extra: dict = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.schema]

    def frame(self, rows: list[dict]) -> pd.DataFrame:
        return features_frame(schema=self.schema, rows=rows, raw=self.kind == "sklearn")

    # -- outputs -------------------------------------------------------------------------
    def raw_output(self, X: pd.DataFrame) -> np.ndarray:
        if self.kind == "lightgbm":
            return np.asarray(self.obj.predict(X, raw_score=True, **_lgb_threads(X)), dtype=np.float64)
        if self.kind == "xgboost":
            return np.asarray(self.obj.predict(self._dmatrix(X), output_margin=True), dtype=np.float64)
        return self._sklearn_raw(X)

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of the positive class (binary) or the predicted value (regression)."""
        if self.kind == "lightgbm":
            return np.asarray(self.obj.predict(X, **_lgb_threads(X)), dtype=np.float64)
        if self.kind == "xgboost":
            return np.asarray(self.obj.predict(self._dmatrix(X)), dtype=np.float64)
        if self._extra.get("classifier"):
            return np.asarray(self.obj.predict_proba(X)[:, 1], dtype=np.float64)
        return np.asarray(self.obj.predict(X), dtype=np.float64).reshape(-1)

    def _sklearn_raw(self, X: pd.DataFrame) -> np.ndarray:
        if self._extra.get("classifier"):
            if self.link == "logit":
                return np.asarray(self.obj.decision_function(X), dtype=np.float64).reshape(-1)
            return np.asarray(self.obj.predict_proba(X)[:, 1], dtype=np.float64)
        return np.asarray(self.obj.predict(X), dtype=np.float64).reshape(-1)

    def _dmatrix(self, X: pd.DataFrame):
        import xgboost as xgb

        return xgb.DMatrix(X, enable_categorical=True)

    # -- SHAP ----------------------------------------------------------------------------
    def explain(self, X: pd.DataFrame) -> ExplainedBatch:
        raw = self.raw_output(X)
        if self.kind == "lightgbm":
            contrib = np.asarray(self.obj.predict(X, pred_contrib=True, **_lgb_threads(X)), dtype=np.float64)
            return ExplainedBatch(shap=contrib[:, :-1], base=contrib[:, -1], raw=raw)
        if self.kind == "xgboost":
            contrib = np.asarray(self.obj.predict(self._dmatrix(X), pred_contribs=True), dtype=np.float64)
            return ExplainedBatch(shap=contrib[:, :-1], base=contrib[:, -1], raw=raw)
        if self.explainer == "permutation":
            shap_values, base = self._shap(self._encode(X))
            return ExplainedBatch(shap=shap_values, base=base, raw=raw)
        Xt = self._transform(X)
        values = self._shap.shap_values(Xt)
        values = np.asarray(values, dtype=np.float64)
        base = np.asarray(self._shap.expected_value, dtype=np.float64).reshape(-1)
        if values.ndim == 3:  # (n, features, classes): explain the positive class
            values, base = values[:, :, 1], base[1:2]
        shap_in = values @ self._group if self._group is not None else values
        return ExplainedBatch(shap=shap_in, base=np.full(len(X), float(base[0])), raw=raw)

    def _transform(self, X: pd.DataFrame) -> np.ndarray:
        out = self._pre.transform(X) if self._pre is not None else X
        if hasattr(out, "toarray"):
            out = out.toarray()
        return np.asarray(out, dtype=np.float64)

    # The permutation explainer masks a numeric matrix; categoricals travel as category codes.
    def _encode(self, X: pd.DataFrame) -> np.ndarray:
        columns = []
        for feature in self.schema:
            col = X[feature["name"]]
            if feature.get("type") == "categorical":
                lookup = {c: i for i, c in enumerate(feature.get("categories") or [])}
                columns.append(np.array([lookup.get(v, math.nan) if v is not None else math.nan for v in col]))
            else:
                columns.append(np.asarray(col, dtype=np.float64))
        return np.column_stack(columns) if columns else np.empty((len(X), 0))

    def _decode(self, matrix: np.ndarray) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for j, feature in enumerate(self.schema):
            col = matrix[:, j]
            if feature.get("type") == "categorical":
                cats = feature.get("categories") or []
                data[feature["name"]] = pd.Series(
                    [None if math.isnan(v) else cats[int(v)] for v in col], dtype=object
                )
            else:
                data[feature["name"]] = col.astype(np.float64)
        return pd.DataFrame(data)


def _lgb_threads(X: pd.DataFrame) -> dict:
    # A single decision gains nothing from OpenMP threads and loses milliseconds starting
    # them on a busy machine; batches (trends) keep LightGBM's default.
    return {"num_threads": 1} if len(X) < 64 else {}


def _class_name(obj: Any) -> str:
    return type(obj).__name__


def _one_hot_groups(pre: Any, inputs: list[str]) -> np.ndarray | None:
    """(transformed columns x input features) 0/1 matrix, or None when the mapping is unclear."""
    try:
        names = [str(n) for n in pre.get_feature_names_out()]
    except Exception:
        return None
    group = np.zeros((len(names), len(inputs)))
    for i, name in enumerate(names):
        bare = name.split("__", 1)[1] if "__" in name else name
        matches = [j for j, f in enumerate(inputs) if bare == f or bare.startswith(f + "_")]
        if not matches:
            return None
        best = max(matches, key=lambda j: len(inputs[j]))
        group[i, best] = 1.0
    return group


def build_runtime(*, obj: Any, schema: list[dict], background_rows: list[dict],
                  background_size: int) -> ModelRuntime:
    """Wrap ``obj`` for this schema; raises ArtifactRefused when the model cannot take it."""
    names = [f["name"] for f in schema]
    cls = _class_name(obj)
    runtime = ModelRuntime(obj=obj, schema=schema)
    if cls == "Booster" and type(obj).__module__.startswith("lightgbm"):
        runtime.kind, runtime.explainer = "lightgbm", "tree"
        _check_names(obj.feature_name(), names)
        if obj.num_model_per_iteration() > 1:
            raise ArtifactRefused("Multiclass models are not supported yet: explain a binary or regression model.")
        objective = str(obj.params.get("objective", "")) or _lgb_objective(obj)
        runtime.link = "logit" if objective.startswith(("binary", "cross_entropy")) else "identity"
        return runtime
    if cls == "Booster" and type(obj).__module__.startswith("xgboost"):
        import json

        runtime.kind, runtime.explainer = "xgboost", "tree"
        _check_names(obj.feature_names or [], names)
        objective = json.loads(obj.save_config())["learner"]["objective"]["name"]
        if objective.startswith("multi:"):
            raise ArtifactRefused("Multiclass models are not supported yet: explain a binary or regression model.")
        runtime.link = "logit" if objective.startswith("binary:logi") else "identity"
        return runtime
    return _build_sklearn(runtime, obj, names, background_rows, background_size)


def _lgb_objective(booster: Any) -> str:
    for line in booster.model_to_string(num_iteration=0).splitlines()[:20]:
        if line.startswith("objective="):
            return line.split("=", 1)[1]
    return ""


def _check_names(found: list[str], expected: list[str]) -> None:
    found = [str(n) for n in found]
    if found != expected:
        raise ArtifactRefused(
            "The model's features do not match the version's schema (names and order must be equal): "
            f"model has {found}, schema has {expected}.",
            {"features": [f"model: {found}", f"schema: {expected}"]},
        )


def _build_sklearn(runtime: ModelRuntime, obj: Any, names: list[str], background_rows: list[dict],
                   background_size: int) -> ModelRuntime:
    from sklearn.base import is_classifier
    from sklearn.pipeline import Pipeline

    if not hasattr(obj, "predict"):
        raise ArtifactRefused(f"The file holds a {_class_name(obj)}, not a model with predict().")
    runtime.kind = "sklearn"
    found = getattr(obj, "feature_names_in_", None)
    if found is None:
        raise ArtifactRefused(
            "The model was fitted without feature names: fit it on a pandas DataFrame whose columns "
            "are the schema's features.", {"features": ["feature_names_in_ is missing"]}
        )
    _check_names(list(found), names)
    estimator, pre = (obj.steps[-1][1], obj[:-1]) if isinstance(obj, Pipeline) else (obj, None)
    if len(getattr(pre, "steps", [])) == 0:
        pre = None
    classifier = is_classifier(obj)
    if classifier and len(getattr(obj, "classes_", [])) != 2:
        raise ArtifactRefused("Multiclass models are not supported yet: explain a binary or regression model.")
    runtime._extra["classifier"] = classifier
    runtime._estimator, runtime._pre = estimator, pre
    cls = _class_name(estimator)
    if classifier and cls in _LOGIT_CLASSIFIERS:
        runtime.link = "logit"
    background = runtime.frame(background_rows[:background_size])
    runtime._background = background
    group = _one_hot_groups(pre, names) if pre is not None else None
    if pre is not None and group is None:
        return _permutation(runtime, background)
    runtime._group = group
    import shap
    from sklearn.linear_model._base import LinearModel

    try:
        if cls in _TREE_NAMES:
            runtime._shap = shap.TreeExplainer(estimator)
            runtime.explainer = "tree"
            return runtime
        if isinstance(estimator, LinearModel) or cls.startswith("LogisticRegression"):
            if classifier and runtime.link != "logit":
                return _permutation(runtime, background)
            runtime._shap = shap.LinearExplainer(estimator, runtime._transform(background))
            runtime.explainer = "linear"
            return runtime
    except Exception:  # shap cannot handle this estimator exactly: fall back below
        runtime._group = group
    return _permutation(runtime, background)


def _permutation(runtime: ModelRuntime, background: pd.DataFrame) -> ModelRuntime:
    from .permutation import permutation_shap

    runtime._group, runtime._pre = None, None
    runtime.explainer = "permutation"
    encoded_background = runtime._encode(background)

    def model_fn(matrix: np.ndarray) -> np.ndarray:
        return runtime.raw_output(runtime._decode(matrix))

    runtime._shap = lambda matrix: permutation_shap(model=model_fn, rows=matrix, background=encoded_background)
    return runtime


_RUNTIMES: OrderedDict[tuple, ModelRuntime] = OrderedDict()
_RUNTIMES_LOCK = threading.Lock()
_RUNTIMES_SIZE = 16


def runtime_remember(*, key: tuple, runtime: ModelRuntime) -> None:
    with _RUNTIMES_LOCK:
        _RUNTIMES[key] = runtime
        while len(_RUNTIMES) > _RUNTIMES_SIZE:
            _RUNTIMES.popitem(last=False)


def runtime_for(*, artifact: ModelArtifact) -> ModelRuntime:
    """The explainer layer for an artifact, cached per process by (sha256, version)."""
    key: tuple = (artifact.sha256, artifact.version_id)
    if artifact.explainer in ("linear", "permutation"):
        # These depend on the background sample: rebuild when the reference data changed.
        key += (ReferenceRow.objects.filter(version_id=artifact.version_id).count(),)
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(key)
        if runtime is not None:
            _RUNTIMES.move_to_end(key)
            return runtime
    try:
        obj = load_model_object(path=artifact.file.path, fmt=artifact.format, sha256=artifact.sha256)
    except NotImplementedError:  # a storage without local paths: load from a temporary copy
        with artifact.file.open("rb") as handle, on_disk(None, handle) as path:
            obj = load_model_object(path=path, fmt=artifact.format, sha256=artifact.sha256)
    version = artifact.version
    runtime = build_runtime(obj=obj, schema=version.features, background_rows=background_rows(version=version),
                            background_size=settings.VIGIL_SHAP_BACKGROUND)
    runtime_remember(key=key, runtime=runtime)
    return runtime
