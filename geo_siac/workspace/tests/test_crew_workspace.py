import io
import os
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from geo_siac.reports.models import Report
from geo_siac.testing import EAST_POINT, GAP_POINT, WEST_POINT


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def jpeg_with_gps() -> io.BytesIO:
    exif = Image.Exif()
    exif[0x8825] = {1: "S", 2: (33.0, 36.0, 42.0)}  # GPSInfo: where the photo was taken
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "JPEG", exif=exif)
    buffer.seek(0)
    buffer.name = "bache.jpg"
    return buffer


def test_crew_member_sees_only_their_crews_reports_on_map_and_list(client, make_report, crews):
    mine = make_report(point=WEST_POINT)
    theirs = make_report(point=EAST_POINT)
    client.force_login(crews["member_a"])
    response = client.get(reverse("crew:home"))
    page = response.content.decode()
    assert mine.tracking_code in page and theirs.tracking_code not in page
    assert [r["code"] for r in response.context["map_data"]["reports"]] == [mine.tracking_code]
    assert [z["name"] for z in response.context["map_data"]["zones"]] == ["Poniente v1"]
    assert "vendor/leaflet/1.9.3/leaflet.js" in page


def test_list_is_sorted_by_deadline_and_flags_overdue_reports(client, make_report, crews):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=40)):
        late = make_report(point=WEST_POINT)
    fresh = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:home")).content.decode()
    assert page.index(late.tracking_code) < page.index(fresh.tracking_code)
    late_item = page[page.rindex("<li>", 0, page.index(f"<strong>{late.tracking_code}")) :]
    fresh_item = page[page.rindex("<li>", 0, page.index(f"<strong>{fresh.tracking_code}")) :]
    assert late_item.split("</li>")[0].count('class="badge overdue">Vencida') == 1
    assert fresh_item.split("</li>")[0].count('class="badge on_time">En plazo') == 1


