from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The index of the public map box (selectors.reports_in_bbox), built without blocking new reports while it is
    built (about 2 s per million reports)."""

    atomic = False

    dependencies = [
        ("reports", "0008_indicator_facts_and_calendar"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(
                fields=["h3_res9"],
                include=("public_visibility", "category", "created_at", "id", "location"),
                name="report_shown_cell",
            ),
        ),
    ]
