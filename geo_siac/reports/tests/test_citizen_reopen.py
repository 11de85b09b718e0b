""" "No fue resuelto" and "agregar información": a citizen reopens a closed report within 10 business days (from the
closing message's signed link or from "Mis solicitudes"), and adds a note or a photo to an open one."""

import io
import re
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from PIL import Image

from geo_siac.notifications.models import Notification
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.messages import reopen_token, status_message
from geo_siac.reports.models import CITIZEN_ACTOR, CITIZEN_REOPENING, EventKind, Report, ReportEvent
from geo_siac.reports.selectors import public_updates, published_events
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    report_add_citizen_info,
    report_change_status,
    report_follow,
    report_merge_duplicate,
    report_reopen_by_citizen,
)
from geo_siac.testing import WEST_POINT
from geo_siac.webhooks.payloads import event_body
from geo_siac.zones.models import ClosedDay

ROSA = "rosa@example.cl"


@pytest.fixture
def closed(make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email=ROSA, public_visibility=True)
    return report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", actor=crews["member_a"]
    )


def at(monkeypatch, year, month, day, hour=12):
    """Make "now" a Santiago local time (every module reads it through django.utils.timezone.now)."""
    moment = datetime(year, month, day, hour, tzinfo=SANTIAGO)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def closed_on(report, year, month, day):
    Report.objects.filter(pk=report.pk).update(closed_at=datetime(year, month, day, 12, tzinfo=SANTIAGO))
    report.refresh_from_db()
    return report


def test_reporter_reopens_a_closed_report_back_to_its_crew_and_its_tracking_page_says_so_with_the_reason(
    closed, crews, client
):
    reopened = report_reopen_by_citizen(report=closed, reason="El hoyo sigue ahí.", by_email="Rosa@Example.cl")
    assert (reopened.status, reopened.crew, reopened.times_reopened, reopened.closed_at) == (
        "in_progress",
        crews["A"],
        1,
        None,
    )
    event = closed.events.latest("id")
    assert (event.note, event.is_public, event.actor_label, event.reopened_by_citizen) == (
        "El hoyo sigue ahí.",
        True,
        "Vecino/a",
        True,
    )
    for path in (f"/seguimiento/{closed.tracking_code}/", f"/mis-solicitudes/solicitud/{closed.tracking_code}/"):
        page = (signed_in(client) if "mis-solicitudes" in path else client).get(path).content.decode()
        line = page.split('class="reopened-by-citizen"')[1].split("</li>")[0]
        assert "Reabierta a pedido de quien la presentó o la sigue: indicó que no se resolvió." in line, path
        assert "Estado: En ejecución." in line and "Motivo: «El hoyo sigue ahí.»" in line, path
        assert "rosa@example.cl" not in page


def test_the_reason_is_kept_as_written_whatever_the_citizens_language(closed, client):
    with translation.override("en"):
        report_reopen_by_citizen(report=closed, reason="Still there.", by_email=ROSA)
    assert closed.events.latest("id").note == "Still there."  # the words around it are the page's, in its language
    client.cookies["django_language"] = "en"
    line = client.get(f"/seguimiento/{closed.tracking_code}/").content.decode().split('class="reopened-by-citizen"')[1]
    assert "«Still there.»" in line.split("</li>")[0]


def test_the_reason_is_published_nowhere_not_in_open311s_updates_nor_its_notes(closed, client):
    report_reopen_by_citizen(report=closed, reason="Lo dejaron a medias, pregunten a Juan Soto.", by_email=ROSA)
    served = {
        path: client.get(f"/open311/v2/{path}", query).content.decode()
        for path, query in (
            ("servicerequestupdates.json", {}),
            ("servicerequestupdates.xml", {}),
            ("requests.json", {"extensions": "true"}),
            (f"requests/{closed.pk}.json", {"extensions": "true"}),
        )
    }
    assert all(closed.tracking_code not in text and "Juan Soto" not in text for text in served.values())
    assert str(closed.events.latest("id").pk) in served["servicerequestupdates.json"]  # the change itself is public


