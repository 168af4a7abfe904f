"""Error pages and the landing page, in one place for every app.

People get the site's layout with its navigation; API clients under /api/ get the API's JSON error
shape ``{"detail": "...", "errors": {}}``.
"""

from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults

from core.roles import home_url


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _json(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "errors": {}}, status=status)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return _json(str(exception or "") or "You do not have permission to perform this action.", 403)
    # Renders templates/403.html with the refusal's sentence (e.g. whom to ask) as ``exception``.
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return _json("Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json("Internal server error.", 500)
    return defaults.server_error(request)


def landing(request: HttpRequest) -> HttpResponse:
    """Send a logged-in user to the home their role may see; a user with no role yet gets a page
    saying so (sending them to "/" would only show a 403)."""
    target = home_url(request.user)
    if target == request.path:
        return render(request, "no_role.html")
    return redirect(target)


_FAVICON = Path(settings.BASE_DIR) / "static" / "favicon.ico"


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages without an icon link (the Django admin's)."""
    response = HttpResponse(_FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
