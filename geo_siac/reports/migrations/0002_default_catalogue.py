from django.db import migrations

from geo_siac.catalogue.catalogue import CATEGORIES, GROUPS


def forwards(apps, schema_editor):
    # The loader as it was when categories named their department as text; catalogue.0002 makes it a key.
    category_model, group_model = apps.get_model("reports", "Category"), apps.get_model("reports", "CategoryGroup")
    groups = {}
    for order, (code, name_es, name_en) in enumerate(GROUPS):
        groups[code], _ = group_model.objects.get_or_create(
            code=code, defaults={"name_es": name_es, "name_en": name_en, "order": order})
    for code, group, name_es, name_en, desc_es, desc_en, keywords, days, department, attributes in CATEGORIES:
        category_model.objects.get_or_create(service_code=code, defaults={
            "group": groups[group], "name_es": name_es, "name_en": name_en, "description_es": desc_es,
            "description_en": desc_en, "keywords": keywords, "response_days": days, "department": department,
            "attributes": attributes,
        })


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
