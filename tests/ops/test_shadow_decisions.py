"""A request predicted by production and a shadow: the console shows the served decision."""

from datetime import timedelta

import pytest

from monitoring.models import Label, ModelVersion, Prediction
from ops import services
from ops.models import Correction

from .conftest import T0


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def shadowed(loan):
    """loan-0..2 served by production; the shadow predicted loan-0, loan-1 and loan-9 (whose
    production row was never logged)."""
    production = loan.versions.get()
    shadow = ModelVersion.objects.create(model=loan, version="2026-11-15", stage="shadow", threshold=0.5,
                                         features=production.features)
    for i, score in ((0, 0.31), (1, 0.77), (9, 0.66)):
        Prediction.objects.create(model=loan, version=shadow, request_id=f"loan-{i}", served=False,
                                  timestamp=T0 + timedelta(hours=i), features={"income": 1.0}, score=score,
                                  prediction=int(score >= 0.5), entity_id="cust-42", received_at=T0)
    return production, shadow


def test_decision_page_shows_the_served_prediction_and_the_shadow_alongside(logged_in, shadowed):
    page = logged_in.get("/ops/decisions/loan-default/loan-0/").content.decode()
    what = page.split('id="what"')[1].split("</dl>")[0]
    assert "2026-10-01" in what and "score 0.8 ≥ threshold 0.5" in what
    others = page.split("predictions of this request</caption>")[1].split("</table>")[0]
    assert "2026-11-15" in others and "shadow" in others and "score 0.31 &lt; threshold 0.5" in others
    # Only a shadow's prediction stored: shown, and said not to be a served decision.
    alone = logged_in.get("/ops/decisions/loan-default/loan-9/").content.decode()
    assert "this is a shadow version's prediction, which was not acted on" in alone


def test_lookup_lists_served_decisions_only(logged_in, shadowed):
    page = logged_in.get("/ops/", {"q": "loan-1"}).content.decode()
    assert page.count("/ops/decisions/loan-default/loan-1/") == 1
    assert "0.77" not in page
    by_customer = logged_in.get("/ops/", {"q": "cust-42"}).content.decode()
    assert "loan-9" not in by_customer and "loan-2" in by_customer


def test_a_correction_is_recorded_on_the_served_prediction(agent, shadowed):
    from ops.selectors import prediction_get

    production, shadow = shadowed
    served = prediction_get(model_slug="loan-default", request_id="loan-1")
    assert served.version_id == production.pk
    services.decision_correct(actor=agent, prediction=served, corrected_outcome=0, reason="Paid on time",
                              record_as_label=True)
    assert Correction.objects.get().prediction_id == served.pk
    label = Label.objects.get(request_id="loan-1")  # one label per request: it counts for both versions
    assert label.value == 0 and label.human_corrected
