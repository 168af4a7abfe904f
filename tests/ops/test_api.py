from datetime import timedelta

import orjson
import pytest

from ops import services
from ops.models import Override

from .conftest import T0


@pytest.fixture
def now(frozen):
    return frozen(T0 + timedelta(days=1))


def rerank(client, slug: str, candidates, **extra):
    return client.post(f"/api/v1/models/{slug}/rerank/", {"candidates": candidates, **extra}, format="json")


def test_overrides_lists_active_entries_only(client_with, agent, recs, offers, frozen, now):
    services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="recalled")
    services.override_blacklist(
        actor=agent, model=None, item_id="sku-9", reason="unsafe", expires_at=now + timedelta(days=2)
    )
    services.override_blacklist(actor=agent, model=offers, item_id="sku-5", reason="other model")
    services.override_boost(
        actor=agent, model=recs, item_id="sku-3", mode="multiplier", value=2, reason="new"
    )
    services.override_boost(
        actor=agent, model=recs, item_id="sku-4", mode="additive", value=0.1, reason="later",
        starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2),
    )  # fmt: skip
    response = client_with("read").get("/api/v1/models/recs/overrides/")
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "recs" and body["generated_at"] == "2026-11-21T09:00:00Z"
    assert sorted(body["blacklist"], key=lambda e: e["item_id"]) == [
        {"item_id": "sku-1", "scope": "model", "expires_at": None, "reason": "recalled"},
        {"item_id": "sku-9", "scope": "all", "expires_at": "2026-11-23T09:00:00Z", "reason": "unsafe"},
    ]
    assert body["boosts"] == [
        {
            "item_id": "sku-3",
            "mode": "multiplier",
            "value": 2.0,
            "starts_at": "2026-11-21T09:00:00Z",
            "ends_at": "2026-11-28T09:00:00Z",
        }
    ]


def test_etag_304_and_changes_on_write_revoke_and_time(client_with, agent, recs, frozen, now):
    client = client_with("ops")
    url = "/api/v1/models/recs/overrides/"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304

    boost = services.override_boost(
        actor=agent,
        model=recs,
        item_id="sku-3",
        mode="multiplier",
        value=2,
        reason="r",
        ends_at=now + timedelta(hours=1),
    )
    boost.refresh_from_db()
    after_write = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert after_write.status_code == 200 and after_write["ETag"] != etag
    etag_with_boost = after_write["ETag"]

    # Time passing the boost's end changes the ETag with no write at all.
    frozen(now + timedelta(minutes=59))
    assert client.get(url, HTTP_IF_NONE_MATCH=etag_with_boost).status_code == 304
    frozen(now + timedelta(hours=1))
    expired = client.get(url, HTTP_IF_NONE_MATCH=etag_with_boost)
    assert expired.status_code == 200 and expired.json()["boosts"] == []

    blacklisted = services.override_blacklist(actor=agent, model=recs, item_id="sku-2", reason="r")
    before_revoke = client.get(url)["ETag"]
    services.override_revoke(actor=agent, override_id=blacklisted.pk, reason="mistake")
    after_revoke = client.get(url, HTTP_IF_NONE_MATCH=before_revoke)
    assert after_revoke.status_code == 200 and after_revoke.json()["blacklist"] == []
    # The boost ended by time alone: its row was never written again (no job, and revoking
    # another entry drew a new change_seq for that entry only).
    stored = Override.objects.get(pk=boost.pk)
    assert (stored.revoked_at, stored.ends_at, stored.change_seq) == (None, now + timedelta(hours=1), boost.change_seq)
    assert stored.state_at(now + timedelta(hours=1)) == "expired"


