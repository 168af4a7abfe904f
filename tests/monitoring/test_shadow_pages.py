"""Data scientists' search and prediction page with a production and a shadow prediction."""

import pytest
from django.contrib.auth.models import Group, User

from core.roles import DATA_SCIENTISTS
from monitoring.services.ingest import predictions_ingest
from monitoring.services.registry import version_create

from .ingest_factories import SCHEMA, binary_model, row

pytestmark = pytest.mark.django_db


@pytest.fixture
def sci_client(client):
    user = User.objects.create_user("sci", password="pw")
    user.groups.add(Group.objects.get_or_create(name=DATA_SCIENTISTS)[0])
    client.force_login(user)
    return client


@pytest.fixture
def shadowed():
    model, _ = binary_model()
    version_create(model=model, version="shadow-1", features=SCHEMA, stage="shadow", threshold=0.5)
    predictions_ingest(model=model, rows=[row(4, score=0.25), row(4, version="shadow-1", score=0.875)])
    return model


def test_search_lists_both_versions_and_marks_the_shadow(sci_client, shadowed):
    html = sci_client.get("/predictions/", {"q": "r-4"}).content.decode()
    assert 'href="/models/loan-default/predictions/r-4/"' in html
    assert 'href="/models/loan-default/predictions/r-4/?version=shadow-1"' in html
    assert html.count('<span class="badge">shadow</span>') == 1


def test_prediction_page_shows_the_served_one_and_the_shadow_with_version(sci_client, shadowed):
    served = sci_client.get("/models/loan-default/predictions/r-4/").content.decode()
    assert "0.2500" in served and "shadow: not served" not in served
    assert '?version=shadow-1">shadow-1</a> (shadow): score 0.8750' in served
    shadow = sci_client.get("/models/loan-default/predictions/r-4/", {"version": "shadow-1"}).content.decode()
    assert "0.8750" in shadow and "shadow: not served" in shadow
    assert sci_client.get("/models/loan-default/predictions/r-4/", {"version": "v9"}).status_code == 404
