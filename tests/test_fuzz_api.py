"""Fuzzing the whole REST API from its own OpenAPI schema (schemathesis, in process over WSGI).

Every operation gets generated requests, valid and invalid, sent with a token that holds every
scope, against a small world (a binary model with a reference sample and predictions, a
ranking model) so that paths reach the views' real work and not only the 404s. It fails on
any 5xx and on any response the schema does not describe (status code, content type, body).

Bounded for CI: VIGIL_FUZZ_EXAMPLES examples per operation (default 15). Run it larger by
hand with e.g. ``VIGIL_FUZZ_EXAMPLES=300``; the responses per status code are written to
var/fuzz-summary.json (VIGIL_FUZZ_SUMMARY).
"""

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import orjson
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.getenv("VIGIL_FUZZ_EXAMPLES", "15"))
# Measuring only (e.g. an older commit): send every example, count statuses, fail on nothing.
COUNT_ONLY = os.getenv("VIGIL_FUZZ_COUNT_ONLY") == "1"
SCOPES = ("ingest", "read", "admin", "ops")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _openapi() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return orjson.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))


def _wsgi():
    from config.wsgi import application

    return application


schema = schemathesis.openapi.from_dict(_openapi())
schema.app = _wsgi()
schema.location = "/api/v1/schema/"


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    # Mostly the world's own names, so that requests get past the 404 into the views' work.
    if not path_parameters or "slug" not in path_parameters:
        return st.just(path_parameters)
    loan = {**path_parameters, "slug": "fz-loan"}
    loan.update({key: value for key, value in (("version", "v1"), ("request_id", "fz-1")) if key in loan})
    recs = {**loan, "slug": "fz-recs"}
    return st.sampled_from([path_parameters, loan, loan, loan, recs])


# Responses per operation and status code, written at the end of the module (for the report).
TALLY: Counter = Counter()


@schema.hook
def after_call(context, case, response):
    TALLY[(f"{case.method} {case.path}", response.status_code)] += 1


@pytest.fixture(scope="module", autouse=True)
def tally_report():
    yield
    server_errors = {f"{op} -> {code}": n for (op, code), n in TALLY.items() if code >= 500}
    summary = {"requests": sum(TALLY.values()), "server_errors": sum(server_errors.values()),
               "by_operation_5xx": server_errors}
    by_status: Counter = Counter()
    for (_, code), n in TALLY.items():
        by_status[str(code)] += n
    summary["by_status"] = dict(sorted(by_status.items()))
    out = Path(os.getenv("VIGIL_FUZZ_SUMMARY", "var/fuzz-summary.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))


@pytest.fixture
def world(db, settings, make_token):
    """The models the generated requests mostly aim at, and a token with every scope."""
    from monitoring.services.ingest import predictions_ingest
    from monitoring.services.profile import profile_build
    from monitoring.services.reference import reference_store
    from monitoring.services.registry import model_create, version_create

    settings.ALLOWED_HOSTS = ["*"]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    schema_features = [
        {"name": "income", "type": "numeric", "nullable": False, "min": 0, "max": 1_000_000},
        {"name": "region", "type": "categorical", "categories": ["north", "south"]},
        {"name": "has_car", "type": "boolean"},
    ]
    loan = model_create(slug="fz-loan", name="Fuzz loan", task="binary_classification")
    version = version_create(model=loan, version="v1", features=schema_features, stage="production",
                             threshold=0.5)
    reference_store(version=version, rows=[
        {"features": {"income": 1000.0 * i, "region": "north" if i % 2 else "south", "has_car": i % 3 == 0},
         "score": (i % 10) / 10, "label": i % 2} for i in range(60)])
    profile_build(version=version)
    now = datetime.now(UTC) - timedelta(hours=2)
    predictions_ingest(model=loan, rows=[
        {"request_id": f"fz-{i}", "timestamp": (now + timedelta(minutes=i)).isoformat(), "score": (i % 10) / 10,
         "features": {"income": 500.0 * i, "region": "north", "has_car": True}, "entity_id": "cust-1",
         "segment": "web"} for i in range(40)])
    recs = model_create(slug="fz-recs", name="Fuzz recs", task="ranking")
    version_create(model=recs, version="v1", features=[{"name": "price", "type": "numeric"}], stage="production")
    # Django closes the connection at the end of each request; in a test that would end the
    # test's transaction, so the in-process requests leave it open (as Django's test client does).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Token {make_token(*SCOPES)}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.timeout(600)
@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_5xx_and_matches_its_schema(case, world):
    response = case.call(headers=world)
    if not COUNT_ONLY:
        case.validate_response(response, checks=CHECKS)
