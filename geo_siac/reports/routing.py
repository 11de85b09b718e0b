"""Routing: which zone holds a new report, and which crew and department must answer it."""

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _

from geo_siac.catalogue.models import Department
from geo_siac.reports.responsibility import responsible_department
from geo_siac.text import installation_language
from geo_siac.zones.models import Commune, Crew, Zone
from geo_siac.zones.selectors import CategoryTerms, Placement, category_terms, placement


@dataclass(frozen=True)
class RoutingDecision:
    zone: Zone | None
    crew: Crew | None
    department: Department | None
    reason: str


def route(point: Point, commune: Commune, category) -> RoutingDecision:
    """Zone containing the point + category -> crew; no zone or no crew -> triage (crew None), with the reason."""
    return decide(placement(point, category, commune=commune), category, category_terms(commune, category))


def decide_without_place(commune: Commune, category, terms: CategoryTerms) -> RoutingDecision:
    """A request without a place (a reclamo, a consulta...) goes to the department the comuna names for its topic
    (`terms`, zones.selectors.category_terms), or to the OIRS triage queue when there is none; crews work places,
    so none is chosen."""
    with installation_language():  # the reason is stored in the history staff read
        department = responsible_department(None, terms)
        if department is None:
            return RoutingDecision(
                None,
                None,
                None,
                _("«%(category)s» en %(commune)s sin dirección responsable: a la cola de triage de la OIRS.")
                % {"category": category.name, "commune": commune.name},
            )
        return RoutingDecision(
            None,
            None,
            department,
            _("«%(category)s» en %(commune)s: %(department)s.")
            % {"category": category.name, "commune": commune.name, "department": department.name},
        )


def decide(placed: Placement, category, terms: CategoryTerms) -> RoutingDecision:
    """The routing decision for a placed report (see zones.selectors.placement); `terms` are the category's in its
    comuna (zones.selectors.category_terms), whose department a crew's own department overrides."""
    with installation_language():  # the reason is stored in the history staff read
        commune, zone, crew = placed.commune, placed.zone, placed.crew
        department = responsible_department(crew.department if crew is not None else None, terms)
        if zone is None:
            return RoutingDecision(
                None, None, department, _("Sin zona en %(commune)s: a la cola de triage.") % {"commune": commune.name}
            )
        if crew is None:
            return RoutingDecision(
                zone,
                None,
                department,
                _("Zona %(zone)s sin cuadrilla para «%(category)s»: a la cola de triage.")
                % {"zone": zone, "category": category.name},
            )
        return RoutingDecision(
            zone,
            crew,
            department,
            _("Zona %(zone)s, categoría «%(category)s»: cuadrilla %(crew)s (%(department)s).")
            % {"zone": zone, "category": category.name, "crew": crew.name, "department": department.name},
        )
