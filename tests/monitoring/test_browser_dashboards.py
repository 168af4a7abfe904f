"""The dashboards in real headless Chromium on the seeded demo (small scale).

One test walks the whole path so the demo is seeded and analysed once. Screenshots go to
test-artifacts/dashboards/.
"""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from monitoring.models import Prediction

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboards"

ALL_RENDERED = """() => {
  const charts = [...document.querySelectorAll('[data-figure]')];
  return charts.length > 0 && charts.every(c => c.dataset.rendered === 'true' && c.querySelector('svg.main-svg'));
}"""

HEATMAP_CELL = """([feature, col]) => {
  const el = document.getElementById('drift-heatmap');
  const fl = el._fullLayout, t = el.data[0];
  const row = t.y.indexOf(feature);
  const c = col < 0 ? t.x.length + col : col;
  const box = el.getBoundingClientRect();
  return {
    x: box.left + fl.xaxis._offset + fl.xaxis.l2p(fl.xaxis.d2l(t.x[c])),
    y: box.top + fl.yaxis._offset + fl.yaxis.l2p(fl.yaxis.d2l(t.y[row])),
    url: t.customdata[row][c],
  };
}"""


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", url=live_server.url, scale=0.1, no_metrics=True)
    call_command("compute_metrics", model="loan-default")
    call_command("compute_importance", model="loan-default")
    return live_server


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def charts_rendered(page) -> int:
    page.wait_for_function(ALL_RENDERED, timeout=20_000)
    return page.locator("[data-figure]").count()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_scientist_walks_the_dashboards(demo, page):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 1400, "height": 900})

    page.goto(f"{demo.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "scientist")
    page.fill("#id_password", "vigil-scientist")
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo.url}/")
    assert charts_rendered(page) >= 1
    loan_row = page.locator('tr[data-model="loan-default"]')
    assert loan_row.locator(".badge").inner_text() in ("warning", "critical")
    shoot(page, "overview")

    page.click("text=Loan default")
    page.wait_for_url(re.compile(r".*/models/loan-default/$"))
    assert charts_rendered(page) >= 7
    summary = page.locator(".summary").inner_text()
    assert "Annual income" in summary and "Credit score" in summary and "drifted from" in summary
    month_windows = page.evaluate("() => document.getElementById('volume').data[0].x.length")
    shoot(page, "model-30d")

    page.click("a[data-range='7d']")
    page.wait_for_url(re.compile(r".*range=7d.*"))
    charts_rendered(page)
    week_windows = page.evaluate("() => document.getElementById('volume').data[0].x.length")
    assert week_windows < month_windows and week_windows <= 8
    shoot(page, "model-7d")

    page.select_option("#f-granularity", "hour")
    page.click("form.toolbar button[type=submit]")
    page.wait_for_url(re.compile(r".*granularity=hour.*"))
    charts_rendered(page)
    assert page.evaluate("() => document.getElementById('volume').data[0].x.length") > 100

    page.click("a[data-range='30d']")
    page.wait_for_url(re.compile(r".*range=30d.*"))
    charts_rendered(page)
    page.locator("#drift-heatmap").scroll_into_view_if_needed()
    cell = page.evaluate(HEATMAP_CELL, ["Annual income", -2])
    page.mouse.click(cell["x"], cell["y"])
    page.wait_for_url(re.compile(r".*/models/loan-default/features/income/\?.*window=.*"))
    assert charts_rendered(page) == 4
    assert "Comparing the reference with the window" in page.content()
    shoot(page, "feature-income")

    request_id = Prediction.objects.filter(model__slug="loan-default").order_by("-timestamp").first().request_id
    page.goto(f"{demo.url}/")
    page.fill("#q", request_id)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(re.compile(r".*/predictions/\?q=.*"))
    shoot(page, "search")
    page.click(f'a[href="/models/loan-default/predictions/{request_id}/"]')
    page.wait_for_url(re.compile(rf".*/predictions/{re.escape(request_id)}/$"))
    charts_rendered(page)
    waterfall = page.evaluate("() => document.getElementById('waterfall').data.length")
    assert waterfall >= 1, "a waterfall, not the empty state: the demo model has an artifact"
    shoot(page, "prediction-waterfall")

    page.goto(f"{demo.url}/models/loan-default/versions/2026.1/")
    charts_rendered(page)
    shoot(page, "version")
    assert errors == []