def test_a_public_webhook_and_open311_say_it_was_reopened_not_the_reason_nor_the_closing_note(
    make_report, crews, client
):
    closed = make_report(point=WEST_POINT, reporter_email=ROSA, public_visibility=True)
    report_change_status(report=closed, status="resolved", public_note="Bache reparado.", actor=crews["member_a"])
    report_reopen_by_citizen(report=closed, reason="Lo dejaron a medias, pregunten a Juan Soto.", by_email=ROSA)
    event = closed.events.latest("id")
    said = "Reabierta a pedido de quien la presentó."
    assert event_body(event, internal=False)["event"]["note"] == said
    assert event_body(event, internal=True)["event"]["note"] == "Lo dejaron a medias, pregunten a Juan Soto."
    assert public_updates().get(pk=event.pk).published_note == said
    served = client.get(f"/open311/v2/requests/{closed.pk}.json").json()[0]
    assert served["status_notes"] == said


def test_only_a_citizens_change_from_closed_to_open_is_a_reopening(closed):
    closing = ReportEvent.objects.create(
        report=closed,
        kind=EventKind.STATUS,
        from_status="in_progress",
        to_status="resolved",
        note="Bache reparado.",
        actor_label=CITIZEN_ACTOR,
        created_at=timezone.now(),
    )
    assert not closing.reopened_by_citizen
    assert published_events().get(pk=closing.pk).published_note == "Bache reparado."
    assert not ReportEvent.objects.filter(CITIZEN_REOPENING, pk=closing.pk).exists()


def test_the_reopening_email_says_the_citizen_reopened_it_and_why(closed):
    report_reopen_by_citizen(report=closed, reason="El hoyo sigue ahí.", by_email=ROSA)
    body = Notification.objects.filter(report=closed, recipient=ROSA).latest("id").body
    assert "cambió a: En ejecución." in body
    assert (
        "Reabierta a pedido de quien la presentó o la sigue: indicó que no se resolvió.\nMotivo: El hoyo sigue ahí."
        in body
    )


def test_a_follower_may_reopen_too(closed, make_report):
    report = make_report(point=WEST_POINT)
    report_follow(report=report, email="vecino@example.cl")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="closed_unfixable")
    reopened = report_reopen_by_citizen(report=report, reason="Se puede arreglar.", by_email="vecino@example.cl")
    assert reopened.status == "acknowledged" and reopened.times_reopened == 1


def test_the_window_is_ten_business_days_not_counting_a_chilean_holiday(closed, monkeypatch):
    # Closed Monday 30 Nov 2026; Tuesday 8 Dec (Inmaculada Concepción) does not count, so the 10th business day is
    # Tuesday 15 Dec (counting the holiday it would be Monday 14 Dec).
    closed_on(closed, 2026, 11, 30)
    at(monkeypatch, 2026, 12, 16, hour=9)
    with pytest.raises(
        ValidationError, match="dentro de 10 días hábiles desde el cierre \\(30 de noviembre de 2026\\)"
    ):
        report_reopen_by_citizen(report=closed, reason="Sigue igual.", by_email=ROSA)
    assert Report.objects.get(pk=closed.pk).status == "resolved"
    at(monkeypatch, 2026, 12, 15, hour=23)
    assert report_reopen_by_citizen(report=closed, reason="Sigue igual.", by_email=ROSA).status == "in_progress"


def test_the_installations_closed_days_lengthen_the_window(closed, monkeypatch):
    closed_on(closed, 2026, 11, 30)
    ClosedDay.objects.create(day=datetime(2026, 12, 14).date(), reason="Aniversario comunal")
    at(monkeypatch, 2026, 12, 16, hour=9)
    assert report_reopen_by_citizen(report=closed, reason="Sigue igual.", by_email=ROSA).times_reopened == 1


def test_an_open_report_is_not_reopened_and_the_citizen_is_told_to_add_information(make_report):
    report = make_report(reporter_email=ROSA)
    with pytest.raises(ValidationError, match="sigue abierta: no hay nada que reabrir. Puede agregarle información"):
        report_reopen_by_citizen(report=report, reason="Urgente.", by_email=ROSA)


def test_a_merged_duplicate_points_the_citizen_to_its_original(make_report, crews):
    original = make_report(point=WEST_POINT)
    duplicate = make_report(point=WEST_POINT, reporter_email=ROSA)
    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])
    with pytest.raises(ValidationError, match=f"se unió a la solicitud {original.tracking_code}"):
        report_reopen_by_citizen(report=duplicate, reason="No es lo mismo.", by_email=ROSA)
    assert Report.objects.get(pk=duplicate.pk).status == "closed_duplicate"


