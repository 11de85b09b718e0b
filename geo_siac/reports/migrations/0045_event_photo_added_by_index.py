from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The erasure and the export find a person's added photos by e-mail (selectors.person_added_photos); built without
    blocking new photos, outside a transaction."""

    atomic = False

    dependencies = [
        ("reports", "0044_event_photo_added_by_and_dump_replaced"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="eventphoto",
            index=models.Index(
                condition=models.Q(("added_by", ""), _negated=True), fields=["added_by"], name="eventphoto_added_by"
            ),
        ),
    ]
