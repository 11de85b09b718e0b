"""A citizen's data (Ley 19.628 / 21.719) from "Mis solicitudes" and `manage.py reporter_data`: the export and the
erasure cover their appointments, the erasure is all or nothing, and a report's page takes a code as typed."""

import io
import json
from datetime import datetime, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.utils import timezone
from PIL import Image

from geo_siac.attention.models import Appointment, AppointmentStatus, Offering, Procedure, Slot
from geo_siac.attention.selectors import booking_days, free_slots, local_date
from geo_siac.attention.services import appointment_book
from geo_siac.citizens.models import AreaAlert, SignInLink
from geo_siac.citizens.selectors import citizen_data
from geo_siac.citizens.services import area_alert_subscribe, citizen_data_erase
from geo_siac.citizens.tests.test_sign_in import ROSA, sign_in
from geo_siac.notifications.models import Notification
from geo_siac.reports import archived
from geo_siac.reports.archive import archive_schema
from geo_siac.reports.models import EventKind, EventPhoto, Follower, Report, ReportPhoto
from geo_siac.reports.selectors import reporter_data
from geo_siac.reports.services import (
    ERASED,
    EXPLAINED_BY_CALLER,
    report_add_citizen_info,
    report_change_status,
    report_follow,
)
from geo_siac.reports.services.erasure import reporter_data_erase
from geo_siac.reports.tests.test_archive_dump_races import VECINA, hold, vecina_2019  # noqa: F401
from geo_siac.reports.tests.test_archive_year import OLD, archive_year
from geo_siac.zones.models import ServicePoint, ServicePointKind

