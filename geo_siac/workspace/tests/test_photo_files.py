"""Photo files are served by the application from Django's storage, to whoever may see them (docs/security.md,
"Photo files")."""

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from geo_siac.reports.models import ReportPhoto
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.services.erasure import reporter_data_erase
from geo_siac.testing import EAST_POINT, WEST_POINT


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png_bytes(colour=(0, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def png_upload(name="foto.png") -> io.BytesIO:
    upload = io.BytesIO(png_bytes((200, 90, 0)))
    upload.name = name
    return upload


def served(client, name: str):
    response = client.get(reverse("photo", args=[name]))
    body = b"".join(response.streaming_content) if response.status_code == 200 else b""
    return response.status_code, body, response


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def test_a_public_reports_photo_and_thumbnail_are_served_to_anyone_with_their_type(client, make_report):
    report = make_report(photo=png_bytes(), public_visibility=True)
    photo = report.photos.get()
    for name in (photo.image.name, photo.thumbnail.name):
        status, body, response = served(client, name)
        assert status == 200 and body == stored_bytes(name) and body.startswith(b"\x89PNG")
        assert response["Content-Type"] == "image/png"
        assert "private" in response["Cache-Control"]
    page = client.get(reverse("reports:tracking", args=[report.tracking_code])).content.decode()
    assert reverse("photo", args=[photo.thumbnail.name]) in page


def test_a_private_reports_photo_is_a_404_to_visitors_and_other_crews_and_served_to_its_crew(
    client, make_report, crews
):
    report = make_report(photo=png_bytes(), point=WEST_POINT)
    name = report.photos.get().image.name
    assert served(client, name)[0] == 404
    client.force_login(crews["member_b"])  # the other crew: its zone is east
    assert served(client, name)[0] == 404
    for person in ("member_a", "supervisor", "admin"):
        client.force_login(crews[person])
        status, body, _response = served(client, name)
        assert status == 200 and body == stored_bytes(name), person


def test_a_crews_photo_of_a_public_report_is_for_staff_only(client, make_report, crews):
    report = make_report(point=EAST_POINT, public_visibility=True)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="in_progress",
        actor=crews["member_b"],
        photos=[png_upload()],
    )
    name = report.events.get(kind="status").photos.get().image.name
    assert served(client, name)[0] == 404
    client.force_login(crews["member_a"])
    assert served(client, name)[0] == 404
    client.force_login(crews["member_b"])
    status, body, response = served(client, name)
    assert status == 200 and body.startswith(b"\x89PNG") and response["Content-Type"] == "image/png"
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert reverse("photo", args=[name]) in page


def test_a_private_photo_of_penalolen_is_a_404_to_puente_alto_staff_even_with_the_admins_view_permission(
    client, make_report, crews, communes
):
    from django.contrib.auth.models import Permission

    from geo_siac.testing import PENALOLEN_CENTRE, staff_account

    name = make_report(photo=png_bytes(), point=PENALOLEN_CENTRE).photos.get().image.name
    own = make_report(photo=png_bytes(), point=WEST_POINT).photos.get().image.name
    viewer = staff_account("visor-pa", communes=[communes["13201"]], is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_report"))
    for person in (crews["supervisor"], viewer):
        client.force_login(person)
        assert served(client, name)[0] == 404, person
        assert served(client, own)[0] == 200, person
    penalolen_viewer = staff_account("visor-pe", communes=[communes["13122"]], is_staff=True)
    penalolen_viewer.user_permissions.add(Permission.objects.get(codename="view_report"))
    client.force_login(penalolen_viewer)
    assert served(client, name)[0] == 200
    assert served(client, own)[0] == 404
    client.force_login(crews["admin"])  # a superuser sees every comuna
    assert served(client, name)[0] == 200


def test_a_file_no_photo_row_holds_is_a_404_even_when_it_is_in_the_storage(client, crews):
    orphan = default_storage.save("reports/photos/2026/01/huerfana.png", io.BytesIO(png_bytes()))
    client.force_login(crews["admin"])
    assert served(client, orphan)[0] == 404
    assert served(client, "reports/photos/2026/01/no-existe.png")[0] == 404
    assert client.post(reverse("photo", args=[orphan])).status_code == 405


def test_photos_are_written_served_and_erased_through_the_configured_storage_not_the_disk(
    client, make_report, crews, settings, django_capture_on_commit_callbacks
):
    """Any storage backend will do (an S3-compatible store in a multi-server deployment): with Django's in-memory
    storage nothing reaches MEDIA_ROOT, and every step still works."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    report = make_report(photo=png_bytes(), point=WEST_POINT, reporter_email="vecina@example.cl")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="in_progress",
        actor=crews["member_a"],
        photos=[png_upload()],
    )
    citizen = report.photos.get()
    crew = report.events.get(kind="status").photos.get().image.name
    names = [citizen.image.name, citizen.thumbnail.name, crew]
    assert all(default_storage.exists(name) for name in names)
    client.force_login(crews["member_a"])
    assert all(served(client, name)[1] == stored_bytes(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        reporter_data_erase(email="vecina@example.cl", commit=True)
    assert not ReportPhoto.objects.exists()
    assert not default_storage.exists(citizen.image.name) and not default_storage.exists(citizen.thumbnail.name)
    assert served(client, citizen.image.name)[0] == 404
    assert not Path(settings.MEDIA_ROOT).exists()


def test_a_name_with_a_control_character_is_a_404_not_an_error(client, db):
    # db: the 404 page names the host's municipality (zones.middleware); the photo lookup itself must not ask.
    assert client.get("/media/%00.jpg").status_code == 404
    assert client.get("/media/a%00b").status_code == 404
