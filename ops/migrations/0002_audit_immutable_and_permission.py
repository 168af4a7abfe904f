from django.db import migrations

GRANTED_TO = ("Support agents", "Admins")

IMMUTABLE_SQL = """
CREATE FUNCTION ops_audit_record_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ops_audit_record rows are immutable (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ops_audit_record_immutable
    BEFORE UPDATE OR DELETE ON ops_audit_record
    FOR EACH ROW EXECUTE FUNCTION ops_audit_record_immutable();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS ops_audit_record_immutable ON ops_audit_record;
DROP FUNCTION IF EXISTS ops_audit_record_immutable();
"""


def grant_act_permission(apps, schema_editor):
    # Permissions are normally created after migrate; create this one now so groups can get it.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="ops", model="override")
    permission, _ = Permission.objects.get_or_create(
        codename="act_on_overrides",
        content_type=content_type,
        defaults={"name": "Can blacklist, boost, correct decisions and revoke overrides"},
    )
    for name in GRANTED_TO:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)


def revoke_act_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(codename="act_on_overrides", content_type__app_label="ops").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("monitoring", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [
        migrations.RunSQL(IMMUTABLE_SQL, DROP_SQL),
        migrations.RunPython(grant_act_permission, revoke_act_permission),
    ]
