"""Malformed and hostile input at every entry point: a clear 4xx or CommandError, nothing written, no 500."""

import csv
import io
import json
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from PIL import Image

from geo_siac.reports.models import Report, ReportPhoto
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.zones.models import Commune, PopulationCell, ServicePoint

LAT, LNG = PUENTE_ALTO_CENTRE
BAD_COORDINATES = ["NaN", "nan", "Infinity", "-inf", "1e309", "9" * 400, "1e5", "0x10", "", "  ", "--1", "1;DROP TABLE"]
INJECTIONS = [
    "'; DROP TABLE reports_report; --",
    "<script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "{{ settings.SECRET_KEY }}",
    "../../../../etc/passwd",
]


def form(**overrides) -> dict:
    return {"service_code": "retiro-escombros", "lat": LAT, "long": LNG, "description": "Escombros.", **overrides}


def open311(api_key: str, **overrides) -> dict:
    return {
        "api_key": api_key,
        "jurisdiction_id": "puente-alto",
        "service_code": "retiro-escombros",
        "lat": LAT,
        "long": LNG,
        "description": "Escombros.",
        **overrides,
    }


@pytest.fixture
def api_key(communes):
    from geo_siac.open311.services import api_key_create

    return api_key_create(name="app", rate_limit_per_minute=10_000)[1]


