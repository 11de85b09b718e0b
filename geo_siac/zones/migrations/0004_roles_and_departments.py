from django.db import migrations

from geo_siac.zones.roles import ROLES


def forwards(apps, schema_editor):
    for role in ROLES:
        apps.get_model("auth", "Group").objects.get_or_create(name=role)
    Department = apps.get_model("zones", "Department")
    names = apps.get_model("reports", "Category").objects.exclude(department="").values_list("department", flat=True)
    for name in set(names):
        Department.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("zones", "0003_crews_zones"),
        ("reports", "0002_default_catalogue"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
