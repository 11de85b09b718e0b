"""The service point admin as the walk of issue adm24 used it: a place typed or clicked must lie inside its comuna,
the map draws the comunas even with no tile server, and the hours, services and channels take plain text."""

import html
import json
import re

import pytest
from django.contrib.gis.geos import Point

from geo_siac.geo import STORAGE_SRID
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE
from geo_siac.zones.models import ServicePoint

ADD = "/admin/zones/servicepoint/add/"
SANTIAGO_CENTRE = (-33.4372, -70.6506)  # Plaza de Armas: no served comuna's


def as_the_map_posts(point: Point) -> str:
    """The map widget's hidden field: GeoJSON in the map's Web Mercator (EPSG:3857)."""
    return point.transform(3857, clone=True).json


def form(commune, **overrides):
    lat, lng = PUENTE_ALTO_CENTRE
    data = {
        "name": "Oficina OIRS Plaza",
        "kind": "oirs",
        "commune": commune.pk,
        "address": "Av. Concha y Toro 1820",
        "point": "",
        "latitude": str(lat),
        "longitude": str(lng),
        "services": "",
        "channels": "",
        "opening_hours": "",
        "accessibility": "",
        "capacity_per_day": "",
    }
    return data | overrides


@pytest.fixture
def admin_client(client, crews):
    client.force_login(crews["admin"])
    return client


def test_a_point_outside_its_comuna_is_refused_with_its_distance_and_the_comuna_holding_it(admin_client, communes):
    lat, lng = PENALOLEN_CENTRE
    response = admin_client.post(ADD, form(communes["13201"], latitude=str(lat), longitude=str(lng)))
    assert response.status_code == 200
    assert re.search(r"El punto está a \d+,\d km de Puente Alto \(en Peñalolén\)\.", response.content.decode())
    assert not ServicePoint.objects.filter(name="Oficina OIRS Plaza").exists()


def test_a_point_clicked_on_the_map_outside_every_comuna_is_refused_too(admin_client, communes):
    lat, lng = SANTIAGO_CENTRE
    clicked = as_the_map_posts(Point(lng, lat, srid=STORAGE_SRID))
    response = admin_client.post(ADD, form(communes["13201"], point=clicked, latitude="", longitude=""))
    page = response.content.decode()
    assert re.search(r"El punto está a \d+,\d km de Puente Alto, fuera de toda comuna cargada\.", page)
    assert not ServicePoint.objects.filter(name="Oficina OIRS Plaza").exists()


def stored_outside(communes) -> ServicePoint:
    """A registry point loaded metres outside its comuna, as 37 DEIS facilities are (2023 boundaries)."""
    lat, lng = PENALOLEN_CENTRE
    return ServicePoint.objects.create(
        name="CESFAM Registro", kind="health", commune=communes["13201"], point=Point(lng, lat, srid=STORAGE_SRID)
    )


def change_form(point: ServicePoint, **overrides):
    """The change form posted as the page fills it: the stored place in the map and the coordinate fields."""
    data = form(
        point.commune,
        name=point.name,
        kind=point.kind,
        address="",
        point=as_the_map_posts(point.point),
        latitude=str(round(point.point.y, 6)),
        longitude=str(round(point.point.x, 6)),
    )
    return data | overrides


def test_an_unrelated_edit_of_a_stored_point_outside_its_comuna_is_saved(admin_client, communes):
    point = stored_outside(communes)
    url = f"/admin/zones/servicepoint/{point.pk}/change/"
    response = admin_client.post(url, change_form(point, name="CESFAM Renombrado", channels="Presencial"))
    assert response.status_code == 302, response.content.decode()
    point.refresh_from_db()
    assert (point.name, point.channels) == ("CESFAM Renombrado", ["Presencial"])
    assert point.point.equals_exact(Point(PENALOLEN_CENTRE[1], PENALOLEN_CENTRE[0]), 1e-9)


