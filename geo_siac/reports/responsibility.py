"""Which department must answer a request: the one routing made responsible (`Report.department`: its crew's, else
the one its comuna names for its category, zones.selectors.category_terms), else the one its category names (history
imported before routing, which routing never saw). The one rule behind routing, the alerts and escalation, the
deadline board and the indicators' "department" dimension."""

from django.db.models import CharField, F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from geo_siac.catalogue.models import Category, Department
from geo_siac.db import KeyLookup
from geo_siac.zones.selectors import CategoryTerms

RESPONSIBLE_DEPARTMENT = Coalesce(F("department_id"), F("category__department_id"))
DEPARTMENT_NAME = Coalesce(F("department__name"), F("category__department__name"), output_field=CharField())
# Compiled once (geo_siac.db.KeyLookup): reading `category.department` built the ORM's query for every request without
# a place or without a crew filed, a sixth of the CPU of such a submission.
DEPARTMENT_BY_ID = KeyLookup(lambda pk: Department.objects.filter(pk=pk), marker=-1)


def responsible_department(crew_department: Department | None, terms: CategoryTerms) -> Department | None:
    """The department a request answers to: its crew's, else the one its comuna names for its category
    (zones.selectors.category_terms)."""
    if crew_department is not None:
        return crew_department
    category = terms.category
    overridden = terms.row is not None and terms.row.department_id is not None
    if not overridden and category.department_id is not None and not Category.department.is_cached(category):
        category.department = DEPARTMENT_BY_ID(category.department_id)
    return terms.department


def responsible_department_id(report) -> int | None:
    return report.department_id if report.department_id is not None else report.category.department_id


def responsible_department_name(report) -> str:
    """The name the citizen reads (the confirmation, the answer letter); empty when no department answers."""
    if report.department_id is not None:
        return report.department.name
    return report.category.department_name


def responsible_department_sql(report: str) -> str:
    """RESPONSIBLE_DEPARTMENT in SQL, for the report table aliased `report` (the alerts run's set-wise statements)."""
    return (
        f"COALESCE({report}.department_id, (SELECT c.department_id FROM {Category._meta.db_table} c "
        f"WHERE c.id = {report}.category_id))"
    )


def citizen_responsible(report) -> tuple[str, str]:
    """(label, name) of the line "Responsable" a citizen reads: a request referred to another institution names that
    institution; one no department answers yet is the OIRS's, never an empty line."""
    if report.referred_to_id is not None:
        return gettext("Derivada a"), report.referred_to.name
    return gettext("Responsable"), responsible_department_name(report) or gettext(
        "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"
    )
