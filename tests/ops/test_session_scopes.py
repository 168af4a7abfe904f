"""Pages and API agree on what each role's web session may read (DECISIONS.md, H4)."""

import pytest

MODEL_PAGES = ["/", "/models/loan-default/"]
READ_API = [
    "/api/v1/models/",
    "/api/v1/models/loan-default/",
    "/api/v1/models/loan-default/drift/",
    "/api/v1/models/loan-default/predictions/loan-0/explanation/",
]
OPS_API = ["/api/v1/models/recs/overrides/"]


@pytest.mark.parametrize("url", MODEL_PAGES + READ_API)
def test_agents_session_is_refused_the_dashboards_and_the_read_api_alike(client, loan, recs, agent, url):
    client.force_login(agent)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", OPS_API)
def test_agents_session_reaches_the_ops_api(client, loan, recs, agent, url):
    client.force_login(agent)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/models/", "/api/v1/models/loan-default/", *OPS_API])
def test_scientists_session_reaches_what_their_pages_show(client, loan, recs, scientist, url):
    client.force_login(scientist)
    assert client.get(url).status_code == 200
    assert client.get("/models/loan-default/").status_code == 200


def test_agents_rerank_through_the_session(client, recs, agent):
    client.force_login(agent)
    body = {"candidates": [{"item_id": "sku-1", "score": 0.5}]}
    response = client.post("/api/v1/models/recs/rerank/", body, content_type="application/json")
    assert response.status_code == 200
    assert [c["item_id"] for c in response.json()["candidates"]] == ["sku-1"]
