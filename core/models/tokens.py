import hashlib
import secrets

from django.contrib.postgres.fields import ArrayField
from django.db import models

SCOPES = ("ingest", "read", "admin", "ops")


def hash_key(key: str) -> str:
    # Keys are 256-bit random strings, so a plain SHA-256 is enough: no slow KDF is needed.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A scoped key for serving systems and scripts. Only the hash of the key is stored."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = ArrayField(models.CharField(max_length=16), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Optional: a token past this moment is refused like a revoked one.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The model moved here from monitoring (migration core 0001); the table kept its name.
        db_table = "monitoring_api_token"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return "vgl_" + secrets.token_urlsafe(32)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
