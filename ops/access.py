"""Who may see and who may act in the ops console."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.roles import ROLES, user_in

from .services import user_can_act


def user_can_view(user) -> bool:
    """Members of any role (and superusers) see the console."""
    return user_in(user, *ROLES)


def viewer_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not user_can_view(request.user):
            raise PermissionDenied("The ops console is for support agents, data scientists and admins.")
        return view(request, *args, **kwargs)

    return wrapped


def actor_required(view):
    """Viewing is not enough: acting needs the ops.act_on_overrides permission (agents, admins, or
    anyone an admin granted it to)."""

    @viewer_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not user_can_act(request.user):
            raise PermissionDenied(
                "You may view the ops console but not act: ask an admin for the permission."
            )
        return view(request, *args, **kwargs)

    return wrapped
