"""Personal data on request (Ley 19.628 / 21.719): export everything about one email; erase it, keeping the
anonymised reports in the statistics."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Count
from PIL import Image

from geo_siac.notifications.models import Delivery, Notification
from geo_siac.reports.models import Follower, Report, ReportPhoto
from geo_siac.reports.services import ERASED, EXPLAINED_BY_CALLER, report_follow


def report_counts_by_commune() -> list[dict]:
    return list(Report.objects.values("commune__name").annotate(total=Count("id")).order_by("commune__name"))


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(buffer, "PNG")
    return SimpleUploadedFile("foto.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def rosa(make_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine = make_report(
        reporter_name="Rosa Pérez", reporter_email="Rosa@Example.cl", reporter_phone="+56 9 1234 5678", photo=photo()
    )
    Report.objects.filter(pk=mine.pk).update(media_url="https://fotos.example.cl/rosa/bache.jpg")  # an Open311 link
    other = make_report(reporter_email="otro@example.cl")
    report_follow(report=other, email="rosa@example.cl")
    return mine, other


def command(*args) -> str:
    out = io.StringIO()
    call_command("reporter_data", *args, stdout=out)
    return out.getvalue()


def test_export_holds_the_reports_follows_and_messages_of_that_email(rosa, tmp_path):
    mine, other = rosa
    command("--email", "rosa@example.cl", "--export", str(tmp_path / "rosa.json"))
    data = json.loads((tmp_path / "rosa.json").read_text())
    assert [r["tracking_code"] for r in data["reports"]] == [mine.tracking_code]
    assert data["reports"][0]["reporter_phone"] == "+56 9 1234 5678" and data["reports"][0]["photos"]
    assert data["reports"][0]["media_url"] == "https://fotos.example.cl/rosa/bache.jpg"
    assert data["following"] == [other.tracking_code]
    assert data["notifications"]


def test_erase_is_a_dry_run_without_commit(rosa):
    command("--email", "rosa@example.cl", "--erase")
    assert Report.objects.filter(reporter_email__iexact="rosa@example.cl").exists()
    assert ReportPhoto.objects.exists()


def test_erase_removes_personal_data_and_photos_but_keeps_the_report_in_statistics(
    rosa, tmp_path, django_capture_on_commit_callbacks
):
    mine, other = rosa
    counts_before = report_counts_by_commune()
    files = [tmp_path / p.image.name for p in ReportPhoto.objects.all()]
    assert all(f.exists() for f in files)

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the erasure commits
        command("--email", "rosa@example.cl", "--erase", "--commit")

    mine.refresh_from_db()
    assert (mine.reporter_name, mine.reporter_email, mine.reporter_phone, mine.media_url) == ("", "", "", "")
    assert mine.status and mine.category_id and mine.location
    assert not ReportPhoto.objects.filter(report=mine).exists() and not any(f.exists() for f in files)
    assert not Follower.objects.filter(email__iexact="rosa@example.cl").exists()
    assert not Notification.objects.filter(recipient__icontains="rosa").exists()
    assert not Notification.objects.filter(recipient=ERASED, delivery=Delivery.PENDING).exists()
    assert report_counts_by_commune() == counts_before
    other.refresh_from_db()
    assert other.reporter_email == "otro@example.cl"


def test_an_invalid_email_or_no_action_is_a_command_error(db):
    with pytest.raises(CommandError):
        command("--email", "'; DROP TABLE reports_report; --", "--erase")
    with pytest.raises(CommandError):
        command("--email", "rosa@example.cl")


def test_erasure_takes_the_persons_name_and_number_out_of_the_notes_and_leaves_the_record_readable(make_report, crews):
    from geo_siac.reports.services import report_change_status

    report = make_report(
        reporter_name="María del Carmen Soto", reporter_email="maria@example.cl", reporter_phone="912345678"
    )
    note = (
        "Sra. Soto: la Dirección del Tránsito retiró el escombro el plazo del trámite; María del Carmen puede "
        "llamar al +56 9 1234 5678."
    )
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="in_progress",
        note=note,
        note_is_public=True,
        actor=crews["supervisor"],
    )
    command("--email", "maria@example.cl", "--erase", "--commit")
    written = " ".join(report.events.filter(note__contains="Dirección").values_list("note", flat=True))
    assert "la Dirección del Tránsito retiró el escombro el plazo del trámite" in written  # ordinary words stay
    for identifier in ("Soto", "María", "Carmen", "1234"):
        assert identifier not in written, written