@pytest.fixture(autouse=True)
def generous_rate_limit(settings, tmp_path):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10_000
    settings.MEDIA_ROOT = tmp_path


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def png_bomb() -> bytes:
    """A valid PNG header claiming 60000 x 60000 pixels over a few hundred bytes of zeros."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10_000))
        + chunk(b"IEND", b"")
    )


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"\0" * 20_000_000)
    return buffer.getvalue()


def gif_js_polyglot() -> bytes:
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=alert(document.domain)//;" + b"\0" * 20


# Web form ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_COORDINATES)
def test_web_form_rejects_non_finite_or_out_of_range_coordinates(client, communes, value):
    for field in ("lat", "long"):
        response = client.post("/", form(**{field: value}))
        assert response.status_code == 400
    assert not Report.objects.exists()


def test_web_form_answers_400_to_a_10_mb_description_and_writes_nothing(client, communes):
    response = client.post("/", form(description="x" * 10 * 1024 * 1024))
    assert response.status_code == 400
    assert not Report.objects.exists()


def test_web_form_rejects_a_description_over_the_limit_by_field(client, communes):
    response = client.post("/", form(description="x" * 5000))
    assert response.status_code == 400
    assert "máximo" in response.content.decode()
    assert not Report.objects.exists()


def test_web_form_rejects_unknown_categories_and_hostile_codes(client, communes):
    for code in INJECTIONS:
        assert client.post("/", form(service_code=code)).status_code == 400
    assert not Report.objects.exists()


@pytest.mark.parametrize("code", ["retiro-escombros\x00", "\x00", "retiro-escombros\u202e", "a" * 51])
def test_web_form_names_a_category_no_category_can_have(client, communes, code):
    response = client.post("/", form(service_code=code))
    assert response.status_code == 400
    assert "no existe o no está activa" in response.content.decode()
    assert not Report.objects.exists()


def test_web_form_names_a_tampered_form_token(client, communes):
    response = client.post("/", form(token="abc\x00def"))
    assert response.status_code == 400
    assert "El formulario llegó dañado" in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize("code", ["retiro-escombros\x00", "\x00", "' OR 1=1 --"])
def test_duplicate_lookup_names_a_category_no_category_can_have(client, communes, code):
    response = client.get("/api/duplicados/", {"latitude": LAT, "longitude": LNG, "category": code})
    assert response.status_code == 400 and "category" in response.json()["errors"]


def test_injection_strings_are_stored_as_text_and_shown_escaped(client, communes):
    for text in INJECTIONS:
        response = client.post("/", form(description=text, address=text[:200], public_visibility="on"))
        assert response.status_code == 302
    assert Report.objects.count() == len(INJECTIONS)
    report = Report.objects.get(description="<script>alert(1)</script>")
    page = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "name,content",
    [
        ("bomb.png", png_bomb()),
        ("foto.jpg", zip_bomb()),
        ("polyglot.gif", gif_js_polyglot()),
        ("foto.jpg", b"%PDF-1.4\n" + b"0" * 100),
        ("foto.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ],
)
def test_web_form_rejects_bombs_and_polyglots_as_photos(client, communes, name, content):
    photo = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = client.post("/", {**form(), "photo": photo})
    assert response.status_code == 400
    assert not Report.objects.exists() and not ReportPhoto.objects.exists()


def test_path_traversal_in_a_photo_name_never_reaches_the_file_system(client, communes, tmp_path):
    photo = SimpleUploadedFile("../../../../tmp/evil.png", png_bytes(), content_type="image/png")
    assert client.post("/", {**form(), "photo": photo}).status_code == 302
    stored = ReportPhoto.objects.get()
    assert ".." not in stored.image.name and "evil" not in stored.image.name
    assert all(tmp_path in path.parents for path in tmp_path.rglob("*"))
    assert not (tmp_path.parent / "evil.png").exists()


# Staff pages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/cuadrilla/solicitud/%00/",
        "/cuadrilla/solicitud/PA-%00/estado/",
        "/operador/registrada/%00/",
        "/cuadrilla/solicitud/..%2F..%2Fetc%2Fpasswd/",
    ],
)
def test_a_hostile_tracking_code_in_a_staff_url_is_a_404(client, crews, url):
    client.force_login(crews["admin"])
    assert client.get(url).status_code in (404, 405)


def test_a_crew_finds_a_report_by_its_code_typed_in_lower_case(client, crews, make_report):
    from geo_siac.testing import WEST_POINT

    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    assert client.get(f"/cuadrilla/solicitud/{report.tracking_code.lower()}/").status_code == 200


def test_supervision_bulk_change_with_a_hostile_code_changes_nothing(client, crews, make_report):
    from geo_siac.testing import WEST_POINT

    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = client.post("/cuadrilla/supervision/", {"reports": ["\x00", "' OR 1=1 --"], "crew": crews["B"].pk})
    assert response.status_code == 400 and "Seleccione al menos una solicitud" in response.content.decode()
    report.refresh_from_db()
    assert report.crew_id == crews["A"].pk
    response = client.post(
        "/cuadrilla/supervision/", {"reports": [report.tracking_code.lower()], "crew": crews["B"].pk}
    )
    report.refresh_from_db()
    assert response.status_code == 302 and report.crew_id == crews["B"].pk


# Open311 ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_COORDINATES)
def test_open311_rejects_non_finite_or_out_of_range_coordinates(client, api_key, value):
    response = client.post("/open311/v2/requests.json", open311(api_key, lat=value))
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400
    assert not Report.objects.exists()


def test_open311_answers_400_to_a_10_mb_description(client, api_key):
    response = client.post("/open311/v2/requests.json", open311(api_key, description="x" * 10 * 1024 * 1024))
    assert response.status_code == 400
    assert not Report.objects.exists()


@pytest.mark.parametrize("code", INJECTIONS + ["retiro-escombros\x00", "\x00"])
def test_open311_rejects_hostile_service_codes(client, api_key, code):
    response = client.post("/open311/v2/requests.json", open311(api_key, service_code=code))
    assert 400 <= response.status_code < 500
    assert not Report.objects.exists()


def test_open311_rejects_a_hostile_api_key_without_a_500(client, communes):
    for key in INJECTIONS + ["\x00"]:
        assert client.post("/open311/v2/requests.json", open311(key)).status_code in (400, 403)
    assert not Report.objects.exists()


# GeoJSON API query parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "NaN,NaN,NaN,NaN"},
        {"bbox": "-inf,-90,inf,90"},
        {"bbox": "1e309,0,0,0"},
        {"bbox": "1,2,3"},
        {"bbox": "-70,-33,-71,-34"},
        {"bbox": "' OR 1=1 --"},
        {"created_after": "not-a-date"},
        {"created_after": "99999-01-01"},
        {"status": "<script>"},
        {"page": "-1"},
        {"page": "1e309"},
    ],
)
def test_geojson_api_answers_4xx_to_malformed_query_parameters(client, make_report, params):
    make_report()
    response = client.get("/api/reports/", params)
    assert 400 <= response.status_code < 500


def test_geojson_api_treats_injection_in_filters_as_a_plain_value(client, make_report):
    make_report()
    response = client.get("/api/reports/", {"commune": "13201' OR '1'='1", "category": "x'; DROP TABLE x; --"})
    assert response.status_code == 200
    assert response.json()["features"] == []


# Import commands --------------------------------------------------------------------------------------------


def run(command: str, *args):
    call_command(command, *args, "--commit", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00\x00garbage\x00\x01\x02",
        "id;categoria;lat;lon\n1;baches;-33,6;-70,5\n".encode("latin-1"),
        b"",
        zip_bomb(),
    ],
)
def test_import_reports_refuses_broken_files_and_writes_nothing(communes, tmp_path, content):
    path = tmp_path / "reports.csv"
    path.write_bytes(content)
    before = Report.objects.count()
    with pytest.raises(CommandError):
        run("import_reports", str(path), "--no-progress", "--rejects", str(tmp_path / "rejects.csv"))
    assert Report.objects.count() == before


def test_import_reports_lists_a_chunk_whose_every_row_is_bad_instead_of_crashing(communes, tmp_path):
    """Two chunks of two rows: the first all bad (no date, a NUL, NaN), the second half good."""
    header = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description,address\n"
    good = f"2026-11-02T10:00:00-03:00,,retiro-escombros,web,submitted,{LAT},{LNG},Escombros,Calle 1\n"
    path = tmp_path / "reports.csv"
    path.write_text(
        header + f"a,,,retiro-escombros,web,submitted,{LAT},{LNG},x,y\n"
        f"b,2026-11-01T10:00:00-03:00,,retiro-escombros,web,submitted,NaN,{LNG},x,y\n"
        "c," + good + f"d,2026-11-01,,grafiti\x00,web,submitted,{LAT},{LNG},x,y\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command(
        "import_reports",
        str(path),
        "--no-progress",
        "--commit",
        "--chunk-rows",
        "2",
        "--rejects",
        str(tmp_path / "rejects.csv"),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert list(Report.objects.values_list("source_id", flat=True)) == ["c"]
    assert "rechazadas: 3" in out.getvalue()


@pytest.mark.parametrize(
    "created,closed,status,reason",
    [
        ("1969-12-31T12:00:00Z", "", "submitted", "fecha de creación fuera de rango"),
        ("2099-01-01T12:00:00Z", "", "submitted", "fecha de creación fuera de rango"),
        ("2026-11-01T10:00:00-03:00", "2150-01-01T10:00:00Z", "resolved", "fecha de cierre fuera de rango"),
        ("00000101T000000", "", "submitted", "fecha de creación ausente o ilegible"),
        ("9999/12/31T210000", "", "submitted", "fecha de creación ausente o ilegible"),
        ("+10000-01-01T00:00:00", "", "submitted", "fecha de creación ausente o ilegible"),
    ],
)
def test_import_reports_rejects_dates_outside_the_calendar_by_row(communes, tmp_path, created, closed, status, reason):
    """A date before 1970 or after today would stop the indicators (they refuse what their business-day
    calendar lacks); a year 0 or 10000 made pandas raise instead of reading the row as unreadable."""
    path = tmp_path / "reports.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description,address\n"
        f"a,{created},{closed},retiro-escombros,web,{status},{LAT},{LNG},x,y\n"
        f"b,2026-11-01T10:00:00-03:00,,retiro-escombros,web,submitted,{LAT},{LNG},x,y\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command(
        "import_reports",
        str(path),
        "--no-progress",
        "--commit",
        "--rejects",
        str(tmp_path / "r.csv"),
        stdout=out,
        stderr=io.StringIO(),
    )
    assert list(Report.objects.values_list("source_id", flat=True)) == ["b"]
    assert reason in (tmp_path / "r.csv").read_text(encoding="utf-8")


def test_import_reports_rejects_control_characters_as_report_create_does(communes, tmp_path):
    path = tmp_path / "reports.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description,address\n"
        f'a,2026-11-01T10:00:00-03:00,,retiro-escombros,web,submitted,{LAT},{LNG},"x\x0by",calle\n'
        f'b,2026-11-01T10:00:00-03:00,,retiro-escombros,web,submitted,{LAT},{LNG},x,"calle\x01"\n'
        f'c,2026-11-01T10:00:00-03:00,,retiro-escombros,web,submitted,{LAT},{LNG},"dos\nlíneas",c\n',
        encoding="utf-8",
    )
    call_command(
        "import_reports",
        str(path),
        "--no-progress",
        "--commit",
        "--rejects",
        str(tmp_path / "r.csv"),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert list(Report.objects.values_list("source_id", flat=True)) == ["c"]
    with open(tmp_path / "r.csv", newline="", encoding="utf-8") as handle:
        rejects = {row["source_id"]: (row["campo"], row["motivo"]) for row in csv.DictReader(handle)}
    message = "El texto contiene caracteres de control no permitidos."
    assert rejects == {"a": ("description", message), "b": ("address", message)}


def test_open311_xml_stays_well_formed_whatever_a_stored_description_holds(client, make_report):
    """Reports written before the importer refused control characters, or by any other path."""
    from xml.etree import ElementTree

    report = make_report(public_visibility=True)
    Report.objects.filter(pk=report.pk).update(description="antes\x0b\x01después\ufffe")
    body = client.get("/open311/v2/requests.xml").content
    assert ElementTree.fromstring(body).find("request/description").text == "antesdespués"


def test_import_reports_refuses_a_missing_file(communes, tmp_path):
    with pytest.raises(CommandError):
        run("import_reports", str(tmp_path / ".." / "nope" / "reports.csv"), "--no-progress")


def feature_collection(coordinates, crs: str | None = None) -> str:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "CUT_COM": "13999",
                    "COMUNA": "Prueba",
                    "CUT_REG": "13",
                    "REGION": "RM",
                    "CUT_PROV": "131",
                    "PROVINCIA": "Santiago",
                },
                "geometry": {"type": "Polygon", "coordinates": coordinates},
            }
        ],
    }
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(collection)


def test_load_comunas_repairs_a_self_intersecting_boundary_and_says_so(communes, tmp_path):
    path = tmp_path / "comunas.geojson"
    path.write_text(
        feature_collection([[[-70.6, -33.6], [-70.5, -33.5], [-70.6, -33.5], [-70.5, -33.6], [-70.6, -33.6]]])
    )
    out = io.StringIO()
    call_command("load_comunas", str(path), "--field-cut", "CUT_COM", "--field-name", "COMUNA", "--commit", stdout=out)
    assert "Self-intersection" in out.getvalue()
    assert Commune.objects.get(cut="13999").geometry.valid


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": null}]}',
        feature_collection([[[-70.6, -33.6], [-70.5, -33.5], [-70.6, -33.5], [-70.5, -33.6], [-70.6, -33.6]]]),
        feature_collection([[[float("nan"), -33.6], [-70.5, -33.5], [-70.6, -33.5], [-70.6, -33.6]]]).replace(
            "NaN", "1e999"
        ),
        feature_collection([[[330000, 6280000], [340000, 6280000], [340000, 6290000], [330000, 6280000]]]),
    ],
)
def test_load_comunas_refuses_or_repairs_bad_geometries_without_storing_invalid_ones(communes, tmp_path, content):
    path = tmp_path / "comunas.geojson"
    path.write_text(content)
    try:
        run("load_comunas", str(path), "--field-cut", "CUT_COM", "--field-name", "COMUNA")
    except CommandError:
        pass
    stored = Commune.objects.filter(cut="13999")
    assert all(c.geometry.valid and -80 < c.geometry.extent[0] < -60 for c in stored)


@pytest.mark.parametrize(
    "content",
    [
        b"nombre;latitud;longitud\nCESFAM;NaN;inf\n",
        "name,latitude,longitude\nCESFAM \xd1u\xf1oa,-33.6,-70.5\n".encode("latin-1"),
        b"\x00\x01\x02\x03",
        b"name|latitude|longitude\nx|1e309|-70\n",
    ],
)
def test_load_service_points_refuses_broken_csv_and_writes_nothing(communes, tmp_path, content):
    path = tmp_path / "points.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError):
        run("load_service_points", str(path), "--kind", "health", "--no-progress")
    assert not ServicePoint.objects.exists()


@pytest.mark.parametrize("content", [b"", b"\x00garbage", zip_bomb()])
def test_load_population_refuses_broken_files(communes, tmp_path, content):
    path = tmp_path / "censo.parquet"
    path.write_bytes(content)
    with pytest.raises(CommandError):
        run("load_population", str(path), "--no-progress")
    assert not PopulationCell.objects.exists()
