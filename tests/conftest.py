import os

import pytest

# Sync Playwright runs an event loop in the test thread; Django must still allow ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Every connection the tests open (threads, workers, live servers): a lock wait or an abandoned
# transaction ends in an error after a while instead of hanging the suite.
os.environ.setdefault("PGOPTIONS", "-c lock_timeout=60s -c idle_in_transaction_session_timeout=600s")

CHROMIUM = os.getenv("VIGIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def make_token(db):
    """make_token("ingest", "read") -> plain key of a new token with those scopes."""
    from core.services.tokens import api_token_create

    counter = {"n": 0}

    def _make(*scopes: str) -> str:
        counter["n"] += 1
        _, key = api_token_create(name=f"test-{counter['n']}-{'-'.join(scopes)}", scopes=list(scopes))
        return key

    return _make


@pytest.fixture
def client_with(api_client, make_token):
    """client_with("ingest") -> an APIClient authenticated with a token of those scopes."""

    def _client(*scopes: str):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {make_token(*scopes)}")
        return client

    return _client
