"""The review queue seen from other pages: the human audit series on the model page, the strata that
need other apps' data (unusual explanations), the permission."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User

from core.roles import DATA_SCIENTISTS, SUPPORT_AGENTS
from explain.models import Explanation, ModelArtifact
from monitoring.models import Prediction
from ops.models import ReviewBatch
from ops.review_selectors import batch_summary, population_strata
from ops.services import review
from tests.monitoring.dashboard_factories import loan_scenario

from .conftest import make_user

END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def page_figure(html: str, chart_id: str) -> dict:
    found = dict(re.findall(r'<script type="application/json" id="([\w-]+)-data">(.*?)</script>', html, re.S))
    figure = json.loads(found[chart_id])
    return json.loads(figure) if isinstance(figure, str) else figure


@pytest.mark.django_db
def test_model_page_shows_the_human_audit_beside_realised_accuracy(client):
    version = loan_scenario(slug="loan", days=4, per_hour=5, shift_day=2, null_day=1, labelled_days=3, end=END)
    model = version.model
    batch = review.batch_create(model=model, start=END - timedelta(days=4), end=END, size=40, double_share=0, seed=1)
    for k, item in enumerate(batch.items.order_by("position")):
        review.review_record(item=item, reviewer_name="ann", outcome=k % 2)
    estimate = batch_summary(batch=batch)["estimate"]
    scientist = User.objects.create_user("sci", password="pw")
    scientist.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    client.force_login(scientist)
    figure = page_figure(client.get("/models/loan/?range=7d&granularity=day").content.decode(), "human-audit")
    audit = [trace for trace in figure["data"] if "human audit" in trace.get("name", "")]
    assert len(audit) == 1 and audit[0]["y"] == [pytest.approx(estimate["accuracy"])]
    assert audit[0]["error_y"]["array"] == [pytest.approx(estimate["ci"][1] - estimate["accuracy"])]
    assert any("realised" in trace.get("name", "") for trace in figure["data"])


@pytest.mark.django_db
def test_unusual_explanations_form_their_own_stratum():
    version = loan_scenario(slug="loan", days=2, per_hour=5, shift_day=1, null_day=0, labelled_days=0, end=END)
    artifact = ModelArtifact.objects.create(version=version, file="a.txt", sha256="0" * 64, format="lightgbm",
                                            size=1, explainer="tree", link="logit")  # fmt: skip
    # Away from the threshold: a decision near it would be in that stratum, which comes first.
    predictions = [p for p in Prediction.objects.filter(model=version.model).order_by("id") if abs(p.score - 0.5) > 0.05][:40]
    assert len(predictions) == 40
    for k, prediction in enumerate(predictions):
        top = "x2" if k == 0 else "x0"  # one explanation led by a feature that leads nowhere else
        Explanation.objects.create(
            **Explanation.kept_from(prediction), artifact=artifact, explainer="tree", link="logit", base_value=0, output=0.1,
            additivity_error=0, contributions=[{"feature": top, "value": 1, "shap": 0.1}],
        )  # fmt: skip
    population = population_strata(model=version.model, start=END - timedelta(days=3), end=END + timedelta(days=1))
    unusual = population.ids[population.strata == "unusual_explanation"].tolist()
    assert unusual == [predictions[0].pk]
    batch = review.batch_create(model=version.model, start=END - timedelta(days=3), end=END + timedelta(days=1), size=10, seed=2)
    assert batch.items.get(stratum="unusual_explanation").inclusion_probability == 1.0


@pytest.mark.django_db
def test_reviewing_needs_the_reviewer_permission(client):
    version = loan_scenario(slug="loan", days=1, per_hour=5, shift_day=1, null_day=0, labelled_days=0, end=END)
    batch = review.batch_create(model=version.model, start=END - timedelta(days=1), end=END, size=5)
    scientist = make_user("sci", DATA_SCIENTISTS)
    client.force_login(scientist)
    assert client.get(f"/ops/reviews/{batch.pk}/review/").status_code == 403
    with pytest.raises(Exception, match="reviewer|review"):
        review.item_claim(batch=batch, reviewer=scientist)
    agent = make_user("agent", SUPPORT_AGENTS)
    client.force_login(agent)
    page = client.get(f"/ops/reviews/{batch.pk}/review/")
    assert page.status_code == 200 and "True outcome" in page.content.decode()
    assert "Reviews" in client.get("/ops/").content.decode()


@pytest.mark.django_db
def test_batch_and_schedule_forms(client):
    version = loan_scenario(slug="loan", days=1, per_hour=5, shift_day=1, null_day=0, labelled_days=0, end=END)
    client.force_login(make_user("agent", SUPPORT_AGENTS))
    day = (END - timedelta(days=1)).date().isoformat()
    made = client.post("/ops/reviews/", {"form": "batch", "model": "loan", "start": day, "end": END.date().isoformat(),
                                         "size": "7", "double_share": "0.2"})  # fmt: skip
    assert made.status_code == 302
    batch = ReviewBatch.objects.get(model=version.model)
    assert made["Location"] == f"/ops/reviews/{batch.pk}/" and batch.size == 7 and batch.items.filter(reviews_needed=2).count() == 1
    page = client.get(made["Location"]).content.decode()
    assert "0</strong> of 7 sampled decisions reviewed" in page
    bad = client.post("/ops/reviews/", {"form": "batch", "model": "loan", "start": END.date().isoformat(), "end": day,
                                        "size": "0", "double_share": "0.9"})  # fmt: skip
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "The last day must not be before the first." in html and "greater than or equal to 1" in html
    empty = client.post("/ops/reviews/", {"form": "batch", "model": "loan", "start": "2020-01-01", "end": "2020-01-02",
                                          "size": "5", "double_share": "0"})  # fmt: skip
    assert empty.status_code == 400 and "No decisions of loan" in empty.content.decode()
    saved = client.post("/ops/reviews/", {"form": "schedule", "model": "loan", "weekly_share": "0.05",
                                          "double_share": "0.1", "max_size": "300", "enabled": "on"})  # fmt: skip
    assert saved.status_code == 302
    assert "loan: 5% of each week" in client.get("/ops/reviews/").content.decode()
