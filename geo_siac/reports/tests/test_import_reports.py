import csv
from datetime import datetime
from io import StringIO

import h3
import pytest
from django.core.management import CommandError, call_command

from geo_siac.reports.models import Report, ReportEvent
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import shared_data

LA_FILE = "service_requests/myla311_2018-01_mini.csv"


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_reports", *args, "--no-progress", stdout=out)
    return out.getvalue()


def read_rejects(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def la_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_la311_rejects_rows_without_coordinates_and_with_dates_out_of_order(communes, tmp_path):
    source = shared_data(LA_FILE)
    rejects = tmp_path / "rechazos.csv"
    out = run_import(str(source), "--mapping", "la311", "--place-in", "13201", "--rejects", str(rejects), "--commit")

    rows = la_rows(source)
    fmt = "%m/%d/%Y %I:%M:%S %p"
    no_coords = {r["SRNumber"] for r in rows if not r["Latitude"].strip() or not r["Longitude"].strip()}
    backwards = {
        r["SRNumber"]
        for r in rows
        if r["SRNumber"] not in no_coords
        and r["ClosedDate"]
        and datetime.strptime(r["ClosedDate"], fmt) < datetime.strptime(r["CreatedDate"], fmt)
    }
    assert len(no_coords) == 1102 and backwards
    rejected = read_rejects(rejects)
    by_reason = {}
    for row in rejected:
        by_reason.setdefault(row["motivo"], set()).add(row["SRNumber"])
    assert by_reason["Falta la latitud."] | by_reason.get("Falta la longitud.", set()) == no_coords
    # A row can fail several checks; the reject file gives the first (location before dates).
    assert by_reason["cerrada antes de ser creada"] and by_reason["cerrada antes de ser creada"] <= backwards
    assert backwards <= {row["SRNumber"] for row in rejected}
    assert all(row["motivo"] for row in rejected)  # one reason per rejected row

    inserted = Report.objects.filter(source="myla311")
    assert f"insertadas: {inserted.count()}" in out
    assert inserted.count() + len(rejected) == len(rows)
    assert not inserted.filter(source_id__in=no_coords | backwards).exists()
    assert set(inserted.values_list("commune__cut", flat=True)) == {"13201"}
    assert "No son reportes de la comuna" in out  # the placement is said wherever the result is shown


def test_reimport_is_restartable_without_duplicates(communes, tmp_path):
    source = shared_data(LA_FILE)
    args = (str(source), "--mapping", "la311", "--place-in", "13201", "--rejects", str(tmp_path / "r.csv"), "--commit")
    run_import(*args)
    count = Report.objects.count()
    events = ReportEvent.objects.count()
    out = run_import(*args)
    assert "insertadas: 0" in out
    assert f"ya importadas antes: {count}" in out
    assert (Report.objects.count(), ReportEvent.objects.count()) == (count, events)


def test_a_file_that_repeats_imported_rows_adds_only_the_new_ones_with_their_history(communes, tmp_path):
    header = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
    first = "r1,2025-12-30 10:00,2026-01-05 10:00,bache,web,resolved,-33.6117,-70.5758,x\n"
    path = tmp_path / "historia.csv"
    path.write_text(header + first, encoding="utf-8")
    run_import(str(path), "--commit")
    path.write_text(
        header + first + "r2,2026-01-02 10:00,,bache,web,in_progress,-33.4850,-70.5400,y\n", encoding="utf-8"
    )
    out = run_import(str(path), "--commit")
    assert "insertadas: 1" in out and "ya importadas antes: 1" in out
    history = {
        r.source_id: list(r.events.values_list("kind", "to_status"))
        for r in Report.objects.filter(source_id__in=["r1", "r2"])
    }
    assert history == {
        "r1": [("created", "submitted"), ("status", "resolved")],
        "r2": [("created", "submitted"), ("status", "in_progress")],
    }


def test_bulk_path_computes_h3_cells_and_history_like_report_create(communes, tmp_path):
    path = tmp_path / "native.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description,address\n"
        "a1,2026-10-01T10:00:00-03:00,2026-10-03T12:00:00-03:00,bache,phone,resolved,-33.6117,-70.5758,Hoyo,\n"
        "a2,2026-10-02 09:00:00,,grafiti,web,submitted,-33.4850,-70.5400,Rayado,Av. Grecia\n",
        encoding="utf-8",
    )
    out = run_import(str(path), "--commit")
    assert "insertadas: 2" in out
    first = Report.objects.get(source_id="a1")
    for res in range(6, 11):
        assert getattr(first, f"h3_res{res}") == h3.str_to_int(h3.latlng_to_cell(-33.6117, -70.5758, res))
    assert first.commune.cut == "13201" and first.status == "resolved" and first.closed_at is not None
    assert first.tracking_code.startswith("PA-")
    assert list(first.events.values_list("kind", "to_status")) == [("created", "submitted"), ("status", "resolved")]
    second = Report.objects.get(source_id="a2")
    assert second.commune.cut == "13122" and second.created_at.isoformat() == "2026-10-02T12:00:00+00:00"
    assert second.expected_at > second.created_at


