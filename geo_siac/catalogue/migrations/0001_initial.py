"""The catalogue takes over categories, their groups and departments, with their tables: the models are created in
Django's state only (the tables reports_category, reports_categorygroup and zones_department keep their rows and
names), and the content types and permissions move with them."""

import django.db.models.deletion
from django.db import migrations, models

# (old app, model): the content types that become catalogue's; their permissions and admin log entries follow.
MOVED = [("reports", "category"), ("reports", "categorygroup"), ("zones", "department")]


def content_types_forwards(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for app_label, model in MOVED:
        if not content_type.objects.filter(app_label="catalogue", model=model).exists():
            content_type.objects.filter(app_label=app_label, model=model).update(app_label="catalogue")


def content_types_backwards(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for app_label, model in MOVED:
        content_type.objects.filter(app_label="catalogue", model=model).update(app_label=app_label)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("reports", "0015_duplicates_and_response_templates"),
        ("zones", "0007_field_labels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Department",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True, verbose_name="nombre")),
                    ],
                    options={
                        "verbose_name": "dirección municipal",
                        "verbose_name_plural": "direcciones municipales",
                        "db_table": "zones_department",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="CategoryGroup",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.SlugField(unique=True, verbose_name="código")),
                        ("name_es", models.CharField(max_length=100, verbose_name="nombre (español)")),
                        ("name_en", models.CharField(blank=True, max_length=100, verbose_name="nombre (inglés)")),
                        ("order", models.PositiveSmallIntegerField(default=0, verbose_name="orden")),
                    ],
                    options={
                        "verbose_name": "grupo de categorías",
                        "verbose_name_plural": "grupos de categorías",
                        "db_table": "reports_categorygroup",
                        "ordering": ["order", "code"],
                    },
                ),
                migrations.CreateModel(
                    name="Category",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("service_code", models.SlugField(unique=True, verbose_name="código de servicio")),
                        ("name_es", models.CharField(max_length=120, verbose_name="nombre (español)")),
                        ("name_en", models.CharField(blank=True, max_length=120, verbose_name="nombre (inglés)")),
                        ("description_es", models.TextField(blank=True, verbose_name="descripción (español)")),
                        ("description_en", models.TextField(blank=True, verbose_name="descripción (inglés)")),
                        (
                            "keywords",
                            models.CharField(
                                blank=True,
                                help_text="Separadas por coma.",
                                max_length=300,
                                verbose_name="palabras clave",
                            ),
                        ),
                        (
                            "response_days",
                            models.PositiveSmallIntegerField(
                                default=10, verbose_name="plazo de respuesta (días hábiles)"
                            ),
                        ),
                        ("department", models.CharField(blank=True, max_length=200, verbose_name="unidad responsable")),
                        ("is_public", models.BooleanField(default=True, verbose_name="visible para la ciudadanía")),
                        ("is_active", models.BooleanField(default=True, verbose_name="activa")),
                        (
                            "duplicate_radius_m",
                            models.PositiveIntegerField(default=50, verbose_name="radio de posibles duplicados (m)"),
                        ),
                        (
                            "attributes",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Atributos Open311: code, datatype, required, order, description, values "
                                "[{key, name}].",
                                verbose_name="preguntas adicionales",
                            ),
                        ),
                        (
                            "group",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="categories",
                                to="catalogue.categorygroup",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "categoría",
                        "verbose_name_plural": "categorías",
                        "db_table": "reports_category",
                        "ordering": ["group__order", "name_es"],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_forwards, content_types_backwards),
    ]
