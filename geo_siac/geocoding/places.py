"""What a geocoder answers, local or remote."""

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import models
from django.utils.translation import gettext as _

from geo_siac.geo import STORAGE_SRID


class Precision(models.TextChoices):
    """How near a typed house number the pin is, when the gazetteer has no address with that number."""

    NUMBER_APPROXIMATE = "number_approximate"  # placed by the street's known numbers
    NUMBER_UNKNOWN = "number_unknown"  # no known number of the street within 300 of it: the street, at its point


@dataclass(frozen=True)
class Place:
    """One answer: what the API's features carry."""

    label: str
    kind: str
    longitude: float
    latitude: float
    commune_cut: str
    commune_name: str
    score: float = 1.0
    distance_m: float | None = None
    precision: str | None = None

    @property
    def point(self) -> Point:
        return Point(self.longitude, self.latitude, srid=STORAGE_SRID)

    @property
    def description(self) -> str:
        """What a citizen who dropped a pin here is shown, and what a report without an address stores."""
        return _("cerca de %(lugar)s") % {"lugar": self.label}

    @property
    def description_with_distance(self) -> str:
        """The description and how far the point is from it, in tens of metres: what a crew heading to a point
        without an address reads ("cerca de Av. X / Esq. Y, a 40 m")."""
        metres = round((self.distance_m or 0) / 10) * 10
        if metres < 10:
            return _("cerca de %(lugar)s, a menos de 10 m") % {"lugar": self.label}
        return _("cerca de %(lugar)s, a %(metros)s m") % {"lugar": self.label, "metros": metres}
