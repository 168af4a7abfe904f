from datetime import timedelta

from django.utils import timezone

from core.models import ApiToken
from core.models.tokens import SCOPES, hash_key


def api_token_create(*, name: str, scopes: list[str], expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns it and the plain key, which is never stored and shown once.

    ``expires_in_days``: the token is refused from then on; None keeps it until revoked.
    """
    if expires_in_days is not None and expires_in_days < 1:
        raise ValueError("--expires-in-days must be a whole number of days, at least 1.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}.")
    if not scopes:
        raise ValueError("Give at least one scope.")
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        name=name,
        prefix=key[:10],
        key_hash=hash_key(key),
        scopes=sorted(set(scopes)),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, key
