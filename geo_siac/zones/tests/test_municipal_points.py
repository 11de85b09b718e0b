"""Health facilities are loaded for coverage (DEIS lists private clinics too): a municipality neither receives
requests at them nor lists them among its own points of attention."""

from django.contrib.gis.geos import Point
from django.urls import reverse

from geo_siac.testing import WEST_POINT
from geo_siac.zones.models import ServicePoint, ServicePointKind


def point(commune, name: str, kind: str) -> ServicePoint:
    return ServicePoint.objects.create(
        name=name, kind=kind, commune=commune, point=Point(WEST_POINT[1], WEST_POINT[0], srid=4326)
    )


def test_a_health_facility_is_no_reception_desk_suggestion_box_or_point_of_attention(client, crews, communes):
    desk = point(communes["13201"], "OIRS Plaza de Puente Alto", ServicePointKind.OIRS)
    clinic = point(communes["13201"], "CLINICA DENTAL PRIVADA", ServicePointKind.HEALTH)

    client.force_login(crews["operator"])
    console = client.get(reverse("operator:new")).content.decode()
    assert desk.name in console and clinic.name not in console

    assert client.get(f"/buzon/{desk.pk}/").status_code == 200
    assert client.get(f"/buzon/{clinic.pk}/").status_code == 404

    listing = client.get("/puntos-de-atencion/").content.decode()
    assert desk.name in listing and clinic.name not in listing
    assert client.get(f"/puntos-de-atencion/{clinic.pk}/").status_code == 404
