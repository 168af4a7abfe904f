from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The one spelling of the permission to act (blacklist, boost, correct, revoke); Django checks
# "app_label.codename" and stores the bare codename.
ACT_PERMISSION = "ops.act_on_overrides"
ACT_CODENAME = ACT_PERMISSION.split(".", 1)[1]
GRANTED_TO = ("Support agents", "Admins")
# Reviewing sampled decisions (the review queue); support agents and admins by default.
REVIEW_PERMISSION = "ops.review_decisions"
REVIEW_CODENAME = REVIEW_PERMISSION.split(".", 1)[1]


def grant_act_permission(sender, using="default", **kwargs) -> None:
    # Migration 0002 grants this once; a flush clears the grants, and post_migrate follows it.
    from django.contrib.auth.models import Group, Permission

    for codename in (ACT_CODENAME, REVIEW_CODENAME):
        permission = (
            Permission.objects.using(using).filter(codename=codename, content_type__app_label="ops").first()
        )
        if permission is None:
            continue
        for name in GRANTED_TO:
            group, _ = Group.objects.using(using).get_or_create(name=name)
            group.permissions.add(permission)


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Ops console"

    def ready(self) -> None:
        post_migrate.connect(grant_act_permission, sender=self, dispatch_uid="ops.grant_act_permission")
        from monitoring.views import sections

        sections.section_register(sections.HUMAN_AUDIT, "ops.review_charts.human_audit_chart")
