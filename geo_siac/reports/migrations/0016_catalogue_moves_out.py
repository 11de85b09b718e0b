"""Categories and groups now belong to the catalogue app (catalogue.0001, same tables): the report's keys follow in
Django's state. Nothing changes in the database. It runs before zones.0008, which removes zones' Department once
nothing in the state points at it, so zones' migrations never depend on reports'."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0001_initial"),
        ("reports", "0015_duplicates_and_response_templates"),
    ]
    run_before = [("zones", "0008_catalogue_moves_out")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="report",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="catalogue.category",
                    ),
                ),
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="category",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="response_templates",
                        to="catalogue.category",
                        verbose_name="categoría",
                    ),
                ),
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="response_templates",
                        to="catalogue.department",
                        verbose_name="dirección municipal",
                    ),
                ),
                migrations.AlterField(
                    model_name="report",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="catalogue.department",
                        verbose_name="dirección responsable",
                    ),
                ),
            ],
        ),
    ]
