"""Overrides must make sense: bounded text and values, targets that are items of models that rank
items, no boost on a blacklisted item; rerank never answers a non-finite score."""

import math
from datetime import timedelta

import orjson
import pytest
from django.core.exceptions import ValidationError

from monitoring.models import MLModel, ModelVersion, Prediction
from ops import services
from ops.models import AuditRecord, Override
from ops.rerank import ActiveOverrides, apply_overrides

from .conftest import T0


@pytest.fixture
def now(frozen):
    return frozen(T0 + timedelta(days=1))


@pytest.fixture
def delivery(db):
    model = MLModel.objects.create(slug="delivery-time", name="Delivery time", task="regression")
    version = ModelVersion.objects.create(model=model, version="v1", stage="production", features=[])
    Prediction.objects.create(
        model=model,
        version=version,
        request_id="del-0",
        timestamp=T0,
        features={},
        score=31.0,
        received_at=T0,
    )
    return model


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def boost(agent, model, item_id="sku-3", **kwargs):
    arguments = {"mode": "multiplier", "value": 2, "reason": "new", **kwargs}
    return services.override_boost(actor=agent, model=model, item_id=item_id, **arguments)


# Item 5: reasons are bounded at input, with the length in the message.


def test_a_reason_over_the_limit_is_refused_with_its_length(agent, recs, now):
    with pytest.raises(ValidationError) as excinfo:
        services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="x" * 20_000)
    assert excinfo.value.message_dict == {
        "reason": ["A reason must be at most 1,000 characters (it has 20,000)."]
    }
    assert (
        services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="x" * 1000).reason
        == "x" * 1000
    )
    assert not Override.objects.exclude(reason="x" * 1000).exists()


def test_every_form_bounds_its_reason(logged_in, agent, recs, loan, now):
    long = "y" * 20_000
    blacklist = logged_in.post(
        "/ops/overrides/blacklist/", {"model": "recs", "item_id": "sku-1", "reason": long}
    )
    assert blacklist.status_code == 400
    page = blacklist.content.decode()
    assert (
        "Ensure this value has at most 1000 characters (it has 20000)." in page and 'maxlength="1000"' in page
    )
    entry = services.override_blacklist(actor=agent, model=recs, item_id="sku-2", reason="r")
    revoke = logged_in.post(f"/ops/overrides/{entry.pk}/revoke/", {"reason": long})
    correct = logged_in.post(
        "/ops/decisions/loan-default/loan-0/correct/", {"corrected_outcome": "0", "reason": long}
    )
    assert revoke.status_code == correct.status_code == 400
    assert Override.objects.count() == 1 and AuditRecord.objects.count() == 1


# Item 6: boosts in sane ranges, rerank scores always finite.


@pytest.mark.parametrize(
    ("mode", "value", "message"),
    [
        ("multiplier", 1e308, "A multiplier must be between 0.01 and 100."),
        ("multiplier", 100.5, "A multiplier must be between 0.01 and 100."),
        ("multiplier", 0.001, "A multiplier must be between 0.01 and 100."),
        ("additive", 1e308, "An additive boost must be between -100 and 100."),
        ("additive", -101, "An additive boost must be between -100 and 100."),
    ],
)
def test_boost_values_out_of_range_are_refused(agent, recs, now, mode, value, message):
    with pytest.raises(ValidationError) as excinfo:
        boost(agent, recs, mode=mode, value=value)
    assert excinfo.value.message_dict == {"value": [message]}
    assert not Override.objects.exists()


@pytest.mark.parametrize(("mode", "value"), [("multiplier", 100), ("multiplier", 0.01), ("additive", -100)])
def test_boost_values_at_the_bounds_are_accepted(agent, recs, now, mode, value):
    assert boost(agent, recs, mode=mode, value=value).boost_value == value


