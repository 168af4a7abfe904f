"""The issue's scenario in real headless Chromium, against a live server."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.services.tokens import api_token_create
from explain.frames import features_frame
from explain.services import artifact_upload
from monitoring.models import MLModel, ModelVersion, Prediction
from tests.explain import factories

from .conftest import PASSWORD, make_user

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ops"
LOAN_SCHEMA = [
    {**feature, "display_name": feature.get("display_name") or feature["name"].replace("_", " ").capitalize()}
    for feature in factories.SCHEMA
]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def demo_world(now) -> None:
    """A loan model that can be explained (tiny LightGBM) and a recommendation model with items."""
    loan = MLModel.objects.create(slug="loan-default", name="Loan default", task="binary_classification")
    version = ModelVersion.objects.create(
        model=loan, version="2026-10-01", stage="production", threshold=0.5, features=LOAN_SCHEMA
    )
    text, booster = factories.lightgbm_text(factories.rows(300), schema=LOAN_SCHEMA)
    customer_rows = factories.rows(3, seed=7)
    scores = booster.predict(features_frame(schema=LOAN_SCHEMA, rows=customer_rows))
    for i, (row, score) in enumerate(zip(customer_rows, scores, strict=True)):
        Prediction.objects.create(
            model=loan, version=version, request_id=f"loan-{i}", timestamp=now - timedelta(days=3 - i),
            features=row, score=float(score), prediction=int(score >= 0.5), entity_id="cust-42", received_at=now,
        )  # fmt: skip
    artifact_upload(version=version, data=text.encode())

    recs = MLModel.objects.create(slug="recs", name="Product recommendations", task="ranking")
    rec_version = ModelVersion.objects.create(model=recs, version="v1", stage="production", features=[])
    for i, item in enumerate(["sku-1", "sku-2", "sku-3"]):
        Prediction.objects.create(
            model=recs, version=rec_version, request_id=f"rec-{i}", timestamp=now - timedelta(hours=i),
            features={}, score=0.9 - 0.2 * i, entity_id="cust-42", item_id=item, received_at=now,
        )  # fmt: skip


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/ops/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Ops console")).to_be_visible()


CANDIDATES = [
    {"item_id": "sku-1", "score": 0.9},
    {"item_id": "sku-2", "score": 0.7},
    {"item_id": "sku-3", "score": 0.5},
]


def rerank(page, base: str, key: str) -> dict:
    response = page.request.post(
        f"{base}/api/v1/models/recs/rerank/",
        data={"candidates": CANDIDATES, "entity_id": "cust-42"},
        headers={"Authorization": f"Token {key}"},
    )
    assert response.status == 200, response.text()
    return response.json()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_support_agent_scenario(page, browser, live_server, settings, tmp_path, frozen):
    settings.MEDIA_ROOT = tmp_path / "media"
    now = frozen(timezone.now().replace(microsecond=0))
    demo_world(now)
    make_user("agent", "Support agents")
    make_user("scientist", "Data scientists")
    _, key = api_token_create(name="serving", scopes=["ops"])
    base = live_server.url

    # Look up a customer.
    log_in(page, base, "agent")
    page.get_by_label("Request id, customer id or item id").fill("cust-42")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first).to_contain_text("rec-0")  # newest first
    shot(page, "lookup")

    # Open a loan decision and read its reasons.
    page.get_by_role("link", name="loan-2").click()
    expect(page.get_by_role("heading", name="Decision loan-2")).to_be_visible()
    expect(page.locator(".summary")).to_contain_text("against an average of")
    reasons = page.locator(".reasons li")
    assert reasons.count() >= 2 and all(text.strip() for text in reasons.all_inner_texts())
    # plotly.js is 4.8 MB: give the shared machine time to load and draw it.
    expect(page.locator("#waterfall svg.main-svg").first).to_be_attached(timeout=30_000)
    expect(page.locator("td", has_text="Debt to income")).to_contain_text("debt_to_income")
    shot(page, "decision")

    # Blacklist one of the recommendation model's items from its decision page.
    assert [c["item_id"] for c in rerank(page, base, key)["candidates"]] == ["sku-1", "sku-2", "sku-3"]
    page.goto(f"{base}/ops/decisions/recs/rec-0/")
    page.get_by_role("link", name="Blacklist item sku-1").click()
    expect(page.get_by_label("Item id")).to_have_value("sku-1")
    page.get_by_label("Reason").fill("Customer complaint: product recalled")
    shot(page, "blacklist-form")
    page.get_by_role("button", name="Blacklist item").click()
    expect(page.get_by_role("status")).to_contain_text("Item sku-1 is blacklisted for recs.")
    body = rerank(page, base, key)
    assert [c["item_id"] for c in body["candidates"]] == ["sku-2", "sku-3"]
    assert body["removed"] == [
        {"item_id": "sku-1", "reason": "blacklisted for this model: Customer complaint: product recalled"}
    ]

    # It shows in the audit log.
    page.get_by_role("link", name="Audit log").click()
    first = page.locator("table.audit tbody tr").first
    expect(first).to_contain_text("agent")
    expect(first).to_contain_text("Blacklist an item")
    expect(first).to_contain_text("sku-1")
    shot(page, "audit")

    # Boost an item and see it rise.
    page.goto(f"{base}/ops/overrides/boost/?model=recs&item_id=sku-3")
    page.get_by_label("Kind of boost").select_option("multiplier")
    page.get_by_label("Value").fill("2")
    page.get_by_label("Reason").fill("New product, account manager's request")
    page.get_by_role("button", name="Boost item").click()
    expect(page.get_by_role("status")).to_contain_text("gets a boost x2 on recs")
    body = rerank(page, base, key)
    assert [(c["item_id"], c["rank"], c["original_rank"]) for c in body["candidates"]] == [
        ("sku-3", 1, 3),
        ("sku-2", 2, 2),
    ]
    assert body["candidates"][0]["reason"].startswith("boost x2 until")
    shot(page, "overrides")

    # A data scientist may look but not act.
    other = browser.new_context()
    scientist_page = other.new_page()
    log_in(scientist_page, base, "scientist")
    scientist_page.goto(f"{base}/ops/decisions/recs/rec-0/")
    expect(scientist_page.get_by_text("You can view this decision but not act on it.")).to_be_visible()
    expect(scientist_page.get_by_role("link", name="Blacklist item sku-1")).to_have_count(0)
    refused = scientist_page.goto(f"{base}/ops/overrides/blacklist/?model=recs&item_id=sku-2")
    assert refused.status == 403
    shot(scientist_page, "scientist-refused")
    other.close()

    # Eight days later the week-long boost has expired by itself.
    frozen(now + timedelta(days=8))
    body = rerank(page, base, key)
    assert [(c["item_id"], c["reason"]) for c in body["candidates"]] == [("sku-2", None), ("sku-3", None)]
    page.goto(f"{base}/ops/overrides/?state=expired")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr").first).to_contain_text("boost x2")
