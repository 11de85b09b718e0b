"""The topics of the requests without a place (docs/request-kinds.md), so that a reclamo, consulta, sugerencia,
felicitación or access-to-information request can be filed on an existing installation. Its own copy of
catalogue.TOPICS, as it was; existing codes are left as the municipality edited them."""

from django.db import migrations

GROUP = ("atencion-ciudadana", "Atención ciudadana (OIRS)", "Citizen services (OIRS)")
OIRS = "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"
TRANSPARENCIA = "Unidad de Transparencia Municipal"
TOPICS = [
    (
        "complaint",
        "reclamo-atencion",
        "Reclamo por la atención recibida",
        "Complaint about the service received",
        10,
        OIRS,
    ),
    (
        "complaint",
        "reclamo-servicio",
        "Reclamo por un servicio municipal",
        "Complaint about a municipal service",
        10,
        OIRS,
    ),
    (
        "query",
        "consulta-tramites",
        "Consulta sobre trámites y beneficios",
        "Question about procedures and benefits",
        10,
        OIRS,
    ),
    ("suggestion", "sugerencia", "Sugerencia", "Suggestion", 15, OIRS),
    ("compliment", "felicitacion", "Felicitación", "Compliment", 15, OIRS),
    (
        "information",
        "acceso-informacion",
        "Acceso a información pública (Ley 20.285)",
        "Access to public information (Ley 20.285)",
        20,
        TRANSPARENCIA,
    ),
]


def add_topics(apps, schema_editor):
    Category = apps.get_model("catalogue", "Category")
    CategoryGroup = apps.get_model("catalogue", "CategoryGroup")
    Department = apps.get_model("catalogue", "Department")
    if not Category.objects.exists():
        return  # an empty catalogue is loaded whole by load_categories, topics included
    code, name_es, name_en = GROUP
    order = CategoryGroup.objects.count()
    group, _ = CategoryGroup.objects.get_or_create(
        code=code, defaults={"name_es": name_es, "name_en": name_en, "order": order}
    )
    for kind, service_code, name_es, name_en, days, department in TOPICS:
        if not Category.objects.filter(service_code=service_code).exists():
            Category.objects.create(
                service_code=service_code,
                kind=kind,
                group=group,
                name_es=name_es,
                name_en=name_en,
                response_days=days,
                department=Department.objects.get_or_create(name=department)[0],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0005_category_kind"),
    ]

    operations = [
        migrations.RunPython(add_topics, migrations.RunPython.noop),
    ]
