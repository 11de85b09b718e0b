"""System checks of the territory (run by migrate and `manage.py check --database default`)."""

from django.core import checks
from django.db import DatabaseError


def commune_terms_outside_the_rule(app_configs=None, databases=None, **kwargs):
    """A comuna's terms saved before catalogue.terms that it refuses (a legal cap, no department...), listed so the
    operator fixes them before an admin meets the error on saving the row."""
    if not databases:
        return []
    from geo_siac.zones.models import CommuneCategory

    try:
        rows = list(CommuneCategory.objects.select_related("commune", "category").order_by("commune__name", "pk"))
    except DatabaseError:  # not migrated yet
        return []
    return [
        checks.Warning(
            f"Los términos de {row.commune.name} para {row.category.service_code} no cumplen las reglas de plazo y "
            f"responsable: {' '.join(errors.values())}",
            hint="Corríjalos en /admin/zones/communecategory/ (docs/staff-accounts.md).",
            obj=row,
            id="zones.W001",
        )
        for row in rows
        if (errors := row.terms_errors())
    ]
