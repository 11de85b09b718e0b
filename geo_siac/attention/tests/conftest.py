import pytest
from django.contrib.gis.geos import Point

from geo_siac.attention.models import Offering, Procedure
from geo_siac.zones.models import ServicePoint, ServicePointKind

NIGHT_SESSION = {"weekday": "thu", "nth": 1, "hours": [["19:00", "22:30"]], "label": "Atención Nocturna"}
WEEKDAYS = {day: [["08:30", "14:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def make_point(communes):
    def make(*, name="Edificio consistorial", opening_hours=None, cut="13201", lat=-33.6106, lng=-70.5759):
        return ServicePoint.objects.create(
            name=name,
            kind=ServicePointKind.MUNICIPAL_OFFICE,
            commune=communes[cut],
            point=Point(lng, lat, srid=4326),
            address="Av. Concha y Toro 1820, Puente Alto",
            opening_hours=opening_hours
            if opening_hours is not None
            else {"weekly": WEEKDAYS, "special_sessions": [NIGHT_SESSION]},
        )

    return make


@pytest.fixture
def make_offering(make_point):
    def make(*, point=None, capacity=1, minutes=30, slug="certificado-de-residencia", name="Certificado de residencia"):
        procedure, _ = Procedure.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "requirements": "Cédula de identidad", "responsible": "Oficina de Partes"},
        )
        return Offering.objects.create(
            service_point=point or make_point(),
            procedure=procedure,
            responsible="Mesón 2",
            slot_minutes=minutes,
            capacity_per_slot=capacity,
        )

    return make
