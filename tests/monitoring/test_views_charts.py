"""Chart builders, URL state and the plain-language readings: pure functions, no database."""

from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import pytest
from django.http import QueryDict

from explain.charts import dependence_figure
from monitoring.charts.base import PALETTE, empty_figure, is_empty
from monitoring.charts.feature import (
    feature_drift_figure,
    feature_quality_figure,
    histogram_overlay_figure,
    score_compare_figure,
)
from monitoring.charts.model import (
    drift_heatmap_figure,
    drift_share_figure,
    performance_figure,
    prediction_figure,
    quality_figure,
    volume_figure,
)
from monitoring.selectors.dashboard import WindowRow, histogram_from_counts, window_row_from_payload
from monitoring.views.insights import health_from_rows, persistent_drift_start, summarise
from monitoring.views.render import figure_json
from monitoring.views.state import state_from_query

T0 = datetime(2026, 6, 1, tzinfo=UTC)
TIMES = [(T0 + timedelta(days=i)).isoformat() for i in range(4)]
OKABE_ITO = {c.lower() for c in PALETTE}


def full_figures():
    return [
        performance_figure(times=TIMES, metric="accuracy", realised=[0.9, 0.9, None, None],
                           estimated=[0.88, 0.9, 0.85, 0.84], coverage=[1, 0.9, 0, 0]),
        drift_heatmap_figure(features=["a", "b"], times=TIMES, values=[[0.01] * 4, [0.01, 0.3, 0.4, 0.5]],
                             drifted=[[False] * 4, [False, True, True, True]],
                             links=[["/a"] * 4, ["/b"] * 4], statistic="psi"),
        drift_share_figure(times=TIMES, share=[0, 0.5, 0.5, 0.5], multivariate=[1, 1, 2, 2],
                           multivariate_threshold=[1.5] * 4),
        prediction_figure(times=TIMES, mean=[0.3] * 4, std=[0.1] * 4, drift=[0.01] * 4, drifted=[False] * 4,
                          statistic="js", label_rate=[0.2, 0.25, None, None], reference_label_rate=0.2,
                          label_shift=[False] * 4),
        quality_figure(times=TIMES, rates={"null": [0, 0.4, 0, 0]}, worst={"null": ["a"] * 4}),
        volume_figure(times=TIMES, volume=[10, 12, 50, 11], anomalies=[False, False, True, False]),
        histogram_overlay_figure(feature="income", bins=["0-1", "1-2"], reference=[0.5, 0.5], current=[0.2, 0.8],
                                 unit="EUR", centres=[0.5, 1.5], widths=[1, 1]),
        feature_drift_figure(feature="income", times=TIMES, psi=[0.01, 0.2, 0.3, 0.3], js=[0.01, 0.1, 0.2, 0.2],
                             psi_threshold=[0.1] * 4, js_threshold=[0.08] * 4, highlight=TIMES[1]),
        feature_quality_figure(feature="income", times=TIMES, null_rate=[0, 0.1, 0, 0],
                               out_of_range_rate=[0] * 4, unseen_rate=[None] * 4),
        dependence_figure(feature="income", values=[1, 2, 3], shap=[-0.1, 0, 0.2], unit="EUR"),
        score_compare_figure(bins=["0-0.5", "0.5-1"], series=[("v1", [0.4, 0.6]), ("v2", [0.5, 0.5])]),
    ]


@pytest.mark.parametrize("figure", full_figures(), ids=lambda f: f["layout"]["title"]["text"])
def test_every_chart_is_valid_titled_and_colour_blind_safe(figure):
    go.Figure(figure)  # plotly's own validation of every property
    layout = figure["layout"]
    assert layout["title"]["text"]
    assert layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
    for trace in figure["data"]:
        assert trace.get("hovertemplate") or trace.get("hoverinfo") == "skip"
        colours = [trace.get("line", {}).get("color"), trace.get("marker", {}).get("color")]
        for colour in colours:
            if isinstance(colour, str) and colour.startswith("#"):
                assert colour.lower() in OKABE_ITO | {"#7f7f7f", "#1d2330"}, colour
    assert not is_empty(figure)


