"""The review queue through its contract endpoints and services, on the real database."""

from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError

from core.roles import SUPPORT_AGENTS
from monitoring.models import Label
from monitoring.services.compaction import sketches_compact_all
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from ops import services
from ops.models import ReviewBatch, ReviewItem
from ops.review_selectors import batch_summary
from ops.services import review
from tests.monitoring.engine_factories import T0, make_version, store_reference
from tests.threads import run_threads

from .conftest import make_user

N = 300


@pytest.fixture
def loan(db):
    version = make_version(slug="loan")
    store_reference(version)
    rng = np.random.default_rng(0)
    scores = rng.random(N)
    rows = [
        {"request_id": f"r-{i}", "version": "v1", "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
         "features": {"income": float(400 + i), "age": 30.0, "region": "south" if i % 3 == 0 else "north",
                      "has_car": False},
         "score": float(scores[i])}
        for i in range(N)
    ]  # fmt: skip
    assert predictions_ingest(model=version.model, rows=rows)["accepted"] == N
    return version.model


def body(size=60, **extra):
    return {"size": size, "start": T0.isoformat(), "end": (T0 + timedelta(days=1)).isoformat(), **extra}


def test_contract_draw_review_estimate(client_with, loan):
    ops = client_with("ops")
    res = ops.post("/api/v1/models/loan/reviews/", body(), format="json")
    assert res.status_code == 201, res.content
    created = res.json()
    items = created["items"]
    assert len(items) == 60 and {"request_id", "stratum", "inclusion_probability"} <= set(items[0])
    assert {i["stratum"] for i in items} == {"near_threshold", "uniform"}
    assert sum(1 / i["inclusion_probability"] for i in items) == pytest.approx(N)
    # Reviewers say the truth is "score >= 0.5" except for every 4th item: those are model errors.
    results = []
    for k, item in enumerate(items):
        decided = int(
            ReviewItem.objects.get(batch_id=created["id"], request_id=item["request_id"]).prediction.score
            >= 0.5
        )
        results.append(
            {
                "request_id": item["request_id"],
                "label": 1 - decided if k % 4 == 0 else decided,
                "reviewer": "ann",
            }
        )
    sent = ops.post(f"/api/v1/reviews/{created['id']}/results/", results, format="json")
    assert sent.status_code == 200 and sent.json()["recorded"] == 60 and sent.json()["labels_written"] == 60
    again = ops.post(f"/api/v1/reviews/{created['id']}/results/", results[:5], format="json")
    assert again.json() == {
        "recorded": 0,
        "duplicates": 5,
        "labels_written": 0,
        "observed_label_disagreements": 0,
    }
    status = ops.get(f"/api/v1/reviews/{created['id']}/").json()
    assert status["reviewed"] == 60
    correct = np.array([k % 4 != 0 for k in range(60)], dtype=float)
    weights = np.array([1 / i["inclusion_probability"] for i in items])
    assert status["estimate"]["accuracy"] == pytest.approx(np.sum(weights * correct) / np.sum(weights))
    low, high = status["estimate"]["ci"]
    assert low < status["estimate"]["accuracy"] < high
    assert {"precision", "recall"} <= set(status["estimate"])
    assert status["agreement"]["pairs"] == 0 and status["agreement"]["kappa"] is None
    # Reviews are human labels of their predictions.
    labels = Label.objects.filter(model=loan, request_id__in=[i["request_id"] for i in items])
    assert labels.count() == 60 and all(label.human_corrected for label in labels)


def test_reviews_fold_into_performance(client_with, loan):
    batch = review.batch_create(
        model=loan, start=T0, end=T0 + timedelta(days=1), size=40, double_share=0, seed=1
    )
    truths = {}
    for k, item in enumerate(batch.items.select_related("prediction")):
        truths[item.request_id] = k % 2
        review.review_record(item=item, reviewer_name="ann", outcome=k % 2)
    sketches_compact_all()
    perf = client_with("read").get("/api/v1/models/loan/performance/",
                                   {"start": T0.isoformat(), "end": (T0 + timedelta(days=1)).isoformat()}).json()  # fmt: skip
    assert perf["labelled"] == 40
    scores = dict(batch.items.values_list("request_id", "prediction__score"))
    expected = np.mean([int(scores[r] >= 0.5) == t for r, t in truths.items()])
    assert perf["metrics"]["accuracy"] == pytest.approx(expected)