def test_apply_overrides_holds_an_overflowing_score_finite():
    active = ActiveOverrides(
        boosts={
            "a": {"mode": "multiplier", "value": 1e308, "text": "boost"},
            "b": {"mode": "additive", "value": -1e308, "text": "boost"},
        }
    )
    kept, _ = apply_overrides([("a", 10.0), ("b", -1e308), ("c", 0.5)], active)
    assert [(c["item_id"], c["score"]) for c in kept] == [
        ("a", 1.7976931348623157e308),
        ("c", 0.5),
        ("b", -1.7976931348623157e308),
    ]
    assert all(math.isfinite(c["score"]) for c in kept)


def test_rerank_answers_a_number_for_a_boost_stored_before_the_bounds(client_with, agent, recs, now):
    # A row written before the bounds existed (or by hand): the API must still answer valid JSON numbers.
    Override.objects.create(
        kind="boost", model=recs, item_id="sku-3", boost_mode="multiplier", boost_value=1e308,
        starts_at=now, ends_at=now + timedelta(days=1), reason="typo", created_at=now,
    )  # fmt: skip
    response = client_with("ops").post(
        "/api/v1/models/recs/rerank/",
        {
            "candidates": [{"item_id": "sku-1", "score": 5.0}, {"item_id": "sku-3", "score": 2.0}]
        },  # 2e308: inf
        format="json",
    )
    assert response.status_code == 200
    first = orjson.loads(response.content)["candidates"][0]
    assert first["item_id"] == "sku-3" and first["rank"] == 1
    assert isinstance(first["score"], float) and math.isfinite(first["score"])


# Item 7: targets validated against the model's task and the items it served.


def test_blacklist_and_boost_refuse_a_model_whose_decisions_are_not_about_items(agent, loan, delivery, now):
    with pytest.raises(ValidationError) as excinfo:
        services.override_blacklist(actor=agent, model=loan, item_id="cust-00042", reason="r")
    assert excinfo.value.message_dict == {
        "model": [
            "Loan default (loan-default) is a binary classification model: its decisions are not about items, "
            "so a blacklist would never apply. Choose a model that ranks items."
        ]
    }
    with pytest.raises(
        ValidationError, match="regression model: its decisions are not about items, so a boost"
    ):
        boost(agent, delivery, item_id="del-0")
    assert not Override.objects.exists() and not AuditRecord.objects.exists()


@pytest.mark.parametrize(
    ("item_id", "named"), [("cust-42", "a customer id of recs"), ("rec-1", "a request id of recs")]
)
def test_an_id_that_names_a_customer_or_a_request_is_not_an_item(agent, recs, now, item_id, named):
    with pytest.raises(ValidationError) as excinfo:
        services.override_blacklist(actor=agent, model=recs, item_id=item_id, reason="r")
    assert excinfo.value.message_dict["item_id"] == [
        f"'{item_id}' is {named}, not an item: a blacklist applies to items that a ranking model serves. "
        "Enter the item's id."
    ]


def test_an_all_models_entry_refuses_any_models_customer(agent, recs, loan, now):
    Prediction.objects.filter(model=recs).update(entity_id="someone-else")
    with pytest.raises(ValidationError, match="'cust-42' is a customer id of loan-default, not an item"):
        services.override_blacklist(actor=agent, model=None, item_id="cust-42", reason="r")


def test_a_never_served_item_is_allowed_with_a_cold_start_warning(agent, recs, now):
    known = services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="r")
    assert known.warnings == []
    new = boost(agent, recs, item_id="sku-new")
    assert new.pk and new.warnings == [
        "Item 'sku-new' has never been served by recs. The boost is stored and applies as soon as the item is "
        "ranked (cold start); check the id if you expected it to be known."
    ]
    everywhere = services.override_blacklist(actor=agent, model=None, item_id="sku-other", reason="r")
    assert "has never been served by any model" in everywhere.warnings[0]


