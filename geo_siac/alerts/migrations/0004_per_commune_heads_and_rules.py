"""Department heads and escalation rules get a comuna, empty until 0005 fills it (one transaction each: PostgreSQL
refuses to alter a table with row changes still to check in the same transaction)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0003_citizen_info_alerts"),
        ("catalogue", "0008_institutions_list"),
        ("zones", "0013_commune_category_terms"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="escalationrule",
            options={
                "ordering": ["commune", "department", "level"],
                "verbose_name": "regla de escalamiento",
                "verbose_name_plural": "reglas de escalamiento",
            },
        ),
        migrations.RemoveConstraint(model_name="escalationrule", name="escalation_rule_unique_level"),
        migrations.AddField(
            model_name="departmenthead",
            name="commune",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="department_heads",
                to="zones.commune",
                verbose_name="comuna",
            ),
        ),
        migrations.AddField(
            model_name="escalationrule",
            name="commune",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="escalation_rules",
                to="zones.commune",
                verbose_name="comuna",
            ),
        ),
        migrations.AlterField(
            model_name="departmenthead",
            name="department",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="heads",
                to="catalogue.department",
                verbose_name="dirección municipal",
            ),
        ),
    ]
