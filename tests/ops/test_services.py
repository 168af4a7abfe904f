from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from monitoring.models import Label, Prediction
from ops import services
from ops.models import AuditRecord, Correction, Override, OverrideState

from ..threads import run_threads
from .conftest import T0, grant_act


def messages_of(excinfo) -> dict:
    return excinfo.value.message_dict


@pytest.fixture
def now(frozen):
    return frozen(T0 + timedelta(days=1))


def test_blacklist_writes_override_and_audit(agent, recs, now):
    override = services.override_blacklist(actor=agent, model=recs, item_id=" sku-1 ", reason="Recalled")
    assert (override.item_id, override.model, override.ends_at, override.starts_at) == (
        "sku-1",
        recs,
        None,
        now,
    )
    record = AuditRecord.objects.get()
    assert (record.actor_name, record.action, record.object_id, record.item_id) == (
        "agent",
        "blacklist",
        override.pk,
        "sku-1",
    )
    assert record.before is None and record.after["item_id"] == "sku-1" and record.reason == "Recalled"


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"reason": "  "}, "reason", "A reason is required."),
        ({"item_id": ""}, "item_id", "Item is required."),
        ({"expires_at": T0}, "expires_at", "The expiry must be in the future."),
    ],
)
def test_blacklist_validation(agent, recs, now, kwargs, field, text):
    arguments = {"actor": agent, "model": recs, "item_id": "sku-1", "reason": "why", **kwargs}
    with pytest.raises(ValidationError) as excinfo:
        services.override_blacklist(**arguments)
    assert messages_of(excinfo) == {field: [text]}
    assert not Override.objects.exists() and not AuditRecord.objects.exists()


def test_duplicate_active_blacklist_refused_but_allowed_after_expiry(agent, recs, frozen, now):
    first = services.override_blacklist(
        actor=agent, model=recs, item_id="sku-1", reason="r", expires_at=now + timedelta(hours=1)
    )
    with pytest.raises(ValidationError) as excinfo:
        services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="again")
    assert messages_of(excinfo)["item_id"] == [
        f"Item 'sku-1' is already blacklisted for recs (entry #{first.pk}); revoke that entry first or leave it as it is."
    ]
    frozen(now + timedelta(hours=2))
    second = services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="again")
    assert second.pk != first.pk


def test_all_models_entry_covers_a_model_entry(agent, recs, loan, now):
    services.override_blacklist(actor=agent, model=None, item_id="sku-9", reason="unsafe")
    with pytest.raises(ValidationError, match="already blacklisted for all models"):
        services.override_blacklist(actor=agent, model=recs, item_id="sku-9", reason="again")


def test_scientist_cannot_act_unless_granted(scientist, recs, now):
    with pytest.raises(PermissionDenied):
        services.override_blacklist(actor=scientist, model=recs, item_id="sku-1", reason="r")
    granted = grant_act(scientist)
    assert services.override_blacklist(actor=granted, model=recs, item_id="sku-1", reason="r").pk


def test_boost_defaults_to_seven_days(agent, recs, now):
    boost = services.override_boost(
        actor=agent, model=recs, item_id="sku-3", mode="multiplier", value=2, reason="new"
    )
    assert boost.starts_at == now and boost.ends_at == now + timedelta(days=7)
    assert AuditRecord.objects.get().after["boost_value"] == 2.0


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        (
            {"ends_at": T0 + timedelta(days=40)},
            "ends_at",
            "A boost may last at most 30 days; choose an earlier end.",
        ),
        ({"starts_at": T0, "ends_at": T0 + timedelta(hours=12)}, "ends_at", "The end must be in the future."),
        (
            {"starts_at": T0 + timedelta(days=3), "ends_at": T0 + timedelta(days=2)},
            "ends_at",
            "The end must be after the start.",
        ),
        ({"value": 0.0}, "value", "A multiplier must be above 0 and not 1 (e.g. 1.5 to raise by half)."),
        ({"value": float("nan")}, "value", "The boost value must be a finite number."),
        ({"mode": "additive", "value": 0}, "value", "An additive boost of 0 would change nothing."),
        ({"mode": "times"}, "mode", "Choose a multiplier or an additive boost."),
        ({"model": None}, "model", "Choose the model whose scores the boost changes."),
    ],
)
def test_boost_validation(agent, recs, now, kwargs, field, text):
    arguments = {
        "actor": agent,
        "model": recs,
        "item_id": "sku-3",
        "mode": "multiplier",
        "value": 1.5,
        "reason": "r",
    }
    with pytest.raises(ValidationError) as excinfo:
        services.override_boost(**{**arguments, **kwargs})
    assert messages_of(excinfo) == {field: [text]}
    assert not Override.objects.exists()


def test_boost_max_duration_is_configurable(agent, recs, now, settings):
    settings.VIGIL_BOOST_MAX_DAYS = 2
    with pytest.raises(ValidationError, match="at most 2 days"):
        services.override_boost(
            actor=agent,
            model=recs,
            item_id="sku-3",
            mode="additive",
            value=0.1,
            reason="r",
            ends_at=now + timedelta(days=3),
        )