def test_no_boost_on_a_blacklisted_item(agent, recs, now):
    entry = services.override_blacklist(actor=agent, model=None, item_id="sku-2", reason="recalled")
    with pytest.raises(ValidationError) as excinfo:
        boost(agent, recs, item_id="sku-2")
    assert excinfo.value.message_dict == {
        "item_id": [
            f"Item 'sku-2' is blacklisted for all models (entry #{entry.pk}) in that period, so a boost would "
            "never apply; revoke the blacklist first if the item should be served again."
        ]
    }
    # A blacklist that ends before the boost starts does not stand in its way.
    services.override_revoke(actor=agent, override_id=entry.pk, reason="back")
    services.override_blacklist(
        actor=agent, model=recs, item_id="sku-2", reason="r", expires_at=now + timedelta(days=1)
    )
    assert boost(
        agent, recs, item_id="sku-2", starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3)
    ).pk


def test_blacklisting_a_boosted_item_says_the_boost_stops_mattering(client_with, agent, recs, now):
    boosted = boost(agent, recs, item_id="sku-3")
    entry = services.override_blacklist(actor=agent, model=recs, item_id="sku-3", reason="recalled")
    assert entry.warnings == [
        f"Boost #{boosted.pk} (boost x2 on recs) no longer applies while this blacklist stands: a blacklisted "
        "item is removed from the ranking whatever its boost."
    ]
    body = (
        client_with("ops")
        .post(
            "/api/v1/models/recs/rerank/", {"candidates": [{"item_id": "sku-3", "score": 0.5}]}, format="json"
        )
        .json()
    )
    assert body["candidates"] == [] and body["removed"][0]["item_id"] == "sku-3"


def test_forms_offer_only_models_with_items_and_preselect_none(logged_in, loan, recs, delivery, offers):
    page = logged_in.get("/ops/overrides/boost/").content.decode()
    assert '<option value="" selected>Choose a model</option>' in page
    assert 'value="recs"' in page and 'value="offers"' in page
    assert 'value="delivery-time"' not in page and 'value="loan-default"' not in page
    blacklist = logged_in.get("/ops/overrides/blacklist/").content.decode()
    assert 'value="recs"' in blacklist and 'value="loan-default"' not in blacklist
    missing = logged_in.post(
        "/ops/overrides/boost/",
        {"item_id": "sku-3", "mode": "multiplier", "value": "2", "reason": "new",
         "starts_at": "2030-01-01T00:00", "ends_at": "2030-01-05T00:00"},
    )  # fmt: skip
    assert missing.status_code == 400 and not Override.objects.exists()


def test_the_form_shows_the_cold_start_warning(logged_in, recs, now):
    response = logged_in.post(
        "/ops/overrides/blacklist/", {"model": "recs", "item_id": "sku-404", "reason": "unsafe"}, follow=True
    )
    page = response.content.decode()
    assert "Item sku-404 is blacklisted for recs." in page
    assert 'class="msg-warning"' in page and "Item &#x27;sku-404&#x27; has never been served by recs." in page


def test_a_decision_not_about_an_item_lists_entries_that_name_it(logged_in, agent, loan, now):
    # Stored before targets were checked: a customer id blacklisted on the loan model.
    Override.objects.create(
        kind="blacklist", model=loan, item_id="cust-42", starts_at=now, reason="fraud suspicion", created_at=now
    )
    page = logged_in.get("/ops/decisions/loan-default/loan-0/").content.decode()
    assert "This decision is not about an item, so no blacklist" not in page
    assert "fraud suspicion" in page and "cust-42" in page
    assert "name this decision's customer or request as an item" in page and "they change nothing" in page
    other = logged_in.get("/ops/decisions/loan-default/loan-1/").content.decode()
    assert "fraud suspicion" in other  # same customer
    Override.objects.all().delete()
    clean = logged_in.get("/ops/decisions/loan-default/loan-0/").content.decode()
    assert "This decision is not about an item, so no blacklist or boost applies to it." in clean
