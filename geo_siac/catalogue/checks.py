"""System checks of the catalogue (run by migrate and `manage.py check --database default`)."""

from django.core import checks
from django.db import DatabaseError


def terms_outside_the_rule(app_configs=None, databases=None, **kwargs):
    """Categories saved before catalogue.terms whose terms it refuses (a legal cap, no department...), listed so the
    operator fixes them before an admin meets the error on saving something else."""
    if not databases:
        return []
    from geo_siac.catalogue.models import Category

    try:
        categories = list(Category.objects.order_by("service_code"))
    except DatabaseError:  # not migrated yet
        return []
    return [
        checks.Warning(
            f"La categoría {each.service_code} no cumple las reglas de plazo y responsable: {' '.join(errors.values())}",
            hint="Corríjala en /admin/catalogue/category/ (docs/staff-accounts.md).",
            obj=each,
            id="catalogue.W001",
        )
        for each in categories
        if (errors := each.terms_errors())
    ]
