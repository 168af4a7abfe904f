"""The three web roles (Django groups, created by a migration) and what each may do."""

DATA_SCIENTISTS = "Data scientists"
SUPPORT_AGENTS = "Support agents"
ADMINS = "Admins"

ROLES = (DATA_SCIENTISTS, SUPPORT_AGENTS, ADMINS)

# API scopes a logged-in web user gets from their groups (session auth on the API). A session
# reaches through the API what the role's pages show: agents may not see the dashboards, so
# they get no `read` (metrics, explanations), only `ops` (overrides, rerank, review samples).
ROLE_SCOPES = {
    DATA_SCIENTISTS: {"read"},
    SUPPORT_AGENTS: {"ops"},
    ADMINS: {"read", "ops", "admin", "ingest"},
}


def user_in(user, *roles: str) -> bool:
    """True for superusers and for members of any of ``roles``."""
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    # An API token's principal (core.api.auth.TokenUser) has scopes, not web roles.
    groups = getattr(user, "groups", None)
    return groups is not None and groups.filter(name__in=roles).exists()


def user_scopes(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLE_SCOPES[ADMINS])
    scopes: set[str] = set()
    if getattr(user, "groups", None) is None:
        return scopes
    for name in user.groups.values_list("name", flat=True):
        scopes |= ROLE_SCOPES.get(name, set())
    return scopes


def _roles_of(user) -> set[str]:
    # An API token's principal has no groups (pages rendered by DRF, e.g. /api/docs/, see it).
    if not user or not user.is_authenticated or not hasattr(user, "groups"):
        return set()
    if user.is_superuser:
        return set(ROLES)
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def _home_for(roles: set[str]) -> str:
    if roles & {DATA_SCIENTISTS, ADMINS}:
        return "/"
    if SUPPORT_AGENTS in roles:
        return "/ops/"
    # Logged in with no role yet: /home/ says so and whom to ask, instead of a 403 on "/".
    return "/home/"


def nav_context(request) -> dict:
    """Template context: which sections the navigation offers this user, and where the logo leads."""
    user = getattr(request, "user", None)
    roles = _roles_of(user)
    return {
        "can_view_dashboards": bool(roles & {DATA_SCIENTISTS, ADMINS}),
        "can_use_console": bool(roles),
        "home_url": _home_for(roles) if roles or (user and user.is_authenticated) else "/",
    }


def home_url(user) -> str:
    """Where a user lands after logging in: scientists and admins on the dashboards, agents in the ops
    console, users without a role on a page that says whom to ask."""
    if not user or not user.is_authenticated:
        return "/"
    return _home_for(_roles_of(user))
