"""Monitoring's health verdict (the health API, the overview, the alerts) carries lifecycle's
staleness finding through monitoring's provider hook."""

from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.services.policy import policy_update
from monitoring.selectors.health import versions_health

from .factories import binary_model, version

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _health(client, **params):
    response = client.get("/api/v1/models/loan-default/health/", {"at": NOW.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_health_api_has_a_staleness_finding_past_the_maximum_age_only(client_with):
    model = binary_model()
    version(model, "old", stage="production", metadata={"training_period": "2026-08-01 to 2026-10-31"})
    version(model, "fresh", stage="shadow", metadata={"training_period": "2026-10-01 to 2026-11-15"})
    version(model, "undated", stage="candidate")
    policy_update(model=model, max_age_days=10)
    read = client_with("read")

    body = _health(read)  # production: 20.5 days past its training data, maximum 10
    stale = [f for f in body["findings"] if f["kind"] == "staleness"]
    assert len(stale) == 1 and body["status"] == "warning"
    assert stale[0]["severity"] == "warning" and stale[0]["metric"] == "age_days"
    assert stale[0]["value"] == pytest.approx(20.5) and stale[0]["expected"] == [0, 10]
    assert stale[0]["since"] == "2026-11-10T00:00:00Z" and "maximum 10" in stale[0]["summary"]

    for name in ("fresh", "undated"):  # 5.5 days old; no training period: age unknown
        assert not [f for f in _health(read, version=name)["findings"] if f["kind"] == "staleness"]

    policy_update(model=model, max_age_days=30)
    assert not [f for f in _health(read)["findings"] if f["kind"] == "staleness"]


def test_verdicts_of_many_versions_read_the_policies_once(django_assert_max_num_queries):
    models = [binary_model(f"m{k}") for k in range(5)]
    versions = [version(m, "v1", stage="production", metadata={"training_period": "2026-01-01 to 2026-02-01"})
                for m in models]
    policy_update(model=models[0], max_age_days=400)
    with django_assert_max_num_queries(3):  # the windows, the policies (no window: no peak query)
        verdicts = versions_health(versions=versions, now=NOW)
    assert [any(f.kind == "staleness" for f in verdicts[v.pk].findings) for v in versions] == [
        False, True, True, True, True]
    assert verdicts[versions[1].pk].findings[0].since == datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=180)