@pytest.mark.parametrize(
    ("figure", "reason"),
    [
        (performance_figure(times=TIMES, metric="accuracy", realised=[None] * 4, estimated=[None] * 4,
                            coverage=[0] * 4), "No labels yet"),
        (drift_heatmap_figure(features=[], times=TIMES, values=[], drifted=[], links=[], statistic="psi"),
         "No reference data"),
        (volume_figure(times=[], volume=[], anomalies=[]), "No predictions in this range"),
        (histogram_overlay_figure(feature="f", bins=["a"], reference=[0.0], current=[1.0]), "No reference data"),
        (dependence_figure(feature="f", values=[], shap=[], reason="No model artifact"), "No model artifact"),
    ],
)
def test_empty_states_say_why(figure, reason):
    go.Figure(figure)
    assert is_empty(figure)
    assert figure["data"] == []
    assert reason in figure["layout"]["annotations"][0]["text"]


def test_empty_figure_wraps_long_reasons():
    figure = empty_figure(title="t", reason="word " * 40)
    assert "<br>" in figure["layout"]["annotations"][0]["text"]


def test_heatmap_marks_drifted_cells_and_carries_links():
    fig = full_figures()[1]
    heatmap, marks = fig["data"]
    assert heatmap["customdata"][1][2] == "/b"
    assert list(zip(marks["x"], marks["y"], strict=True)) == [(TIMES[1], "b"), (TIMES[2], "b"), (TIMES[3], "b")]


def test_figure_json_cannot_close_the_script_element():
    text = figure_json({"data": [], "layout": {"title": {"text": "</script><script>alert(1)"}}})
    assert "</script>" not in text and "<" not in text


def test_numeric_histogram_regroups_fine_bins_onto_display_intervals():
    edges = [0.0, 1.0, 2.0, 3.0, 4.0]  # 6 fine bins, tails included
    hist = histogram_from_counts(kind="numeric", edges=edges, categories=None,
                                 reference=[1, 1, 1, 1, 1, 1], current=[0, 0, 0, 0, 0, 6], n_groups=4)
    assert len(hist.bins) == 4 and hist.centres == [0.5, 1.5, 2.5, 3.5]
    assert sum(hist.reference) == pytest.approx(1) and hist.current[-1] == pytest.approx(1)
    cat = histogram_from_counts(kind="categorical", edges=None, categories=["a", "b"], reference=[3, 1],
                                current=[1, 1], unseen={"zz": 2})
    assert cat.bins == ["a", "b", "zz (unseen)"] and cat.current == [0.25, 0.25, 0.5] and cat.reference[-1] == 0


def test_state_defaults_and_round_trip():
    now = datetime(2026, 6, 30, 12, 30, tzinfo=UTC)
    state, errors = state_from_query(QueryDict(""), now=now)
    assert not errors and state.range == "30d" and state.granularity == "day"
    assert state.end == datetime(2026, 6, 30, 13, tzinfo=UTC) and state.start == datetime(2026, 5, 31, tzinfo=UTC)
    again, _ = state_from_query(QueryDict(state.query(stat="js", version="v2")), now=now)
    assert (again.stat, again.version, again.range) == ("js", "v2", "30d")
    hourly, _ = state_from_query(QueryDict("range=24h"), now=now)
    assert hourly.granularity == "hour" and hourly.end - hourly.start == timedelta(hours=24)


def test_state_custom_range_and_limits():
    now = datetime(2026, 6, 30, tzinfo=UTC)
    state, errors = state_from_query(QueryDict("range=custom&start=2026-06-01&end=2026-06-10&granularity=hour"), now=now)
    assert not errors
    assert state.start == datetime(2026, 6, 1, tzinfo=UTC) and state.end == datetime(2026, 6, 11, tzinfo=UTC)
    assert state.granularity == "hour"
    assert "start=2026-06-01" in state.query() and "end=2026-06-10" in state.query()
    long, _ = state_from_query(QueryDict("range=90d&granularity=hour"), now=now)
    assert long.granularity == "day" and long.notices
    bad, errors = state_from_query(QueryDict("range=custom&start=2026-06-10&end=2026-06-01"), now=now)
    assert "end" in errors and bad.range == "30d"


def _row(day: int, drifted: set[str], accuracy: float | None = None, nulls: float = 0.0, **extra) -> WindowRow:
    return WindowRow(
        start=T0 + timedelta(days=day),
        rows=100,
        drift={f: {"psi": 0.3 if f in drifted else 0.01, "js": 0.1, "drifted": f in drifted} for f in ("income", "region", "age")},
        quality={"age": {"null_rate": nulls, "out_of_range_rate": 0.0, "unseen_rate": 0.0}},
        metrics={} if accuracy is None else {"accuracy": accuracy},
        **extra,
    )


