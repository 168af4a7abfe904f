from django.urls import path

from .views import OverridesView, RerankView

urlpatterns = [
    path("models/<slug:slug>/overrides/", OverridesView.as_view(), name="ops-overrides"),
    path("models/<slug:slug>/rerank/", RerankView.as_view(), name="ops-rerank"),
]
