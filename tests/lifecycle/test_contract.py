"""The lifecycle endpoints' real answers against the served OpenAPI schema (closed objects), and the
contract's fixed comparison shape against statsmodels and scikit-learn on real stored pairs."""

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import accuracy_score, roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from tests.test_api_contract import check

from .factories import scored
from .test_gate import world

pytestmark = pytest.mark.django_db
COMPARE = "/api/v1/models/{slug}/compare/"
PROMOTE = "/api/v1/models/{slug}/versions/{version}/promote/"
ROLLBACK = "/api/v1/models/{slug}/rollback/"
THRESHOLD = "/api/v1/models/{slug}/versions/{version}/threshold/"
LIFECYCLE = "/api/v1/models/{slug}/lifecycle/"


def test_compare_has_the_contract_shape_and_the_reference_values(client_with, api_client):
    world(n=2000, labelled=1500)
    read = client_with("read")
    body = check(read.get("/api/v1/models/loan-default/compare/?a=v1&b=v2"), "get", COMPARE, 200)
    for key in ("paired", "agreement", "agreement_ci", "score_correlation", "labelled", "mcnemar", "metrics",
                "roc_auc_difference", "verdict"):
        assert key in body
    assert set(body["mcnemar"]) == {"a_only_right", "b_only_right", "p_value"}
    # The same numbers from the reference libraries on the stored rows.
    y, s1 = scored(2000, seed=3, skill=1.0)
    rng = np.random.default_rng(4)
    s2 = 1 / (1 + np.exp(-(y * 2.5 + rng.normal(0, 1, 2000) - 1.25)))
    d1, d2 = (s1 >= 0.5).astype(int), (s2 >= 0.5).astype(int)
    same = int((d1 == d2).sum())
    assert body["paired"] == 2000 and body["labelled"] == 1500
    assert body["agreement"] == pytest.approx(same / 2000)
    assert body["agreement_ci"] == pytest.approx(list(proportion_confint(same, 2000, method="wilson")))
    assert body["score_correlation"] == pytest.approx(sps.spearmanr(s1, s2).statistic)
    yl, r1, r2 = y[:1500], d1[:1500] == y[:1500], d2[:1500] == y[:1500]
    table = [[np.sum(r1 & r2), np.sum(r1 & ~r2)], [np.sum(~r1 & r2), np.sum(~r1 & ~r2)]]
    assert body["mcnemar"]["p_value"] == pytest.approx(mcnemar(table, exact=True).pvalue)
    assert body["mcnemar"]["a_only_right"] == table[0][1] and body["mcnemar"]["b_only_right"] == table[1][0]
    assert body["metrics"]["a"]["accuracy"] == pytest.approx(accuracy_score(yl, d1[:1500]))
    assert body["roc_auc_difference"]["value"] == pytest.approx(
        roc_auc_score(yl, s2[:1500]) - roc_auc_score(yl, s1[:1500]))
    assert body["verdict"] == "better"
    assert body["estimated"]["rows"] == 500

    bad = check(read.get("/api/v1/models/loan-default/compare/?a=v1"), "get", COMPARE, 400)
    assert "b" in bad["errors"]
    check(read.get("/api/v1/models/loan-default/compare/?a=v1&b=nope"), "get", COMPARE, 404)
    check(read.get("/api/v1/models/loan-default/compare/?a=v1&b=v2&start=yesterday"), "get", COMPARE, 400)
    check(api_client.get("/api/v1/models/loan-default/compare/?b=v2"), "get", COMPARE, 401)
    check(client_with("ingest").get("/api/v1/models/loan-default/compare/?b=v2"), "get", COMPARE, 403)


def test_stage_changes_threshold_and_policy_follow_their_schema(client_with):
    world(n=2000, skill_b=0.2)
    admin, read = client_with("admin"), client_with("read")
    url = "/api/v1/models/loan-default/versions/v2/promote/"
    refused = check(admin.post(url, {"reason": "try"}, format="json"), "post", PROMOTE, 409)
    assert refused["errors"]["gate"] == ["metric_change", "roc_auc_change"]
    check(admin.post(url, {"force": "maybe"}, format="json"), "post", PROMOTE, 400)
    check(read.post(url, {}, format="json"), "post", PROMOTE, 403)
    check(admin.post("/api/v1/models/loan-default/versions/nope/promote/", {}, format="json"), "post", PROMOTE, 404)
    check(admin.post(url, {"force": True, "reason": "ok"}, format="json"), "post", PROMOTE, 200)
    rollback = "/api/v1/models/loan-default/rollback/"
    check(admin.post(rollback, {"reason": "undo"}, format="json"), "post", ROLLBACK, 200)
    check(admin.post(rollback, {}, format="json"), "post", ROLLBACK, 409)
    check(admin.post(rollback, [], format="json"), "post", ROLLBACK, 400)

    threshold = "/api/v1/models/loan-default/versions/v1/threshold/"
    check(read.get(threshold + "?min_recall=0.9"), "get", THRESHOLD, 200)
    check(read.get(threshold + "?min_recall=2"), "get", THRESHOLD, 400)
    check(admin.post(threshold, {"threshold": 0.99}, format="json"), "post", THRESHOLD, 409)
    check(admin.post(threshold, {"threshold": 1.5}, format="json"), "post", THRESHOLD, 400)
    check(admin.post(threshold, {"threshold": 0.99, "force": True, "reason": "recall target"}, format="json"),
          "post", THRESHOLD, 200)

    lifecycle = "/api/v1/models/loan-default/lifecycle/"
    check(read.get(lifecycle), "get", LIFECYCLE, 200)
    changed = check(admin.patch(lifecycle, {"margin": 0.02, "webhook_secret": "s"}, format="json"),
                    "patch", LIFECYCLE, 200)
    assert changed["margin"] == 0.02 and changed["webhook_secret_set"] is True and "webhook_secret" not in changed
    check(admin.patch(lifecycle, {"colour": "red"}, format="json"), "patch", LIFECYCLE, 400)
    bad_url = check(admin.patch(lifecycle, {"deployment_webhook": "ftp://x"}, format="json"), "patch", LIFECYCLE, 400)
    assert "deployment_webhook" in bad_url["errors"]
    check(admin.patch(lifecycle, {"min_pairs": -1}, format="json"), "patch", LIFECYCLE, 400)
    check(read.patch(lifecycle, {"margin": 0.1}, format="json"), "patch", LIFECYCLE, 403)
