import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("alerts", "0005_heads_and_rules_to_communes")]

    operations = [
        migrations.AlterField(
            model_name="departmenthead",
            name="commune",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="department_heads",
                to="zones.commune",
                verbose_name="comuna",
            ),
        ),
        migrations.AlterField(
            model_name="escalationrule",
            name="commune",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="escalation_rules",
                to="zones.commune",
                verbose_name="comuna",
            ),
        ),
        migrations.AddConstraint(
            model_name="departmenthead",
            constraint=models.UniqueConstraint(
                fields=("commune", "department"), name="department_head_one_per_commune"
            ),
        ),
        migrations.AddConstraint(
            model_name="escalationrule",
            constraint=models.UniqueConstraint(
                fields=("commune", "department", "level"), name="escalation_rule_unique_level"
            ),
        ),
    ]
