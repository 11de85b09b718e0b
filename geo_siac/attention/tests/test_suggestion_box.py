"""The suggestion box of a service point: the QR code (decoded by a real decoder, zbarimg) opens the point's form,
which files a request through report_create as received at that point, on the box's own channel."""

import csv
import io
import json
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command

from geo_siac.attention.suggestion_box import box_qr, box_url
from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.reports.states import Channel
from geo_siac.testing import staff_account
from geo_siac.transparency.selectors import indicators, transparency_reports
from geo_siac.zones.models import Commune, ServicePoint


def decode_qr(png_path) -> str:
    """The text of the one QR code in the image, read by zbar (zbar-tools, installed by scripts/setup.sh)."""
    assert shutil.which("zbarimg"), "zbarimg is missing: scripts/setup.sh installs zbar-tools"
    result = subprocess.run(["zbarimg", "--raw", "-q", str(png_path)], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture
def staff(communes):
    """A staff account of Puente Alto."""
    return staff_account("sara", communes=[communes["13201"]], is_staff=True)


def posted(point, **overrides):
    return {
        "token": "tok-" + str(point.pk),
        "service_code": "sugerencia",
        "description": "Que la atención nocturna abra también los martes.",
        **overrides,
    }


def test_the_qr_code_decodes_to_the_points_stable_form_address(make_point, tmp_path):
    point = make_point()
    png = tmp_path / "box.png"
    box_qr(point).save(png, scale=8)
    assert decode_qr(png) == f"{settings.SITE_URL.rstrip('/')}/buzon/{point.pk}/" == box_url(point)


def test_the_form_files_a_suggestion_received_at_the_point_on_the_box_channel(client, make_point):
    point = make_point(name="Atención nocturna Bajos de Mena")
    page = client.get(f"/buzon/{point.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Atención nocturna Bajos de Mena" in text and 'value="reclamo-atencion"' in text
    assert 'value="acceso-informacion"' not in text  # the law wants an identified request: the full form

    response = client.post(f"/buzon/{point.pk}/", posted(point))

    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/enviada/{report.tracking_code}/"
    assert (report.kind, report.category.service_code) == (RequestKind.SUGGESTION, "sugerencia")
    assert (report.received_at, report.channel, report.commune) == (point, Channel.SUGGESTION_BOX, point.commune)
    assert report.location is None and report.reporter_email == ""


def test_the_sent_page_leads_back_to_the_same_box_and_says_no_email_was_left(client, make_point):
    point = make_point()
    client.post(f"/buzon/{point.pk}/", posted(point))
    page = client.get(f"/enviada/{Report.objects.get().tracking_code}/").content.decode()
    assert f'href="/buzon/{point.pk}/" id="another"' in page
    assert "No dejó un correo ni un teléfono" in page and "Si dejó un correo" not in page


def test_a_complaint_with_contact_and_a_repeated_post_file_one_request(client, make_point):
    point = make_point()
    values = posted(
        point, service_code="reclamo-atencion", reporter_email="vecino@example.cl", consent="on", description="Mala"
    )
    client.post(f"/buzon/{point.pk}/", values)
    client.post(f"/buzon/{point.pk}/", values)
    report = Report.objects.get()
    assert (report.kind, report.reporter_email, report.received_at) == (
        RequestKind.COMPLAINT,
        "vecino@example.cl",
        point,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_code": ""}, "Elija si es una sugerencia, un reclamo, una felicitación o una consulta."),
        ({"service_code": "acceso-informacion"}, "Elija si es una sugerencia"),
        ({"service_code": "retiro-escombros"}, "Elija si es una sugerencia"),
        ({"description": "  "}, "Escriba su sugerencia."),
        ({"reporter_email": "a@b.cl"}, "acepte su uso para avisarle"),
    ],
)
def test_bad_input_is_named_and_files_nothing(client, make_point, overrides, message):
    point = make_point()
    response = client.post(f"/buzon/{point.pk}/", posted(point, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_an_unknown_point_or_one_no_longer_served_is_a_clear_404(client, make_point, communes):
    gone = make_point(name="Punto cerrado", cut="13122", lat=-33.485, lng=-70.54)
    Commune.objects.filter(pk=communes["13122"].pk).update(is_active=False)
    unknown = (ServicePoint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for pk in (unknown, gone.pk):
        response = client.get(f"/buzon/{pk}/")
        assert response.status_code == 404
        assert "Este buzón no existe" in response.content.decode()
        assert client.post(f"/buzon/{pk}/", posted(gone)).status_code == 404
    assert not Report.objects.exists()


def test_the_box_list_and_print_page_are_for_staff_only(client, make_point, staff):
    point = make_point(name="Delegación Bajos de Mena")
    assert client.get("/atencion/buzones/").status_code == 302
    assert client.get(f"/atencion/buzones/{point.pk}/imprimir/").status_code == 302
    client.force_login(staff)
    listing = client.get("/atencion/buzones/").content.decode()
    assert "Delegación Bajos de Mena" in listing and f"/atencion/buzones/{point.pk}/imprimir/?papel=a5" in listing
    sheet = client.get(f"/atencion/buzones/{point.pk}/imprimir/?papel=a5").content.decode()
    assert '<body class="paper-a5">' in sheet and "<svg" in sheet and box_url(point) in sheet
    assert client.get("/atencion/buzones/999999/imprimir/").status_code == 404


def test_staff_list_and_print_only_their_comunas_boxes_while_every_box_form_stays_public(client, make_point, staff):
    own = make_point(name="Delegación Bajos de Mena")
    other = make_point(name="Oficina Lo Hermida", cut="13122", lat=-33.4850, lng=-70.5400)
    client.force_login(staff)
    listing = client.get("/atencion/buzones/").content.decode()
    assert "Delegación Bajos de Mena" in listing and "Oficina Lo Hermida" not in listing
    assert client.get(f"/atencion/buzones/{other.pk}/imprimir/").status_code == 404
    assert client.get(f"/atencion/buzones/{own.pk}/imprimir/").status_code == 200
    client.logout()
    assert "Oficina Lo Hermida" in client.get(f"/buzon/{other.pk}/").content.decode()


def test_the_box_channel_is_its_own_in_the_indicators_and_counts_as_digital(client, make_point):
    point = make_point()
    client.post(f"/buzon/{point.pk}/", posted(point))
    by_channel = indicators(transparency_reports(), "channel")
    assert by_channel[Channel.SUGGESTION_BOX]["volume"] == 1
    assert by_channel[Channel.SUGGESTION_BOX]["digital_share"] == 1


def test_the_open_data_has_a_box_suggestion_by_its_day_without_its_channel(client, make_point, make_report, communes):
    point = make_point()
    client.post(f"/buzon/{point.pk}/", posted(point))
    suggestion = Report.objects.get()
    service = make_report()
    information = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Contratos de alumbrado.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    call_command("publish_open_data", stdout=io.StringIO())  # the downloads serve its files
    rows = csv.DictReader(io.StringIO(b"".join(client.get("/transparencia/datos/solicitudes.csv")).decode()))
    by_id = {row["service_request_id"]: row for row in rows}
    features = json.loads(b"".join(client.get("/transparencia/datos/solicitudes.geojson")))["features"]
    geojson = {feature["properties"]["service_request_id"]: feature["properties"] for feature in features}
    day = suggestion.created_at.astimezone(SANTIAGO).date().isoformat()
    for record in (by_id[str(suggestion.pk)], geojson[str(suggestion.pk)]):
        assert record["requested_datetime"] == record["updated_datetime"] == day and record["channel"] == ""
        assert (
            record["service_code"] == "sugerencia" and record["expected_datetime"] == record["expected_datetime"][:10]
        )
    assert geojson[str(information.pk)]["detailed_status"] == "open" == by_id[str(information.pk)]["detailed_status"]
    assert (
        by_id[str(information.pk)]["requested_datetime"]
        == information.created_at.astimezone(SANTIAGO).date().isoformat()
    )
    # A service request keeps its moment, channel and detailed status.
    assert by_id[str(service.pk)]["requested_datetime"] == service.created_at.isoformat()
    assert (by_id[str(service.pk)]["channel"], by_id[str(service.pk)]["detailed_status"]) == ("web", service.status)


def test_a_kind_whose_one_topic_bears_its_name_is_offered_once(client, make_point):
    text = client.get(f"/buzon/{make_point().pk}/").content.decode()
    assert "<strong>Sugerencia</strong>" not in text and "<strong>Felicitación</strong>" not in text
    assert 'value="sugerencia"> Sugerencia</label>' in text and 'value="felicitacion"> Felicitación</label>' in text
    assert "<strong>Reclamo</strong>" in text  # a kind of several topics keeps its heading
    # Offered before any heading, so that neither reads as a topic of the kind above it.
    assert text.index('value="felicitacion"') < text.index("<strong>Reclamo</strong>")


def test_the_box_speaks_for_its_points_municipality_on_the_shared_host(client, make_point):
    point = make_point(name="Oficina Lo Hermida", cut="13122", lat=-33.4850, lng=-70.5400)
    text = client.get(f"/buzon/{point.pk}/").content.decode()
    brand = text.split('class="brand"', 1)[1].split("</a>", 1)[0]
    assert "Peñalolén" in brand and settings.GEO_SIAC_INSTALLATION_NAME not in brand
    assert f'href="/comuna/{point.commune.jurisdiction_id}/"' in text
    assert f"· {settings.GEO_SIAC_INSTALLATION_NAME}</title>" not in text


def test_the_print_sheet_names_the_comuna_once_when_the_address_already_ends_with_it(client, make_point, staff):
    client.force_login(staff)
    named = make_point(name="Delegación Bajos de Mena")
    sheet = client.get(f"/atencion/buzones/{named.pk}/imprimir/").content.decode()
    assert "Av. Concha y Toro 1820, Puente Alto</p>" in sheet and "Puente Alto, Puente Alto" not in sheet
    bare = make_point(name="Oficina Casas Viejas")
    ServicePoint.objects.filter(pk=bare.pk).update(address="Av. Gabriela 0330")
    sheet = client.get(f"/atencion/buzones/{bare.pk}/imprimir/").content.decode()
    assert "Av. Gabriela 0330, Puente Alto</p>" in sheet


@pytest.mark.parametrize(
    ("cut", "address", "shown"),
    [
        ("13122", "Av. Peñalolén 1200", "Av. Peñalolén 1200, Peñalolén"),  # a street named after the comuna
        ("13122", "Av. Grecia 8735, PEÑALOLÉN ", "Av. Grecia 8735, PEÑALOLÉN"),
        ("13201", "", "Puente Alto"),
    ],
)
def test_the_print_sheet_adds_the_comuna_unless_the_address_ends_with_it(client, make_point, cut, address, shown):
    point = make_point(name="Oficina", cut=cut, lat=-33.4850, lng=-70.5400)
    ServicePoint.objects.filter(pk=point.pk).update(address=address)
    client.force_login(staff_account("pia", is_staff=True))  # of both comunas
    sheet = client.get(f"/atencion/buzones/{point.pk}/imprimir/").content.decode()
    assert f"<strong>Oficina</strong><br>{shown}</p>" in sheet


def _brand(text: str) -> str:
    return text.split('class="brand"', 1)[1].split("</a>", 1)[0]


def test_the_box_confirmation_and_its_rate_limit_page_speak_for_its_points_municipality(client, settings, make_point):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    point = make_point(name="Oficina Lo Hermida", cut="13122", lat=-33.4850, lng=-70.5400)

    submitted = client.post(f"/buzon/{point.pk}/", posted(point), follow=True, REMOTE_ADDR="203.0.113.7")
    assert submitted.redirect_chain == [(f"/enviada/{Report.objects.get().tracking_code}/", 302)]
    assert "Peñalolén" in _brand(submitted.content.decode())
    assert settings.GEO_SIAC_INSTALLATION_NAME not in _brand(submitted.content.decode())

    refused = client.post(f"/buzon/{point.pk}/", posted(point, token="otro"), REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert "Peñalolén" in _brand(refused.content.decode())
    assert f"· {settings.GEO_SIAC_INSTALLATION_NAME}</title>" not in refused.content.decode()


def test_a_refused_suggestion_keeps_its_text(client, settings, make_point):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 0
    point = make_point()
    refused = client.post(
        f"/buzon/{point.pk}/",
        {"token": "b1", "service_code": "sugerencia", "description": "Abrir también los martes."},
        REMOTE_ADDR="203.0.113.7",
    )
    page = refused.content.decode()
    assert refused.status_code == 429 and ">Abrir también los martes.</textarea>" in page
    assert "Podrá enviar otra solicitud en 60 minutos." in page and not Report.objects.exists()
