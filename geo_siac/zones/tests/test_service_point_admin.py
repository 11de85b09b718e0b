"""The service point admin as the walk of issue adm24 used it: a place typed or clicked must lie inside its comuna,
the map draws the comunas even with no tile server, and the hours, services and channels take plain text."""

import json

import pytest

from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.zones.models import ServicePoint

ADD = "/admin/zones/servicepoint/add/"
SANTIAGO_CENTRE = (-33.4372, -70.6506)  # Plaza de Armas: no served comuna's


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


def test_a_point_outside_its_comuna_is_refused_naming_the_comuna(admin_client, communes):
    lat, lng = SANTIAGO_CENTRE
    response = admin_client.post(ADD, form(communes["13201"], latitude=str(lat), longitude=str(lng)))
    assert response.status_code == 200
    assert "El punto está fuera de la comuna Puente Alto." in response.content.decode()
    assert not ServicePoint.objects.filter(name="Oficina OIRS Plaza").exists()


def test_a_point_clicked_on_the_map_outside_its_comuna_is_refused_too(admin_client, communes):
    lat, lng = SANTIAGO_CENTRE
    clicked = json.dumps({"type": "Point", "coordinates": [lng, lat]})
    response = admin_client.post(ADD, form(communes["13201"], point=clicked, latitude="", longitude=""))
    assert "El punto está fuera de la comuna Puente Alto." in response.content.decode()
    assert not ServicePoint.objects.filter(name="Oficina OIRS Plaza").exists()


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
