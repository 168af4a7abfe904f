from django.urls import path

from .views import ArtifactView, ExplanationView

app_name = "explain-api"
urlpatterns = [
    path("models/<slug:slug>/versions/<str:version>/artifact/", ArtifactView.as_view(), name="artifact"),
    path("models/<slug:slug>/predictions/<str:request_id>/explanation/", ExplanationView.as_view(),
         name="explanation"),
]