def test_moving_a_stored_point_or_changing_its_comuna_is_checked_again(admin_client, communes):
    point = stored_outside(communes)
    url = f"/admin/zones/servicepoint/{point.pk}/change/"
    moved = change_form(point, latitude=str(PENALOLEN_CENTRE[0] + 0.001))
    assert "de Puente Alto (en Peñalolén)" in admin_client.post(url, moved).content.decode()
    inside = ServicePoint.objects.create(
        name="Oficina Plaza",
        kind="oirs",
        commune=communes["13201"],
        point=Point(PUENTE_ALTO_CENTRE[1], PUENTE_ALTO_CENTRE[0], srid=STORAGE_SRID),
    )
    other = change_form(inside, commune=communes["13122"].pk)
    url = f"/admin/zones/servicepoint/{inside.pk}/change/"
    assert "de Peñalolén (en Puente Alto)" in admin_client.post(url, other).content.decode()
    assert ServicePoint.objects.get(pk=inside.pk).commune == communes["13201"]


def test_typed_coordinates_with_a_comma_place_the_point(admin_client, communes):
    lat, lng = PUENTE_ALTO_CENTRE
    typed = form(communes["13201"], latitude=str(lat).replace(".", ","), longitude=str(lng).replace(".", ","))
    response = admin_client.post(ADD, typed)
    assert response.status_code == 302, response.content.decode()
    point = ServicePoint.objects.get(name="Oficina OIRS Plaza").point
    assert (round(point.y, 6), round(point.x, 6)) == (round(lat, 6), round(lng, 6))


def test_no_place_at_all_asks_for_the_map_or_the_coordinates(admin_client, communes):
    response = admin_client.post(ADD, form(communes["13201"], latitude="", longitude=""))
    assert "Marque la ubicación en el mapa o escriba su latitud y longitud." in response.content.decode()
    response = admin_client.post(ADD, form(communes["13201"], longitude=""))
    assert "Escriba la latitud y la longitud, o ninguna de las dos" in response.content.decode()


def test_the_add_page_draws_the_served_comunas_and_offers_coordinates(admin_client, communes):
    page = admin_client.get(ADD).content.decode()
    assert 'id="id_latitude"' in page and 'id="id_longitude"' in page
    assert "geo_siac/admin_point_map.js" in page
    start = page.index('id="id_point_outlines"')
    outlines = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert {f["properties"]["name"] for f in outlines["features"]} == {"Puente Alto", "Peñalolén"}


def test_hours_services_and_channels_are_plain_text_with_examples(admin_client, communes):
    page = admin_client.get(ADD).content.decode()
    assert ">null</textarea>" not in page and ">[]</textarea>" not in page
    assert "Un servicio por línea" in page and "Un canal de atención por línea" in page
    assert "Vacío: horario desconocido" in page

    response = admin_client.post(
        ADD,
        form(
            communes["13201"],
            services="Pago de patentes\nRetiro de escombros | retiro-escombros",
            channels="Presencial\nTeléfono 22 731 2000",
            opening_hours='{"weekly": {"mon": [["08:30", "14:00"]]}}',
        ),
    )
    assert response.status_code == 302, response.content.decode()
    point = ServicePoint.objects.get(name="Oficina OIRS Plaza")
    assert point.services == [
        {"name": "Pago de patentes"},
        {"name": "Retiro de escombros", "category": "retiro-escombros"},
    ]
    assert point.channels == ["Presencial", "Teléfono 22 731 2000"]
    assert point.opening_hours["weekly"]["mon"] == [["08:30", "14:00"]]
    change = admin_client.get(f"/admin/zones/servicepoint/{point.pk}/change/").content.decode()
    assert "Retiro de escombros | retiro-escombros" in change


def test_a_service_name_may_hold_the_separator_unless_a_category_code_follows(admin_client, communes):
    services = "Consultas | Reclamos | retiro-escombros\nTrámites | Pagos"
    response = admin_client.post(ADD, form(communes["13201"], services=services))
    assert response.status_code == 302, response.content.decode()
    point = ServicePoint.objects.get(name="Oficina OIRS Plaza")
    assert point.services == [
        {"name": "Consultas | Reclamos", "category": "retiro-escombros"},
        {"name": "Trámites | Pagos"},
    ]
    response = admin_client.post(f"/admin/zones/servicepoint/{point.pk}/change/", change_form(point, services=services))
    assert response.status_code == 302, response.content.decode()
    point.refresh_from_db()
    assert point.services[1] == {"name": "Trámites | Pagos"}


