"""A comuna's days held to 1..60 (catalogue.terms). The rows already hold at least 1 day (the previous constraint);
more than 60 is refused, not cut: the operator decides (docs/staff-accounts.md, «Plazos sobre 60 días»)."""

from django.db import migrations, models


def into_range(apps, schema_editor):
    CommuneCategory = apps.get_model("zones", "CommuneCategory")
    too_long = CommuneCategory.objects.filter(response_days__gt=60).order_by("commune__name", "category__service_code")
    if too_long.exists():
        rows = ", ".join(
            f"{commune} · {code} ({days} días)"
            for commune, code, days in too_long.values_list("commune__name", "category__service_code", "response_days")
        )
        raise RuntimeError(
            f"Plazos de comuna con más de 60 días hábiles: {rows}. Corrija cada uno (p. ej. en el shell) y vuelva a "
            "migrar (docs/staff-accounts.md, «Plazos sobre 60 días»)."
        )


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