def test_someone_who_neither_filed_nor_follows_the_report_cannot_reopen_it(closed):
    with pytest.raises(ValidationError, match="no está asociada a su correo"):
        report_reopen_by_citizen(report=closed, reason="Sigue.", by_email="otra@example.cl")
    assert Report.objects.get(pk=closed.pk).times_reopened == 0


def test_a_reopening_needs_a_reason(closed):
    with pytest.raises(ValidationError, match="Cuéntenos por qué no fue resuelto"):
        report_reopen_by_citizen(report=closed, reason="   ", by_email=ROSA)
    assert Report.objects.get(pk=closed.pk).status == "resolved"


def test_the_closing_message_links_to_reopen_and_the_link_reopens_without_signing_in(closed, client):
    closing = Notification.objects.filter(report=closed, recipient=ROSA).latest("id")
    path = re.search(r"/mis-solicitudes/reabrir/[^/\s]+/", closing.body).group(0)
    assert "/mis-solicitudes/ingresar/" in closing.body
    assert closed.tracking_code in client.get(path).content.decode()
    response = client.post(path, {"reason": "Quedó a medias."})
    assert response.status_code == 302 and response["Location"] == f"/seguimiento/{closed.tracking_code}/"
    assert Report.objects.get(pk=closed.pk).times_reopened == 1
    assert 'id="reopened"' in client.get(response["Location"]).content.decode()


def test_the_reopening_is_confirmed_once_after_a_real_reopening_and_never_by_the_url(closed, make_report, client):
    never_reopened = make_report(point=WEST_POINT, reporter_email=ROSA)
    page = client.get(f"/seguimiento/{never_reopened.tracking_code}/?reabierta").content.decode()
    assert 'id="reopened"' not in page and "reabrimos su solicitud" not in page
    signed_in(client).post(f"/mis-solicitudes/solicitud/{closed.tracking_code}/reabrir/", {"reason": "Sigue ahí."})
    page = client.get(f"/seguimiento/{closed.tracking_code}/").content.decode()
    assert "Listo: reabrimos su solicitud." in page.split('id="reopened"')[1].split("</p>")[0]
    assert 'id="reopened"' not in client.get(f"/seguimiento/{closed.tracking_code}/").content.decode()  # a reload


def test_a_closed_reports_tracking_page_says_how_to_reopen_it_and_an_open_one_does_not(closed, make_report, client):
    page = client.get(f"/seguimiento/{closed.tracking_code}/").content.decode()
    section = page.split('id="no-resuelta"')[1].split("</section>")[0]
    assert "¿No se resolvió?" in section and 'href="/mis-solicitudes/ingresar/"' in section
    assert closed.tracking_code in section  # to quote in a new request when no email was left
    still_open = make_report(point=WEST_POINT, reporter_email=ROSA)
    assert 'id="no-resuelta"' not in client.get(f"/seguimiento/{still_open.tracking_code}/").content.decode()


def signed_in(client, email: str = ROSA):
    """Into Mis solicitudes as a citizen does: ask for the link, open the one e-mailed."""
    client.post("/mis-solicitudes/ingresar/", {"email": email})
    body = Notification.objects.filter(recipient=email, report=None).latest("id").body
    assert client.post(re.search(r"/mis-solicitudes/entrar/[^/\s]+/", body).group(0)).status_code == 302
    return client


@pytest.mark.parametrize("day, offered", [(15, True), (16, False)])  # the 10th business day after 30 Nov, the 11th
def test_reopening_is_offered_on_both_pages_only_within_the_limit(closed, client, monkeypatch, day, offered):
    closed_on(closed, 2026, 11, 30)
    at(monkeypatch, 2026, 12, day)
    tracking = client.get(f"/seguimiento/{closed.tracking_code}/").content.decode()
    assert ('id="no-resuelta"' in tracking) is offered
    mine = signed_in(client).get(f"/mis-solicitudes/solicitud/{closed.tracking_code}/").content.decode()
    assert ('id="reopen"' in mine) is offered
    assert (
        "Solo se puede reabrir dentro de 10 días hábiles desde el cierre (30 de noviembre de 2026)" in mine
    ) is not offered


def my_reports_link(page: str) -> str:
    return re.search(r'id="my-reports">([^<]*)</a>', page).group(1)


