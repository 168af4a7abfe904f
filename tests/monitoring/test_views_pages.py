"""The data scientists' pages on a small real scenario (ingest -> sketches -> analysis)."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User

from core.roles import DATA_SCIENTISTS, SUPPORT_AGENTS
from monitoring.models import MLModel
from tests.monitoring.dashboard_factories import loan_scenario

END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def scenario(django_db_setup, django_db_blocker):
    """Built once per module (outside the per-test transactions), removed at the end."""
    with django_db_blocker.unblock():
        version = loan_scenario(slug="loan", days=4, per_hour=5, shift_day=2, null_day=1, labelled_days=3, end=END)
        yield version
        MLModel.objects.filter(slug="loan").delete()


@pytest.fixture
def scientist(db):
    user = User.objects.create_user("sci", password="pw")
    user.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    return user


@pytest.fixture
def sci_client(client, scientist):
    client.force_login(scientist)
    return client


def figures(html: str) -> dict[str, dict]:
    """The embedded plotly figures of a page, by chart id."""
    found = re.findall(r'<script type="application/json" id="([\w-]+)-data">(.*?)</script>', html, re.S)
    return {chart_id: json.loads(text) for chart_id, text in found}


PAGES = [
    "/",
    "/models/loan/",
    "/models/loan/features/x0/",
    "/models/loan/versions/v1/",
    "/predictions/?q=loan-3",
    "/models/loan/predictions/loan-3/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_need_a_scientist(client, scenario, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    agent = User.objects.create_user("agent", password="pw")
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENTS))
    client.force_login(agent)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_scientists(sci_client, scenario, url):
    response = sci_client.get(url)
    assert response.status_code == 200
    for chart_id, figure in figures(response.content.decode()).items():
        title = figure["layout"].get("title", {})
        assert title.get("text") or chart_id.startswith("spark-"), chart_id


@pytest.mark.django_db
def test_overview_lists_health_volume_and_freshness(sci_client, scenario):
    html = sci_client.get("/").content.decode()
    row = html[html.index('data-model="loan"') :]
    assert re.search(r'class="badge (warning|critical)"', row), "x0 drifted: the model is not ok"
    assert "drift in x0" in row
    spark = figures(html)["spark-loan"]
    assert sum(spark["data"][0]["y"]) > 0
    assert "ago" in row


@pytest.mark.django_db
def test_model_page_charts_and_summary(sci_client, scenario):
    response = sci_client.get("/models/loan/?range=7d&granularity=day")
    html = response.content.decode()
    figs = figures(html)
    assert {"performance", "drift-heatmap", "drift-share", "predictions", "quality", "volume", "importance"} <= set(figs)
    heatmap = figs["drift-heatmap"]["data"][0]
    assert heatmap["type"] == "heatmap"
    row = heatmap["y"].index("Feature 0")  # display names label the rows
    assert heatmap["z"][row][-1] > heatmap["z"][row][0], "x0's PSI rises after the shift"
    link = heatmap["customdata"][row][-1]
    assert link.startswith("/models/loan/features/x0/?") and "window=" in link and "range=7d" in link
    perf = figs["performance"]["data"]
    assert [t["line"].get("dash") for t in perf if t["type"] == "scatter"] == [None, "dash"]
    assert any(v is not None for v in perf[0]["y"]), "realised accuracy where labels exist"
    summary = html[html.index("What changed") : html.index("</section>", html.index("What changed"))]
    shift_day = (END - timedelta(days=4)).replace(hour=0) + timedelta(days=2)
    assert f"Feature 0 drifted from {shift_day.day} {shift_day.strftime('%B')}" in summary
    assert "Feature 2 null rate peaked at" in summary


@pytest.mark.django_db
def test_time_range_changes_the_charts(sci_client, scenario):
    day = figures(sci_client.get("/models/loan/?range=7d&granularity=day").content.decode())["volume"]
    hour = figures(sci_client.get("/models/loan/?range=24h").content.decode())["volume"]
    assert len(day["data"][0]["x"]) <= 5 and len(hour["data"][0]["x"]) >= 20
    assert sum(hour["data"][0]["y"]) < sum(day["data"][0]["y"])


@pytest.mark.django_db
def test_bad_parameters_are_reported_not_500(sci_client, scenario):
    response = sci_client.get("/models/loan/?range=1y&granularity=week&stat=ks&start=x")
    html = response.content.decode()
    assert response.status_code == 200
    assert "range: Unknown range" in html and "granularity: Unknown granularity" in html and "stat:" in html
    custom = sci_client.get("/models/loan/?range=custom&start=2026-02-10&end=2026-02-01").content.decode()
    assert "end: The end must be after the start." in custom
    assert sci_client.get("/models/loan/?version=nope").status_code == 404
    assert sci_client.get("/models/loan/features/nope/").status_code == 404
    assert sci_client.get("/models/nope/").status_code == 404


@pytest.mark.django_db
def test_feature_page_compares_reference_and_window(sci_client, scenario):
    window = (END - timedelta(days=1)).replace(hour=0).strftime("%Y-%m-%dT%H:%M")
    html = sci_client.get(f"/models/loan/features/x0/?range=7d&granularity=day&window={window}").content.decode()
    figs = figures(html)
    ref, cur = figs["histogram"]["data"]
    mean = lambda trace: sum(x * y for x, y in zip(trace["x"], trace["y"], strict=True)) / sum(trace["y"])  # noqa: E731
    assert mean(cur) - mean(ref) > 1.0, "the window's x0 sits two sd to the right"
    drift = figs["feature-drift"]["data"]
    assert {t["name"] for t in drift} >= {"PSI", "Jensen-Shannon distance", "PSI threshold"}
    nulls = figures(sci_client.get("/models/loan/features/x2/?range=7d&granularity=day").content.decode())
    null_trace = next(t for t in nulls["feature-quality"]["data"] if t["name"].startswith("Null"))
    assert max(v for v in null_trace["y"] if v is not None) > 30


@pytest.mark.django_db
def test_version_page_metadata_profile_and_metrics(sci_client, scenario):
    html = sci_client.get("/models/loan/versions/v1/?range=7d").content.decode()
    assert "abc1234" in html and "num_leaves" in html and "1500 reference rows" in html
    assert re.search(r"<td>accuracy</td><td class=\"num\">0\.\d{3}</td>", html)
    compare = figures(html)["score-compare"]
    assert abs(sum(compare["data"][0]["y"]) - 100) < 0.1


@pytest.mark.django_db
def test_search_by_request_entity_and_item(sci_client, scenario):
    html = sci_client.get("/predictions/?q=loan-3").content.decode()
    assert 'href="/models/loan/predictions/loan-3/"' in html
    by_entity = sci_client.get("/predictions/?q=cust-3").content.decode()
    assert by_entity.count("/models/loan/predictions/") >= 5
    assert "No prediction has" in sci_client.get("/predictions/?q=missing").content.decode()
    assert "Unknown model" in sci_client.get("/predictions/?q=loan-3&model=nope").content.decode()


@pytest.mark.django_db
def test_prediction_without_artifact_says_why(sci_client, scenario):
    html = sci_client.get("/models/loan/predictions/loan-3/").content.decode()
    waterfall = figures(html)["waterfall"]
    assert "artifact" in waterfall["layout"]["annotations"][0]["text"]
    assert sci_client.get("/models/loan/predictions/nope/").status_code == 404


@pytest.mark.django_db
def test_segment_filter_on_range_figures(sci_client, scenario):
    everyone = sci_client.get("/models/loan/versions/v1/?range=7d").content.decode()
    branch = sci_client.get("/models/loan/versions/v1/?range=7d&segment=branch").content.decode()
    assert '<option value="branch"' in everyone and '<option value="web"' in everyone
    count = lambda html: int(re.search(r"<td>Predictions</td><td class=\"num\">(\d+)</td>", html).group(1))  # noqa: E731
    assert 0 < count(branch) < count(everyone) / 2, "a third of the rows are branch rows"
    feature = sci_client.get("/models/loan/features/x0/?range=7d&segment=branch").content.decode()
    assert "selected range, segment branch" in feature


@pytest.mark.django_db
def test_segment_filter_on_the_model_page_time_series(sci_client, scenario):
    everyone = sci_client.get("/models/loan/?range=7d&granularity=day").content.decode()
    branch = sci_client.get("/models/loan/?range=7d&granularity=day&segment=branch").content.decode()
    assert '<option value="branch" selected>' in branch
    all_rows, branch_rows = figures(everyone)["volume"]["data"][0]["y"], figures(branch)["volume"]["data"][0]["y"]
    assert len(branch_rows) == len(all_rows)
    # A third of the rows are branch rows, window by window.
    for total, part in zip(all_rows, branch_rows, strict=True):
        assert abs(part - total / 3) <= 2, (part, total)
    # The branch rows drift too (x0 shifts for everyone from day 2).
    assert any(any(row) for row in figures(branch)["drift-heatmap"]["data"][0]["z"])
    # A segment without results of its own (not tracked) says so and shows all segments.
    other = sci_client.get("/models/loan/?range=7d&granularity=day&segment=kiosk").content.decode()
    assert "&#x27;kiosk&#x27; has no results of its own" in other and "Showing all segments" in other
    assert figures(other)["volume"]["data"][0]["y"] == all_rows


@pytest.mark.django_db
def test_range_sums_agree_with_the_engine_merge(scenario):
    """The dashboards add only the entries they need; the totals must match the engine's
    full merge of the same range (same windows, rollups and partials)."""
    from monitoring.selectors.dashboard import range_sums
    from monitoring.selectors.metrics import sketch_range_get

    for start, end in ((END - timedelta(days=3, hours=5), END), (END - timedelta(hours=7), END - timedelta(hours=2))):
        full = sketch_range_get(version=scenario, start=start, end=end).sketch
        sums, _ = range_sums(version=scenario, keys={"rows", "b:x0", "p:all"}, start=start, end=end)
        assert sums["rows"].sum() == full.count("rows") > 0
        assert (sums["b:x0"] == full.arrays["b:x0"]).all() and (sums["p:all"] == full.arrays["p:all"]).all()


@pytest.mark.django_db
def test_model_without_version_or_results_has_empty_states(sci_client):
    MLModel.objects.create(slug="fresh", name="Fresh", task="regression")
    html = sci_client.get("/models/fresh/").content.decode()
    assert "This model has no version yet." in html
    assert all(fig["layout"].get("annotations") for fig in figures(html).values())
    assert "no version" in sci_client.get("/").content.decode()
    assert sci_client.get("/models/fresh/features/x/").status_code == 404
