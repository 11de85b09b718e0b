"""A category's department becomes a key to Department, the one the crews and reports already point at: each name is
matched to the department of that name (created if no crew had one yet); an empty name becomes no department. The
text column goes in 0003: PostgreSQL cannot alter a table in the transaction that wrote its deferred keys."""

import django.db.models.deletion
from django.db import migrations, models


def names_to_keys(apps, schema_editor):
    category_model = apps.get_model("catalogue", "Category")
    department_model = apps.get_model("catalogue", "Department")
    for category in category_model.objects.exclude(department_name=""):
        category.department, _ = department_model.objects.get_or_create(name=category.department_name)
        category.save(update_fields=["department"])


def keys_to_names(apps, schema_editor):
    category_model = apps.get_model("catalogue", "Category")
    for category in category_model.objects.filter(department__isnull=False).select_related("department"):
        category.department_name = category.department.name
        category.save(update_fields=["department_name"])


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="category", old_name="department", new_name="department_name"),
        migrations.AddField(
            model_name="category",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="categories",
                to="catalogue.department",
                verbose_name="unidad responsable",
            ),
        ),
        migrations.RunPython(names_to_keys, keys_to_names),
    ]
