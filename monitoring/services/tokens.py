from monitoring.models import ApiToken
from monitoring.models.tokens import SCOPES, hash_key


def api_token_create(*, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Create a token; returns it and the plain key, which is never stored and shown once."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"Unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}.")
    if not scopes:
        raise ValueError("Give at least one scope.")
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        name=name, prefix=key[:10], key_hash=hash_key(key), scopes=sorted(set(scopes))
    )
    return token, key
