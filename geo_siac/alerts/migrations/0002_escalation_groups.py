from django.db import migrations

# The names in alerts.models (OIRS_COORDINATION, MUNICIPAL_ADMINISTRATION), frozen as a migration must be.
GROUPS = ("Coordinación OIRS", "Administración municipal")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
