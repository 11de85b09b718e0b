"""The open list's own box indexes (issue 27): report_shown_cell and report_public_cell over open reports only, for
the Open311 list's default status=open (docs/performance.md, "The open list's own indexes").

Built on the partitioned parent, which builds one copy per partition in this transaction: reports cannot be
written while it runs (a SHARE lock; CONCURRENTLY is refused on a partitioned table). The indexes hold only open
reports (9,709 of 107,600 on the bench database: `migrate` took 7 s in all there, Django's start
included); on a much larger table, build each partition's copy CONCURRENTLY first and ATTACH it to an index made
ON ONLY the parent, then fake this migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0037_archived_keys_kept_as_tombstones"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                condition=models.Q(
                    ("public_visibility", True), ("status__in", ["acknowledged", "in_progress", "submitted"])
                ),
                fields=["h3_res9"],
                include=("category", "created_at", "id", "location"),
                name="report_open_shown_cell",
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                condition=models.Q(
                    ("public_cell__isnull", False),
                    ("public_visibility", False),
                    ("status__in", ["acknowledged", "in_progress", "submitted"]),
                ),
                fields=["public_cell"],
                include=("category", "created_at", "id"),
                name="report_open_public_cell",
            ),
        ),
    ]
