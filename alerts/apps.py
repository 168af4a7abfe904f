from django.apps import AppConfig
from django.db.models.signals import post_save


class AlertsConfig(AppConfig):
    name = "alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.models import MLModel

        from . import tasks  # noqa: F401 - registered wherever the app runs: monitoring sends them by name
        from .receivers import model_created

        # Monitoring must not import alerts: a new model gets its default rules through this signal.
        post_save.connect(model_created, sender=MLModel, dispatch_uid="alerts-default-rules")
