from django.urls import path

from . import views, views_actions

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list_page, name="list"),
    path("<int:pk>/", views.alert_page, name="alert"),
    path("<int:pk>/act/", views_actions.alert_act, name="act"),
    path("rules/<slug:slug>/", views.rules_page, name="rules"),
    path("rules/<slug:slug>/new/", views_actions.rule_edit, name="rule-new"),
    path("rules/<slug:slug>/<int:pk>/", views_actions.rule_edit, name="rule-edit"),
    path("silences/", views_actions.silences_page, name="silences"),
    path("log/", views.log_page, name="log"),
    path("log/<int:pk>/", views.message_page, name="message"),
    path("feedback/<str:token>/", views_actions.feedback_click, name="feedback"),
]
