from django.db import transaction

from lifecycle.models import Policy
from monitoring.models import MLModel

EDITABLE = (
    "margin", "min_pairs", "min_labels", "deployment_webhook", "retraining_webhook", "webhook_secret",
    "auto_rollback", "watch_hours", "max_age_days", "retrain_below", "retrain_windows", "retrain_min_labels",
    "retrain_cooldown_hours",
)


def policy_update(*, model: MLModel, **changes) -> Policy:
    """Store the model's lifecycle settings (validated by the model's field rules)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        policy, _ = Policy.objects.select_for_update().get_or_create(model=model)
        for name, value in changes.items():
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()
    return policy
