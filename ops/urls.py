from django.urls import path

from . import action_views, review_views, views

app_name = "ops"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("decisions/<slug:model_slug>/<str:request_id>/", views.decision, name="decision"),
    path("decisions/<slug:model_slug>/<str:request_id>/correct/", action_views.correct, name="correct"),
    path("overrides/", views.overrides, name="overrides"),
    path("overrides/export.csv", views.overrides_csv, name="overrides-csv"),
    path("overrides/blacklist/", action_views.blacklist, name="blacklist"),
    path("overrides/boost/", action_views.boost, name="boost"),
    path("overrides/<int:pk>/revoke/", action_views.revoke, name="revoke"),
    path("audit/", views.audit, name="audit"),
    path("reviews/", review_views.batches, name="reviews"),
    path("reviews/<int:pk>/", review_views.batch_detail, name="review-batch"),
    path("reviews/<int:pk>/review/", review_views.review_page, name="review"),
    path("reviews/<int:pk>/pattern/", review_views.pattern, name="review-pattern"),
    path("relabels/<int:pk>/undo/", review_views.relabel_undo, name="relabel-undo"),
]
