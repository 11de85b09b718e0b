"""Which department must answer a request: the one routing made responsible (`Report.department`: its crew's, else
the one its comuna names for its category, zones.selectors.category_terms), else the one its category names (history
imported before routing, which routing never saw). The one rule behind routing, the alerts and escalation, the
deadline board and the indicators' "department" dimension."""

from django.db.models import CharField, F
from django.db.models.functions import Coalesce

from geo_siac.catalogue.models import Category, Department
from geo_siac.zones.selectors import CategoryTerms

RESPONSIBLE_DEPARTMENT = Coalesce(F("department_id"), F("category__department_id"))
DEPARTMENT_NAME = Coalesce(F("department__name"), F("category__department__name"), output_field=CharField())


def responsible_department(crew_department: Department | None, terms: CategoryTerms) -> Department | None:
    """The department a request answers to: its crew's, else the one its comuna names for its category
    (zones.selectors.category_terms)."""
    return crew_department if crew_department is not None else terms.department


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
