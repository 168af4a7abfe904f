"""Artifact uploads from a hostile client (issue 10): bounded memory, junk bytes, unsafe labels."""

import gzip
import tracemalloc

import pytest

from explain.models import ModelArtifact

from . import factories as f

pytestmark = pytest.mark.django_db
DATA = f.rows(200)
MB = 1024 * 1024


def _put(client, body: bytes, fmt: str | None = None, version="v1", **headers):
    url = f"/api/v1/models/loan/versions/{version}/artifact/" + (f"?format={fmt}" if fmt else "")
    return client.put(url, data=body, content_type="application/octet-stream", **headers)


def test_a_gzip_body_is_streamed_to_disk_not_inflated_in_memory(client_with, settings):
    # Item 14: a 40 KB gzip of 40 MB used to be inflated in memory, then copied again by decode().
    f.make_version()
    settings.VIGIL_MAX_ARTIFACT_BYTES = 64 * MB
    inflated = 40 * MB
    body = gzip.compress(b"\x01" * inflated, compresslevel=9)
    client = client_with("admin")
    # A first, small request imports what the view needs: module imports are not the body's cost.
    assert _put(client, gzip.compress(b"\x01" * 1000), HTTP_CONTENT_ENCODING="gzip").status_code == 400
    tracemalloc.start()
    try:
        response = _put(client, body, HTTP_CONTENT_ENCODING="gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 400  # unrecognised format, found from the first bytes on disk
    assert "Unrecognised model file" in response.json()["detail"]
    assert peak < inflated / 8, f"peak {peak / MB:.1f} MB for a {inflated / MB:.0f} MB body"


def test_a_gzip_bomb_past_the_limit_is_a_413(client_with, settings):
    f.make_version()
    settings.VIGIL_MAX_ARTIFACT_BYTES = 2 * MB
    body = gzip.compress(b"\x00" * (5 * MB))
    assert len(body) < settings.VIGIL_MAX_ARTIFACT_BYTES
    response = _put(client_with("admin"), body, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    truncated = _put(client_with("admin"), gzip.compress(b"tree\nversion=v4\n")[:-8], HTTP_CONTENT_ENCODING="gzip")
    assert truncated.status_code == 400 and "gzip" in truncated.json()["detail"]


def test_a_gzipped_lightgbm_model_is_stored_as_its_text(client_with):
    version = f.make_version()
    text, booster = f.lightgbm_text(DATA)
    reference = f.rows(30, seed=9)
    f.add_reference(version, reference, booster.predict(f.frame(reference)))
    response = _put(client_with("admin"), gzip.compress(text.encode()), HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 201, response.json()
    assert response.json()["size"] == len(text.encode())
    assert ModelArtifact.objects.get(version=version).file.read() == text.encode()


@pytest.mark.parametrize("fmt", ["xgboost-json", "xgboost-ubj", "lightgbm", "skops", None])
@pytest.mark.parametrize("junk", [b"\xff\xfe\x00junk" * 50, b'{"learner": 1' + b"\x80" * 10, b"{\x00\x01"])
def test_junk_bytes_with_any_format_are_a_400(client_with, fmt, junk):
    # Item 16: xgboost-json/ubj raised errors other than XGBoostError (500).
    f.make_version()
    response = _put(client_with("admin"), junk, fmt=fmt)
    assert response.status_code == 400, response.content[:300]
    assert ModelArtifact.objects.count() == 0


def test_a_legacy_version_label_cannot_steer_the_file_path():
    # Item 17: labels are validated at creation now; one stored before must not escape MEDIA_ROOT.
    from explain.services import artifact_upload

    version = f.make_version(version="..")
    text, _ = f.lightgbm_text(DATA)
    artifact, _ = artifact_upload(version=version, data=text.encode())
    assert artifact.file.name == f"artifacts/loan/version-{version.pk}/{artifact.sha256}.lightgbm"
