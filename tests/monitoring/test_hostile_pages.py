"""Dashboard URLs a hostile or careless visitor can type (issue 10, item 16): never a 500."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User

from core.roles import DATA_SCIENTISTS
from monitoring.models import MLModel
from tests.monitoring.dashboard_factories import loan_scenario

END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def scenario(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        version = loan_scenario(slug="hostile", days=2, per_hour=2, shift_day=1, null_day=0, labelled_days=1, end=END)
        yield version
        MLModel.objects.filter(slug="hostile").delete()


@pytest.fixture
def sci_client(client, db):
    user = User.objects.create_user("sci", password="pw")
    user.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "field"), [
    ("range=custom&start=0001-01-01&end=9999-12-31", "start"),
    ("range=custom&start=2024-01-01&end=9999-12-31", "end"),
    ("range=custom&start=2024-02-30&end=2024-03-01", "start"),
    ("window=9999-12-31T23:59", "window"),
    ("window=0001-01-01T00:00", "window"),
])
def test_dates_at_the_calendars_edges_fall_back_with_a_message(sci_client, scenario, query, field):
    for url in ("/models/hostile/", "/models/hostile/features/x0/"):
        response = sci_client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
        assert field in response.context["errors"], (url, query, response.context["errors"])


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["version=v1%00", "segment=web%00", "q=loan%00"])
def test_nul_in_a_page_query_is_a_400(sci_client, scenario, query):
    response = sci_client.get(f"/models/hostile/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.content.decode()
