"""Who may open the data scientists' pages: data scientists and admins."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.roles import ADMINS, DATA_SCIENTISTS, user_in


def scientist_required(view):
    """Anonymous -> login redirect; logged in but not a scientist/admin -> 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not user_in(request.user, DATA_SCIENTISTS, ADMINS):
            raise PermissionDenied("The dashboards are for data scientists and admins.")
        return view(request, *args, **kwargs)

    return wrapped
