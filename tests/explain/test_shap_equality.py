"""SHAP through Vigil's explainer layer equals shap's own output (1e-6) and adds up."""

import numpy as np
import pytest
import shap

from explain.runtime import build_runtime

from . import factories as f

DATA = f.rows(300)
ROWS = f.rows(40, seed=5)


def _runtime(obj, schema=f.SCHEMA, background=DATA):
    return build_runtime(obj=obj, schema=schema, background_rows=background, background_size=100)


def _assert_additive(explained):
    assert explained.additivity_error.max() <= 1e-6


def test_lightgbm_equals_tree_explainer_with_categoricals():
    _, booster = f.lightgbm_text(DATA)
    runtime = _runtime(booster)
    X = runtime.frame(ROWS)
    ours = runtime.explain(X)
    reference = shap.TreeExplainer(booster)
    theirs = np.asarray(reference.shap_values(X))
    assert runtime.explainer == "tree" and runtime.link == "logit"
    np.testing.assert_allclose(ours.shap, theirs, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.base, reference.expected_value, atol=1e-6)
    np.testing.assert_allclose(ours.raw, booster.predict(X, raw_score=True), atol=1e-12)
    _assert_additive(ours)


def test_xgboost_equals_tree_explainer():
    booster = f.xgboost_model(f.rows(300, schema=f.NUMERIC_SCHEMA), schema=f.NUMERIC_SCHEMA)
    runtime = _runtime(booster, schema=f.NUMERIC_SCHEMA)
    X = runtime.frame(f.rows(40, seed=5, schema=f.NUMERIC_SCHEMA))
    ours = runtime.explain(X)
    reference = shap.TreeExplainer(booster)
    np.testing.assert_allclose(ours.shap, reference.shap_values(X), atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.base, reference.expected_value, atol=1e-6)
    _assert_additive(ours)


def test_sklearn_pipeline_equals_tree_explainer_summed_per_input_feature():
    pipeline = f.sklearn_pipeline(DATA)
    runtime = _runtime(pipeline)
    X = runtime.frame(ROWS)
    ours = runtime.explain(X)
    assert runtime.explainer == "tree"
    transformed = pipeline[:-1].transform(X)
    theirs = np.asarray(shap.TreeExplainer(pipeline[-1]).shap_values(transformed))[:, :, 1]
    # Transformed: income, dti, age, has_car, then region one-hot (three columns) belong to one input feature.
    expected = np.column_stack([theirs[:, 0], theirs[:, 1], theirs[:, 2], theirs[:, 4:7].sum(axis=1),
                                theirs[:, 3]])
    np.testing.assert_allclose(ours.shap, expected, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.raw, pipeline.predict_proba(X)[:, 1], atol=1e-12)
    _assert_additive(ours)


def test_linear_model_equals_linear_explainer():
    data = f.rows(300, schema=f.NUMERIC_SCHEMA)
    pipeline = f.linear_model(data)
    runtime = _runtime(pipeline, schema=f.NUMERIC_SCHEMA, background=data)
    X = runtime.frame(f.rows(40, seed=5, schema=f.NUMERIC_SCHEMA))
    ours = runtime.explain(X)
    assert runtime.explainer == "linear" and runtime.link == "logit"
    background = pipeline[:-1].transform(runtime.frame(data[:100]))
    reference = shap.LinearExplainer(pipeline[-1], background)
    np.testing.assert_allclose(ours.shap, reference.shap_values(pipeline[:-1].transform(X)), atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.raw, pipeline.decision_function(X), atol=1e-12)
    _assert_additive(ours)


def test_other_models_get_an_additive_permutation_explainer():
    from sklearn.neighbors import KNeighborsRegressor

    data = f.rows(200, schema=f.NUMERIC_SCHEMA)
    X = f.frame(data, schema=f.NUMERIC_SCHEMA, raw=True)
    model = KNeighborsRegressor(n_neighbors=5).fit(X, f.labels(data))
    runtime = _runtime(model, schema=f.NUMERIC_SCHEMA, background=data)
    assert runtime.explainer == "permutation" and runtime.link == "identity"
    ours = runtime.explain(runtime.frame(data[:5]))
    _assert_additive(ours)
    background_mean = model.predict(runtime.frame(data[:100])).mean()
    np.testing.assert_allclose(ours.base, background_mean, atol=1e-9)


@pytest.mark.parametrize("missing", ["age", None])
def test_wrong_feature_names_are_refused(missing):
    from explain.loading import ArtifactRefused

    _, booster = f.lightgbm_text(DATA)
    schema = [dict(x) for x in f.SCHEMA]
    if missing:
        schema = [x for x in schema if x["name"] != missing]
    else:
        schema[0], schema[1] = schema[1], schema[0]  # same names, wrong order
    with pytest.raises(ArtifactRefused, match="do not match the version's schema"):
        _runtime(booster, schema=schema)


def test_permutation_shap_is_exact_for_an_additive_model():
    from explain.permutation import permutation_shap

    rng = np.random.default_rng(0)
    weights = np.array([1.5, -2.0, 0.5, 3.0])
    background, rows = rng.normal(size=(50, 4)), rng.normal(size=(6, 4))
    values, base = permutation_shap(model=lambda m: m @ weights + 1.0, rows=rows, background=background)
    np.testing.assert_allclose(values, (rows - background.mean(axis=0)) * weights, atol=1e-12)
    np.testing.assert_allclose(base, background.mean(axis=0) @ weights + 1.0, atol=1e-12)


def test_xgboost_with_categorical_features_is_additive():
    import xgboost as xgb

    X = f.frame(DATA)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3},
                        xgb.DMatrix(X, f.labels(DATA), enable_categorical=True), num_boost_round=10)
    runtime = _runtime(booster)
    rows = runtime.frame(ROWS)
    _assert_additive(runtime.explain(rows))
    expected = booster.predict(xgb.DMatrix(f.frame(ROWS), enable_categorical=True))
    np.testing.assert_allclose(runtime.score(rows), expected, atol=1e-7)
