"""The registry cannot bypass the gate: production changes only through promote and rollback.

The first production version of a model (nothing to gate against) is still made through the
registry and recorded in the lifecycle's timeline (monitoring's ``production_set`` signal).
"""

import json

import pytest
from django.contrib.auth.models import Group, User

from lifecycle.models import Event, EventKind
from monitoring.models import ModelVersion
from monitoring.services.registry import StageConflict, version_create, version_update
from tests.threads import run_threads

from .factories import SCHEMA, binary_model, version

pytestmark = pytest.mark.django_db
VERSIONS = "/api/v1/models/loan-default/versions/"


def stages() -> dict[str, str]:
    return dict(ModelVersion.objects.values_list("version", "stage"))


def test_first_production_version_is_registered_and_recorded(client_with):
    admin = client_with("admin")
    assert admin.post("/api/v1/models/", {"slug": "loan-default", "name": "L", "task": "binary_classification"},
                      format="json").status_code == 201
    created = admin.post(VERSIONS, {"version": "v1", "stage": "production", "features": SCHEMA}, format="json")
    assert created.status_code == 201 and created.json()["stage"] == "production"
    event = Event.objects.get()
    assert (event.kind, event.version.version, event.previous, event.gate) == (EventKind.REGISTERED, "v1", None, None)
    assert event.actor.startswith("token:") and event.evidence == {"source": "registry", "gate": None}
    timeline = client_with("read").get("/api/v1/models/loan-default/lifecycle/").json()["timeline"]
    assert [(e["kind"], e["version"]) for e in timeline] == [("registered", "v1")]
    # A re-sent registration is still "already exists", not a stage conflict.
    again = admin.post(VERSIONS, {"version": "v1", "stage": "production", "features": SCHEMA}, format="json")
    assert again.status_code == 409 and "version" in again.json()["errors"]


def test_making_a_second_version_production_by_patch_is_refused_with_409_naming_stage(client_with):
    model = binary_model()
    version(model, "v1", stage="production")
    version(model, "v2", stage="shadow")
    admin = client_with("admin")
    patched = admin.patch(VERSIONS + "v2/", {"stage": "production"}, format="json")
    assert patched.status_code == 409
    body = patched.json()
    assert list(body["errors"]) == ["stage"] and "POST /api/v1/models/loan-default/versions/v2/promote/" in body["detail"]
    assert stages() == {"v1": "production", "v2": "shadow"}
    assert list(Event.objects.values_list("kind", flat=True)) == [EventKind.REGISTERED]  # v1's only


def test_a_new_version_registered_as_production_replaces_the_current_one_recorded_as_ungated(client_with):
    # The contract's POST .../versions/ with "stage": "production" answers 201 for a model that
    # already has a production version: the old one becomes the rollback target, and the
    # timeline says that no gate ran.
    model = binary_model()
    version(model, "v1", stage="production")
    admin = client_with("admin")
    created = admin.post(VERSIONS, {"version": "v2", "stage": "production", "features": SCHEMA}, format="json")
    assert created.status_code == 201 and created.json()["stage"] == "production"
    assert stages() == {"v1": "archived", "v2": "production"}
    event = Event.objects.get(version__version="v2")
    assert (event.kind, event.previous.version) == (EventKind.REGISTERED, "v1")
    assert "No gate ran" in event.reason and event.evidence == {"source": "registry", "gate": None}
    back = admin.post("/api/v1/models/loan-default/rollback/", {"reason": "registered by mistake"}, format="json")
    assert back.status_code == 200
    assert stages() == {"v1": "production", "v2": "archived"}


