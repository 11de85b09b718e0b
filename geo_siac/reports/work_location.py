"""Where a crew worked when it changed a report: its phone's position and the accuracy the phone gave, both or
neither. Kept on the history event of the change, for staff only (docs/crews.md, "Where the crew worked"): no public
read selects those columns."""

import math
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from geo_siac.geo import STORAGE_SRID
from geo_siac.reports.validation import coordinate_errors

# A phone's fix worse than this says nothing about where the crew worked (a cell-tower guess, not GPS).
MAX_ACCURACY_M = 5000


@dataclass(frozen=True)
class WorkLocation:
    point: Point
    accuracy_m: float


def work_location(latitude, longitude, accuracy_m) -> WorkLocation | None:
    """The position a page or the offline app sent (text or numbers), or None when it sent none; the errors name
    the field (`latitude`, `longitude`, `accuracy`)."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    lat, lng, errors = coordinate_errors(latitude, longitude)
    try:
        accuracy = float(accuracy_m)
    except (TypeError, ValueError):
        accuracy = math.nan
    if not 0 <= accuracy <= MAX_ACCURACY_M:
        errors["accuracy"] = _("La precisión de la ubicación debe ser un número de metros entre 0 y %(max)d.") % {
            "max": MAX_ACCURACY_M
        }
    if errors:
        raise ValidationError(errors)
    return WorkLocation(point=Point(lng, lat, srid=STORAGE_SRID), accuracy_m=accuracy)


def event_fields(location: WorkLocation | None) -> dict:
    """The ReportEvent fields that keep it (none without one)."""
    if location is None:
        return {}
    return {"work_location": location.point, "work_location_accuracy_m": location.accuracy_m}
