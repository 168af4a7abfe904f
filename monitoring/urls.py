from django.urls import path

from monitoring.views import feature, model, overview, search, version

app_name = "monitoring"
urlpatterns = [
    path("", overview.overview, name="overview"),
    path("predictions/", search.search, name="search"),
    path("models/<slug:slug>/", model.model_page, name="model"),
    path("models/<slug:slug>/features/<str:feature>/", feature.feature_page, name="feature"),
    path("models/<slug:slug>/versions/<str:version>/", version.version_page, name="version"),
    path("models/<slug:slug>/predictions/<str:request_id>/", search.prediction_page, name="prediction"),
]
