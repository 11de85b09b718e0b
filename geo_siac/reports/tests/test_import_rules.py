"""The bulk importer and report_create read one rule table and one deadline function: the same bad input is refused
under the same field with the same message, and a closed day moves both deadlines alike."""

import csv
from datetime import date, datetime
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from geo_siac.catalogue.models import Category
from geo_siac.reports.deadlines import SANTIAGO, deadline
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.zones.models import ClosedDay, CommuneCategory

LAT, LNG = (str(value) for value in PUENTE_ALTO_CENTRE)
SANTIAGO_CENTRE = ("-33.4378", "-70.6505")  # served by neither test comuna


def bad_rows() -> list[tuple[str, str, str, str, str, str]]:
    """(source id, latitude, longitude, service code, description, address), each wrong in one field only."""
    too_long = "x" * (settings.GEO_SIAC_MAX_DESCRIPTION + 1)
    return [
        ("no-latitude", "", LNG, "bache", "Hoyo", ""),
        ("text-latitude", "abc", LNG, "bache", "Hoyo", ""),
        ("latitude-out-of-range", "-95", LNG, "bache", "Hoyo", ""),
        ("infinite-longitude", LAT, "inf", "bache", "Hoyo", ""),
        ("outside-the-comunas", *SANTIAGO_CENTRE, "bache", "Hoyo", ""),
        ("unknown-category", LAT, LNG, "dragones", "Hoyo", ""),
        ("long-description", LAT, LNG, "bache", too_long, ""),
        ("control-in-description", LAT, LNG, "bache", "Hoyo\x0bgrande", ""),
        ("long-address", LAT, LNG, "bache", "Hoyo", "Calle " * 60),
        ("control-in-address", LAT, LNG, "bache", "Hoyo", "Calle\x01 1"),
    ]


def import_rows(path, rows: list[tuple]) -> dict[str, tuple[str, str]]:
    """Import rows of the native layout; returns each rejected source id's (field, message)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_id", "created_at", "service_code", "channel", "lat", "lng", "description", "address"])
        for source_id, lat, lng, code, description, address in rows:
            writer.writerow([source_id, "2026-11-23T10:00:00-03:00", code, "web", lat, lng, description, address])
    rejects = path.with_name("rechazos.csv")
    call_command("import_reports", str(path), "--commit", "--no-progress", "--rejects", str(rejects), stdout=StringIO())
    with open(rejects, newline="", encoding="utf-8") as handle:
        return {row["source_id"]: (row["campo"], row["motivo"]) for row in csv.DictReader(handle)}


def report_create_error(lat: str, lng: str, code: str, description: str, address: str) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        report_create(
            category=code, latitude=lat, longitude=lng, channel="web", description=description, address=address
        )
    [(field, [message])] = caught.value.message_dict.items()
    return field, message


def test_the_importer_refuses_each_bad_row_with_report_create_s_field_and_message(communes, tmp_path):
    rows = bad_rows()
    expected = {source_id: report_create_error(*values) for source_id, *values in rows}
    assert import_rows(tmp_path / "malas.csv", rows) == expected
    assert expected["outside-the-comunas"][1].startswith("El punto está fuera de las comunas atendidas.")
    assert not Report.objects.exists()


def test_a_closed_day_moves_an_imported_deadline_exactly_as_it_moves_report_create_s(communes, tmp_path):
    monday = datetime(2026, 11, 23, 10, tzinfo=SANTIAGO)
    ClosedDay.objects.create(day=date(2026, 11, 24), reason="Aniversario comunal")
    with mock.patch("django.utils.timezone.now", return_value=monday):
        filed = report_create(category="bache", latitude=LAT, longitude=LNG, channel="web")
    path = tmp_path / "historia.csv"
    path.write_text(
        f"source_id,created_at,service_code,lat,lng\na1,{monday.isoformat()},bache,{LAT},{LNG}\n", encoding="utf-8"
    )
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())

    imported = Report.objects.get(source_id="a1")
    assert imported.expected_at == filed.expected_at
    days = Category.objects.get(service_code="bache").response_days
    assert imported.expected_at > deadline(monday.date(), days, closed_days=())  # one business day later


def test_an_imported_deadline_counts_the_comunas_response_days_as_report_create_does(communes, tmp_path):
    CommuneCategory.objects.create(
        commune=communes["13201"], category=Category.objects.get(service_code="bache"), response_days=3
    )
    monday = datetime(2026, 11, 23, 10, tzinfo=SANTIAGO)
    with mock.patch("django.utils.timezone.now", return_value=monday):
        filed = report_create(category="bache", latitude=LAT, longitude=LNG, channel="web")
    path = tmp_path / "historia.csv"
    path.write_text(
        f"source_id,created_at,service_code,lat,lng\na1,{monday.isoformat()},bache,{LAT},{LNG}\n", encoding="utf-8"
    )
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())

    assert filed.expected_at == deadline(monday.date(), 3, closed_days=())  # Thursday 26, not the catalogue's 20
    assert Report.objects.get(source_id="a1").expected_at == filed.expected_at
