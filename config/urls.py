from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.roles import home_url


def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    return redirect(home_url(request.user))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("home/", home, name="home"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("monitoring.api.urls")),
    path("api/v1/", include("monitoring.api.metrics_urls")),
    path("api/v1/", include("explain.api.urls")),
    path("api/v1/", include("ops.api.urls")),
    path("api/v1/", include("alerts.api.urls")),
    path("alerts/", include("alerts.urls")),
    path("ops/", include("ops.urls")),
    path("", include("monitoring.urls")),
]


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error.", "errors": {}}, status=500)
    return defaults.server_error(request)
