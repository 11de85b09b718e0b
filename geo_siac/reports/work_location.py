"""Where a crew worked when it changed a report: its phone's position and the accuracy the phone gave, both or
neither. Kept on the history event of the change, for staff only (docs/crews.md, "Where the crew worked"): no public
read selects those columns."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import RequestKind, offers_crew_work
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


def crew_work_refusal(kind: str, *, photos: Sequence = (), location: WorkLocation | None = None) -> dict[str, str]:
    """Why a crew's photos or work location cannot be kept on a request of `kind` (one without a crew's work, such as
    an information request: catalogue.kinds.offers_crew_work), by field; empty when they can. The one rule of every
    path that writes them: a status change and a return refuse on it (crew_work_check), the offline replay leaves
    them out (services.actions.crew_work_left_out)."""
    if offers_crew_work(kind):
        return {}
    label = RequestKind(kind).label
    refusal = {}
    if photos:
        refusal["photos"] = _("Una solicitud de tipo «%(kind)s» no lleva fotos de una cuadrilla.") % {"kind": label}
    if location is not None:
        refusal["work_location"] = _("Una solicitud de tipo «%(kind)s» no registra dónde trabajó una cuadrilla.") % {
            "kind": label
        }
    return refusal


def crew_work_check(kind: str, *, photos: Sequence = (), location: WorkLocation | None = None) -> None:
    """crew_work_refusal, raised before anything is written."""
    if refusal := crew_work_refusal(kind, photos=photos, location=location):
        raise ValidationError(refusal)