def test_the_production_version_cannot_leave_production_or_change_threshold_through_the_registry(client_with):
    model = binary_model()
    version(model, "v1", stage="production")
    version(model, "v2", stage="shadow")
    admin = client_with("admin")
    for stage in ("archived", "shadow", "candidate"):
        response = admin.patch(VERSIONS + "v1/", {"stage": stage}, format="json")
        assert response.status_code == 409 and list(response.json()["errors"]) == ["stage"]
        assert "POST /api/v1/models/loan-default/rollback/" in response.json()["detail"]
    threshold = admin.patch(VERSIONS + "v1/", {"threshold": 0.3}, format="json")
    assert threshold.status_code == 409 and list(threshold.json()["errors"]) == ["threshold"]
    assert "versions/v1/threshold/" in threshold.json()["detail"]
    # What stays the registry's: metadata, an unchanged stage or threshold, other versions' stages.
    same = admin.patch(VERSIONS + "v1/", {"stage": "production", "threshold": 0.5, "metadata": {"n": 1}}, format="json")
    assert same.status_code == 200 and same.json()["metadata"] == {"n": 1}
    assert admin.patch(VERSIONS + "v2/", {"stage": "candidate", "threshold": 0.4}, format="json").status_code == 200
    assert stages() == {"v1": "production", "v2": "candidate"}
    assert ModelVersion.objects.get(version="v1").threshold == 0.5


def test_first_production_by_patch_is_recorded_and_then_guarded():
    model = binary_model()
    v1 = version(model, "v1", stage="candidate")
    version_update(version=v1, changes={"stage": "production"}, actor="ada")
    event = Event.objects.get()
    assert event.kind == EventKind.REGISTERED and event.actor == "ada" and event.version == v1
    v2 = version(model, "v2")
    with pytest.raises(StageConflict):
        version_update(version=v2, changes={"stage": "production"})
    assert Event.objects.count() == 1 and ModelVersion.objects.get(pk=v2.pk).stage == "candidate"


@pytest.mark.django_db(transaction=True)
def test_two_production_registrations_at_once_leave_one_production_version():
    model = binary_model()
    outcomes = run_threads(*[
        (lambda name=name: _try(lambda: version_create(model=model, version=name, features=SCHEMA, stage="production")))
        for name in ("a", "b")
    ])
    # Serialised on the model's row: the second to commit replaces the first, never two at once.
    assert outcomes == ["created", "created"]
    production = ModelVersion.objects.get(model=model, stage="production")
    events = list(Event.objects.filter(kind=EventKind.REGISTERED).order_by("id"))
    assert [e.previous for e in events] == [None, events[0].version]
    assert events[1].version == production


def _try(call) -> str:
    try:
        call()
    except StageConflict:
        return "conflict"
    return "created"


@pytest.fixture
def admin_site(client):
    user = User.objects.create_user("ada", password="pw-123456", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get(name="Admins"))
    client.force_login(user)
    return client


def _admin_form(v: ModelVersion, **changes) -> dict:
    data = {"model": v.model_id, "version": v.version, "stage": v.stage, "features": json.dumps(v.features),
            "threshold": v.threshold if v.threshold is not None else "", "classes": "null", "metadata": "{}"}
    return {**data, **changes}


def test_the_admin_refuses_what_the_api_refuses_and_records_the_first_production(admin_site):
    model = binary_model()
    v1 = version(model, "v1", stage="candidate")
    url = f"/admin/monitoring/modelversion/{v1.pk}/change/"
    first = admin_site.post(url, _admin_form(v1, stage="production"))
    assert first.status_code == 302, first.context["adminform"].form.errors
    assert stages() == {"v1": "production"}
    assert Event.objects.get().actor == "ada"
    v2 = version(model, "v2", stage="shadow")
    refused = admin_site.post(f"/admin/monitoring/modelversion/{v2.pk}/change/", _admin_form(v2, stage="production"))
    assert refused.status_code == 200 and "promote/" in refused.content.decode()
    left = admin_site.post(url, _admin_form(ModelVersion.objects.get(pk=v1.pk), stage="archived"))
    assert left.status_code == 200 and "rollback/" in left.content.decode()
    threshold = admin_site.post(url, _admin_form(ModelVersion.objects.get(pk=v1.pk), threshold="0.2"))
    assert threshold.status_code == 200 and "threshold/" in threshold.content.decode()
    assert stages() == {"v1": "production", "v2": "shadow"} and ModelVersion.objects.get(pk=v1.pk).threshold == 0.5
    # The model's page lists its versions with the stage read-only.
    page = admin_site.get(f"/admin/monitoring/mlmodel/{model.pk}/change/").content.decode()
    assert 'name="versions-0-stage"' not in page and "versions-0-version" in page
