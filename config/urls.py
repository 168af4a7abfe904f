from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.healthz import healthz
from core.pages import favicon, landing


@login_required
def home(request):
    return landing(request)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("home/", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("monitoring.api.urls")),
    path("api/v1/", include("monitoring.api.metrics_urls")),
    path("api/v1/", include("explain.api.urls")),
    path("api/v1/", include("ops.api.urls")),
    path("api/v1/", include("lifecycle.api.urls")),
    path("lifecycle/", include("lifecycle.urls")),
    path("api/v1/", include("alerts.api.urls")),
    path("alerts/", include("alerts.urls")),
    path("ops/", include("ops.urls")),
    path("", include("monitoring.urls")),
]


handler403 = "core.pages.permission_denied"
handler404 = "core.pages.page_not_found"
handler500 = "core.pages.server_error"
