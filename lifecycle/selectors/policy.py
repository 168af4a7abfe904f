from lifecycle.models import Policy
from monitoring.models import MLModel


def policy_get(*, model: MLModel) -> Policy:
    """The model's lifecycle policy; an unsaved one with the defaults while none was stored."""
    return Policy.objects.filter(model=model).first() or Policy(model=model)
