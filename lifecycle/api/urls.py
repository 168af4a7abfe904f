from django.urls import path

from . import views

urlpatterns = [
    path("models/<slug:slug>/compare/", views.CompareView.as_view(), name="api-compare"),
    path("models/<slug:slug>/rollback/", views.RollbackView.as_view(), name="api-rollback"),
    path("models/<slug:slug>/lifecycle/", views.LifecycleView.as_view(), name="api-lifecycle"),
    path("models/<slug:slug>/versions/<str:version>/promote/", views.PromoteView.as_view(), name="api-promote"),
    path("models/<slug:slug>/versions/<str:version>/threshold/", views.ThresholdView.as_view(), name="api-threshold"),
]
