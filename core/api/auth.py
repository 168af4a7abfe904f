import time

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from core.models import ApiToken
from core.models.tokens import hash_key
from core.roles import user_scopes

# key hash -> (token, monotonic expiry). Serving systems call hot endpoints (overrides, rerank)
# many times a second; a few seconds of memory saves a database round trip on most calls.
# A revoked token is refused by every process within VIGIL_TOKEN_CACHE_SECONDS.
_token_cache: dict[str, tuple[ApiToken, float]] = {}
_TOKEN_CACHE_MAX = 1000


def _token_lookup(key_hash: str) -> ApiToken | None:
    ttl = settings.VIGIL_TOKEN_CACHE_SECONDS
    now = time.monotonic()
    cached = _token_cache.get(key_hash)
    if cached is not None and cached[1] > now:
        return cached[0]
    token = ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if token is not None and ttl > 0:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[key_hash] = (token, now + ttl)
    return token


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>``; the key is looked up by its SHA-256 hash."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = _token_lookup(hash_key(key))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("This token has expired: create a new one.")
        # Touch last_used_at at most once a minute so hot ingestion paths don't write per request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return (TokenUser(token), token)

    def authenticate_header(self, request) -> str:
        # A value here makes DRF answer 401 (not 403) to unauthenticated requests.
        return self.keyword


class TokenUser:
    """The principal behind an API token: authenticated, not a web user."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False

    def __init__(self, token: ApiToken):
        self.token = token
        self.username = f"token:{token.name}"
        self.pk = None

    def __str__(self) -> str:
        return self.username


def request_scopes(request) -> set[str]:
    if isinstance(request.auth, ApiToken):
        return set(request.auth.scopes)
    return user_scopes(request.user)


class ScopePermission(permissions.BasePermission):
    """Allow the request when its token (or web user's role) has one of ``scopes``."""

    scopes: tuple[str, ...] = ()
    message = "This token lacks the required scope."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        granted = request_scopes(request)
        if granted & set(self.scopes):
            return True
        self.message = f"This endpoint needs the '{' or '.join(self.scopes)}' scope."
        return False


def scope_required(*scopes: str) -> type[ScopePermission]:
    """``permission_classes = [scope_required("ingest")]``."""
    return type(f"Scope_{'_'.join(scopes)}", (ScopePermission,), {"scopes": scopes})


class HasScopeForMethod(permissions.BasePermission):
    """Different scopes for safe and unsafe methods: set ``read_scopes``/``write_scopes`` on the view."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        needed = view.read_scopes if request.method in permissions.SAFE_METHODS else view.write_scopes
        if request_scopes(request) & set(needed):
            return True
        self.message = f"This endpoint needs the '{' or '.join(needed)}' scope."
        return False
