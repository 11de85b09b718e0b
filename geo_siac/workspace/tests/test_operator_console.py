import re

import pytest
from django.urls import reverse

from geo_siac.reports.models import Report
from geo_siac.testing import WEST_POINT


def citizen_call(**overrides):
    values = {
        "channel": "phone",
        "category": "retiro-escombros",
        "latitude": WEST_POINT[0],
        "longitude": WEST_POINT[1],
        "description": "Llamó una vecina por escombros",
        "address": "Av. Concha y Toro 1000",
    }
    values.update(overrides)
    return values


def test_operator_files_a_phone_report_and_reads_the_tracking_code_back(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(), follow=True)
    report = Report.objects.get()
    assert (report.channel, report.created_by, report.crew) == ("phone", crews["operator"], crews["A"])
    page = response.content.decode()
    assert f'id="tracking-code">{report.tracking_code}<' in page
    assert " ".join(report.tracking_code) in page
    assert report.events.get(kind="created").actor == crews["operator"]


def test_in_person_channel_is_recorded(client, crews):
    client.force_login(crews["operator"])
    client.post(reverse("operator:new"), citizen_call(channel="in_person"))
    assert Report.objects.get().get_channel_display() == "Presencial (OIRS)"


def test_point_outside_the_comunas_is_refused_naming_the_nearest_and_nothing_is_written(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(latitude=-33.70, longitude=-70.57))
    assert response.status_code == 400
    assert response.content.decode().count("La más cercana es Puente Alto") == 1
    assert not Report.objects.exists()


def test_a_latitude_out_of_range_is_shown_next_to_the_latitude_field(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(latitude=-95))
    assert response.status_code == 400
    latitude_errors = response.content.decode().split('id="id_latitude_error"')[1].split("</ul>")[0]
    assert "La latitud debe estar entre -90 y 90." in latitude_errors
    assert not Report.objects.exists()


def test_web_channel_cannot_be_chosen_by_an_operator(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(channel="web"))
    assert response.status_code == 400 and not Report.objects.exists()


def test_operator_sees_open_reports_nearby_before_and_after_filing(client, make_report, crews):
    earlier = make_report(point=(WEST_POINT[0] + 0.0002, WEST_POINT[1]))  # about 22 m north
    make_report(point=(WEST_POINT[0] + 0.01, WEST_POINT[1]))  # about 1.1 km north
    client.force_login(crews["operator"])
    nearby = client.get(
        reverse("operator:nearby"), {"lat": WEST_POINT[0], "lng": WEST_POINT[1], "category": "retiro-escombros"}
    ).json()
    assert [r["tracking_code"] for r in nearby["reports"]] == [earlier.tracking_code]
    filed = client.post(reverse("operator:new"), citizen_call(), follow=True)
    assert [d.tracking_code for d in filed.context["duplicates"]] == [earlier.tracking_code]


@pytest.mark.parametrize(
    "lat,lng",
    [("norte", "-70.5"), ("nan", "-70.5"), ("-33.6", "inf"), ("1e400", "-70.5"), ("-95", "-70.5"), ("-33.6", None)],
)
def test_nearby_with_bad_coordinates_is_a_400_with_a_message(client, crews, lat, lng):
    client.force_login(crews["operator"])
    query = {"lat": lat, "category": "retiro-escombros", **({"lng": lng} if lng is not None else {})}
    response = client.get(reverse("operator:nearby"), query)
    assert response.status_code == 400 and "lat y lng" in response.json()["error"]


@pytest.mark.parametrize("category", ["x", "retiro escombros", "retiro-escombros\x00", "' OR 1=1 --", "a" * 51])
def test_nearby_with_an_unknown_or_hostile_category_is_a_400(client, crews, category):
    client.force_login(crews["operator"])
    response = client.get(reverse("operator:nearby"), {"lat": "-33.6117", "lng": "-70.5758", "category": category})
    assert response.status_code == 400 and response.json()["error"] == "Categoría desconocida."


def service_point(commune, name="OIRS Plaza de Puente Alto"):
    from django.contrib.gis.geos import Point

    from geo_siac.zones.models import ServicePoint

    return ServicePoint.objects.create(
        name=name, kind="oirs", commune=commune, point=Point(WEST_POINT[1], WEST_POINT[0], srid=4326)
    )


def test_console_asks_each_categorys_questions_as_the_citizen_page_does(client, crews):
    client.force_login(crews["operator"])
    console = client.get(reverse("operator:new")).content.decode()
    citizen = client.get(reverse("reports:home")).content.decode()
    for page in (console, citizen):
        assert 'name="attribute[poda-arboles][riesgo]"' in page
        assert "¿La rama o el árbol representa un riesgo inmediato? *" in page


def test_operator_files_a_tree_pruning_by_phone_with_its_required_answer(client, crews):
    client.force_login(crews["operator"])
    response = client.post(
        reverse("operator:new"),
        citizen_call(
            category="poda-arboles", description="Rama sobre el cable", **{"attribute[poda-arboles][riesgo]": "si"}
        ),
    )
    assert response.status_code == 302
    assert Report.objects.get().attributes == {"riesgo": "si"}


def test_a_required_question_left_unanswered_is_marked_beside_it_once_and_nothing_is_filed(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(category="poda-arboles"))
    assert response.status_code == 400
    page = response.content.decode()
    block = page.split('data-category="poda-arboles"')[1].split("</div>")[0]
    assert "Esta pregunta es obligatoria." in block and page.count("Esta pregunta es obligatoria.") == 1
    assert "hidden" not in page.split('data-category="poda-arboles"')[1].split(">")[0]  # the chosen one shows
    assert not Report.objects.exists()


