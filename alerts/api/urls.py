from django.urls import path

from .views import AlertListView, RuleDetailView, RuleListView, SilenceListView

urlpatterns = [
    path("models/<slug:slug>/alert-rules/", RuleListView.as_view(), name="alert-rules"),
    path("models/<slug:slug>/alert-rules/<int:pk>/", RuleDetailView.as_view(), name="alert-rule"),
    path("models/<slug:slug>/alerts/", AlertListView.as_view(), name="alerts"),
    path("models/<slug:slug>/silences/", SilenceListView.as_view(), name="silences"),
]
