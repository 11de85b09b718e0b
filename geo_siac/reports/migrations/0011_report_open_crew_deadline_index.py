from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The index of a crew's queue (selectors.reports_of_crews), built without blocking new reports."""

    atomic = False

    dependencies = [
        ("reports", "0010_submission_token_constraint"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(
                fields=["crew", "expected_at", "id"],
                condition=models.Q(status__in=["acknowledged", "in_progress", "submitted"]),
                name="report_open_crew_deadline",
            ),
        ),
    ]
