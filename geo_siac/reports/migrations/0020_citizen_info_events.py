from django.db import migrations, models

# A citizen's note or photo added after filing was a `note` event by "Vecino/a" with no staff actor; a citizen's
# reopening wrote one too, beside its status event of the same instant, and stays a note.
MARK_CITIZEN_INFO = """
UPDATE reports_reportevent e SET kind = 'citizen_info'
 WHERE e.kind = 'note' AND e.actor_id IS NULL AND e.actor_label = 'Vecino/a'
   AND NOT EXISTS (SELECT 1 FROM reports_reportevent s
                    WHERE s.report_id = e.report_id AND s.kind = 'status' AND s.created_at = e.created_at)
"""
UNMARK_CITIZEN_INFO = "UPDATE reports_reportevent SET kind = 'note' WHERE kind = 'citizen_info'"


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0019_crew_actions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reportevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Creada"),
                    ("status", "Cambio de estado"),
                    ("note", "Nota"),
                    ("routed", "Asignación automática"),
                    ("returned", "Devuelta por la cuadrilla"),
                    ("rerouted", "Derivación"),
                    ("extended", "Prórroga"),
                    ("citizen_info", "Información agregada por el vecino"),
                ],
                max_length=16,
                verbose_name="tipo",
            ),
        ),
        migrations.RunSQL(MARK_CITIZEN_INFO, UNMARK_CITIZEN_INFO),
        migrations.AddIndex(
            model_name="reportevent",
            index=models.Index(
                condition=models.Q(("kind", "citizen_info")), fields=["report"], name="event_citizen_info"
            ),
        ),
    ]