def test_other_models_writes_do_not_change_the_etag(client_with, agent, recs, offers, now):
    client = client_with("read")
    etag = client.get("/api/v1/models/recs/overrides/")["ETag"]
    services.override_blacklist(actor=agent, model=offers, item_id="x", reason="r")
    assert client.get("/api/v1/models/recs/overrides/", HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize(
    ("scopes", "status"),
    [((), 401), (("ingest",), 403), (("admin",), 403), (("read",), 200), (("ops",), 200)],
)
def test_serving_api_scopes(client_with, api_client, recs, scopes, status):
    client = client_with(*scopes) if scopes else api_client
    assert client.get("/api/v1/models/recs/overrides/").status_code == status
    assert rerank(client, "recs", [{"item_id": "a", "score": 1}]).status_code == status


def test_unknown_model_is_404(client_with, db):
    client = client_with("read")
    assert client.get("/api/v1/models/nope/overrides/").status_code == 404
    assert rerank(client, "nope", []).status_code == 404


def test_rerank_removes_blacklisted_and_applies_boosts(client_with, agent, recs, now):
    services.override_blacklist(actor=agent, model=None, item_id="sku-1", reason="recalled")
    services.override_boost(
        actor=agent, model=recs, item_id="sku-3", mode="multiplier", value=3, reason="cold start"
    )
    response = rerank(
        client_with("ops"), "recs",
        [{"item_id": "sku-1", "score": 0.9}, {"item_id": "sku-2", "score": 0.5}, {"item_id": "sku-3", "score": 0.2},
         {"item_id": "sku-4", "score": 0.5}],
        entity_id="cust-42",
    )  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["removed"] == [{"item_id": "sku-1", "reason": "blacklisted for all models: recalled"}]
    assert [(c["item_id"], c["rank"], c["original_rank"]) for c in body["candidates"]] == [
        ("sku-3", 1, 4),
        ("sku-2", 2, 2),
        ("sku-4", 3, 3),
    ]
    top = body["candidates"][0]
    assert top["score"] == pytest.approx(0.6) and top["original_score"] == 0.2
    assert top["reason"] == "boost x3 until 2026-11-28T09:00:00Z: cold start"
    assert body["candidates"][1]["reason"] is None


def test_rerank_stops_applying_an_expired_boost(client_with, agent, recs, frozen, now):
    services.override_boost(
        actor=agent,
        model=recs,
        item_id="b",
        mode="additive",
        value=1,
        reason="r",
        ends_at=now + timedelta(hours=2),
    )
    client = client_with("read")
    candidates = [{"item_id": "a", "score": 0.5}, {"item_id": "b", "score": 0.1}]
    assert [c["item_id"] for c in rerank(client, "recs", candidates).json()["candidates"]] == ["b", "a"]
    frozen(now + timedelta(hours=2))
    after = rerank(client, "recs", candidates).json()["candidates"]
    assert [(c["item_id"], c["reason"]) for c in after] == [("a", None), ("b", None)]


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (
            {"candidates": [{"item_id": "a", "score": 1}, {"item_id": "b", "score": "high"}]},
            "candidates[1].score",
            "A finite number is required.",
        ),
        (
            {"candidates": [{"item_id": "a", "score": 1}, {"score": 2}]},
            "candidates[1].item_id",
            "A non-empty string is required.",
        ),
        (
            {"candidates": [{"item_id": "a", "score": 1}, {"item_id": "a", "score": 2}]},
            "candidates[1].item_id",
            "Duplicate item_id 'a' (first at index 0).",
        ),
        (
            {"candidates": [{"item_id": "a", "score": True}]},
            "candidates[0].score",
            "A finite number is required.",
        ),
        ({"candidates": ["a"]}, "candidates[0]", "Each candidate must be an object with item_id and score."),
        ({"candidates": "a"}, "candidates", "A list is required."),
        ({"candidates": [], "entity_id": 5}, "entity_id", "Must be a string."),
    ],
)
def test_rerank_validation_names_the_candidate(client_with, recs, body, key, message):
    response = client_with("ops").post("/api/v1/models/recs/rerank/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": f"Invalid input: {key}: {message}", "errors": {key: [message]}}


def test_rerank_non_finite_and_malformed_json_are_400(client_with, recs):
    client = client_with("ops")
    nan = client.generic(
        "POST",
        "/api/v1/models/recs/rerank/",
        b'{"candidates": [{"item_id": "a", "score": NaN}]}',
        "application/json",
    )
    assert nan.status_code == 400
    broken = client.generic("POST", "/api/v1/models/recs/rerank/", b'{"candidates": [', "application/json")
    assert broken.status_code == 400 and "Malformed JSON" in broken.json()["detail"]


def test_rerank_limits(client_with, recs, settings):
    client = client_with("ops")
    settings.VIGIL_RERANK_MAX_CANDIDATES = 3
    too_many = rerank(client, "recs", [{"item_id": str(i), "score": i} for i in range(4)])
    assert too_many.status_code == 400 and too_many.json()["errors"] == {
        "candidates": ["At most 3 candidates per call; got 4."]
    }
    settings.VIGIL_RERANK_MAX_BYTES = 100
    body = orjson.dumps({"candidates": [{"item_id": f"item-{i}", "score": 0.5} for i in range(3)]})
    too_big = client.generic("POST", "/api/v1/models/recs/rerank/", body, "application/json")
    assert too_big.status_code == 413 and too_big.json()["detail"]


def test_rerank_of_ten_thousand_candidates(client_with, agent, recs, now):
    services.override_boost(
        actor=agent, model=recs, item_id="i-9999", mode="additive", value=100, reason="top"
    )
    candidates = [{"item_id": f"i-{i}", "score": i / 10_000} for i in range(10_000)]
    body = rerank(client_with("read"), "recs", candidates).json()
    assert len(body["candidates"]) == 10_000
    assert body["candidates"][0]["item_id"] == "i-9999" and body["candidates"][1]["item_id"] == "i-9998"


def test_session_users_use_their_role_scopes(client, scientist, outsider, recs):
    client.force_login(scientist)
    assert client.get("/api/v1/models/recs/overrides/").status_code == 200
    client.force_login(outsider)
    assert client.get("/api/v1/models/recs/overrides/").status_code == 403
