"""A bulk import places its reports in public (reports.privacy) before its indexes come back, and no moment of it
shows a place that stands for fewer than k reports, nor a report of a hidden category."""

import re
from collections import Counter
from io import StringIO

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from h3.api import basic_int as h3i

from geo_siac.catalogue.models import Category
from geo_siac.geo import h3_cells
from geo_siac.reports.importers import ImportFileError, importer
from geo_siac.reports.models import Report, SuspendedSchemaObject
from geo_siac.reports.privacy import GROUP_COLUMNS, published_cells
from geo_siac.reports.services import report_public_cells_refresh
from geo_siac.testing import PUENTE_ALTO_CENTRE

K = 3
HEADER = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
# About 1 km east of the plaza: its own res-9 cell, far from the plaza's.
ELSEWHERE = (PUENTE_ALTO_CENTRE[0], PUENTE_ALTO_CENTRE[1] + 0.01)


def write_csv(path, rows: list[tuple[tuple[float, float], str]]):
    lines = [
        f"p{i},2026-10-01 10:00,,{code},web,submitted,{lat},{lng},x\n" for i, ((lat, lng), code) in enumerate(rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return str(path)


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_reports", *args, "--no-progress", stdout=out)
    return out.getvalue()


def placements() -> dict[int, int | None]:
    return dict(Report.objects.values_list("pk", "public_cell"))


def rule_placements() -> dict[int, int | None]:
    """Where privacy.published_cells places every report stored now (hidden categories and no place: None)."""
    rows = list(
        Report.objects.filter(category__is_public=True, h3_res9__isnull=False).values_list("pk", *GROUP_COLUMNS)
    )
    cells = published_cells(Counter(tuple(group) for _pk, *group in rows), K)
    placed = {pk: cells[tuple(group)] for pk, *group in rows}
    return {pk: placed.get(pk) for pk in Report.objects.values_list("pk", flat=True)}


def public_cell_index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('report_public_cell') IS NOT NULL")
        return cursor.fetchone()[0]


def assert_every_shown_place_stands_for_k() -> None:
    """What every public output reads: each (comuna, published cell) holds at least K reports, none hidden."""
    shown = Counter(Report.objects.filter(public_cell__isnull=False).values_list("commune_id", "public_cell"))
    assert all(n >= K for n in shown.values()), shown
    assert not Report.objects.filter(category__is_public=False, public_cell__isnull=False).exists()


def test_a_bulk_import_places_its_reports_while_its_indexes_are_suspended(communes, tmp_path, settings, monkeypatch):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    Category.objects.filter(service_code="grafiti").update(is_public=False)
    real_restore = importer.restore_suspended
    at_rebuild = []

    def restore():
        # The placing UPDATE wrote no entry in the published cells' index: it is rebuilt with the others.
        at_rebuild.append((SuspendedSchemaObject.objects.exists(), public_cell_index_exists(), placements()))
        assert_every_shown_place_stands_for_k()
        return real_restore()

    monkeypatch.setattr(importer, "restore_suspended", restore)
    rows = [(PUENTE_ALTO_CENTRE, "bache")] * 4 + [(ELSEWHERE, "bache")] * 2 + [(PUENTE_ALTO_CENTRE, "grafiti")] * 3
    out = run_import(write_csv(tmp_path / "a.csv", rows), "--commit", "--chunk-rows", "4")

    assert "modo masivo" in out and "insertadas: 9" in out
    placed = placements()
    assert placed == rule_placements()
    plaza = h3_cells(*PUENTE_ALTO_CENTRE)["h3_res9"]
    assert Counter(placed.values()) == {plaza: 4, None: 5}  # two alone elsewhere, three hidden: no place
    assert at_rebuild == [(True, False, placed)]  # placed before the rebuild, once
    assert public_cell_index_exists()
    assert report_public_cells_refresh() == 0


def neighbour_in_the_same_res8_cell(lat: float, lng: float) -> tuple[float, float]:
    """The centre of a res-9 cell next to the point's whose stored res-8 cell is the point's."""
    cells = h3_cells(lat, lng)
    for cell in h3i.grid_ring(cells["h3_res9"], 1):
        centre = h3i.cell_to_latlng(cell)
        if h3_cells(*centre)["h3_res8"] == cells["h3_res8"]:
            return centre
    raise AssertionError("no neighbour in the same res-8 cell")


def test_no_moment_of_a_bulk_import_shows_a_place_of_fewer_than_k_reports(
    communes, make_report, tmp_path, settings, monkeypatch
):
    """Two reports at the plaza and one next to it stand together at res 8; the import's first row, at the plaza,
    makes the plaza's res-9 cell a place of its own. Placing that row alone there would show a cell of one report;
    re-placing the three reports without the row would leave the neighbour alone at res 8."""
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    neighbour = neighbour_in_the_same_res8_cell(*PUENTE_ALTO_CENTRE)
    before = [
        make_report(point=PUENTE_ALTO_CENTRE),
        make_report(point=PUENTE_ALTO_CENTRE),
        make_report(point=neighbour),
    ]
    report_public_cells_refresh()
    plaza = h3_cells(*PUENTE_ALTO_CENTRE)
    assert set(placements().values()) == {plaza["h3_res8"]}
    real_write = importer.chunk_write
    chunks = []

    def write(rows, payload, **kwargs):
        written = real_write(rows, payload, **kwargs)
        assert_every_shown_place_stands_for_k()
        assert not Report.objects.exclude(pk__in=[r.pk for r in before]).filter(public_cell__isnull=False).exists()
        chunks.append(rows)
        return written

    monkeypatch.setattr(importer, "chunk_write", write)
    rows = [(PUENTE_ALTO_CENTRE, "bache")] + [(ELSEWHERE, "bache")] * 3
    out = run_import(write_csv(tmp_path / "a.csv", rows), "--commit", "--bulk", "--chunk-rows", "1")

    assert "modo masivo" in out and chunks == [1, 1, 1, 1]
    assert_every_shown_place_stands_for_k()
    placed = placements()
    assert placed == rule_placements()
    assert [placed[r.pk] for r in before] == [plaza["h3_res9"], plaza["h3_res9"], None]
    assert report_public_cells_refresh() == 0


# Four at the plaza, placed there; two alone elsewhere and three of a hidden category, placed nowhere.
ROWS = [(PUENTE_ALTO_CENTRE, "bache")] * 4 + [(ELSEWHERE, "bache")] * 2 + [(PUENTE_ALTO_CENTRE, "grafiti")] * 3


def test_a_placing_that_fails_leaves_the_import_done_and_says_the_cells_wait(communes, tmp_path, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    Category.objects.filter(service_code="grafiti").update(is_public=False)
    other = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items() if k != "context"})
    try:
        # A refresh timer's placing holds the placement lock and this session stops waiting for it: the placing
        # fails with PostgreSQL's own error, as a deadlock or a cancel would.
        other.cursor().execute("SELECT pg_advisory_lock(hashtext('reports:public_cell'))")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        out = run_import(write_csv(tmp_path / "a.csv", ROWS), "--commit", "--bulk", "--chunk-rows", "4")
    finally:
        other.close()

    assert "celdas públicas no asignadas" in out and "insertadas: 9" in out and "rechazadas: 0" in out
    # PostgreSQL's reason in parentheses, in the server's language (lc_messages): "canceling statement due to lock
    # timeout" on an English or C server.
    assert re.search(r"no se les asignaron sus celdas públicas \(.+\)", out)
    assert "próxima ejecución de refresh_indicators o publish_open_data" in out
    assert Report.objects.count() == 9 and set(placements().values()) == {None}  # nothing shown, nothing lost
    assert not SuspendedSchemaObject.objects.exists() and public_cell_index_exists()  # rebuilt all the same
    assert report_public_cells_refresh() == 4
    assert placements() == rule_placements()


def test_a_bulk_import_that_died_is_restarted_in_bulk_mode_and_places_every_report(
    communes, tmp_path, settings, monkeypatch
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    Category.objects.filter(service_code="grafiti").update(is_public=False)
    path = write_csv(tmp_path / "a.csv", ROWS)
    real_write = importer.chunk_write

    def dying_write(rows, payload, **kwargs):
        if Report.objects.exists():
            raise ImportFileError("killed")  # the second chunk
        return real_write(rows, payload, **kwargs)

    monkeypatch.setattr(importer, "chunk_write", dying_write)
    monkeypatch.setattr(importer, "restore_suspended", lambda: [])  # the process dies: no finally runs
    with pytest.raises(CommandError, match="killed"):
        run_import(path, "--commit", "--chunk-rows", "4")
    assert Report.objects.count() == 4 and SuspendedSchemaObject.objects.exists()
    assert set(placements().values()) == {None}  # the first chunk's reports: committed, placed nowhere yet
    monkeypatch.undo()

    out = run_import(path, "--commit", "--chunk-rows", "4")  # no --bulk: a table with reports, but indexes down

    assert "modo masivo: celdas públicas asignadas" in out
    assert "insertadas: 5" in out and "ya importadas antes: 4" in out
    placed = placements()
    assert placed == rule_placements()
    assert Counter(placed.values()) == {h3_cells(*PUENTE_ALTO_CENTRE)["h3_res9"]: 4, None: 5}
    assert not SuspendedSchemaObject.objects.exists() and public_cell_index_exists()
    assert report_public_cells_refresh() == 0
