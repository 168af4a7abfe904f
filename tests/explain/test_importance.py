"""Importance trends on real data: a feature whose importance jumps is flagged."""

import datetime as dt
import json

import numpy as np
import plotly.graph_objects as go
import pytest
from django.core.management import call_command

from explain import charts, selectors
from explain.dashboards import dependence_chart, importance_section
from explain.importance import importance_refresh_version
from explain.models import ImportanceFlag, ImportanceWindow
from explain.services import artifact_upload

from . import factories as f

pytestmark = pytest.mark.django_db
DAY0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _serve_days(version, booster, days: int, shift_from: int, per_day: int = 60):
    """Predictions per day; from ``shift_from`` on, the applicants are all old (the rare risky group)."""
    for d in range(days):
        data = f.rows(per_day, seed=100 + d)
        if d >= shift_from:
            for i, row in enumerate(data):
                row["age"] = float(73 + i % 7)
        f.add_predictions(version, data, booster.predict(f.frame(data)), DAY0 + dt.timedelta(days=d),
                          prefix=f"d{d}", spacing=dt.timedelta(minutes=10))


@pytest.fixture
def trended(settings):
    settings.VIGIL_IMPORTANCE_SAMPLE_PER_DAY = 50
    version = f.make_version()
    text, booster = f.lightgbm_text(f.rows(300))
    f.add_reference(version, f.rows(80, seed=50))
    artifact_upload(version=version, data=text.encode())
    _serve_days(version, booster, days=6, shift_from=4)
    return version, booster


def test_importance_jump_is_flagged(trended):
    version, _ = trended
    assert importance_refresh_version(version=version) == 6
    trend = selectors.importance_trend(version=version)
    assert [d["day"] for d in trend] == [(DAY0 + dt.timedelta(days=d)).date() for d in range(6)]
    for day in trend:
        assert day["rows"] == 50
        assert sum(i["share"] for i in day["features"]) == pytest.approx(1.0)
    share = {d["day"].day: next(i["share"] for i in d["features"] if i["feature"] == "age") for d in trend}
    assert share[5] > share[4] + 0.2
    flags = selectors.importance_flags(version=version)
    flagged_days = {(x["day"].day, x["feature"]) for x in flags}
    assert (5, "age") in flagged_days and (6, "age") in flagged_days
    assert not any(day < 5 for day, feature in flagged_days if feature == "age")
    assert any(x["baseline"] == "reference" for x in flags) and any(x["baseline"] == "trailing" for x in flags)
    sample = selectors.dependence_sample(version=version, feature="age",
                                         start=DAY0, end=DAY0 + dt.timedelta(days=2))
    assert len(sample["x"]) == len(sample["shap"]) == 100
    assert selectors.importance_reference(version=version)["rows"] == 50  # capped by the daily sample size


def test_only_new_or_touched_days_are_recomputed(trended):
    version, booster = trended
    importance_refresh_version(version=version)
    assert importance_refresh_version(version=version) == 0
    late = f.rows(3, seed=999)
    f.add_predictions(version, late, booster.predict(f.frame(late)), DAY0 + dt.timedelta(days=1, hours=5),
                      prefix="late")
    assert importance_refresh_version(version=version) == 1
    assert ImportanceWindow.objects.get(version=version, day=(DAY0 + dt.timedelta(days=1)).date()).rows_in_day == 63


def test_backfill_command(trended):
    version, _ = trended
    call_command("compute_importance", "--model", "loan", "--since", "2026-11-02", "--until", "2026-11-03")
    days = sorted(ImportanceWindow.objects.filter(version=version, day__isnull=False).values_list("day", flat=True))
    assert [d.day for d in days] == [2, 3]


def _figure(chart: dict) -> go.Figure:
    """The figure a dashboard chart embeds, as plotly reads it."""
    return go.Figure(json.loads(chart["json"]))


def test_charts_have_titles_and_data(trended):
    version, _ = trended
    importance_refresh_version(version=version)
    end = DAY0 + dt.timedelta(days=6)
    trend = _figure(importance_section(version=version, start=DAY0, end=end)["chart"])
    assert "Feature importance over time" in trend.layout.title.text
    assert trend.layout.yaxis.title.text == "Share of total mean |SHAP| (%)"
    assert len(trend.data) >= 5 and all(t.hovertemplate for t in trend.data)
    dependence = _figure(dependence_chart(version=version, feature="age", label="Age", start=DAY0, end=end))
    assert "SHAP dependence" in dependence.layout.title.text and len(dependence.data) == 1
    assert dependence.layout.yaxis.title.text.startswith("SHAP value")
    empty = _figure(importance_section(version=version, start=DAY0 - dt.timedelta(days=30),
                                       end=DAY0 - dt.timedelta(days=20))["chart"])
    assert "No predictions" in empty.layout.annotations[0].text


def test_charts_empty_without_artifact():
    version = f.make_version()
    for figure in (_figure(importance_section(version=version, start=DAY0, end=DAY0 + dt.timedelta(days=1))["chart"]),
                   _figure(dependence_chart(version=version, feature="age", label="Age", start=DAY0,
                                            end=DAY0 + dt.timedelta(days=1))),
                   charts.waterfall_figure(explanation=None, version=version)):
        assert figure.layout.title.text
        assert "artifact" in figure.layout.annotations[0].text
    assert not ImportanceFlag.objects.exists()


def test_waterfall_figure(trended):
    from explain.services import explanation_for_prediction
    from monitoring.models import Prediction

    version, _ = trended
    prediction = Prediction.objects.filter(version=version).first()
    explanation = explanation_for_prediction(prediction=prediction)
    figure = charts.waterfall_figure(explanation=explanation, version=version)
    bars = figure.data[0]
    assert figure.layout.title.text.startswith("Why this decision")
    assert figure.layout.xaxis.title.text == "Probability (%)"
    assert bars.y[0] == "Average (base)" and bars.y[-1] == "This decision"
    # base + bars lands on the decision's probability (in %).
    assert np.isclose(sum(bars.x), explanation.probability * 100)


def test_share_standard_error_and_noise_aware_flags():
    from explain.importance import _jump, importance_summarise

    rng = np.random.default_rng(5)
    shap = rng.normal(size=(400, 3)) * [3.0, 1.0, 0.5]
    items = importance_summarise(names=["a", "b", "c"], shap=shap)
    per_row = np.abs(shap) / np.abs(shap).mean(axis=0).sum()
    for j, item in enumerate(items):
        assert item["share"] == pytest.approx(per_row[:, j].mean())
        assert item["share_se"] == pytest.approx(per_row[:, j].std(ddof=1) / np.sqrt(400))
    # The same move (0.27 -> 0.21, rank unchanged) is a jump from large samples, noise from small ones.
    moved = {"share": 0.21, "rank": 2, "share_se": 0.002}
    assert _jump(moved, 0.27, 2, 0.002, 0.05)
    assert not _jump({**moved, "share_se": 0.03}, 0.27, 2, 0.03, 0.05)
