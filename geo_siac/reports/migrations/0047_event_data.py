from django.db import migrations, models


class Migration(migrations.Migration):
    """The structured line of an event GeoSIAC writes for the citizen (reports.events). A nullable column without a
    default is only a catalogue change in PostgreSQL (no table rewrite, a brief ACCESS EXCLUSIVE lock), and on the
    partitioned events table (0033) it is added to every partition the same way; old rows stay null and keep their
    stored note, so no data is migrated."""

    dependencies = [
        ("reports", "0046_report_document"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportevent",
            name="data",
            field=models.JSONField(blank=True, null=True, verbose_name="datos de la línea"),
        ),
    ]