WEEKDAYS = {day: [["08:30", "14:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(buffer, "PNG")
    return SimpleUploadedFile("foto.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def offering(communes):
    point = ServicePoint.objects.create(
        name="Edificio consistorial",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13201"],
        point=Point(-70.5759, -33.6106, srid=4326),
        address="Av. Concha y Toro 1820",
        opening_hours={"weekly": WEEKDAYS},
    )
    procedure = Procedure.objects.create(slug="certificado-de-residencia", name="Certificado de residencia")
    return Offering.objects.create(service_point=point, procedure=procedure, capacity_per_slot=3)


def next_slot(offering) -> datetime:
    """The first free slot ahead: on a Friday after closing the next opening day is Monday, not tomorrow."""
    now = timezone.now()
    days = booking_days(offering, local_date(offering.service_point, now))
    return next(slots for day in days if (slots := free_slots(offering, day, now)))[0]["starts_at"]


@pytest.fixture
def rosa(make_report, offering, settings, tmp_path):
    """Rosa's report with a photo, a follow, an appointment ahead, one served last month, an area alert; and
    someone else's appointment."""
    settings.MEDIA_ROOT = tmp_path
    mine = make_report(reporter_name="Rosa Pérez", reporter_email=ROSA, reporter_phone="+56912345678", photo=photo())
    report_follow(report=make_report(), email=ROSA)
    ahead = appointment_book(
        offering=offering,
        starts_at=next_slot(offering),
        name="Rosa Pérez",
        email="Rosa@Example.cl",
        phone="+56912345678",
    )
    starts = timezone.now() - timedelta(days=30)
    slot = Slot.objects.create(offering=offering, starts_at=starts, ends_at=starts + timedelta(minutes=30), capacity=1)
    served = Appointment.objects.create(
        slot=slot,
        code="C-SERVED01",
        name="Rosa Pérez",
        email=ROSA,
        status=AppointmentStatus.SERVED,
        created_at=starts,
        served_at=starts,
    )
    other = appointment_book(offering=offering, starts_at=next_slot(offering), name="Ana Soto", email="ana@example.cl")
    area_alert_subscribe(email=ROSA, latitude=-33.6117, longitude=-70.5758, radius_m=500)
    return {"report": mine, "ahead": ahead, "served": served, "other": other}


def test_the_download_and_the_command_export_the_citizens_appointments(client, rosa, tmp_path):
    sign_in(client)
    downloaded = json.loads(client.get("/mis-solicitudes/mis-datos.json").content)
    out = io.StringIO()
    call_command("reporter_data", "--email", ROSA, "--export", str(tmp_path / "rosa.json"), stdout=out)
    exported = json.loads((tmp_path / "rosa.json").read_text())

    for data in (downloaded, exported):
        assert [(a["code"], a["name"], a["phone"], a["status"]) for a in data["appointments"]] == [
            ("C-SERVED01", "Rosa Pérez", "", "served"),
            (rosa["ahead"].code, "Rosa Pérez", "+56912345678", "booked"),
        ]
        assert data["appointments"][1]["procedure"] == "Certificado de residencia"
        assert [(a["radius_m"], a["latitude"], a["confirmed_at"]) for a in data["area_alerts"]] == [
            (500, -33.6117, None)
        ]
    assert "2 citas" in out.getvalue()


def test_erasing_from_the_page_anonymises_the_appointments_and_cancels_those_ahead(client, rosa):
    sign_in(client)
    response = client.post("/mis-solicitudes/borrar/", {"confirm": "on"})

    assert "Borramos sus datos personales" in response.content.decode()
    for key, status in (("ahead", AppointmentStatus.CANCELLED), ("served", AppointmentStatus.SERVED)):
        appointment = Appointment.objects.get(pk=rosa[key].pk)
        assert (appointment.name, appointment.email, appointment.phone, appointment.status) == (ERASED, "", "", status)
    other = Appointment.objects.get(pk=rosa["other"].pk)
    assert (other.name, other.email, other.status) == ("Ana Soto", "ana@example.cl", AppointmentStatus.BOOKED)
    assert not Notification.objects.filter(recipient__iexact=ROSA).exists()
    assert not AreaAlert.objects.exists()


def test_the_erasure_command_is_a_dry_run_without_commit_and_then_erases_the_appointments(rosa):
    out = io.StringIO()
    call_command("reporter_data", "--email", ROSA, "--erase", stdout=out)
    assert "appointments_anonymised: 2" in out.getvalue()
    assert Appointment.objects.filter(email__iexact=ROSA).count() == 2

    call_command("reporter_data", "--email", ROSA, "--erase", "--commit", stdout=io.StringIO())
    assert not Appointment.objects.filter(email__iexact=ROSA).exists()
    assert Appointment.objects.filter(name=ERASED).count() == 2


def test_a_failure_midway_through_the_erasure_leaves_everything_as_it_was(
    client, rosa, tmp_path, django_capture_on_commit_callbacks
):
    sign_in(client)  # leaves Rosa a used sign-in link: deleting it is the erasure's last step, made to fail here
    files = [tmp_path / name for p in ReportPhoto.objects.all() for name in (p.image.name, p.thumbnail.name)]
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'disco lleno'; END $$;
            CREATE TRIGGER test_refuse BEFORE DELETE ON citizens_signinlink FOR EACH ROW EXECUTE FUNCTION test_refuse();
        """)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(DatabaseError):
        citizen_data_erase(email=ROSA, commit=True)

    report = Report.objects.get(pk=rosa["report"].pk)
    assert (report.reporter_name, report.reporter_email) == ("Rosa Pérez", ROSA)
    assert ReportPhoto.objects.filter(report=report).exists() and files and all(f.exists() for f in files)
    assert callbacks == []
    assert Follower.objects.filter(email=ROSA).exists()
    assert Notification.objects.filter(recipient__iexact=ROSA).exists()
    ahead = Appointment.objects.get(pk=rosa["ahead"].pk)
    assert (ahead.name, ahead.status) == ("Rosa Pérez", AppointmentStatus.BOOKED)
    assert SignInLink.objects.filter(email=ROSA).exists() and AreaAlert.objects.filter(email=ROSA).exists()


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {spaced} ", "{bare}"])
def test_a_report_page_finds_the_code_as_the_citizen_types_it(client, rosa, typed):
    code = rosa["report"].tracking_code
    sign_in(client)
    path = typed.format(code=code, lower=code.lower(), spaced=code.replace("-", " "), bare=code.replace("-", ""))

    response = client.get(f"/mis-solicitudes/solicitud/{path}/")

    assert response.status_code == 200 and code in response.content.decode()


@pytest.mark.parametrize("path", ["%00", "PA-%00", "---", "%20"])
def test_a_report_page_for_what_no_code_can_be_is_a_404(client, rosa, path):
    sign_in(client)

    assert client.get(f"/mis-solicitudes/solicitud/{path}/").status_code == 404
    assert client.post(f"/mis-solicitudes/solicitud/{path}/agregar/", {"note": "Hola"}).status_code == 404


def test_a_person_known_by_a_number_gets_their_desk_appointment_and_reports_but_not_a_shared_numbers(
    offering, make_report, tmp_path
):
    desk = appointment_book(
        offering=offering, starts_at=next_slot(offering), name="Juan Díaz", email="", phone="+56 9 5555 4444"
    )
    own = make_report(channel="phone", reporter_name="Juan Díaz", reporter_phone="955554444")
    # Ana gave her email and the family's number: her request is her email's, not the number's.
    anas = make_report(reporter_name="Ana Soto", reporter_email="ana@example.cl", reporter_phone="+56955554444")

    call_command(
        "reporter_data", "--phone", "9 5555 4444", "--export", str(tmp_path / "juan.json"), stdout=io.StringIO()
    )
    data = json.loads((tmp_path / "juan.json").read_text())
    assert [r["tracking_code"] for r in data["reports"]] == [own.tracking_code]
    assert [a["code"] for a in data["appointments"]] == [desk.code]
    assert "ana@example.cl" not in json.dumps(data) and "Ana Soto" not in json.dumps(data)

    out = io.StringIO()
    call_command("reporter_data", "--phone", "+56 9 5555 4444", "--erase", "--commit", stdout=out)
    assert "appointments_anonymised: 1" in out.getvalue() and "reports_anonymised: 1" in out.getvalue()
    desk.refresh_from_db()
    own.refresh_from_db()
    anas.refresh_from_db()
    assert (desk.name, desk.phone) == (ERASED, "") and (own.reporter_name, own.reporter_phone) == ("", "")
    assert (anas.reporter_name, anas.reporter_email, anas.reporter_phone) == (
        "Ana Soto",
        "ana@example.cl",
        "+56955554444",
    )


def test_erasing_a_follower_removes_the_photo_they_added_to_someone_elses_request_which_stays(
    client, make_report, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    anas = make_report(reporter_name="Ana Soto", reporter_email="ana@example.cl", description="Un hoyo.")
    report_follow(report=anas, email="Rosa@Example.cl")
    sign_in(client)
    added = client.post(
        f"/mis-solicitudes/solicitud/{anas.tracking_code}/agregar/", {"note": "Sigue igual.", "photo": photo()}
    )
    assert added.status_code == 302
    report_add_citizen_info(report=anas, note="Más grande.", photo=photo().read(), by_email="ana@example.cl")
    rosas, own = EventPhoto.objects.filter(report=anas).order_by("id")
    files = {photo.pk: tmp_path / photo.image.name for photo in (rosas, own)}
    assert rosas.added_by == ROSA and all(file.exists() for file in files.values())
    assert citizen_data(ROSA)["photos_added"] == [{"tracking_code": anas.tracking_code, "photo": rosas.image.name}]

    with django_capture_on_commit_callbacks(execute=True):
        dry = citizen_data_erase(email=ROSA)  # a dry run counts it and changes nothing
    assert (dry.photos_deleted, dry.follows_removed) == (1, 1)
    assert EventPhoto.objects.filter(report=anas).count() == 2 and files[rosas.pk].exists()

    with django_capture_on_commit_callbacks(execute=True):
        summary = citizen_data_erase(email=ROSA, commit=True)

    assert (summary.photos_deleted, summary.follows_removed, summary.reports_anonymised) == (1, 1, 0)
    assert list(EventPhoto.objects.filter(report=anas)) == [own] and files[own.pk].exists()
    assert not files[rosas.pk].exists() and citizen_data(ROSA)["photos_added"] == []
    anas.refresh_from_db()
    assert (anas.reporter_name, anas.reporter_email, anas.description) == ("Ana Soto", "ana@example.cl", "Un hoyo.")
    assert anas.events.filter(kind=EventKind.CITIZEN_INFO).count() == 2  # the history stays; its photo went


def test_a_crews_photo_survives_a_followers_erasure_and_one_by_number(
    make_report, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    anas = make_report(reporter_name="Ana Soto", reporter_email="ana@example.cl", description="Un hoyo.")
    report_follow(report=anas, email=ROSA)
    report_add_citizen_info(report=anas, note="Sigue igual.", photo=photo().read(), by_email=ROSA)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=anas,
        status="in_progress",
        actor_label="Cuadrilla 3",
        photos=[photo().read()],
    )
    crews = EventPhoto.objects.get(report=anas, added_by="")
    crew_file = tmp_path / crews.image.name
    make_report(channel="phone", reporter_name="Juan Díaz", reporter_phone="955554444")  # found by number alone
    assert reporter_data(phone="9 5555 4444")["photos_added"] == []

    with django_capture_on_commit_callbacks(execute=True):
        assert citizen_data_erase(email=ROSA, commit=True).photos_deleted == 1
        reporter_data_erase(phone="9 5555 4444", commit=True)

    assert list(EventPhoto.objects.filter(report=anas)) == [crews] and crew_file.exists()


@pytest.mark.django_db(transaction=True)  # the archive's alignment runs in its own transaction
def test_the_page_says_so_when_an_archived_year_cannot_be_read_now_and_changes_nothing(
    client, vecina_2019, make_report, monkeypatch
):
    archive_year(OLD, "--commit")
    schema = archive_schema(OLD)
    make_report(reporter_email=VECINA)  # a live request too, to sign in with
    sign_in(client, VECINA)
    monkeypatch.setattr(archived, "ALIGN_LOCK_SECONDS", 1)
    with connection.cursor() as cursor:  # restored from a dump older than the live table's media_url
        cursor.execute(f'ALTER TABLE "{schema}".reports_report DROP COLUMN media_url')
    backup = hold(schema)  # a backup's pg_dump holds the archive table: the column cannot be added now
    try:
        for response in (
            client.get("/mis-solicitudes/mis-datos.json"),
            client.post("/mis-solicitudes/borrar/", {"confirm": "on"}),
        ):
            assert response.status_code == 503
            assert "el archivo está en mantención" in response.content.decode()
    finally:
        backup.close()
    assert Report.objects.filter(reporter_email=VECINA).count() == 1  # nothing erased

    response = client.post("/mis-solicitudes/borrar/", {"confirm": "on"})  # the backup over: aligned, then erased
    assert "Borramos sus datos personales" in response.content.decode()
    assert not Report.objects.filter(reporter_email=VECINA).exists()
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema}".reports_report WHERE reporter_email = %s', [VECINA])
        assert cursor.fetchone()[0] == 0