def test_persistent_drift_needs_the_verdict_to_stay():
    assert persistent_drift_start([False, False, True, True, True]) == 2
    assert persistent_drift_start([False, True, False, False, False]) is None
    assert persistent_drift_start([True, True, False, True, True, True, True]) == 0


def test_summary_names_what_changed_and_when():
    rows = [_row(d, {"income", "region"} if d >= 19 else set(), accuracy=0.91 if d < 25 else 0.84,
                 nulls=0.4 if d == 10 else 0.0) for d in range(28)]
    rows[5].drift["age"]["drifted"] = True  # a one-window blip is not a change
    sentences = summarise(rows=rows, granularity="day", metric="accuracy")
    assert "income and region drifted from 20 June." in sentences
    assert "age null rate peaked at 40% on 11 June." in sentences
    assert "Realised accuracy fell from 0.91 to 0.84." in sentences
    assert not any(s.startswith("age drifted") for s in sentences)


def test_summary_without_change():
    rows = [_row(d, set(), accuracy=0.9) for d in range(5)]
    assert summarise(rows=rows, granularity="day", metric="accuracy") == [
        "No feature drifted persistently.",
        "Realised accuracy held at 0.90 (1 June to 5 June).",
    ]


def test_health_levels_and_reasons():
    assert health_from_rows(rows=[_row(d, set()) for d in range(3)], metric="accuracy").status == "ok"
    one = health_from_rows(rows=[_row(d, {"income"}) for d in range(3)], metric="accuracy")
    assert one.status == "critical" and one.reasons == ["drift in income"]  # 1 of 3 features >= 30%
    blip = health_from_rows(rows=[_row(0, {"income"}), _row(1, set()), _row(2, set())], metric="accuracy")
    assert blip.status == "ok"
    nulls = health_from_rows(rows=[_row(0, set(), nulls=0.08)], metric="accuracy")
    assert nulls.status == "warning" and nulls.reasons == ["8% nulls in age"]
    low = health_from_rows(rows=[_row(0, set(), accuracy=0.7)], metric="accuracy",
                           settings={"health": {"min_accuracy": 0.8}})
    assert low.status == "critical" and "accuracy 0.70 below 0.8" in low.reason_text
    assert health_from_rows(rows=[], metric="accuracy").status == "warning"


def test_window_row_reads_the_engine_payload():
    payload = {
        "rows": 120,
        "drift": {
            "features": [{"name": "income", "psi": 0.4, "js": 0.2, "drifted": True},
                         {"name": "age", "psi": None, "js": None, "drifted": False}],
            "prediction": {"name": "score", "psi": 0.1, "js": 0.05, "drifted": False},
            "share_drifted": 0.5,
            "label_shift": {"psi": 0.3, "js": 0.2, "drifted": True},
        },
        "score": {"mean": 0.3, "std": 0.1},
        "multivariate": {"error": 2.0, "lower": 1.0, "upper": 1.5, "drifted": True},
        "quality": {"volume": {"is_anomaly": True},
                    "features": [{"name": "income", "null_rate": 0.1, "out_of_range_rate": 0.0, "unseen_rate": None}]},
        "performance": {"label_coverage": 0.5, "metrics": {"accuracy": 0.8, "roc_auc": None},
                        "confusion_matrix": [[40, 10], [5, 5]], "classes": [0, 1],
                        "estimated": {"accuracy": 0.82, "calibrated": False}},
        "shifts": {"concept": True},
    }
    row = window_row_from_payload(T0, payload)
    assert row.rows == 120 and row.volume_anomaly and row.concept_drift and row.label_shift
    assert row.drift == {"income": {"psi": 0.4, "js": 0.2, "drifted": True}}
    assert row.share_drifted == 0.5 and row.multivariate == 2.0 and row.multivariate_threshold == 1.5
    assert row.quality["income"]["null_rate"] == 0.1
    assert row.metrics == {"accuracy": 0.8} and row.estimated == {"accuracy": 0.82}
    assert row.label_rate == pytest.approx(10 / 60) and row.score["mean"] == 0.3 and row.score["psi"] == 0.1
