from django.urls import path

from . import views_health, views_metrics

urlpatterns = [
    path("models/<slug:slug>/drift/", views_metrics.DriftView.as_view(), name="api-drift"),
    path("models/<slug:slug>/performance/", views_metrics.PerformanceView.as_view(), name="api-performance"),
    path("models/<slug:slug>/timeseries/", views_metrics.TimeseriesView.as_view(), name="api-timeseries"),
    path("models/<slug:slug>/health/", views_health.HealthView.as_view(), name="api-health"),
]
