from .alerts import Alert, AlertEvent, AlertWindow, State
from .feedback import Feedback, Verdict
from .outbox import Channel, DeliveryAttempt, DigestMark, Notification, NotificationKind, Status
from .rules import FEATURE_KINDS, KINDS, AlertRule, EvaluationCursor, Severity, Subscription
from .silences import Silence

__all__ = [
    "FEATURE_KINDS", "KINDS", "Alert", "AlertEvent", "AlertRule", "AlertWindow", "Channel", "DeliveryAttempt", "DigestMark",
    "EvaluationCursor", "Feedback", "Notification", "NotificationKind", "Severity", "Silence", "State", "Status",
    "Subscription", "Verdict",
]
