from django.apps import AppConfig


class ExplainConfig(AppConfig):
    name = "explain"
    verbose_name = "Explanations"