def test_overlapping_boost_refused_but_later_one_allowed(agent, recs, now):
    first = services.override_boost(
        actor=agent, model=recs, item_id="sku-3", mode="additive", value=0.1, reason="r"
    )
    with pytest.raises(
        ValidationError, match=f"already has a boost for recs in that period \\(entry #{first.pk}"
    ):
        services.override_boost(
            actor=agent, model=recs, item_id="sku-3", mode="multiplier", value=3, reason="r"
        )
    later = services.override_boost(
        actor=agent, model=recs, item_id="sku-3", mode="multiplier", value=3, reason="r",
        starts_at=first.ends_at, ends_at=first.ends_at + timedelta(days=1),
    )  # fmt: skip
    assert later.state_at(now) == OverrideState.SCHEDULED


def test_revoke_records_before_and_after(agent, admin_user, recs, frozen, now):
    override = services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="r")
    frozen(now + timedelta(minutes=5))
    services.override_revoke(actor=admin_user, override_id=override.pk, reason="customer was right")
    override.refresh_from_db()
    assert override.revoked_by == admin_user and override.state_at(now + timedelta(minutes=6)) == "revoked"
    record = AuditRecord.objects.get(action="revoke")
    assert record.before["revoked_at"] is None and record.after["revoke_reason"] == "customer was right"
    with pytest.raises(ValidationError, match="already revoked"):
        services.override_revoke(actor=admin_user, override_id=override.pk, reason="again")


def test_expired_override_cannot_be_revoked(agent, recs, frozen, now):
    boost = services.override_boost(
        actor=agent, model=recs, item_id="sku-3", mode="additive", value=0.1, reason="r"
    )
    frozen(boost.ends_at)
    assert boost.state_at(boost.ends_at) == OverrideState.EXPIRED
    with pytest.raises(ValidationError, match="already expired"):
        services.override_revoke(actor=agent, override_id=boost.pk, reason="late")


def test_correct_decision_records_human_corrected_label(agent, loan):
    prediction = Prediction.objects.get(request_id="loan-0")
    correction = services.decision_correct(
        actor=agent, prediction=prediction, corrected_outcome=0, reason="paid on time", record_as_label=True
    )
    label = Label.objects.get(model=loan, request_id="loan-0")
    assert label.value == 0 and label.human_corrected is True
    assert correction.recorded_as_label
    record = AuditRecord.objects.get(action="correct")
    assert record.before == {"prediction": 1, "score": 0.8, "label": None}
    assert record.after == {"corrected_outcome": 0, "recorded_as_label": True}
    assert record.request_id == "loan-0"


def test_correct_without_label_leaves_labels_alone(agent, loan):
    prediction = Prediction.objects.get(request_id="loan-1")
    services.decision_correct(actor=agent, prediction=prediction, corrected_outcome=1, reason="r")
    assert not Label.objects.exists() and Correction.objects.count() == 1


def test_rejected_label_rolls_the_correction_back(agent, loan):
    prediction = Prediction.objects.get(request_id="loan-1")
    with pytest.raises(ValidationError) as excinfo:
        services.decision_correct(
            actor=agent, prediction=prediction, corrected_outcome="maybe", reason="r", record_as_label=True
        )
    assert "The label could not be recorded" in messages_of(excinfo)["corrected_outcome"][0]
    assert not Correction.objects.exists() and not AuditRecord.objects.exists()


@pytest.mark.parametrize(
    ("text", "value"), [("1", 1), ("0.25", 0.25), ("true", True), ("approve", "approve")]
)
def test_parse_outcome(text, value):
    assert services.parse_outcome(text) == value


def test_audit_records_are_immutable(agent, recs, now):
    services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="r")
    record = AuditRecord.objects.get()
    with pytest.raises(ValueError, match="immutable"):
        record.save()
    with pytest.raises(ValueError, match="immutable"):
        record.delete()
    # The database refuses too, whatever code path tries.
    for statement in ("UPDATE ops_audit_record SET reason = 'x'", "DELETE FROM ops_audit_record"):
        with (
            pytest.raises(DatabaseError, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditRecord.objects.get().reason == "r"


def _race(action, users) -> list[str]:
    """Run ``action(user)`` in one thread per user, released together; "created" or "refused" each."""

    def attempt(user):
        def run():
            try:
                action(user)
            except ValidationError:
                return "refused"
            return "created"

        return run

    return sorted(run_threads(*(attempt(user) for user in users)))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["blacklist", "boost"])
def test_two_agents_acting_on_the_same_item_at_once_create_one_entry(recs, kind):
    from .conftest import make_user

    agents = [make_user(f"agent{i}", "Support agents") for i in range(2)]

    def act(user):
        if kind == "blacklist":
            services.override_blacklist(actor=user, model=recs, item_id="sku-2", reason=f"by {user.username}")
        else:
            services.override_boost(
                actor=user,
                model=recs,
                item_id="sku-2",
                mode="additive",
                value=0.5,
                reason=f"by {user.username}",
            )

    assert _race(act, agents) == ["created", "refused"]
    assert Override.objects.filter(item_id="sku-2", kind=kind).count() == 1
    assert AuditRecord.objects.filter(item_id="sku-2").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_agents_revoking_the_same_override_at_once(recs):
    from .conftest import make_user

    agents = [make_user(f"agent{i}", "Support agents") for i in range(2)]
    override = services.override_blacklist(actor=agents[0], model=recs, item_id="sku-2", reason="r")
    outcomes = _race(
        lambda user: services.override_revoke(actor=user, override_id=override.pk, reason="x"), agents
    )
    assert outcomes == ["created", "refused"]
    assert AuditRecord.objects.filter(action="revoke").count() == 1
