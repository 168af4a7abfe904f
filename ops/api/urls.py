from django.urls import path

from .reviews import ReviewBatchCreateView, ReviewBatchView, ReviewResultsView
from .views import OverridesView, RerankView

urlpatterns = [
    path("models/<slug:slug>/overrides/", OverridesView.as_view(), name="ops-overrides"),
    path("models/<slug:slug>/rerank/", RerankView.as_view(), name="ops-rerank"),
    path("models/<slug:slug>/reviews/", ReviewBatchCreateView.as_view(), name="ops-reviews"),
    path("reviews/<int:id>/", ReviewBatchView.as_view(), name="ops-review"),
    path("reviews/<int:id>/results/", ReviewResultsView.as_view(), name="ops-review-results"),
]
