from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

SHOWN_CELL = ("public_visibility", "category", "created_at", "id", "location", "status")
PUBLIC_CELL = ("public_visibility", "category", "created_at", "id", "status")


class Migration(migrations.Migration):
    """The map box's two indexes (selectors.reports_in_bbox) also carry the status, so that a box filtered by status
    (Open311's status=open) drops the others inside the index. Each new index is built beside the old one, without
    blocking new reports, and takes its name once the old one is gone, so the box is never without one."""

    atomic = False

    dependencies = [
        ("reports", "0030_reclassified_event"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(fields=["h3_res9"], include=SHOWN_CELL, name="report_shown_cell_status"),
        ),
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(
                fields=["public_cell"],
                include=PUBLIC_CELL,
                condition=models.Q(public_cell__isnull=False),
                name="report_public_cell_status",
            ),
        ),
        RemoveIndexConcurrently(model_name="report", name="report_shown_cell"),
        RemoveIndexConcurrently(model_name="report", name="report_public_cell"),
        migrations.RenameIndex(model_name="report", new_name="report_shown_cell", old_name="report_shown_cell_status"),
        migrations.RenameIndex(
            model_name="report", new_name="report_public_cell", old_name="report_public_cell_status"
        ),
    ]
