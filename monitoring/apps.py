from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_roles(sender, using="default", **kwargs) -> None:
    # The 0002_roles migration creates the groups; a flush (transactional tests, `manage.py
    # flush`) empties them again, and Django re-emits post_migrate after it, so restore them here.
    from django.contrib.auth.models import Group

    from core.roles import ROLES

    for name in ROLES:
        Group.objects.using(using).get_or_create(name=name)


def ensure_partitions(sender, using="default", **kwargs) -> None:
    # The weeks ahead exist as soon as migrate ends (and again after a flush); the beat keeps them ahead.
    from monitoring.services.partitions import partitions_ensure_ahead

    partitions_ensure_ahead()


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="monitoring.ensure_roles")
        post_migrate.connect(ensure_partitions, sender=self, dispatch_uid="monitoring.ensure_partitions")
