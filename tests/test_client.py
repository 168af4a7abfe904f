"""The Python client against the real app (live_server) and against a flaky local server."""

import json
import math
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client import VigilClient, VigilError

FEATURES = [
    {"name": "income", "type": "numeric", "nullable": True, "display_name": "Income", "unit": "EUR"},
    {"name": "region", "type": "categorical", "categories": ["north", "south"]},
    {"name": "has_car", "type": "boolean"},
]


def test_import_needs_no_django():
    code = "import sys, client; from client import VigilClient, VigilError; print('django' in sys.modules)"
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"


def frame(n: int, start: str = "2026-01-05 08:00") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": [f"r-{i}" for i in range(n)],
            "version": "v1",
            "timestamp": pd.date_range(start, periods=n, freq="h"),  # naive: taken as UTC
            "score": np.linspace(0.1, 0.9, n),
            "prediction": (np.linspace(0.1, 0.9, n) >= 0.5).astype(int),
            "entity_id": [f"cust-{i % 3}" for i in range(n)],
            "segment": ["web", None] * (n // 2) + ["web"] * (n % 2),
            "income": [52000.0, np.nan] + [30000.0 + i for i in range(n - 2)],
            "region": ["north", "south"] * (n // 2) + ["north"] * (n % 2),
            "has_car": [True, False] * (n // 2) + [True] * (n % 2),
        }
    )


@pytest.fixture
def vigil(live_server, make_token):
    client = VigilClient(live_server.url, make_token("ingest", "admin", "read"), backoff=0.01)
    client.create_model("loans", "Loans", "binary_classification", description="test")
    client.create_version("loans", "v1", FEATURES, threshold=0.5, metadata={"commit": "abc"})
    return client


@pytest.mark.django_db(transaction=True)
def test_predictions_in_batches_with_rejections_at_frame_positions(vigil):
    from monitoring.models import Prediction

    df = frame(7)
    df.loc[2, "score"] = np.inf  # JSON cannot carry it: refused by the client, the server's way
    df.loc[5, "version"] = "no-such-version"  # refused by the server inside the second batch
    result = vigil.send_predictions("loans", df, batch_size=3)

    assert result["accepted"] == 5 and result["duplicates"] == 0
    assert [r["index"] for r in result["rejected"]] == [2, 5]
    assert [r["request_id"] for r in result["rejected"]] == ["r-2", "r-5"]
    assert all(r["errors"] for r in result["rejected"])

    stored = {p.request_id: p for p in Prediction.objects.filter(model__slug="loans")}
    assert sorted(stored) == ["r-0", "r-1", "r-3", "r-4", "r-6"]
    assert stored["r-1"].features == {"income": None, "region": "south", "has_car": False}  # NaN -> null
    assert stored["r-0"].timestamp.isoformat() == "2026-01-05T08:00:00+00:00"
    assert stored["r-1"].segment is None and stored["r-0"].segment == "web"
    assert stored["r-4"].entity_id == "cust-1" and stored["r-4"].prediction == 1

    again = vigil.send_predictions("loans", df.drop(index=[2, 5]), batch_size=4)
    assert again == {"accepted": 0, "duplicates": 5, "rejected": []}


@pytest.mark.django_db(transaction=True)
def test_features_as_a_column_of_dicts_and_timezones(vigil):
    from monitoring.models import Prediction

    df = pd.DataFrame(
        {
            "request_id": ["a", "b"],
            "version": ["v1", "v1"],
            # Mixed zones make an object column of Timestamps: each is converted to UTC.
            "timestamp": [pd.Timestamp("2026-01-05 10:00+02:00"), pd.Timestamp("2026-01-05 09:30Z")],
            "score": [0.2, 0.7],
            "features": [{"income": np.float64(1.5), "region": "north", "has_car": np.True_},
                         {"income": float("nan"), "region": None, "has_car": None}],
        }
    )  # fmt: skip
    assert vigil.send_predictions("loans", df) == {"accepted": 2, "duplicates": 0, "rejected": []}
    a, b = Prediction.objects.order_by("request_id")
    assert a.features == {"income": 1.5, "region": "north", "has_car": True}
    assert a.timestamp.isoformat() == "2026-01-05T08:00:00+00:00"
    assert b.features == {"income": None, "region": None, "has_car": None}


@pytest.mark.django_db(transaction=True)
def test_labels_matched_pending_and_rejected(vigil):
    from monitoring.models import Label

    vigil.send_predictions("loans", frame(4))
    labels = pd.DataFrame(
        {
            "request_id": ["r-0", "r-1", "r-3", "later", "r-2"],
            "label": [1, 0, 1, 0, 7],  # 7 is not a class of a binary model
            "timestamp": pd.date_range("2026-01-08", periods=5, freq="h", tz="UTC"),
        }
    )
    result = vigil.send_labels("loans", labels, batch_size=2)
    assert result["matched"] == 3 and result["pending"] == 1
    assert [r["index"] for r in result["rejected"]] == [4]
    assert dict(Label.objects.values_list("request_id", "value")) == {"r-0": 1, "r-1": 0, "r-3": 1, "later": 0}


@pytest.mark.django_db(transaction=True)
def test_reference_replaces_unless_append(vigil):
    from monitoring.models import ReferenceRow

    ref = frame(6)[["income", "region", "has_car", "score"]].assign(label=[0, 1, 0, 1, 0, 1])
    assert vigil.send_reference("loans", "v1", ref)["total"] == 6
    assert vigil.send_reference("loans", "v1", ref.iloc[:2])["total"] == 2
    assert vigil.send_reference("loans", "v1", ref.iloc[:3], append=True)["total"] == 5
    assert ReferenceRow.objects.count() == 5
    row = ReferenceRow.objects.filter(features__income=None).first()  # JSON null
    assert row is not None and math.isclose(row.score, ref.score[1]) and row.label == 1
    assert vigil.send_reference("loans", "v1", ref, batch_size=4) == {"stored": 6, "total": 6}  # 4 + 2


@pytest.mark.django_db(transaction=True)
def test_client_errors_carry_status_and_body(live_server, make_token, vigil):
    with pytest.raises(VigilError) as exists:
        vigil.create_model("loans", "Loans", "binary_classification")
    assert exists.value.status == 409 and "slug" in exists.value.body["errors"]

    with pytest.raises(VigilError) as bad:
        vigil.create_version("loans", "v2", [{"name": "x", "type": "text"}])
    assert bad.value.status == 400 and "features[0]" in bad.value.body["errors"]

    with pytest.raises(VigilError) as unknown:
        VigilClient(live_server.url, "vgl_not-a-key").list_models()
    assert unknown.value.status == 401

    reader = VigilClient(live_server.url, make_token("read"))
    with pytest.raises(VigilError) as scope:
        reader.send_predictions("loans", frame(2))
    assert scope.value.status == 403 and "ingest" in scope.value.detail


@pytest.mark.django_db(transaction=True)
def test_alert_rules_alerts_and_silences(vigil):
    from datetime import UTC, datetime, timedelta

    from alerts.models import AlertRule, Silence

    defaults = vigil.list_alert_rules("loans")
    assert {r["kind"] for r in defaults} >= {"performance", "no_data", "drift"}
    rule = vigil.create_alert_rule("loans", "Accuracy (daily)", "performance", granularity="day",
                                   threshold={"op": "<", "value": 0.7}, for_windows=1, severity="critical",
                                   recipients=["ds@example.com"], lookback_hours=168)
    stored = AlertRule.objects.get(pk=rule["id"])
    assert (stored.granularity, stored.threshold, stored.lookback_hours) == ("day", {"op": "<", "value": 0.7}, 168)
    assert vigil.update_alert_rule("loans", rule["id"], severity="warning")["severity"] == "warning"
    with pytest.raises(VigilError) as bad:
        vigil.create_alert_rule("loans", "Bad", "performance", granularity="week")
    assert bad.value.status == 400 and "granularity" in bad.value.body["errors"]
    assert AlertRule.objects.filter(model__slug="loans").count() == len(defaults) + 1  # nothing half-stored
    vigil.delete_alert_rule("loans", rule["id"])
    assert not AlertRule.objects.filter(pk=rule["id"]).exists()

    assert vigil.list_alerts("loans") == [] and vigil.list_alerts("loans", state="firing") == []
    with pytest.raises(VigilError) as state:
        vigil.list_alerts("loans", state="burning")
    assert state.value.status == 400 and "state" in state.value.body["errors"]
    until = datetime.now(UTC) + timedelta(hours=2)
    silence = vigil.create_silence("loans", until, "deploy window", kind="drift")
    assert Silence.objects.get(pk=silence["id"]).reason == "deploy window"
    assert [s["id"] for s in vigil.list_silences("loans")] == [silence["id"]]


@pytest.mark.django_db(transaction=True)
def test_upload_artifact_of_a_lightgbm_model(vigil):
    import lightgbm as lgb

    x = pd.DataFrame({"income": np.linspace(1, 100, 200), "region": pd.Categorical(["north", "south"] * 100),
                      "has_car": np.tile([0.0, 1.0, 1.0, 0.0], 50)})  # fmt: skip
    y = (x["income"] > 50).astype(int)
    model = lgb.LGBMClassifier(n_estimators=5, min_child_samples=5, verbose=-1).fit(x, y)
    ref = x.assign(region=x["region"].astype(str), has_car=x["has_car"].astype(bool))
    vigil.send_reference("loans", "v1", ref.assign(score=model.predict_proba(x)[:, 1], label=y))
    body = vigil.upload_artifact("loans", "v1", model.booster_.model_to_string().encode(), format="lightgbm")
    assert body["format"] == "lightgbm" and len(body["sha256"]) == 64


class Flaky(BaseHTTPRequestHandler):
    """Answers ``plan`` statuses in turn (the last one forever) and records every request."""

    plan: list[int] = []
    seen: list[dict] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        type(self).seen.append({"path": self.path, "encoding": self.headers.get("Content-Encoding"),
                                "auth": self.headers.get("Authorization"), "size": len(body)})  # fmt: skip
        status = self.plan[min(len(self.seen) - 1, len(self.plan) - 1)]
        payload = {"accepted": 2, "duplicates": 0, "rejected": []} if status == 200 else {
            "detail": f"status {status}", "errors": {}}  # fmt: skip
        data = json.dumps(payload).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Flaky.seen = []

    def start(*plan: int) -> str:
        Flaky.plan = list(plan)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    server.shutdown()
    server.server_close()


def test_retries_5xx_and_429_then_succeeds(flaky):
    url = flaky(503, 429, 200)
    result = VigilClient(url, "k", backoff=0.01).send_predictions("m", frame(2))
    assert result == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert len(Flaky.seen) == 3 and all(s["auth"] == "Token k" for s in Flaky.seen)


def test_gives_up_after_the_retries(flaky):
    url = flaky(502)
    with pytest.raises(VigilError) as failed:
        VigilClient(url, "k", retries=2, backoff=0.01).send_predictions("m", frame(2))
    assert failed.value.status == 502 and len(Flaky.seen) == 3


def test_never_retries_other_4xx(flaky):
    url = flaky(400, 200)
    with pytest.raises(VigilError) as failed:
        VigilClient(url, "k", backoff=0.01).send_predictions("m", frame(2))
    assert failed.value.status == 400 and failed.value.detail == "status 400" and len(Flaky.seen) == 1


def test_connection_errors_are_retried_then_reported():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(VigilError) as failed:
        VigilClient(f"http://127.0.0.1:{port}", "k", retries=2, backoff=0.01).list_models()
    assert failed.value.status is None and "unreachable" in str(failed.value)


def test_large_bodies_are_gzipped(flaky):
    url = flaky(200)
    VigilClient(url, "k").send_predictions("m", frame(50))
    VigilClient(url, "k", gzip=False).send_predictions("m", frame(50))
    assert [s["encoding"] for s in Flaky.seen] == ["gzip", None]
    assert Flaky.seen[0]["size"] < Flaky.seen[1]["size"] / 3
