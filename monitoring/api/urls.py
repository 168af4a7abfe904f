from django.urls import path

from . import views_ingest, views_registry

# Version labels may contain dots and dashes: the default str converter takes anything but '/'.
urlpatterns = [
    path("models/", views_registry.ModelListView.as_view(), name="api-models"),
    path("models/<slug:slug>/", views_registry.ModelDetailView.as_view(), name="api-model"),
    path("models/<slug:slug>/versions/", views_registry.VersionListView.as_view(), name="api-versions"),
    path("models/<slug:slug>/versions/<str:version>/", views_registry.VersionDetailView.as_view(),
         name="api-version"),
    path("models/<slug:slug>/versions/<str:version>/reference/", views_ingest.ReferenceView.as_view(),
         name="api-reference"),
    path("models/<slug:slug>/predictions/", views_ingest.PredictionsView.as_view(), name="api-predictions"),
    path("models/<slug:slug>/labels/", views_ingest.LabelsView.as_view(), name="api-labels"),
]
