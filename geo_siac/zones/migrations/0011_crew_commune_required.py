import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from 0010: PostgreSQL refuses to alter a table with the fill's deferred FK checks still pending."""

    dependencies = [("zones", "0010_commune_memberships_and_crew_commune")]

    operations = [
        migrations.AlterField(
            model_name="crew",
            name="commune",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="crews",
                to="zones.commune",
                verbose_name="comuna",
            ),
        ),
    ]
