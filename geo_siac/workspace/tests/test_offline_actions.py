"""The offline app's outbox endpoint: each change applied once per key, conflicts held and explained, bad input
refused with nothing written."""

import io
import re
import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from PIL import Image

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import CrewAction, EventPhoto, Report
from geo_siac.reports.services import crew_action_apply, report_merge_duplicate, report_reroute
from geo_siac.testing import WEST_POINT
from geo_siac.workspace.access import seen_report, seen_token


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo(name="trabajo.jpg") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "JPEG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def post_action(client, user, report, **fields):
    values = {"key": str(uuid.uuid4()), "kind": "status", "seen": seen_token(user, report)} | fields
    return client.post(reverse("crew:action"), values | {"complete": "1"})


def test_a_change_replayed_three_times_is_applied_once_and_every_replay_gets_the_first_answer(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT, reporter_email="vecina@example.cl")
    client.force_login(crews["member_a"])
    key = str(uuid.uuid4())
    answers = [
        post_action(
            client,
            crews["member_a"],
            report,
            key=key,
            status="resolved",
            note="Retirados los escombros",
            note_is_public="1",
            photos=photo(),
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["replayed"] for a in answers] == [False, True, True]
    assert {a.json()["status_label"] for a in answers} == {"Resuelta"}
    report.refresh_from_db()
    assert report.status == "resolved"
    closes = report.events.filter(kind="status", to_status="resolved")
    assert list(closes.values_list("note", flat=True)) == ["Retirados los escombros"]
    assert EventPhoto.objects.filter(event__report=report, report=report).count() == 1
    closing_mail = Notification.objects.filter(report=report, recipient="vecina@example.cl").exclude(
        pk=Notification.objects.filter(report=report).order_by("pk").first().pk
    )
    assert closing_mail.count() == 1


def test_a_resolution_queued_before_the_reply_box_existed_is_held_for_a_supervisor_with_its_note_and_photos(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT, reporter_email="vecina@example.cl")
    before = Report.objects.get(pk=report.pk)
    told = Notification.objects.filter(report=report).count()
    client.force_login(crews["member_a"])
    # The payload of a phone whose page predates the reply box: no `public_note` field at all.
    response = post_action(client, crews["member_a"], report, status="resolved", note="Vecino molesto", photos=photo())
    assert response.status_code == 409
    answer = response.json()
    assert answer["outcome"] == "conflict"
    assert answer["happened"] == "Llegó sin respuesta al vecino; un supervisor la cierra con la respuesta."
    assert answer["kept"].startswith("Su nota y sus fotos quedaron como nota interna")
    after = Report.objects.get(pk=report.pk)
    assert (after.status, after.updated_at) == (before.status, before.updated_at)
    (kept,) = after.events.filter(kind="note", is_public=False)
    assert kept.note == (
        "Cambio de la cuadrilla no aplicado: quería pasar a «Resuelta». Llegó sin respuesta al vecino; un supervisor "
        "la cierra con la respuesta. Nota de la cuadrilla: Vecino molesto"
    )
    assert EventPhoto.objects.filter(event=kept).count() == 1
    assert not after.events.filter(kind="status").exists()
    assert Notification.objects.filter(report=report).count() == told


def test_a_resolution_queued_before_the_reply_box_with_a_note_ticked_visible_still_applies_once(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    key = str(uuid.uuid4())
    answers = [
        post_action(
            client, crews["member_a"], report, key=key, status="resolved", note="Se podó el árbol.", note_is_public="1"
        )
        for _ in range(2)
    ]
    assert [(a.status_code, a.json()["replayed"]) for a in answers] == [(200, False), (200, True)]
    assert list(Report.objects.get(pk=report.pk).events.filter(kind="status").values_list("note", flat=True)) == [
        "Se podó el árbol."
    ]


def test_a_queued_reply_longer_than_the_limit_is_held_not_dropped(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = post_action(client, crews["member_a"], report, status="resolved", public_note="x" * 2001)
    assert response.status_code == 409
    assert response.json()["happened"].startswith("La respuesta al vecino tiene 2001 caracteres; el máximo es 2000.")
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_a_queued_resolution_with_its_reply_is_applied_once(client, make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email="vecina@example.cl")
    client.force_login(crews["member_a"])
    key = str(uuid.uuid4())
    told = Notification.objects.filter(report=report).count()
    answers = [
        post_action(
            client,
            crews["member_a"],
            report,
            key=key,
            status="resolved",
            note="Vecino molesto",
            public_note="Se cambió la ampolleta del poste.",
        )
        for _ in range(2)
    ]
    assert [(a.status_code, a.json()["replayed"]) for a in answers] == [(200, False), (200, True)]
    events = Report.objects.get(pk=report.pk).events
    assert list(events.filter(kind="status").values_list("note", "is_public")) == [
        ("Se cambió la ampolleta del poste.", True)
    ]
    assert list(events.filter(kind="note").values_list("note", "is_public")) == [("Vecino molesto", False)]
    (message,) = Notification.objects.filter(report=report).order_by("pk")[told:]
    assert "Se cambió la ampolleta del poste." in message.body and "Vecino molesto" not in message.body


def test_a_held_change_keeps_its_text_for_the_citizen_as_an_internal_note(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    seen = seen_token(crews["member_a"], report)
    report_reroute(report=report, crew=crews["B"], actor=crews["supervisor"])
    client.force_login(crews["member_a"])
    response = post_action(
        client, crews["member_a"], report, seen=seen, status="resolved", public_note="Se limpió el sumidero."
    )
    assert response.status_code == 409
    (kept,) = Report.objects.get(pk=report.pk).events.filter(kind="note", is_public=False)
    assert kept.note.endswith("Texto para el vecino (no enviado): Se limpió el sumidero.")


def test_a_change_on_a_report_rerouted_meanwhile_is_held_and_its_note_kept_for_the_supervisor(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT, reporter_email="vecina@example.cl")
    seen = seen_token(crews["member_a"], report)
    report_reroute(report=report, crew=crews["B"], actor=crews["supervisor"])
    notified = Notification.objects.filter(report=report).count()
    client.force_login(crews["member_a"])
    response = post_action(
        client, crews["member_a"], report, seen=seen, status="resolved", note="Ya estaba limpio", photos=photo()
    )
    assert response.status_code == 409
    answer = response.json()
    assert answer["happened"] == "Fue derivada a Cuadrilla Oriente."
    assert answer["crew"] == "Cuadrilla Oriente" and answer["status"] == "submitted"
    assert "nota interna para la supervisión" in answer["kept"]
    report.refresh_from_db()
    assert report.status == "submitted" and report.crew == crews["B"]
    assert Notification.objects.filter(report=report).count() == notified
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert "quería pasar a «Resuelta»" in page and "Nota de la cuadrilla: Ya estaba limpio" in page
    assert EventPhoto.objects.filter(event__report=report, report=report).count() == 1


def test_a_change_from_someone_no_longer_in_the_reports_crew_is_held_even_if_the_report_did_not_change(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT)
    seen = seen_token(crews["member_a"], report)
    crews["A"].members.remove(crews["member_a"])
    crews["B"].members.add(crews["member_a"])  # still a crew member, so the workspace lets the request in
    client.force_login(crews["member_a"])
    response = post_action(client, crews["member_a"], report, seen=seen, status="resolved", note="Hecho")
    assert response.status_code == 409
    assert response.json()["happened"] == "Fue derivada a Cuadrilla Poniente."
    report.refresh_from_db()
    assert report.status == "submitted"


def test_a_change_on_a_report_merged_meanwhile_is_held_and_names_the_original(client, make_report, crews):
    original = make_report(point=WEST_POINT)
    duplicate = make_report(point=WEST_POINT)
    seen = seen_token(crews["member_a"], duplicate)
    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])
    client.force_login(crews["member_a"])
    response = post_action(client, crews["member_a"], duplicate, seen=seen, status="in_progress")
    assert response.status_code == 409
    assert response.json()["duplicate_of"] == original.tracking_code
    assert Report.objects.get(pk=duplicate.pk).status == "closed_duplicate"


def test_a_change_after_a_colleagues_unrelated_change_is_applied(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    seen = seen_token(crews["member_a"], report)
    client.force_login(crews["member_a"])
    assert post_action(client, crews["member_a"], report, status="acknowledged").status_code == 200
    response = post_action(client, crews["member_a"], report, seen=seen, status="in_progress")
    assert response.status_code == 200
    assert Report.objects.get(pk=report.pk).status == "in_progress"


def test_a_bad_photo_refuses_the_change_writes_nothing_and_leaves_the_key_usable(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    key = str(uuid.uuid4())
    broken = io.BytesIO(b"not an image")
    broken.name = "roto.jpg"
    response = post_action(client, crews["member_a"], report, key=key, status="in_progress", photos=broken)
    assert response.status_code == 400
    assert "La foto 1 (roto.jpg) no se puede usar" in response.json()["errors"]["photos"][0]
    assert not CrewAction.objects.exists() and Report.objects.get(pk=report.pk).status == "submitted"
    assert post_action(client, crews["member_a"], report, key=key, status="in_progress").status_code == 200


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"key": "abc"}, "key", "La clave de la acción debe ser un UUID"),
        ({"kind": "borrar"}, "kind", "Tipo de acción desconocido: borrar"),
        ({"status": "volando"}, "status", "Estado desconocido: volando"),
        ({"seen": "falsificado"}, "seen", "La versión de la solicitud no es válida"),
        ({"latitude": "-33.61", "longitude": "-70.59", "accuracy": "-3"}, "accuracy", "La precisión de la ubicación"),
        ({"latitude": "norte", "longitude": "-70.59", "accuracy": "8"}, "latitude", "La latitud debe ser un número."),
        ({"kind": "note", "note": "  "}, "note", "Escriba la nota."),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client, make_report, crews, fields, field, message
):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = post_action(client, crews["member_a"], report, **{"status": "in_progress", **fields})
    assert response.status_code == 400
    assert response.json()["errors"][field][0].startswith(message)
    assert not CrewAction.objects.exists()
    assert list(Report.objects.get(pk=report.pk).events.values_list("kind", flat=True)) == ["created", "routed"]


def test_a_body_without_its_closing_field_is_refused_whole_as_a_cut_upload(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(
        reverse("crew:action"),
        {
            "key": str(uuid.uuid4()),
            "kind": "status",
            "status": "resolved",
            "seen": seen_token(crews["member_a"], report),
        },
    )
    assert response.status_code == 400
    assert "El envío llegó incompleto" in response.json()["errors"]["complete"][0]
    assert not CrewAction.objects.exists() and Report.objects.get(pk=report.pk).status == "submitted"


def test_another_persons_version_token_is_refused(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_b"])
    response = post_action(
        client, crews["member_b"], report, seen=seen_token(crews["member_a"], report), status="in_progress"
    )
    assert response.status_code == 400 and "seen" in response.json()["errors"]
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_a_key_reused_for_a_different_change_is_refused(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    key = str(uuid.uuid4())
    assert post_action(client, crews["member_a"], report, key=key, status="acknowledged").status_code == 200
    response = post_action(client, crews["member_a"], report, key=key, kind="note", note="otra cosa")
    assert response.status_code == 400
    assert "Esta clave ya se usó para otra acción" in response.json()["errors"]["key"][0]


def test_hand_back_internal_note_and_work_location_are_recorded_and_the_location_kept_internal(
    client, make_report, crews
):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    note = post_action(
        client,
        crews["member_a"],
        report,
        kind="note",
        note="Perro bravo en el pasaje",
        latitude="-33.6101",
        longitude="-70.5902",
        accuracy="12.5",
    )
    assert note.status_code == 200
    handed = post_action(client, crews["member_a"], report, kind="return", note="Es de la otra vereda")
    assert handed.status_code == 200
    report.refresh_from_db()
    assert report.crew is None
    event = report.events.get(kind="note")
    assert event.is_public is False
    assert (round(event.work_location.y, 4), round(event.work_location.x, 4), event.work_location_accuracy_m) == (
        -33.6101,
        -70.5902,
        12.5,
    )
    assert report.events.get(kind="returned").work_location is None
    tracking = client.get(reverse("reports:tracking", args=[report.tracking_code])).content.decode()
    assert "Perro bravo" not in tracking and "-33.6101" not in tracking


def test_the_version_token_names_the_report_and_the_version_the_page_showed(make_report, crews):
    report = make_report(point=WEST_POINT)
    assert seen_report(crews["member_a"], seen_token(crews["member_a"], report)) == (report, report.updated_at)


def apply_in_thread(report, actor, seen, key, outcomes, barrier):
    try:
        barrier.wait(timeout=30)
        outcome = crew_action_apply(
            key=key,
            kind="status",
            report=report,
            actor=actor,
            seen_updated_at=seen,
            status="in_progress",
            note="a la vez",
        )
        outcomes.append(outcome.replayed)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_replays_of_one_key_apply_the_change_once(make_report, crews):
    report = make_report(point=WEST_POINT)
    key, outcomes, barrier = str(uuid.uuid4()), [], threading.Barrier(2)
    threads = [
        threading.Thread(
            target=apply_in_thread, args=(report, crews["member_a"], report.updated_at, key, outcomes, barrier)
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [False, True]
    assert Report.objects.get(pk=report.pk).events.filter(kind="status", to_status="in_progress").count() == 1


@pytest.mark.parametrize(
    ("language", "device", "phone"), [("es-cl", "este dispositivo", "teléfono"), ("en", "this device", "phone")]
)
def test_the_crew_pages_speak_of_this_device_not_this_phone(client, crews, make_report, language, device, phone):
    """Staff use the crew pages on office desktops too: what is kept offline, and where, is "this device"."""
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    for url in (reverse("crew:home"), reverse("crew:report", args=[report.tracking_code])):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        offline = page[page.index('id="offline-app"') :].split("</section>")[0]
        nav = page[page.index('id="logout-form"') :].split("</form>")[0]
        assert (offline.count(device), nav.count(device)) == (5, 3), url
        # The reply's help text asks for no phone numbers: the citizen's, not the device.
        page = re.sub(r'id="id_public_note_helptext">[^<]*', "", page)
        assert phone not in page.lower(), url
    cut_short = client.post(reverse("crew:action"), {"key": str(uuid.uuid4())}, HTTP_ACCEPT_LANGUAGE=language)
    (error,) = cut_short.json()["errors"]["complete"]
    assert cut_short.status_code == 400 and phone not in error and device.split()[-1] in error
