"""Who hears of a rule: addresses, ``user:<name>``, ``group:<name>`` and ``subscribers``."""

from django.contrib.auth import get_user_model

from core.roles import ADMINS, DATA_SCIENTISTS

from ..models import Subscription


def recipients_resolve(*, rule) -> list[str]:
    """Email addresses the rule's mail goes to, deduplicated, in a stable order."""
    users = get_user_model().objects.exclude(email="").filter(is_active=True)
    out: list[str] = []
    for entry in rule.recipients:
        if entry == "subscribers":
            subs = Subscription.objects.filter(model_id=rule.model_id).values_list("user_id", flat=True)
            if subs:
                out += users.filter(pk__in=subs).values_list("email", flat=True)
            else:
                # A model nobody subscribed to still reaches its data scientists and admins.
                out += users.filter(groups__name__in=[DATA_SCIENTISTS, ADMINS]).values_list("email", flat=True)
        elif entry.startswith("user:"):
            out += users.filter(username=entry[5:]).values_list("email", flat=True)
        elif entry.startswith("group:"):
            out += users.filter(groups__name=entry[6:]).values_list("email", flat=True)
        else:
            out.append(entry)
    return sorted(set(out))
