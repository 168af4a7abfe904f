from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Vigil core"

    def ready(self) -> None:
        from core.api import schema  # noqa: F401 - registers the token auth scheme with drf-spectacular
