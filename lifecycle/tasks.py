"""Celery tasks of the lifecycle app: thin, taking ids; the work is in services."""

from celery import shared_task

from lifecycle.models import Delivery
from lifecycle.selectors.policy import policy_get
from lifecycle.services import webhooks


class DeliveryFailed(Exception):
    pass


@shared_task(bind=True, max_retries=webhooks.MAX_ATTEMPTS - 1, acks_late=True)
def deliver_webhook_task(self, delivery_id: int) -> bool:
    """One attempt at a webhook call; on failure retry with exponential backoff (2, 4, 8... s, capped)."""
    delivery = Delivery.objects.select_related("event__model").get(pk=delivery_id)
    secret = policy_get(model=delivery.event.model).webhook_secret
    if webhooks.delivery_attempt(delivery_id=delivery_id, secret=secret):
        return True
    if self.request.retries >= webhooks.MAX_ATTEMPTS - 1:
        return False
    raise self.retry(exc=DeliveryFailed(f"delivery {delivery_id} failed"), countdown=backoff(self.request.retries))


def backoff(retries: int) -> float:
    from django.conf import settings

    base = settings.VIGIL_WEBHOOK_BACKOFF_SECONDS
    return min(base * 2**retries, 600.0)


@shared_task
def lifecycle_watch_task() -> int:
    """Every model: the watch period after a promotion, staleness and the retraining trigger."""
    from lifecycle.services.retraining import retraining_check
    from lifecycle.services.watch import watch_check
    from monitoring.models import MLModel

    acted = 0
    for model_id in MLModel.objects.values_list("pk", flat=True):
        acted += bool(watch_check(model_id=model_id))
        acted += bool(retraining_check(model_id=model_id))
    return acted
