from django.db import migrations

from geo_siac.reports.catalogue import load_catalogue


def forwards(apps, schema_editor):
    load_catalogue(apps.get_model("reports", "Category"), apps.get_model("reports", "CategoryGroup"))


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
