from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_escalation_groups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("assigned", "Asignada"),
                    ("due_soon", "Por vencer"),
                    ("overdue", "Vencida"),
                    ("reopened", "Reabierta"),
                    ("citizen_info", "Información de la ciudadanía"),
                    ("triage_wait", "Esperando en triage"),
                    ("escalation", "Escalamiento"),
                ],
                max_length=16,
                verbose_name="tipo",
            ),
        ),
    ]