@pytest.mark.parametrize(
    ("services", "channels", "posted"),
    [
        (
            [{"name": "Vacunación", "url": "https://example.cl/vacunas"}],
            ["Presencial"],
            {"services": '[{"name": "Vacunación", "url": "https://example.cl/vacunas"}]', "channels": "Presencial"},
        ),
        (
            [{"name": "Pago | retiro-escombros"}],
            ["Presencial"],
            {"services": '[{"name": "Pago | retiro-escombros"}]', "channels": "Presencial"},
        ),
        ([{"name": "Vacunación"}], ["Presencial", 5], {"services": "Vacunación", "channels": '["Presencial", 5]'}),
    ],
)
def test_stored_lists_the_text_cannot_express_are_edited_as_json_and_kept_whole(
    admin_client, communes, services, channels, posted
):
    point = ServicePoint.objects.create(
        name="Oficina Plaza",
        kind="oirs",
        commune=communes["13201"],
        point=Point(PUENTE_ALTO_CENTRE[1], PUENTE_ALTO_CENTRE[0], srid=STORAGE_SRID),
        services=services,
        channels=channels,
    )
    url = f"/admin/zones/servicepoint/{point.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "se edita como JSON para no perderlos" in page
    response = admin_client.post(
        url,
        change_form(point, **posted, accessibility="Rampa"),
    )
    assert response.status_code == 302, response.content.decode()
    point.refresh_from_db()
    assert (point.services, point.channels, point.accessibility) == (services, channels, "Rampa")


def test_stored_services_that_are_not_objects_are_shown_and_refused_clearly(admin_client, communes):
    point = ServicePoint.objects.create(
        name="Oficina Plaza",
        kind="oirs",
        commune=communes["13201"],
        point=Point(PUENTE_ALTO_CENTRE[1], PUENTE_ALTO_CENTRE[0], srid=STORAGE_SRID),
        services=["Vacunación"],
    )
    url = f"/admin/zones/servicepoint/{point.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "se edita como JSON" in page and "Vacunación" in page
    response = admin_client.post(url, change_form(point, services='["Vacunación"]'))
    assert "Use una lista de" in response.content.decode()
    point.refresh_from_db()
    assert point.services == ["Vacunación"]


def test_hours_errors_say_what_is_wrong(admin_client, communes):
    response = admin_client.post(ADD, form(communes["13201"], opening_hours="lunes a viernes 8:30-14"))
    assert "No es un JSON válido. Use comillas dobles y horas HH:MM" in response.content.decode()
    response = admin_client.post(ADD, form(communes["13201"], opening_hours='{"weekly": {"lunes": []}}'))
    page = response.content.decode()
    assert "Ingresa un JSON válido" not in page
    assert "lunes" in page and "errorlist" in page


def test_the_change_page_links_the_qr_sheet_of_a_served_point(admin_client, communes):
    admin_client.post(ADD, form(communes["13201"]))
    point = ServicePoint.objects.get(name="Oficina OIRS Plaza")
    page = admin_client.get(f"/admin/zones/servicepoint/{point.pk}/change/").content.decode()
    assert f'href="/atencion/buzones/{point.pk}/imprimir/"' in page
    sheet = admin_client.get(f"/atencion/buzones/{point.pk}/imprimir/").content.decode()
    assert "Municipalidad de Puente Alto" in sheet


def test_saved_hours_are_shown_indented_and_the_outlines_said_to_be_simplified(admin_client, communes):
    admin_client.post(ADD, form(communes["13201"], opening_hours='{"weekly": {"mon": [["08:30", "14:00"]]}}'))
    point = ServicePoint.objects.get(name="Oficina OIRS Plaza")
    page = admin_client.get(f"/admin/zones/servicepoint/{point.pk}/change/").content.decode()
    start = page.index(">", page.index('id="id_opening_hours"')) + 1
    shown = html.unescape(page[start : page.index("</textarea>", start)]).strip()
    assert shown == json.dumps(point.opening_hours, ensure_ascii=False, indent=2)
    assert '\n  "weekly": {' in shown
    assert "Los contornos se dibujan simplificados (unos 10 m)" in page
