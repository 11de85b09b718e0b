"""Imported history gets the crew zone version that was in force when each request was filed and holds its point,
in the import's own statement: no routing, no event, and nothing for a request older than every zone or outside
them."""

from datetime import UTC, datetime
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from geo_siac.reports.models import Report
from geo_siac.testing import box
from geo_siac.zones.models import Zone
from geo_siac.zones.services import zone_save_version

HEADER = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
IN_FIRST_DRAWING = (-33.61, -70.59)  # lat, lng: inside both versions of the zone
IN_REDRAWN_PART = (-33.61, -70.565)  # inside only the second version, which took in more to the east
OUTSIDE = (-33.485, -70.54)  # Peñalolén, no zone


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_reports", *args, "--no-progress", stdout=out)
    return out.getvalue()


def row(source_id: str, created: str, point: tuple[float, float], status: str = "resolved") -> str:
    closed = created.replace("10:00", "18:00") if status == "resolved" else ""
    return f"{source_id},{created},{closed},bache,web,{status},{point[0]},{point[1]},x\n"


def drawn_at(when: str, **zone):
    with mock.patch.object(timezone, "now", return_value=datetime.fromisoformat(when).replace(tzinfo=UTC)):
        return zone_save_version(**zone)


@pytest.fixture
def redrawn_zone(communes):
    """Poniente drawn on 2024-01-01, redrawn on 2025-06-01 to take in a strip further east."""
    zone = {"commune": communes["13201"], "key": "poniente", "name": "Poniente"}
    first = drawn_at("2024-01-01T00:00", geometry=box(-70.60, -33.63, -70.58, -33.59), **zone)
    second = drawn_at("2025-06-01T00:00", geometry=box(-70.60, -33.63, -70.56, -33.59), **zone)
    return first, second


@pytest.mark.parametrize("bulk", ["--bulk", "--no-bulk"])
def test_imported_history_gets_the_zone_version_in_force_when_it_was_filed(redrawn_zone, tmp_path, bulk):
    first, second = redrawn_zone
    path = tmp_path / "historia.csv"
    path.write_text(
        HEADER
        + row("before-any-zone", "2023-06-01 10:00", IN_FIRST_DRAWING)
        + row("first-drawing", "2024-03-01 10:00", IN_FIRST_DRAWING)
        + row("redrawn-part-early", "2024-03-01 10:00", IN_REDRAWN_PART)
        + row("redrawn-part-late", "2025-08-01 10:00", IN_REDRAWN_PART, status="in_progress")
        + row("after-redraw", "2025-08-01 10:00", IN_FIRST_DRAWING)
        + row("outside", "2025-08-01 10:00", OUTSIDE),
        encoding="utf-8",
    )
    assert "insertadas: 6" in run_import(str(path), bulk, "--commit")

    zones = dict(Report.objects.values_list("source_id", "zone"))
    assert zones == {
        "before-any-zone": None,  # filed before the zone was drawn
        "first-drawing": first.pk,
        "redrawn-part-early": None,  # the redraw does not claim what was filed before it
        "redrawn-part-late": second.pk,
        "after-redraw": second.pk,
        "outside": None,
    }
    # Placing a zone is not routing: no crew, no event beyond the two the import writes.
    assert not Report.objects.filter(crew__isnull=False).exists()
    assert {kind for r in Report.objects.all() for kind in r.events.values_list("kind", flat=True)} == {
        "created",
        "status",
    }


def test_rows_written_in_steps_after_a_repeated_row_get_their_zone_too(redrawn_zone, tmp_path):
    _first, second = redrawn_zone
    path = tmp_path / "historia.csv"
    path.write_text(HEADER + row("r1", "2025-08-01 10:00", IN_FIRST_DRAWING), encoding="utf-8")
    run_import(str(path), "--commit")
    path.write_text(
        HEADER + row("r1", "2025-08-01 10:00", IN_FIRST_DRAWING) + row("r2", "2025-09-01 10:00", IN_REDRAWN_PART),
        encoding="utf-8",
    )
    out = run_import(str(path), "--commit")
    assert "insertadas: 1" in out and "ya importadas antes: 1" in out
    assert Report.objects.get(source_id="r2").zone == second


def test_history_older_than_every_zone_is_imported_without_one(communes, tmp_path):
    zone_save_version(
        commune=communes["13201"], key="poniente", name="Poniente", geometry=box(-70.60, -33.63, -70.58, -33.59)
    )
    path = tmp_path / "historia.csv"
    path.write_text(HEADER + row("old", "2024-03-01 10:00", IN_FIRST_DRAWING), encoding="utf-8")
    run_import(str(path), "--commit")
    assert Report.objects.get(source_id="old").zone is None


def test_a_zone_retired_without_a_successor_holds_only_what_was_filed_while_it_was_in_force(communes, tmp_path):
    zone = drawn_at(
        "2024-01-01T00:00",
        commune=communes["13201"],
        key="poniente",
        name="Poniente",
        geometry=box(-70.60, -33.63, -70.58, -33.59),
    )
    Zone.objects.filter(pk=zone.pk).update(retired_at=datetime(2025, 1, 1, tzinfo=UTC))  # removed, none drawn since
    path = tmp_path / "historia.csv"
    path.write_text(
        HEADER
        + row("while", "2024-06-01 10:00", IN_FIRST_DRAWING)
        + row("after", "2025-03-01 10:00", IN_FIRST_DRAWING),
        encoding="utf-8",
    )
    run_import(str(path), "--commit")
    assert dict(Report.objects.values_list("source_id", "zone")) == {"while": zone.pk, "after": None}


def test_where_two_zones_hold_a_point_the_lower_key_wins_as_routing_picks(communes, tmp_path):
    geometry = box(-70.60, -33.63, -70.58, -33.59)
    later_key = drawn_at("2024-01-01T00:00", commune=communes["13201"], key="sur", name="Sur", geometry=geometry)
    lower_key = drawn_at("2024-01-01T00:00", commune=communes["13201"], key="norte", name="Norte", geometry=geometry)
    path = tmp_path / "historia.csv"
    path.write_text(HEADER + row("both", "2024-06-01 10:00", IN_FIRST_DRAWING), encoding="utf-8")
    run_import(str(path), "--commit")
    assert Report.objects.get(source_id="both").zone == lower_key != later_key


def test_a_neighbouring_comunas_zone_over_the_border_does_not_take_the_point(communes, tmp_path):
    """Peñalolén's zone drawn over the line holds a Puente Alto point: the point stays with Puente Alto's zones."""
    over_the_line = box(-70.60, -33.63, -70.50, -33.45)
    drawn_at("2024-01-01T00:00", commune=communes["13122"], key="a-borde", name="Borde", geometry=over_the_line)
    path = tmp_path / "historia.csv"
    path.write_text(
        HEADER + row("alone", "2024-06-01 10:00", IN_FIRST_DRAWING) + row("own", "2025-06-01 10:00", IN_FIRST_DRAWING),
        encoding="utf-8",
    )
    own = drawn_at(
        "2025-01-01T00:00",
        commune=communes["13201"],
        key="z-poniente",
        name="Poniente",
        geometry=box(-70.60, -33.63, -70.58, -33.59),
    )
    run_import(str(path), "--commit")
    assert Report.objects.get(source_id="alone").commune.cut == "13201"
    assert dict(Report.objects.values_list("source_id", "zone")) == {"alone": None, "own": own.pk}
