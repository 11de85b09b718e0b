"""Departments, categories and groups now belong to the catalogue app (catalogue.0001, same tables): the keys that
point at them follow in Django's state, and zones' Department leaves it. Nothing changes in the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
        ("zones", "0007_field_labels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="crew",
                    name="department",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="crews", to="catalogue.department"
                    ),
                ),
                migrations.AlterField(
                    model_name="zoneresponsibility",
                    name="category",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalogue.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="zoneresponsibility",
                    name="category_group",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalogue.categorygroup",
                    ),
                ),
                migrations.DeleteModel(name="Department"),
            ],
        ),
    ]
