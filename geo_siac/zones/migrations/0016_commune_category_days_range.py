from django.db import migrations, models


def into_range(apps, schema_editor):
    # The rows already held at least 1 day (the previous constraint); more than 60 becomes 60.
    CommuneCategory = apps.get_model("zones", "CommuneCategory")
    CommuneCategory.objects.filter(response_days__gt=60).update(response_days=60)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0009_response_days_range"),
        ("zones", "0015_identity_logo_label"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="communecategory",
            name="commune_category_days_from_1",
        ),
        migrations.RunPython(into_range, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="communecategory",
            constraint=models.CheckConstraint(
                condition=models.Q(("response_days__gte", 1), ("response_days__lte", 60)),
                name="commune_category_days_in_range",
            ),
        ),
    ]
