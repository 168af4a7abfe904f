"""Details of the pages a new user noticed: chart axes, captions, metric names, the waterfall's labels."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest

from explain.charts import waterfall_figure
from monitoring.charts.model import drift_share_figure, performance_figure, prediction_figure
from monitoring.health import primary_metric
from monitoring.models import MLModel, ModelVersion
from monitoring.selectors.dashboard import WindowRow
from monitoring.views.insights import summarise
from monitoring.views.model import model_charts
from monitoring.views.state import state_from_query

T0 = datetime(2026, 6, 1, tzinfo=UTC)
TIMES = [(T0 + timedelta(days=i)).isoformat() for i in range(3)]


def secondary_axes(figure: dict) -> list[dict]:
    return [
        value for key, value in figure["layout"].items() if key.startswith("yaxis") and "overlaying" in value
    ]


@pytest.mark.parametrize(
    "figure",
    [
        performance_figure(times=TIMES, metric="roc_auc", realised=[0.8, 0.7, None], estimated=[None, None, 0.75],
                           coverage=[0.9, 0.5, 0.0]),
        drift_share_figure(times=TIMES, share=[0.1, 0.2, 0.3], multivariate=[0.87, 0.65, 0.43],
                           multivariate_threshold=[0.5, 0.5, 0.5]),
        prediction_figure(times=TIMES, mean=[0.3, 0.4, 0.5], std=[0.1, 0.1, 0.1], drift=[0.01, 0.02, 0.3],
                          drifted=[False, False, True], statistic="psi", label_rate=[0.2, 0.3, 0.4],
                          reference_label_rate=0.25, label_shift=[False, False, True]),
    ],
    ids=["performance", "drift-share", "predictions"],
)  # fmt: skip
def test_secondary_axes_choose_their_own_round_ticks(figure):
    """plotly.js defaults an overlaying axis to tickmode "sync" (ticks at the primary axis' gridlines,
    labelled 87.1, 65, 43, 20.9); each right-hand axis must ask for its own ticks."""
    go.Figure(figure)  # valid for plotly
    axes = secondary_axes(figure)
    assert axes and all(axis["tickmode"] == "auto" and axis["showgrid"] is False for axis in axes)


def rows(metric: str, estimated: bool) -> list[WindowRow]:
    return [
        WindowRow(start=T0 + timedelta(days=i), rows=100, metrics={metric: 30.0 + 5 * i},
                  estimated={metric: 0.7} if estimated else {}, label_coverage=0.5)
        for i in range(4)
    ]  # fmt: skip


def performance_caption(task: str, metric: str, estimated: bool) -> str:
    state, _ = state_from_query({})
    model = SimpleNamespace(slug="m", task=task)
    charts = model_charts(model=model, version=None, rows=rows(metric, estimated), state=state)
    return next(c for c in charts if c["id"] == "performance")["description"]


def test_the_caption_names_the_dashed_estimate_only_when_it_is_drawn():
    regression = performance_caption("regression", "mae", estimated=False)
    assert "dashed" not in regression
    assert regression == "Realised metric from labels (solid), label coverage (bars)."
    # The chart draws the task's primary metric: give the rows that one.
    binary = performance_caption("binary_classification", primary_metric("binary_classification"), estimated=True)
    assert (
        binary == "Realised metric from labels (solid), label-free estimate (dashed), label coverage (bars)."
    )


@pytest.mark.parametrize(
    ("metric", "words"), [("mae", "Realised MAE worsened"), ("rmse", "Realised RMSE worsened"),
                          ("accuracy", "Realised accuracy improved"), ("roc_auc", "Realised ROC AUC improved")],
)  # fmt: skip
def test_summary_writes_metric_names_as_people_do(metric, words):
    sentences = summarise(rows=rows(metric, estimated=False), granularity="day", metric=metric)
    assert any(sentence.startswith(words) for sentence in sentences), sentences


def test_waterfall_labels_every_bar_of_a_wide_model():
    features = [{"name": f"f{i}", "type": "numeric", "display_name": f"Feature {i}"} for i in range(14)]
    version = ModelVersion(
        model=MLModel(name="Loan default", slug="loan-default"), version="v1", features=features
    )
    contributions = [
        {"feature": f"f{i}", "value": float(i), "shap": 0.1 / (i + 1), "probability_points": 2.0 / (i + 1)}
        for i in range(14)
    ]
    explanation = SimpleNamespace(
        contributions=contributions, base_probability=0.2, output=0.6, base_value=-1.3
    )
    figure = waterfall_figure(explanation=explanation, version=version)
    bars = list(figure.data[0].y)
    assert len(bars) == 15  # base, 12 features, "2 other features", total
    assert list(figure.layout.yaxis.ticktext) == bars == list(figure.layout.yaxis.tickvals)
    for i in range(12):
        assert f"Feature {i} = {i}" in figure.layout.yaxis.ticktext
    # Room for every label: at least 20 px per bar (the default 450 px left 6 of 14 labels).
    assert figure.layout.height >= 20 * len(bars) + 100
