"""A referral names an institution (catalogue.Institution) instead of free text. Each text already stored becomes
the institution of that name, created inactive when the list lacks it, so no referral loses where it went."""

import django.db.models.deletion
from django.db import migrations, models


def texts_to_institutions(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    Institution = apps.get_model("catalogue", "Institution")
    for text in Report.objects.exclude(referred_to="").values_list("referred_to", flat=True).distinct():
        institution, _ = Institution.objects.get_or_create(name=text.strip(), defaults={"is_active": False})
        Report.objects.filter(referred_to=text).update(referred_institution=institution)


def institutions_to_texts(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    for report in Report.objects.filter(referred_institution__isnull=False).select_related("referred_institution"):
        Report.objects.filter(pk=report.pk).update(referred_to=report.referred_institution.name)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0008_institutions_list"),
        ("reports", "0028_suggestion_box_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="referred_institution",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="catalogue.institution",
                verbose_name="derivada a",
            ),
        ),
        migrations.RunPython(texts_to_institutions, institutions_to_texts),
        migrations.RemoveField(model_name="report", name="referred_to"),
        migrations.RenameField(model_name="report", old_name="referred_institution", new_name="referred_to"),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(
                condition=models.Q(("referred_to__isnull", False)), fields=["referred_to"], name="report_referred_to"
            ),
        ),
    ]
