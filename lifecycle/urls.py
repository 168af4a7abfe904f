from django.urls import path

from . import views

app_name = "lifecycle"
urlpatterns = [
    path("models/<slug:slug>/compare/", views.compare_page, name="compare"),
    path("models/<slug:slug>/compare/<str:request_id>/", views.explanations_page, name="explanations"),
    path("models/<slug:slug>/card/", views.model_card_view, name="model-card"),
    path("models/<slug:slug>/versions/<str:version>/card/", views.version_card_view, name="version-card"),
    path("models/<slug:slug>/settings/", views.settings_page, name="settings"),
    path("models/<slug:slug>/rollback/", views.rollback_action, name="rollback"),
    path("models/<slug:slug>/versions/<str:version>/promote/", views.promote_action, name="promote"),
    path("models/<slug:slug>/versions/<str:version>/gate/", views.gate_action, name="gate"),
    path("models/<slug:slug>/versions/<str:version>/threshold/", views.threshold_action, name="threshold"),
]
