"""Only a public photo may stay in the browser's cache: a private one (a crew's photo, the photo of a report not
shown publicly) left on a shared office computer's disk would outlive the staff session that was allowed it."""

from django.urls import reverse

from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import EAST_POINT, WEST_POINT
from geo_siac.workspace.tests.test_photo_files import media_in_tmp, png_bytes, png_upload  # noqa: F401


def cache_control(client, name: str) -> set[str]:
    response = client.get(reverse("photo", args=[name]))
    assert response.status_code == 200
    return {part.strip() for part in response["Cache-Control"].split(",")}


def test_a_public_photo_may_be_kept_a_day(client, make_report):
    report = make_report(photo=png_bytes(), public_visibility=True)
    assert cache_control(client, report.photos.get().image.name) == {"private", "max-age=86400"}


def test_a_private_reports_photo_is_never_stored(client, make_report, crews):
    report = make_report(photo=png_bytes(), point=WEST_POINT)
    client.force_login(crews["member_a"])
    assert cache_control(client, report.photos.get().image.name) == {"private", "no-store"}


def test_a_crews_photo_of_a_public_report_is_never_stored(client, make_report, crews):
    report = make_report(point=EAST_POINT, public_visibility=True)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="in_progress",
        actor=crews["member_b"],
        photos=[png_upload()],
    )
    client.force_login(crews["member_b"])
    name = report.events.get(kind="status").photos.get().image.name
    assert cache_control(client, name) == {"private", "no-store"}
