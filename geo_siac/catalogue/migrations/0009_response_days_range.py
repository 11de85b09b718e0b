"""Response days from 1 to 60 (catalogue.terms), held by the database too. A row saved before the rule is brought
into the range first, so the constraint can be added: 0 days (the bug the rule fixes) becomes 1, each row printed;
more than 60 is refused, since cutting it would change a promise: the operator decides (docs/staff-accounts.md)."""

import django.core.validators
from django.db import migrations, models


def into_range(apps, schema_editor):
    Category = apps.get_model("catalogue", "Category")
    too_long = Category.objects.filter(response_days__gt=60).order_by("service_code")
    if too_long.exists():
        rows = ", ".join(
            f"{code} ({days} días)" for code, days in too_long.values_list("service_code", "response_days")
        )
        raise RuntimeError(
            f"Categorías con más de 60 días hábiles de plazo: {rows}. Corrija cada una (p. ej. en el shell) y vuelva "
            "a migrar (docs/staff-accounts.md, «Plazos sobre 60 días»)."
        )
    for pk, code, days in Category.objects.filter(response_days__lt=1).values_list(
        "pk", "service_code", "response_days"
    ):
        print(f"\n  catalogue.Category {code}: response_days {days} -> 1", end="")
        Category.objects.filter(pk=pk).update(response_days=1)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0008_institutions_list"),
    ]

    operations = [
        migrations.AlterField(
            model_name="category",
            name="attributes",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='Una lista JSON de preguntas (atributos Open311), o [] sin preguntas. Por ejemplo: [{"code": "riesgo", "datatype": "singlevaluelist", "required": true, "order": 1, "description": "¿Hay riesgo inmediato?", "values": [{"key": "si", "name": "Sí"}, {"key": "no", "name": "No"}]}]. Tipos: datetime, multivaluelist, number, singlevaluelist, string, text.',
                verbose_name="preguntas adicionales",
            ),
        ),
        migrations.AlterField(
            model_name="category",
            name="response_days",
            field=models.PositiveSmallIntegerField(
                default=10,
                help_text="De 1 a 60 días hábiles; los reclamos, las consultas y la Ley 20.285 tienen su plazo legal.",
                verbose_name="plazo de respuesta (días hábiles)",
            ),
        ),
        migrations.AlterField(
            model_name="category",
            name="service_code",
            field=models.SlugField(
                help_text="Identifica la categoría en la dirección web y en Open311. Solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido).",
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(?:-[a-z0-9]+)*\\Z",
                        "Use solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido).",
                        code="invalid",
                    )
                ],
                verbose_name="código de servicio",
            ),
        ),
        migrations.AlterField(
            model_name="categorygroup",
            name="code",
            field=models.SlugField(
                help_text="Solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido).",
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z0-9]+(?:-[a-z0-9]+)*\\Z",
                        "Use solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido).",
                        code="invalid",
                    )
                ],
                verbose_name="código",
            ),
        ),
        migrations.RunPython(into_range, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="category",
            constraint=models.CheckConstraint(
                condition=models.Q(("response_days__gte", 1), ("response_days__lte", 60)),
                name="category_response_days_in_range",
            ),
        ),
    ]
