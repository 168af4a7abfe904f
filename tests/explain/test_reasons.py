"""Plain-language reasons for a known case (no database needed)."""

from explain.models import Explanation
from explain.probability import probability_points
from explain.reasons import reasons_for
from monitoring.models import MLModel, ModelVersion

SCHEMA = [
    {"name": "debt_to_income", "type": "numeric"},
    {"name": "income", "type": "numeric", "display_name": "Monthly income", "unit": "EUR"},
    {"name": "years_employed", "type": "numeric", "unit": "years"},
    {"name": "region", "type": "categorical", "display_name": "Region"},
    {"name": "has_car", "type": "boolean", "display_name": "Owns a car"},
]


def _version(**metadata) -> ModelVersion:
    return ModelVersion(model=MLModel(slug="loan", name="Loan default", task="binary_classification"),
                        version="v1", features=SCHEMA, metadata=metadata)


def _explanation() -> Explanation:
    return Explanation(
        explainer="tree", link="logit", base_value=-1.0, output=0.1, probability=0.52497918747894,
        base_probability=0.2689414213699951, additivity_error=0.0,
        contributions=[
            {"feature": "debt_to_income", "value": 0.63, "shap": 0.6, "probability_points": 9.4},
            {"feature": "income", "value": 2150.0, "shap": -0.4, "probability_points": -6.26},
            {"feature": "years_employed", "value": 1, "shap": 0.35, "probability_points": 5.48},
            {"feature": "region", "value": "south", "shap": 0.3, "probability_points": 4.7},
            {"feature": "has_car", "value": True, "shap": -0.05, "probability_points": -0.78},
            {"feature": "age", "value": None, "shap": 0.0, "probability_points": 0.0},
        ],
    )


def test_reasons_sentences_for_a_known_case():
    reasons = reasons_for(explanation=_explanation(), version=_version(score_label="the default risk"))
    assert reasons["up"] == [
        "debt_to_income = 0.63 raised the default risk by 9 points",
        "years_employed = 1 years raised the default risk by 5 points",
        "Region = south raised the default risk by 5 points",
    ]
    assert reasons["down"] == [
        "Monthly income = 2,150 EUR lowered the default risk by 6 points",
        "Owns a car = yes lowered the default risk by 0.8 points",
    ]
    assert reasons["summary"] == (
        "The default risk is 52% against an average of 27%. Main factors raising it: debt_to_income, "
        "years_employed, Region. Main factors lowering it: Monthly income, Owns a car."
    )


def test_reasons_default_label_and_top():
    reasons = reasons_for(explanation=_explanation(), version=_version(), top=1)
    assert reasons["up"] == ["debt_to_income = 0.63 raised the predicted probability by 9 points"]
    assert reasons["down"] == ["Monthly income = 2,150 EUR lowered the predicted probability by 6 points"]


def test_regression_reasons_use_output_units():
    explanation = Explanation(explainer="linear", link="identity", base_value=100.0, output=112.5,
                              probability=None, base_probability=None, additivity_error=0.0,
                              contributions=[{"feature": "income", "value": 3000, "shap": 12.5,
                                              "probability_points": None}])
    reasons = reasons_for(explanation=explanation, version=_version())
    assert reasons["up"] == ["Monthly income = 3,000 EUR raised the predicted value by 12.5"]
    assert reasons["summary"] == "The predicted value is 112.5 against an average of 100. Main factors raising it: Monthly income."


def test_probability_points_split_the_probability_change():
    import numpy as np

    shap = np.array([0.6, -0.4, 0.35, 0.3, -0.05])
    points = probability_points(shap=shap, link="logit", base=-1.0, classifier=True)
    expected_total = (1 / (1 + np.exp(-(-1.0 + shap.sum()))) - 1 / (1 + np.exp(1.0))) * 100
    assert np.isclose(points.sum(), expected_total)
    assert np.allclose(points / points.sum(), shap / shap.sum())
    assert probability_points(shap=shap, link="identity", base=0.0, classifier=False) is None