def test_observed_label_is_never_silently_replaced(client_with, loan):
    labels_ingest(model=loan, rows=[{"request_id": "r-1", "label": 1}, {"request_id": "r-2", "label": 0}])
    batch = review.batch_create(
        model=loan, start=T0, end=T0 + timedelta(days=1), size=N, double_share=0, seed=2
    )
    ops = client_with("ops")
    res = ops.post(f"/api/v1/reviews/{batch.pk}/results/",
                   [{"request_id": "r-1", "label": 0, "reviewer": "ann"}, {"request_id": "r-2", "label": 0, "reviewer": "ann"}],
                   format="json")  # fmt: skip
    assert res.json() == {
        "recorded": 2,
        "duplicates": 0,
        "labels_written": 0,
        "observed_label_disagreements": 1,
    }
    assert Label.objects.get(model=loan, request_id="r-1").value == 1  # kept
    assert not Label.objects.get(model=loan, request_id="r-1").human_corrected
    assert ops.get(f"/api/v1/reviews/{batch.pk}/").json()["observed_label_disagreements"] == 1


def test_record_as_label_keeps_an_observed_label_and_says_so(loan):
    agent = make_user("agent", SUPPORT_AGENTS)
    labels_ingest(model=loan, rows=[{"request_id": "r-3", "label": 1}])
    prediction = loan.prediction_set.get(request_id="r-3")
    correction = services.decision_correct(actor=agent, prediction=prediction, corrected_outcome=0,
                                           reason="customer proved it", record_as_label=True)  # fmt: skip
    assert correction.label_kept == 1 and not correction.recorded_as_label
    assert Label.objects.get(model=loan, request_id="r-3").value == 1
    # With no observed label, the correction becomes the human label.
    other = loan.prediction_set.get(request_id="r-4")
    assert services.decision_correct(actor=agent, prediction=other, corrected_outcome=1, reason="r",
                                     record_as_label=True).recorded_as_label  # fmt: skip
    assert Label.objects.get(model=loan, request_id="r-4").human_corrected


def test_double_review_and_kappa(loan):
    from sklearn.metrics import cohen_kappa_score

    batch = review.batch_create(
        model=loan, start=T0, end=T0 + timedelta(days=1), size=50, double_share=0.4, seed=3
    )
    doubles = list(batch.items.filter(reviews_needed=2).order_by("position"))
    assert len(doubles) == 20
    ann, bob = [], []
    for k, item in enumerate(doubles):
        a = k % 2
        b = a if k % 5 else 1 - a
        review.review_record(item=item, reviewer_name="ann", outcome=a)
        review.review_record(item=item, reviewer_name="bob", outcome=b)
        ann.append(a)
        bob.append(b)
    agreement = batch_summary(batch=batch)["agreement"]
    assert agreement["pairs"] == 20
    assert agreement["kappa"] == pytest.approx(cohen_kappa_score(ann, bob))
    per = {r["reviewer"]: r for r in agreement["reviewers"]}
    assert per["ann"]["kappa"] == pytest.approx(cohen_kappa_score(ann, bob)) and per["bob"]["pairs"] == 20


