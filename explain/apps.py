from django.apps import AppConfig


class ExplainConfig(AppConfig):
    name = "explain"
    verbose_name = "Explanations"

    def ready(self) -> None:
        from monitoring.views import sections

        sections.section_register(sections.IMPORTANCE, "explain.dashboards.importance_section")
        sections.section_register(sections.DEPENDENCE, "explain.dashboards.dependence_chart")
        sections.section_register(sections.WATERFALL, "explain.dashboards.waterfall_section")
        sections.section_register(sections.KEPT_EXPLANATION, "explain.dashboards.kept_explanation_section")