def test_status_change_with_note_and_photo_is_in_the_history_and_the_photo_lost_its_gps(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {
            "status": "in_progress",
            "note": "Llegamos con el camión",
            "photos": jpeg_with_gps(),
            "seen": report.updated_at.isoformat(),
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "En ejecución" in page and "Llegamos con el camión" in page
    event = Report.objects.get(pk=report.pk).events.get(kind="status")
    assert event.actor == crews["member_a"]
    photo = event.photos.get().image
    with photo.open("rb"), Image.open(photo) as stored:
        assert 0x8825 not in stored.getexif()
    # A name derivable from the tracking code would tell anyone holding a code where the crew's photos are.
    assert report.tracking_code not in photo.name and len(photo.name.rsplit("/", 1)[-1]) >= 24


def test_page_offers_only_allowed_transitions_and_a_forged_one_is_refused_with_400(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    client.post(
        reverse("crew:status", args=[report.tracking_code]), {"status": "resolved", "public_note": "Se podó la rama."}
    )
    offered = client.get(reverse("crew:report", args=[report.tracking_code])).context["status_form"]
    assert [value for value, _label in offered.fields["status"].choices] == ["", "in_progress"]
    response = client.post(reverse("crew:status", args=[report.tracking_code]), {"status": "closed_duplicate"})
    assert response.status_code == 400
    assert "no es una de las opciones" in response.content.decode() or "Escoja" in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "resolved"


def test_no_status_is_chosen_for_the_crew_so_saving_without_one_changes_nothing(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    select = page[page.index('name="status"') :]
    assert select[select.index("<option") :].startswith('<option value="" selected>')
    response = client.post(reverse("crew:status", args=[report.tracking_code]), {"status": "", "note": "Listo"})
    assert response.status_code == 400
    assert Report.objects.get(pk=report.pk).status == report.status


def test_status_change_from_a_stale_page_is_refused_with_changed_by_someone_else(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    stale = report.updated_at.isoformat()
    client.force_login(crews["supervisor"])
    client.post(reverse("crew:status", args=[report.tracking_code]), {"status": "acknowledged", "seen": stale})
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]), {"status": "closed_duplicate", "seen": stale}
    )
    assert response.status_code == 400
    assert "Otra persona modificó esta solicitud" in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "acknowledged"


def test_hand_back_needs_a_reason_and_then_the_report_leaves_the_crew(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    refused = client.post(reverse("crew:hand_back", args=[report.tracking_code]), {"reason": ""})
    assert refused.status_code == 400
    client.post(reverse("crew:hand_back", args=[report.tracking_code]), {"reason": "Es en Peñalolén"})
    assert client.get(reverse("crew:report", args=[report.tracking_code])).status_code == 404
    assert Report.objects.get(pk=report.pk).crew is None


def test_supervisor_sees_triage_and_workload_and_assigns_in_bulk(client, make_report, crews):
    stray = [make_report(point=GAP_POINT) for _ in range(2)]
    for _ in range(4):
        make_report(point=EAST_POINT)
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:supervision"))
    assert all(r.tracking_code in page.content.decode() for r in stray)
    workload = {crew.name: (crew.open_count, crew.daily_capacity) for crew in page.context["workload"]}
    assert workload["Cuadrilla Oriente"] == (4, 3)
    assert 'class="over-capacity">4' in page.content.decode()
    response = client.post(
        reverse("crew:supervision"),
        {"reports": [r.tracking_code for r in stray], "crew": crews["A"].pk, "status": "acknowledged"},
    )
    assert response.status_code == 302
    assert {(r.crew, r.status) for r in Report.objects.filter(pk__in=[r.pk for r in stray])} == {
        (crews["A"], "acknowledged")
    }


def test_supervisor_reroutes_and_extends_from_the_report_page(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    client.post(reverse("crew:reroute", args=[report.tracking_code]), {"crew": crews["B"].pk, "reason": "Apoyo"})
    client.post(reverse("crew:extend", args=[report.tracking_code]), {"business_days": 2, "reason": "Lluvia"})
    again = client.post(reverse("crew:extend", args=[report.tracking_code]), {"business_days": 1, "reason": "Otra"})
    assert again.status_code == 400 and "ya fue prorrogado" in again.content.decode()
    report.refresh_from_db()
    assert report.crew == crews["B"] and report.deadline_extended_at is not None
    client.force_login(crews["member_b"])
    assert client.get(reverse("crew:report", args=[report.tracking_code])).status_code == 200


def test_a_file_that_is_not_a_photo_is_refused_and_the_status_stays(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    fake = io.BytesIO(b"%PDF-1.4 no soy una foto")
    fake.name = "foto.jpg"
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {"status": "in_progress", "note": "Con foto", "photos": fake},
    )
    assert response.status_code == 400
    assert "JPEG, PNG o WebP" in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_a_crew_photo_over_the_installations_limit_is_refused_and_the_status_stays(
    client, make_report, crews, settings
):
    settings.GEO_SIAC_PHOTO_MAX_BYTES = 512 * 1024
    report = make_report(point=WEST_POINT)
    noise = io.BytesIO()
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(noise, "PNG")
    noise.seek(0)
    noise.name = "foto.png"
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {"status": "in_progress", "note": "Con foto", "photos": noise},
    )
    assert response.status_code == 400
    assert "La foto supera el tamaño máximo de 0,5 MB." in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "submitted"


@pytest.mark.parametrize("shown", [False, True])
def test_a_crew_text_reaches_the_citizen_only_when_written_as_the_reply(client, make_report, crews, shown):
    from geo_siac.notifications.models import Notification

    report = make_report(point=WEST_POINT, reporter_email="vecina@example.cl", public_visibility=True)
    note = "Vecino del 12 no deja pasar al camión"
    client.force_login(crews["member_a"])
    form = {"status": "in_progress", "seen": report.updated_at.isoformat()}
    # An old page's "note_is_public" tick no longer publishes the internal note: only the reply box does.
    form |= {"public_note": note} if shown else {"note": note, "note_is_public": "on"}
    response = client.post(reverse("crew:status", args=[report.tracking_code]), form)
    assert response.status_code == 302
    assert note in client.get(response["Location"]).content.decode()  # the crew's history always has it
    client.logout()

    tracking = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "En ejecución" in tracking  # the change itself is always public
    public_api = client.get("/open311/v2/requests.json", {"extensions": "true"}).content.decode()
    bodies = " ".join(Notification.objects.filter(report=report).values_list("body", flat=True))
    assert Notification.objects.filter(report=report, body__contains="En ejecución").exists()
    for public_text in (tracking, public_api, bodies):
        assert (note in public_text) is shown


def test_queue_is_paged_by_deadline_with_counts_over_the_whole_queue(client, make_report, crews, settings):
    settings.GEO_SIAC_CREW_QUEUE_PAGE_SIZE = 2
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=40)):
        late = make_report(point=WEST_POINT)
    fresh = [make_report(point=WEST_POINT) for _ in range(3)]
    make_report(point=EAST_POINT)  # another crew's: neither listed nor counted
    client.force_login(crews["member_a"])

    first = client.get(reverse("crew:home"))
    assert [r.tracking_code for r in first.context["reports"]] == [late.tracking_code, fresh[0].tracking_code]
    assert [r["code"] for r in first.context["map_data"]["reports"]] == [late.tracking_code, fresh[0].tracking_code]
    assert first.context["state_counts"] == {"on_time": 3, "due_soon": 0, "overdue": 1}
    page = first.content.decode()
    assert "4 solicitudes abiertas" in page and "1–2 de 4" in page and 'href="?pagina=2"' in page
    assert fresh[2].tracking_code not in page

    second = client.get(reverse("crew:home"), {"pagina": 2})
    assert [r.tracking_code for r in second.context["reports"]] == [fresh[1].tracking_code, fresh[2].tracking_code]
    # A page past the end or not a number shows the nearest real page instead of an error.
    assert client.get(reverse("crew:home"), {"pagina": "99"}).context["page"].number == 2
    assert client.get(reverse("crew:home"), {"pagina": "x"}).context["page"].number == 1


def test_heading_names_the_members_crew_and_tells_a_supervisor_they_see_all(client, crews):
    client.force_login(crews["member_a"])
    assert "<h1>Cuadrilla Poniente</h1>" in client.get(reverse("crew:home")).content.decode()
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:home")).content.decode()
    assert "<h1>Todas las cuadrillas (2)</h1>" in page and "Cuadrilla Oriente, " not in page


def png(name: str, colour: str = "green") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_crew_page_shows_what_the_citizen_gave_and_a_link_that_opens_navigation(client, make_report, crews):
    report = make_report(
        point=WEST_POINT,
        category="poda-arboles",
        attributes={"riesgo": "si"},
        address="Pasaje Los Aromos 123",
        description="Rama apoyada en el cable",
        photo=png("arbol.png"),
    )
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    facts = page.split('id="report-facts"')[1].split("</dl>")[0]
    assert '<dt>¿La rama o el árbol representa un riesgo inmediato?</dt><dd class="answer">Sí</dd>' in facts
    assert "Pasaje Los Aromos 123" in facts and "Rama apoyada en el cable" in facts
    photo = report.photos.get()
    assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in page
    lat, lng = f"{report.location.y:.6f}", f"{report.location.x:.6f}"
    assert (
        f'id="navigate" href="geo:{lat},{lng}?q={lat},{lng}({report.tracking_code}%20Poda%20de%20%C3%A1rboles)"' in page
    )


def test_a_status_change_keeps_several_photos_each_stripped_of_its_location(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {
            "status": "resolved",
            "public_note": "Se retiró la rama.",
            "note": "Antes y después",
            "seen": report.updated_at.isoformat(),
            "photos": [jpeg_with_gps(), png("despues.png")],
        },
    )
    assert response.status_code == 302
    event = Report.objects.get(pk=report.pk).events.get(kind="status")
    photos = [p.image for p in event.photos.all()]
    assert len(photos) == 2
    with Image.open(photos[0].path) as stored:
        assert 0x8825 not in stored.getexif()
    page = client.get(response["Location"]).content.decode()
    assert all(f'href="{p.url}"' in page for p in photos)


def test_a_bad_third_photo_refuses_the_whole_change_naming_it_and_writes_nothing(client, make_report, crews, settings):
    report = make_report(point=WEST_POINT)
    fake = io.BytesIO(b"%PDF-1.4 no soy una foto")
    fake.name = "informe.pdf"
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {"status": "resolved", "note": "Listo", "photos": [png("a.png"), png("b.png"), fake]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "La foto 3 (informe.pdf) no se puede usar:" in page and "No se guardó ningún cambio" in page
    stored = Report.objects.get(pk=report.pk)
    assert stored.status == "submitted" and not stored.events.filter(kind__in=["status", "note"]).exists()
    assert not any(path.is_file() for path in Path(settings.MEDIA_ROOT).rglob("*"))


def test_more_photos_than_a_change_may_carry_are_refused_with_the_limit(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]),
        {"status": "in_progress", "photos": [png(f"{n}.png") for n in range(5)]},
    )
    assert response.status_code == 400
    assert "Se pueden adjuntar hasta 4 fotos por cambio; llegaron 5." in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_report_page_names_the_department_read_with_the_report(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    assert report.department is not None
    client.force_login(crews["member_a"])
    client.get(reverse("crew:report", args=[report.tracking_code]))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert f'<dd id="department">{report.department.name}</dd>' in page
    department_table = report.department._meta.db_table
    assert not [q["sql"] for q in queries if q["sql"].startswith(f'SELECT "{department_table}"')]


def test_the_reroute_form_offers_every_crew_of_the_comuna_but_the_one_holding_the_request(client, make_report, crews):
    report = make_report(point=WEST_POINT)  # crew A's
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    select = page.split('id="reroute-form"')[1].split("</select>")[0]
    assert '<option value="" selected>Elija una cuadrilla</option>' in select
    assert f'value="{crews["B"].pk}">{crews["B"].name}</option>' in select
    assert crews["A"].name not in select


def test_rerouting_to_the_crew_that_holds_the_request_is_refused_by_name(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = client.post(reverse("crew:reroute", args=[report.tracking_code]), {"crew": crews["A"].pk})
    assert response.status_code == 400
    assert f"Ya está asignada a {crews['A'].name}." in response.content.decode()
    assert not Report.objects.get(pk=report.pk).events.filter(kind="rerouted").exists()
