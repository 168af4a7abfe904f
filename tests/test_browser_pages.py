"""The pages a new user tripped over, in real headless Chromium on the seeded demo (small scale):
error pages in the site's layout, each role's home, every waterfall label, round ticks on right-hand
axes, the model page on a phone, the regression chart's caption, the favicon.

Screenshots go to test-artifacts/pages/.
"""

import math
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from monitoring.models import Prediction

SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "pages"
ALL_RENDERED = """() => {
  const charts = [...document.querySelectorAll('[data-figure]')];
  return charts.length > 0 && charts.every(c => c.dataset.rendered === 'true' && c.querySelector('svg.main-svg'));
}"""
TICKS = """(selector) => [...document.querySelectorAll(selector)].map(t => t.textContent)"""


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", url=live_server.url, scale=0.1, no_metrics=True)
    for slug in ("loan-default", "delivery-time"):
        call_command("compute_metrics", model=slug)
    return live_server


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"vigil-{username}")
    page.click("button[type=submit]")


def is_round_scale(labels: list[str]) -> bool:
    """Evenly spaced ticks whose step is 1, 2, 2.5 or 5 times a power of ten (not 87.1, 65, 43, 20.9)."""
    values = [float(label.replace(",", "").replace("%", "").replace("\u2212", "-")) for label in labels]
    steps = [b - a for a, b in zip(values, values[1:], strict=False)]
    if len(values) < 2 or max(steps) - min(steps) > 1e-9 * max(1.0, abs(max(steps))):
        return False
    step = abs(steps[0])
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, nice) for nice in (1, 2, 2.5, 5, 10)) and all(
        math.isclose(v / step, round(v / step), abs_tol=1e-9) for v in values
    )


def test_round_scale_rule():
    assert is_round_scale(["0", "20", "40", "60"]) and is_round_scale(["0.05", "0.1", "0.15"])
    assert not is_round_scale(["87.1", "65", "43", "20.9"])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_a_new_user_tripped_over(demo, page, browser):
    base = demo.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A support agent lands in the ops console, and the logo leads back there.
    log_in(page, base, "agent")
    page.wait_for_url(f"{base}/ops/")
    assert page.locator("a.brand").get_attribute("href") == "/ops/"
    refused = page.goto(f"{base}/")
    assert refused.status == 403
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Ops console").is_visible()
    assert "The dashboards are for data scientists and admins." in page.inner_text("main")
    shot(page, "403-agent")
    missing = page.goto(f"{base}/ops/decisions/loan-default/no-such-decision/")
    assert missing.status == 404 and page.get_by_role("heading", name="Nothing here").is_visible()
    assert page.get_by_role("navigation", name="Main").is_visible()
    shot(page, "404-agent")

    # Every bar of a 12-feature loan decision's waterfall has its label on screen.
    decision = Prediction.objects.filter(model__slug="loan-default").order_by("-timestamp").first()
    page.goto(f"{base}/ops/decisions/loan-default/{decision.request_id}/")
    page.locator("#waterfall svg.main-svg").first.wait_for(state="attached", timeout=30_000)
    bars = page.evaluate("() => document.getElementById('waterfall').data[0].y")
    shown = page.evaluate(TICKS, "#waterfall .ytick text")
    assert len(bars) >= 12 and shown == bars, (bars, shown)
    shot(page, "waterfall-12-features")

    # A data scientist's model page: round right-hand ticks, and no sideways scrolling on a phone.
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    scientist = other.new_page()
    scientist.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(scientist, base, "scientist")
    scientist.wait_for_url(f"{base}/")
    assert scientist.locator("a.brand").get_attribute("href") == "/"
    scientist.goto(f"{base}/models/loan-default/?range=30d")
    scientist.wait_for_function(ALL_RENDERED, timeout=30_000)
    for chart in ("performance", "predictions"):
        labels = scientist.evaluate(TICKS, f"#{chart} .y2tick text")
        assert labels and is_round_scale(labels), (chart, labels)
    shot(scientist, "model-loan-desktop")
    scientist.set_viewport_size({"width": 390, "height": 844})
    scientist.reload()
    scientist.wait_for_function(ALL_RENDERED, timeout=30_000)
    width = scientist.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(scientist, "model-loan-390px")

    # The regression model has no label-free estimate: its caption does not promise a dashed line.
    scientist.set_viewport_size({"width": 1280, "height": 900})
    scientist.goto(f"{base}/models/delivery-time/?range=30d")
    scientist.wait_for_function(ALL_RENDERED, timeout=30_000)
    caption = scientist.locator("#performance ~ p").inner_text()
    # It names what the health verdict adds to the chart (intervals, the reference and its band), no estimate.
    assert caption == (
        "Realised metric from labels (solid, with 95% intervals; faint where labels are too few or not in yet, "
        "which the verdict does not judge), reference (dotted) and its expected band (shaded), label coverage (bars)."
    )
    assert not scientist.locator("#performance .scatterlayer path.js-line[style*='dasharray']").count()
    summary = scientist.locator(".summary").inner_text()
    assert not re.search(r"\bmae\b", summary), summary
    shot(scientist, "model-delivery")
    other.close()

    # The admin pages have no icon link, so browsers ask for /favicon.ico.
    icon = page.goto(f"{base}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
    assert not errors, errors