def test_bad_input_gets_clear_errors_and_nothing_is_stored(client_with, loan):
    ops = client_with("ops")
    assert ops.post("/api/v1/models/nope/reviews/", body(), format="json").status_code == 404
    for bad, field in [({**body(), "size": 0}, "size"), ({**body(), "size": "ten"}, "size"),
                       ({**body(), "start": "yesterday"}, "start"), ({**body(), "end": T0.isoformat()}, "end"),
                       (body(start=(T0 + timedelta(days=30)).isoformat(), end=(T0 + timedelta(days=31)).isoformat()), "start")]:  # fmt: skip
        res = ops.post("/api/v1/models/loan/reviews/", bad, format="json")
        assert res.status_code == 400 and field in res.json()["errors"], (bad, res.content)
    assert ops.post("/api/v1/models/loan/reviews/", [], format="json").status_code == 400
    batch_id = ops.post("/api/v1/models/loan/reviews/", body(10), format="json").json()["id"]
    rid = ReviewItem.objects.filter(batch_id=batch_id).first().request_id
    res = ops.post(f"/api/v1/reviews/{batch_id}/results/",
                   [{"request_id": rid, "label": 1, "reviewer": "ann"}, {"request_id": "r-nope", "label": 7, "reviewer": ""}],
                   format="json")  # fmt: skip
    assert res.status_code == 400
    assert {"1.request_id", "1.label", "1.reviewer"} <= set(res.json()["errors"])
    assert not ReviewItem.objects.filter(batch_id=batch_id, reviews__isnull=False).exists()
    assert ops.post(f"/api/v1/reviews/{batch_id}/results/", {"a": 1}, format="json").status_code == 400
    assert ops.get("/api/v1/reviews/999999/").status_code == 404
    assert client_with("read").get(f"/api/v1/reviews/{batch_id}/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_concurrent_reviewers_never_get_the_same_single_review_item():
    version = make_version(slug="loan")
    predictions_ingest(model=version.model, rows=[
        {"request_id": f"r-{i}", "version": "v1", "timestamp": (T0 + timedelta(minutes=i)).isoformat(),
         "features": {"income": 1.0, "age": 1.0, "region": "north", "has_car": True}, "score": 0.1 * (i % 10)}
        for i in range(40)])  # fmt: skip
    batch = review.batch_create(
        model=version.model, start=T0, end=T0 + timedelta(days=1), size=8, double_share=0
    )
    group = Group.objects.get_or_create(name=SUPPORT_AGENTS)[0]
    from ops.apps import grant_act_permission

    grant_act_permission(sender=None)
    reviewers = []
    for k in range(6):
        user = User.objects.create_user(username=f"rev-{k}")
        user.groups.add(group)
        reviewers.append(User.objects.get(pk=user.pk))
    batch = ReviewBatch.objects.get(pk=batch.pk)
    got = run_threads(*[lambda u=u: review.item_claim(batch=batch, reviewer=u) for u in reviewers])
    claimed = [item.pk for item in got if item is not None]
    assert len(claimed) == 6 and len(set(claimed)) == 6
    # The last two items go to two of them on the next round, then the batch is exhausted for newcomers.
    for item, user in zip(got, reviewers, strict=True):
        review.review_record(item=item, reviewer_name=user.username, reviewer=user, outcome=1)
    second = run_threads(*[lambda u=u: review.item_claim(batch=batch, reviewer=u) for u in reviewers])
    assert sorted(i.pk for i in second if i is not None) == sorted(
        set(batch.items.values_list("pk", flat=True)) - set(claimed)
    )


def test_weekly_schedule_draws_its_share_once_a_week(loan):
    from ops.models import ReviewSchedule

    review.schedule_set(model=loan, weekly_share=0.1, double_share=0, max_size=500, enabled=True)
    now = T0 + timedelta(days=3)
    made = review.scheduled_batches_create(now=now)
    assert len(made) == 1 and made[0].size == 30 and made[0].population == N and made[0].source == "scheduled"
    assert review.scheduled_batches_create(now=now + timedelta(days=1)) == []  # not due yet
    assert ReviewSchedule.objects.get(model=loan).last_run_at == now
    with pytest.raises(ValidationError):
        review.schedule_set(model=loan, weekly_share=0, double_share=0, max_size=5, enabled=True)


def test_bulk_relabel_previews_audits_and_undoes(client_with, loan):
    from ops.models import AuditRecord
    from ops.services import relabel

    agent = make_user("agent", SUPPORT_AGENTS)
    start, end = T0, T0 + timedelta(days=1)
    south = {"feature": "region", "condition": "eq", "value": "south"}
    labels_ingest(model=loan, rows=[{"request_id": "r-0", "label": 1}])  # observed: stays
    labels_ingest(model=loan, rows=[{"request_id": "r-3", "label": 1}], human_corrected=True)  # a human label
    preview = relabel.relabel_preview(model=loan, start=start, end=end, condition=south)
    assert preview == {"matching": 100, "to_relabel": 99, "observed_kept": 1}
    with pytest.raises(ValidationError) as stale:
        relabel.relabel_apply(actor=agent, model=loan, start=start, end=end, condition=south, label=0,
                              reason="fraud ring", description="region is south", expected=98)  # fmt: skip
    assert "preview again" in str(stale.value)
    done = relabel.relabel_apply(actor=agent, model=loan, start=start, end=end, condition=south, label=0,
                                 reason="fraud ring", description="region is south", expected=99)  # fmt: skip
    labels = dict(Label.objects.filter(model=loan).values_list("request_id", "value"))
    assert labels["r-0"] == 1 and labels["r-3"] == 0 and labels["r-6"] == 0 and "r-1" not in labels
    record = AuditRecord.objects.get(action="relabel")
    assert record.after["relabelled"] == 99 and record.actor_name == "agent"
    sketches_compact_all()
    perf = client_with("read").get(
        "/api/v1/models/loan/performance/", {"start": start.isoformat(), "end": end.isoformat()}
    )
    assert perf.json()["labelled"] == 100
    relabel.relabel_undo(actor=agent, relabel_id=done.pk, reason="wrong pattern")
    labels = dict(Label.objects.filter(model=loan).values_list("request_id", "value"))
    assert labels == {"r-0": 1, "r-3": 1}
    assert AuditRecord.objects.get(action="undo_relabel").after == {
        "restored": 1,
        "removed": 98,
        "left_changed": 0,
    }
    sketches_compact_all()
    perf = client_with("read").get(
        "/api/v1/models/loan/performance/", {"start": start.isoformat(), "end": end.isoformat()}
    )
    assert perf.json()["labelled"] == 2
    with pytest.raises(ValidationError):
        relabel.relabel_undo(actor=agent, relabel_id=done.pk, reason="again")
    income = relabel.relabel_preview(
        model=loan, start=start, end=end, condition={"feature": "income", "condition": "gt", "value": 649.5}
    )
    assert income["matching"] == 50


def test_pattern_page_previews_then_relabels(client, loan):
    agent = make_user("agent", SUPPORT_AGENTS)
    client.force_login(agent)
    batch = review.batch_create(
        model=loan, start=T0, end=T0 + timedelta(days=1), size=20, double_share=0, seed=4
    )
    url = f"/ops/reviews/{batch.pk}/pattern/?feature=region&condition=eq&value=%22south%22"
    page = client.get(url)
    assert page.status_code == 200 and "100" in page.content.decode()
    preview = client.post(url, {"label": "0", "reason": "fraud ring", "action": "preview"})
    assert preview.status_code == 200 and "100 decisions will be relabelled" in preview.content.decode()
    bad = client.post(url, {"label": "maybe", "reason": "x", "action": "preview"})
    assert bad.status_code == 400 and "expected 0, 1, true or false" in bad.content.decode()
    applied = client.post(url, {"label": "0", "reason": "fraud ring", "action": "apply", "expected": "100"})
    assert applied.status_code == 302
    assert Label.objects.filter(model=loan, human_corrected=True).count() == 100
    assert (
        client.get(f"/ops/reviews/{batch.pk}/pattern/?feature=region&condition=nope&value=1").status_code
        == 404
    )


def test_a_partly_reviewed_batch_weights_each_stratum_by_its_reviewed_share(loan):
    batch = review.batch_create(model=loan, start=T0, end=T0 + timedelta(days=1), size=60, double_share=0, seed=5)
    population = {name: pair[0] for name, pair in batch.allocation.items()}
    reviewed = {}
    for item in batch.items.order_by("position"):
        if item.stratum == "uniform" and sum(s == "uniform" for s, _ in reviewed.values()) >= 10:
            continue  # only 10 uniform items reviewed, every near-threshold one
        decided = int(item.prediction.score >= 0.5)
        truth = decided if item.stratum == "uniform" else 1 - decided
        review.review_record(item=item, reviewer_name="ann", outcome=truth)
        reviewed[item.request_id] = (item.stratum, truth == decided)
    # Direct: each stratum's accuracy weighted by its population share.
    by = {name: [ok for s, ok in reviewed.values() if s == name] for name in population}
    expected = sum(population[n] * np.mean(v) for n, v in by.items() if v) / sum(population[n] for n, v in by.items() if v)
    assert batch_summary(batch=batch)["estimate"]["accuracy"] == pytest.approx(expected)
