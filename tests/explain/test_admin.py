"""The admin upload form goes through the same checks; trusted hashes are admins-only."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile

from explain.models import ModelArtifact, TrustedArtifactHash

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = User.objects.create_user("ada", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="Admins"))
    client.force_login(user)
    return client


def test_admin_upload_accepts_a_good_file_and_refuses_a_bad_one(admin_client):
    version = f.make_version()
    text, _ = f.lightgbm_text(f.rows(200))
    response = admin_client.post("/admin/explain/modelartifact/add/", {
        "version": version.pk, "upload": SimpleUploadedFile("model.txt", text.encode()), "upload_format": "",
    })
    assert response.status_code == 302, response.content[:2000]
    artifact = ModelArtifact.objects.get(version=version, current=True)
    assert artifact.format == "lightgbm" and artifact.uploaded_by == "ada"
    bad = admin_client.post("/admin/explain/modelartifact/add/", {
        "version": version.pk, "upload": SimpleUploadedFile("model.pkl", b"\x80\x04junk"), "upload_format": "pickle",
    })
    assert bad.status_code == 200 and b"is not trusted" in bad.content
    assert ModelArtifact.objects.count() == 1


def test_trusted_hashes_only_for_admins(admin_client, client):
    response = admin_client.post("/admin/explain/trustedartifacthash/add/", {"sha256": "A" * 64, "note": "ours"})
    assert response.status_code == 302
    trusted = TrustedArtifactHash.objects.get()
    assert trusted.sha256 == "a" * 64 and trusted.created_by.username == "ada"
    scientist = User.objects.create_user("sam", password="pw-123456", is_staff=True)
    scientist.groups.add(Group.objects.get(name="Data scientists"))
    client.force_login(scientist)
    assert client.get("/admin/explain/trustedartifacthash/").status_code == 403
