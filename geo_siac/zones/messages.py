"""How a point's place against the comunas is worded, the same for a citizen's report, the bulk importer and a
service point in the admin."""

from django.conf import settings
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _


def format_distance(metres: float) -> str:
    """In the active language's numbers: "8,9 km" in Spanish, "8.9 km" in English; the installation's where none is
    active (a management command's messages are Spanish)."""
    if metres < 1000:
        return f"{metres:.0f} m"
    with translation.override(translation.get_language() or settings.LANGUAGE_CODE):
        # Rounded first: number_format cuts a float's decimals (8.96 would read "8.9").
        return f"{number_format(round(metres / 1000, 1), decimal_pos=1)} km"


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
