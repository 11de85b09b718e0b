"""The citizen's chooser and the form of a request without a place, and what the tracking page shows of its kind and
of a Ley 20.285 clock."""

import re

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import Report
from geo_siac.reports.services import information_correction_request, information_extend, report_create


def test_the_landing_page_links_the_chooser_which_offers_every_kind(client, communes):
    landing = client.get("/").content.decode()
    assert 'href="/solicitud/"' in landing and 'href="/mis-solicitudes/ingresar/"' in landing
    page = client.get("/solicitud/").content.decode()
    assert 'href="/"' in page and "Reportar un problema en la vía pública" in page
    for slug, label in [
        ("reclamo", "Reclamo"),
        ("consulta", "Consulta"),
        ("sugerencia", "Sugerencia"),
        ("felicitacion", "Felicitación"),
        ("acceso-informacion", "acceso a información pública"),
    ]:
        assert f'href="/solicitud/{slug}/"' in page and label in page
    assert client.get("/solicitud/peticion/").status_code == 404


def test_a_suggestion_is_filed_without_a_map_and_gets_a_tracking_code(client, communes):
    form = client.get("/solicitud/sugerencia/").content.decode()
    assert 'id="map"' not in form and "sugerencia" in form
    token = re.search(r'name="token" value="([^"]+)"', form).group(1)
    response = client.post(
        "/solicitud/sugerencia/",
        {
            "token": token,
            "service_code": "sugerencia",
            "commune": "13122",
            "description": "Más bancas en la plaza.",
            "reporter_email": "vecino@example.cl",
            "consent": "on",
        },
    )
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/enviada/{report.tracking_code}/"
    assert (report.kind, report.commune.cut, report.location, report.channel) == ("suggestion", "13122", None, "web")
    page = client.get(response["Location"]).content.decode()
    assert report.tracking_code in page and "Sugerencia" in page and "cuadrilla" not in page
    assert "15 días hábiles" in page
    # What next, in the words of a suggestion (not "Reportar otro problema"), and the way to all of one's requests.
    assert (
        '<a href="/solicitud/" id="another">Ingresar otra solicitud</a>' in page
        and "Reportar otro problema" not in page
    )
    assert 'href="/mis-solicitudes/ingresar/"' in page
    again = client.post(
        "/solicitud/sugerencia/",
        {"token": token, "service_code": "sugerencia", "commune": "13122", "description": "Más bancas en la plaza."},
    )
    assert again["Location"] == response["Location"] and Report.objects.count() == 1


def test_a_form_without_text_or_comuna_is_shown_again_naming_both(client, communes):
    response = client.post(
        "/solicitud/reclamo/", {"token": "t1", "service_code": "reclamo-servicio", "description": " "}
    )
    page = response.content.decode()
    assert response.status_code == 400 and not Report.objects.exists()
    assert "Escriba su reclamo." in page and "Elija la comuna a la que dirige su solicitud." in page


def test_a_kinds_form_reached_from_a_comunas_page_has_that_comuna_chosen(client, communes):
    page = client.get("/comuna/penalolen/solicitud/reclamo/").content.decode()
    assert re.search(r'<option value="13122" selected>Peñalolén</option>', page)
    shared = client.get("/solicitud/reclamo/").content.decode()
    assert " selected>" not in shared.split('id="id_commune"')[1].split("</select>")[0]
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/comuna/penalolen/solicitud/reclamo/",
        {"token": token, "service_code": "reclamo-servicio", "commune": "13122", "description": "Nadie atiende."},
    )
    assert response.status_code == 302 and Report.objects.get().commune.cut == "13122"


def test_a_complaint_without_a_topic_asks_to_choose_one_without_naming_an_empty_category(client, communes):
    response = client.post("/solicitud/reclamo/", {"token": "t1", "commune": "13201", "description": "Nadie atiende."})
    page = response.content.decode()
    assert response.status_code == 400 and not Report.objects.exists()
    assert "Categoría: elija una de la lista." in page and "no existe o no está activa" not in page


def test_an_information_request_without_the_requesters_name_is_refused(client, communes):
    response = client.post(
        "/solicitud/acceso-informacion/",
        {"token": "t2", "service_code": "acceso-informacion", "commune": "13201", "description": "Actas del concejo."},
    )
    assert (
        response.status_code == 400 and "La Ley 20.285 pide el nombre de quien solicita." in response.content.decode()
    )
    assert "Plazo legal de respuesta: hasta 20 días hábiles (Ley 20.285, art. 14)." in response.content.decode()


def test_the_tracking_page_shows_the_kind_and_the_legal_clock(client, communes, crews):
    report = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Actas.",
        reporter_name="Rosa",
        reporter_email="r@example.cl",
    )
    page = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "Solicitud de acceso a información pública" in page and 'id="clock-phase">En plazo<' in page
    information_extend(report=report, reason="Volumen", actor=crews["supervisor"])
    page = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert 'id="clock-phase">En plazo prorrogado<' in page and 'id="clock-extension"' in page
    other = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Otra.",
        reporter_name="Rosa",
        reporter_email="r@example.cl",
    )
    information_correction_request(report=other, note="Precise el año.", actor=crews["supervisor"])
    page = client.get(f"/seguimiento/{other.tracking_code}/").content.decode()
    assert "Esperando subsanación del solicitante" in page and "se tendrá por desistida" in page


def test_a_complaints_confirmation_says_its_shorter_term_comes_before_the_legal_one(client, communes):
    response = client.post(
        "/solicitud/reclamo/",
        {"token": "t2", "service_code": "reclamo-servicio", "commune": "13201", "description": "Nadie atiende."},
    )
    page = client.get(response["Location"]).content.decode()
    # The form promised "hasta 20 días hábiles"; the confirmation gives 10: both, and why, on one page.
    assert "(10 días hábiles)" in page
    assert "se compromete a responder antes del plazo legal de hasta 20 días hábiles (Ley 19.880, art. 24)" in page
