"""How a point's place against the comunas is worded, the same for a citizen's report, the bulk importer and a
service point in the admin."""

from django.utils.translation import gettext as _

from geo_siac.text import decimal


def format_distance(metres: float) -> str:
    """In the active language's numbers: "8,9 km" in Spanish, "8.9 km" in English (geo_siac.text.decimal)."""
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{decimal(metres / 1000)} km"


def outside_message(name: str, distance_m: float) -> str:
    """A point no active comuna covers, with the nearest one and its geodesic distance."""
    return _("El punto está fuera de las comunas atendidas. La más cercana es %(name)s, a %(distance)s.") % {
        "name": name,
        "distance": format_distance(distance_m),
    }


def outside_commune_message(name: str, distance_m: float, containing: str | None) -> str:
    """A point outside the comuna it was given: how far from it, and which comuna holds it instead."""
    values = {"distance": format_distance(distance_m), "name": name, "other": containing}
    if containing:
        return _("El punto está a %(distance)s de %(name)s (en %(other)s).") % values
    return _("El punto está a %(distance)s de %(name)s, fuera de toda comuna cargada.") % values
