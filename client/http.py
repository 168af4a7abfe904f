"""VigilClient: the REST API v1 over requests, with batching, gzip and retries."""

import gzip as gzip_lib
import json
import time
from pathlib import Path

import pandas as pd
import requests

from .errors import VigilError
from .frames import (
    LABEL_FIELDS,
    PREDICTION_FIELDS,
    PREDICTION_OPTIONAL,
    REFERENCE_OPTIONAL,
    feature_columns,
    infinite_positions,
    rows_from_frame,
)

# Connection errors, throttling and server errors may pass; other 4xx will not, so never retry them.
# Only the bulk endpoints (predictions, labels, reference) accept gzip bodies.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
GZIP_MIN_BYTES = 1024


class VigilClient:
    """Talks to one Vigil server with an API token (``Authorization: Token <key>``).

    ``retries`` is how many times a request is repeated after a connection error, a 429 or
    a 5xx, waiting ``backoff * 2**attempt`` seconds (or the server's Retry-After) between.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 60,
        retries: int = 5,
        backoff: float = 0.5,
        gzip: bool = True,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.gzip = gzip
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})

    # -- registry --------------------------------------------------------------------------

    def list_models(self) -> list[dict]:
        return self._request("GET", "/api/v1/models/")

    def create_model(self, slug: str, name: str, task: str, description: str = "") -> dict:
        body = {"slug": slug, "name": name, "task": task, "description": description}
        return self._request("POST", "/api/v1/models/", json_body=body)

    def create_version(
        self,
        slug: str,
        version: str,
        features: list[dict],
        stage: str = "production",
        threshold: float | None = None,
        classes: list | None = None,
        metadata: dict | None = None,
    ) -> dict:
        body: dict = {"version": version, "features": features, "stage": stage}
        if threshold is not None:
            body["threshold"] = threshold
        if classes is not None:
            body["classes"] = classes
        if metadata is not None:
            body["metadata"] = metadata
        return self._request("POST", f"/api/v1/models/{slug}/versions/", json_body=body)

    def get_version(self, slug: str, version: str) -> dict:
        return self._request("GET", f"/api/v1/models/{slug}/versions/{version}/")

    def upload_artifact(self, slug: str, version: str, path_or_bytes, format: str | None = None) -> dict:
        """PUT the model file; ``format`` is lightgbm, xgboost-json, xgboost-ubj, skops, pickle or joblib."""
        data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
        params = {"format": format} if format else None
        return self._request(
            "PUT",
            f"/api/v1/models/{slug}/versions/{version}/artifact/",
            data=data,
            content_type="application/octet-stream",
            params=params,
        )

    # -- alerts ----------------------------------------------------------------------------

    def list_alert_rules(self, slug: str) -> list[dict]:
        return self._request("GET", f"/api/v1/models/{slug}/alert-rules/")

    def create_alert_rule(self, slug: str, name: str, kind: str, **fields) -> dict:
        """Add a rule; ``fields`` are the contract's optional ones (granularity, threshold,
        for_windows, keep_firing_for, lookback_hours, severity, recipients, webhook, features, ...)."""
        body = {"name": name, "kind": kind, **fields}
        return self._request("POST", f"/api/v1/models/{slug}/alert-rules/", json_body=body)

    def update_alert_rule(self, slug: str, rule_id: int, **fields) -> dict:
        return self._request("PATCH", f"/api/v1/models/{slug}/alert-rules/{int(rule_id)}/", json_body=fields)

    def delete_alert_rule(self, slug: str, rule_id: int) -> None:
        self._request("DELETE", f"/api/v1/models/{slug}/alert-rules/{int(rule_id)}/")

    def list_alerts(self, slug: str, state: str | None = None) -> list[dict]:
        """The model's alerts, firing first; ``state``: firing or resolved."""
        return self._request("GET", f"/api/v1/models/{slug}/alerts/", params={"state": state} if state else None)

    def create_silence(self, slug: str, until, reason: str, rule: int | None = None, kind: str | None = None) -> dict:
        """Hold the model's messages until ``until`` (a datetime or ISO string), optionally only a rule's or a kind's."""
        body: dict = {"until": until if isinstance(until, str) else until.isoformat(), "reason": reason}
        if rule is not None:
            body["rule"] = int(rule)
        if kind is not None:
            body["kind"] = kind
        return self._request("POST", f"/api/v1/models/{slug}/silences/", json_body=body)

    def list_silences(self, slug: str) -> list[dict]:
        return self._request("GET", f"/api/v1/models/{slug}/silences/")

    # -- data ------------------------------------------------------------------------------

    def send_reference(
        self, slug: str, version: str, df: pd.DataFrame, append: bool = False, batch_size: int = 50_000
    ) -> dict:
        """Store the training sample: features (a ``features`` column or the other columns), score, label.

        Without ``append`` the version's existing reference rows are replaced. A frame larger
        than ``batch_size`` goes in several requests (the later ones appending), so only each
        request, not the whole upload, is all-or-nothing. Returns ``{"stored", "total"}``.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        result: dict = {"stored": 0, "total": 0}
        for start in range(0, max(len(df), 1), batch_size):
            rows = rows_from_frame(df.iloc[start : start + batch_size], fields=(), optional=REFERENCE_OPTIONAL)
            params = {"append": "true"} if append or start > 0 else None
            answer = self._request(
                "POST", f"/api/v1/models/{slug}/versions/{version}/reference/", json_body=rows, params=params,
                compress=True,
            )  # fmt: skip
            result = {"stored": result["stored"] + int(answer.get("stored", 0)), "total": answer.get("total")}
        return result

    def send_predictions(self, slug: str, df: pd.DataFrame, batch_size: int = 10_000) -> dict:
        """POST predictions in batches -> ``{"accepted", "duplicates", "rejected"}`` for the whole frame.

        Rejected rows carry their position in ``df`` (0-based, like ``df.iloc``) as ``index``.
        """
        known = (*PREDICTION_FIELDS, *PREDICTION_OPTIONAL)
        numeric = ["score", *([] if "features" in df.columns else feature_columns(df, known))]
        return self._send_batches(
            f"/api/v1/models/{slug}/predictions/",
            df,
            batch_size,
            counters=("accepted", "duplicates"),
            to_rows=lambda part: rows_from_frame(part, fields=PREDICTION_FIELDS, optional=PREDICTION_OPTIONAL),
            check_columns=[c for c in numeric if c in df.columns],
        )

    def send_labels(self, slug: str, df: pd.DataFrame, batch_size: int = 10_000) -> dict:
        """POST labels (request_id, label, timestamp) in batches -> ``{"matched", "pending", "rejected"}``."""
        return self._send_batches(
            f"/api/v1/models/{slug}/labels/",
            df,
            batch_size,
            counters=("matched", "pending"),
            to_rows=lambda part: rows_from_frame(part, fields=LABEL_FIELDS, features=False),
            check_columns=[c for c in ("label",) if c in df.columns],
        )

    def _send_batches(self, path, df, batch_size, *, counters, to_rows, check_columns) -> dict:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        total: dict = {name: 0 for name in counters}
        rejected: list[dict] = []
        for start in range(0, len(df), batch_size):
            part = df.iloc[start : start + batch_size]
            rows = to_rows(part)
            # JSON has no infinity: refuse those rows here, the way the server refuses bad rows.
            bad = infinite_positions(part, check_columns)
            keep = [i for i in range(len(rows)) if i not in bad]
            for position, errors in sorted(bad.items()):
                rejected.append(
                    {"index": start + position, "request_id": rows[position].get("request_id"), "errors": errors}
                )
            if not keep:
                continue
            result = self._request("POST", path, json_body=[rows[i] for i in keep], compress=True)
            for name in counters:
                total[name] += int(result.get(name, 0))
            for item in result.get("rejected", []):
                item = dict(item)
                if isinstance(item.get("index"), int):
                    item["index"] = start + keep[item["index"]]
                rejected.append(item)
        rejected.sort(key=lambda item: item.get("index", -1) if isinstance(item.get("index"), int) else -1)
        total["rejected"] = rejected
        return total

    # -- transport -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        data: bytes | None = None,
        content_type: str | None = None,
        params: dict | None = None,
        compress: bool = False,
    ):
        headers: dict[str, str] = {}
        if json_body is not None:
            data = json.dumps(json_body, allow_nan=False, separators=(",", ":")).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if data is not None and compress and self.gzip and len(data) >= GZIP_MIN_BYTES:
            data = gzip_lib.compress(data, compresslevel=5)
            headers["Content-Encoding"] = "gzip"
        url = self.base_url + path
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, data=data, headers=headers, params=params, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.retries:
                    raise VigilError(f"{method} {path}: server unreachable: {exc}") from exc
                self._sleep(attempt, None)
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                self._sleep(attempt, response.headers.get("Retry-After"))
                attempt += 1
                continue
            return self._decode(method, path, response)

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2**attempt)
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        time.sleep(delay)

    @staticmethod
    def _decode(method: str, path: str, response: requests.Response):
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            detail = body.get("detail") if isinstance(body, dict) else (body or "")[:300]
            raise VigilError(
                f"{method} {path} -> {response.status_code}: {detail}", status=response.status_code, body=body
            )
        return body