def test_dry_run_validates_but_writes_nothing(communes, tmp_path):
    path = tmp_path / "native.csv"
    path.write_text("source_id,created_at,service_code,lat,lng\nx,2026-10-01 10:00,bache,-33.6117,-70.5758\n")
    out = run_import(str(path))
    assert "Simulación" in out and "rechazadas: 0" in out
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("source_id,created_at,service_code,lat,lng\nx,2026-10-01,Ñuñoa,-33.6,-70.5\n", "latin-1", "no está en UTF-8"),
        ("source_id;created_at;service_code;lat;lng\nx;2026-10-01;bache;-33.6;-70.5\n", "utf-8", "Falta la columna"),
        ("id,fecha\n1,2\n", "utf-8", "Falta la columna"),
        ("", "utf-8", "está vacío"),
    ],
)
def test_unreadable_files_fail_with_a_clear_message_and_write_nothing(communes, tmp_path, content, encoding, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode(encoding))
    with pytest.raises(CommandError, match=message):
        run_import(str(path), "--commit")
    assert not Report.objects.exists()


def test_unknown_mapping_is_a_clear_error(communes, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(CommandError, match="no es una correspondencia conocida"):
        run_import(str(path), "--mapping", "nope")


def test_every_bad_row_gets_its_reason(communes, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,status,lat,lng\n"
        "ok,2026-10-01 10:00,,bache,submitted,-33.6117,-70.5758\n"
        "nolat,2026-10-01 10:00,,bache,submitted,,-70.5758\n"
        "text,2026-10-01 10:00,,bache,submitted,abc,-70.5758\n"
        "range,2026-10-01 10:00,,bache,submitted,-95,-70.5758\n"
        "far,2026-10-01 10:00,,bache,submitted,-33.4378,-70.6505\n"
        "cat,2026-10-01 10:00,,dragones,submitted,-33.6117,-70.5758\n"
        "date,ayer,,bache,submitted,-33.6117,-70.5758\n"
        "order,2026-10-05 10:00,2026-10-01 10:00,bache,resolved,-33.6117,-70.5758\n"
        "ok,2026-10-01 10:00,,bache,submitted,-33.6117,-70.5758\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "r.csv"
    run_import(str(path), "--rejects", str(rejects), "--commit")
    reasons = {row["source_id"]: (row["campo"], row["motivo"]) for row in read_rejects(rejects)}
    assert reasons["nolat"] == ("latitude", "Falta la latitud.")
    assert reasons["text"] == ("latitude", "La latitud debe ser un número.")
    assert reasons["range"] == ("latitude", "La latitud debe estar entre -90 y 90.")
    assert reasons["far"][0] == "location"
    assert reasons["far"][1].startswith("El punto está fuera de las comunas atendidas. La más cercana es Peñalolén")
    assert reasons["cat"] == ("category", "La categoría 'dragones' no existe o no está activa.")
    assert reasons["date"] == ("created_at", "fecha de creación ausente o ilegible")
    assert reasons["order"] == ("closed_at", "cerrada antes de ser creada")
    assert list(Report.objects.values_list("source_id", flat=True)) == ["ok"]
    assert len(read_rejects(rejects)) == 8


def test_a_long_import_under_debug_keeps_no_statement_of_its_chunks(communes, tmp_path, settings):
    """DEBUG makes Django keep every statement's text; a restarted import looks its rows' keys up in statements of
    megabytes, so the importer drops that log after each chunk and its memory stays flat whatever the file size."""
    from django.db import connection

    source = shared_data(LA_FILE)
    args = (str(source), "--mapping", "la311", "--place-in", "13201", "--rejects", str(tmp_path / "r.csv"), "--commit")
    run_import(*args)
    settings.DEBUG = True
    connection.queries_log.clear()
    out = run_import(*args, "--chunk-rows", "500")  # 20 chunks, every row found imported
    assert "insertadas: 0" in out
    logged = [query["sql"] for query in connection.queries]
    assert logged, "the statements after the chunks are logged: DEBUG was on"
    assert not [sql for sql in logged if "import_staging" in sql or sql.startswith("SELECT key FROM")]


def test_the_import_command_loads_no_view_pdf_or_plotting_library():
    """The importer's memory is its chunks': the URL checks (every view: maps, folium, DRF, ~150 MB), the answer
    letters' PDF library and matplotlib (~45 MB) are not loaded by a run of the command, checks included."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from django.core.management import ManagementUtility\n"
        "try:\n"
        "    ManagementUtility(['manage.py', 'import_reports', '/nonexistent/historia.csv']).execute()\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code)\n"
        "print(sorted(name for name in ('geo_siac.urls', 'folium', 'fpdf', 'matplotlib') if name in sys.modules))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "geo_siac.settings"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "No existe el archivo /nonexistent/historia.csv" in result.stderr  # the command ran, after its checks
    assert result.stdout.strip().splitlines()[-2:] == ["exit 1", "[]"]


def test_an_imported_open_request_past_submitted_has_an_unknown_first_response_and_a_closed_one_its_closing(
    communes, tmp_path
):
    path = tmp_path / "native.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
        "open-ack,2026-10-01 10:00,,bache,web,acknowledged,-33.6117,-70.5758,x\n"
        "open-work,2026-10-01 10:00,,bache,web,in_progress,-33.6117,-70.5758,x\n"
        "open-dated,2026-10-01 10:00,2026-10-02 10:00,bache,web,in_progress,-33.6117,-70.5758,x\n"
        "new,2026-10-01 10:00,,bache,web,submitted,-33.6117,-70.5758,x\n"
        "closed,2026-10-01 10:00,2026-10-03 10:00,bache,web,resolved,-33.6117,-70.5758,x\n",
        encoding="utf-8",
    )
    run_import(str(path), "--commit")
    reports = {r.source_id: r for r in Report.objects.all()}
    assert reports["open-ack"].first_response_at is None and reports["open-work"].first_response_at is None
    assert reports["new"].first_response_at is None
    # A closing date on an open row is dropped (rows.py), so it is neither its closing nor its first response.
    assert reports["open-dated"].closed_at is None and reports["open-dated"].first_response_at is None
    assert reports["closed"].first_response_at == reports["closed"].closed_at

    # Its next change is not its first response either: the first one happened, in the source, at a time unknown.
    moved = report_change_status(report=reports["open-ack"], status="in_progress", public_note=EXPLAINED_BY_CALLER)
    assert moved.first_response_at is None
