"""The three web roles (Django groups, created by a migration) and what each may do."""

DATA_SCIENTISTS = "Data scientists"
SUPPORT_AGENTS = "Support agents"
ADMINS = "Admins"

ROLES = (DATA_SCIENTISTS, SUPPORT_AGENTS, ADMINS)

# API scopes a logged-in web user gets from their groups (session auth on the API).
ROLE_SCOPES = {
    DATA_SCIENTISTS: {"read"},
    SUPPORT_AGENTS: {"read", "ops"},
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


def nav_context(request) -> dict:
    """Template context: which sections the navigation offers this user."""
    user = getattr(request, "user", None)
    return {
        "can_view_dashboards": user_in(user, DATA_SCIENTISTS, ADMINS),
        "can_use_console": user_in(user, DATA_SCIENTISTS, SUPPORT_AGENTS, ADMINS),
    }


def home_url(user) -> str:
    """Where a user lands after logging in: agents work in the ops console."""
    if user_in(user, DATA_SCIENTISTS, ADMINS):
        return "/"
    if user_in(user, SUPPORT_AGENTS):
        return "/ops/"
    return "/"