@pytest.mark.parametrize("day, offered", [(15, True), (16, False)])
def test_the_tracking_pages_link_to_mis_solicitudes_promises_only_what_is_offered_there(
    closed, client, monkeypatch, day, offered
):
    closed_on(closed, 2026, 11, 30)
    at(monkeypatch, 2026, 12, day)
    link = my_reports_link(client.get(f"/seguimiento/{closed.tracking_code}/").content.decode())
    mine = signed_in(client).get(f"/mis-solicitudes/solicitud/{closed.tracking_code}/").content.decode()
    assert ('id="reopen"' in mine, 'id="agregar"' in mine) == (offered, False)
    if offered:
        assert link == "Mis solicitudes: reabrir esta solicitud"
    else:
        assert link == "Mis solicitudes: vea las que ingresó o sigue con su correo."


def test_an_open_reports_link_to_mis_solicitudes_offers_adding_information(make_report, client):
    still_open = make_report(point=WEST_POINT, reporter_email=ROSA)
    link = my_reports_link(client.get(f"/seguimiento/{still_open.tracking_code}/").content.decode())
    assert link == "Mis solicitudes: agregar información a esta solicitud"
    mine = signed_in(client).get(f"/mis-solicitudes/solicitud/{still_open.tracking_code}/").content.decode()
    assert 'id="agregar"' in mine and 'id="reopen"' not in mine


def test_a_tampered_reopening_link_is_refused(closed, client):
    response = client.post(f"/mis-solicitudes/reabrir/{reopen_token(closed, ROSA)[:-3]}abc/", {"reason": "x"})
    assert response.status_code == 404
    assert "no es válido o ya venció" in response.content.decode()
    assert Report.objects.get(pk=closed.pk).times_reopened == 0


def test_a_reopening_link_past_the_window_says_why(closed, client, monkeypatch):
    closed_on(closed, 2026, 11, 30)
    at(monkeypatch, 2026, 12, 28)
    response = client.post(f"/mis-solicitudes/reabrir/{reopen_token(closed, ROSA)}/", {"reason": "Sigue."})
    assert response.status_code == 400
    assert "Solo se puede reabrir dentro de 10 días hábiles" in response.content.decode()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 30)).save(out, "PNG")
    return out.getvalue()


def test_a_note_and_photo_a_citizen_adds_reach_the_crew_and_never_the_public_page(make_report, client):
    report = make_report(reporter_email=ROSA, public_visibility=True)
    event = report_add_citizen_info(report=report, note="Ahora hay más escombros.", photo=png(), by_email=ROSA)
    assert (event.kind, event.is_public, event.photos.count()) == (EventKind.CITIZEN_INFO, False, 1)
    assert event.photos.get().report_id == report.pk  # the pair the partitioned events' key needs
    assert report.photos.count() == 0
    page = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "Ahora hay más escombros." not in page and "Foto de la solicitud" not in page


def test_information_is_only_added_to_an_open_report(closed):
    with pytest.raises(ValidationError, match="está cerrada: solo se agrega información a una solicitud abierta"):
        report_add_citizen_info(report=closed, note="Otra cosa.", photo=None, by_email=ROSA)


def test_a_bad_photo_is_refused_and_nothing_is_written(make_report):
    report = make_report(reporter_email=ROSA)
    with pytest.raises(ValidationError) as error:
        report_add_citizen_info(report=report, note="Con foto.", photo=b"no es una imagen", by_email=ROSA)
    assert "photo" in error.value.message_dict
    assert report.photos.count() == 0 and not report.events.filter(kind=EventKind.CITIZEN_INFO).exists()


def test_adding_nothing_is_refused(make_report):
    report = make_report(reporter_email=ROSA)
    with pytest.raises(ValidationError, match="Escriba una nota o adjunte una foto"):
        report_add_citizen_info(report=report, note=" ", photo=None, by_email=ROSA)


def test_an_sms_cuts_a_long_reopening_reason_an_email_carries_whole(closed):
    reason = "El hoyo sigue ahí y " + "se agranda con cada lluvia, " * 10 + "fin."
    _subject, email = status_message(closed, "es", reason, email=ROSA, reopened=True)
    _subject, sms = status_message(closed, "es", reason, email="", reopened=True)
    assert f"Motivo: {reason}" in email
    assert "Motivo: El hoyo sigue ahí y se agranda" in sms and reason not in sms and "…" in sms
