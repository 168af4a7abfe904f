from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    verbose_name = "Model lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.selectors.health import finding_provider_register
        from monitoring.signals import production_set
        from monitoring.views import sections

        sections.section_register(sections.LIFECYCLE_MODEL, "lifecycle.sections.model_section")
        sections.section_register(sections.LIFECYCLE_VERSION, "lifecycle.sections.version_section")
        finding_provider_register("lifecycle.selectors.staleness.staleness_findings")
        production_set.connect(_record_registry_production, dispatch_uid="lifecycle-registry-production")


def _record_registry_production(sender, *, version, actor: str = "", previous=None, **kwargs) -> None:
    from .services.stage import registry_production_record

    registry_production_record(version=version, actor=actor, previous=previous)