def test_operator_records_the_service_point_where_the_request_was_received(client, crews):
    desk = service_point(crews["west"].commune)
    client.force_login(crews["operator"])
    form = client.get(reverse("operator:new")).content.decode()
    assert f'<option value="{desk.pk}">OIRS Plaza de Puente Alto · Puente Alto</option>' in form
    client.post(reverse("operator:new"), citizen_call(channel="in_person", received_at=desk.pk))
    assert Report.objects.get().received_at == desk


def test_console_map_gets_the_served_comunas_outlines_with_their_names(client, crews):
    client.force_login(crews["operator"])
    response = client.get(reverse("operator:new"))
    names = {f["properties"]["name"] for f in response.context["communes_geojson"]["features"]}
    assert names == {"Puente Alto", "Peñalolén"}
    assert 'id="communes-geojson"' in response.content.decode()


def test_operator_files_an_information_request_at_the_oirs_desk_without_a_place(client, crews):
    from django.contrib.gis.geos import Point

    from geo_siac.zones.models import ServicePoint

    desk = ServicePoint.objects.create(
        name="OIRS Puente Alto",
        kind="municipal_office",
        commune=crews["west"].commune,
        point=Point(-70.5758, -33.6117, srid=4326),
    )
    client.force_login(crews["operator"])
    form = client.get(reverse("operator:new")).content.decode()
    assert 'id="id_kind"' in form and '"acceso-informacion": "information"' in form
    response = client.post(
        reverse("operator:new"),
        {
            "kind": "information",
            "channel": "in_person",
            "category": "acceso-informacion",
            "received_at": desk.pk,
            "description": "Copia del contrato de alumbrado público.",
            "reporter_name": "Rosa Pérez",
            "reporter_phone": "+56 9 8765 4321",
        },
        follow=True,
    )
    report = Report.objects.get()
    assert (report.kind, report.location, report.received_at, report.commune.cut) == (
        "information",
        None,
        desk,
        "13201",
    )
    page = response.content.decode()
    assert f'id="tracking-code">{report.tracking_code}<' in page and "OIRS Puente Alto" in page
    assert "Solicitud de acceso a información pública" in page


def test_a_pin_with_only_its_latitude_typed_names_the_missing_longitude(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(longitude=""))
    assert response.status_code == 400 and not Report.objects.exists()
    page = response.content.decode()
    assert "Falta la longitud." in page and "Falta el lugar" not in page


def test_a_call_with_an_address_and_no_pin_says_to_search_the_street_or_click_the_map(client, crews):
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(latitude="", longitude=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Falta el lugar: busque la calle y el número arriba del mapa" in page
    assert "Falta la latitud" not in page and "Falta la longitud" not in page
    assert 'value="Av. Concha y Toro 1000"' in page  # what the operator typed stays
    assert not Report.objects.exists()


def test_the_filed_page_labels_who_answers_and_the_channel(client, crews):
    client.force_login(crews["operator"])
    page = client.post(reverse("operator:new"), citizen_call(), follow=True).content.decode()
    assert '<dt>Responsable</dt><dd id="responsible">Cuadrilla Poniente</dd>' in page
    assert '<dt>Canal</dt><dd><span id="channel">Teléfono</span></dd>' in page


def test_an_in_person_request_without_the_desk_it_came_to_is_refused_naming_the_field(client, crews):
    service_point(crews["west"].commune)
    client.force_login(crews["operator"])
    response = client.post(reverse("operator:new"), citizen_call(channel="in_person"))
    assert response.status_code == 400 and not Report.objects.exists()
    assert response.context["form"].errors["received_at"] == [
        "Una solicitud presencial se registra con el punto de atención u oficina donde vino la persona: elíjalo."
    ]


def test_a_phone_call_may_leave_the_office_out_or_name_the_one_that_took_it(client, crews):
    desk = service_point(crews["west"].commune, name="Call center municipal")
    client.force_login(crews["operator"])
    client.post(reverse("operator:new"), citizen_call(channel="phone"))
    client.post(reverse("operator:new"), citizen_call(channel="phone", received_at=desk.pk))
    assert sorted(Report.objects.values_list("received_at", flat=True), key=str) == sorted([None, desk.pk], key=str)


def test_an_in_person_request_needs_no_desk_where_no_service_point_is_loaded(client, crews):
    client.force_login(crews["operator"])
    client.post(reverse("operator:new"), citizen_call(channel="in_person"))
    assert Report.objects.get().channel == "in_person"


def test_the_office_field_follows_the_channel_and_says_what_to_pick_for_a_call(client, crews):
    client.force_login(crews["operator"])
    form = client.get(reverse("operator:new")).content.decode()
    names = re.findall(r'<div class="field" data-field="(\w+)">', form)
    assert names[names.index("channel") + 1] == "received_at"
    field = form.split('data-field="received_at">')[1].split('<div class="field"')[0]
    assert '<label for="id_received_at">Punto de atención u oficina que recibió la solicitud' in field
    assert (
        "Teléfono: el punto u oficina que atendió la llamada, normalmente la suya (una central telefónica se carga como punto de atención de tipo «otro»)"
        in field
    )
    assert 'aria-describedby="id_received_at_helptext"' in field
