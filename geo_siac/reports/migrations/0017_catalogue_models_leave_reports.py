"""reports' Category and CategoryGroup leave Django's state once nothing points at them (zones.0008 moved the
zone responsibilities' keys); their tables stay, the catalogue's."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0016_catalogue_moves_out"),
        ("zones", "0008_catalogue_moves_out"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Category"), migrations.DeleteModel(name="CategoryGroup")],
        ),
    ]
