from django.db import migrations, models


class Migration(migrations.Migration):
    """Who added an event photo, and the dump an erasure rewrite replaces. Database defaults let code still running
    the old version (workers before their restart, an archive_year) insert rows between this migration and its
    restart; the photos' index comes next, built concurrently (0045)."""

    dependencies = [
        ("reports", "0043_heatmap_commune_covering_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="eventphoto",
            name="added_by",
            field=models.CharField(blank=True, db_default="", default="", max_length=254, verbose_name="agregada por"),
        ),
        migrations.AddField(
            model_name="yeararchive",
            name="dump_replaced",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=500, verbose_name="volcado reemplazado"
            ),
        ),
    ]
