"""Property-based: any query string or form body at the public entry points gets an answer below 500, and a
submission either stores exactly one report (201 / 302) or nothing (4xx). Hostile values (NUL, NaN, injection,
traversal, huge numbers, bidi controls) are mixed into otherwise valid requests, so every field's validation
is reached, not only the first one. The same for rows of `import_reports` (each is stored or rejected with a
reason, and the command never stops on one) and for the supervisor's forms."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from geo_siac.reports.models import Report, Submission

HOSTILE = st.one_of(st.text(max_size=40), st.sampled_from([
    "", "NaN", "inf", "-inf", "1e309", "0x10", "' OR 1=1 --", "<script>", "../../etc/passwd", "\x00", "a\x00b",
    "2026-13-45", "2026-11-23T25:00:00", "-33.6117", "-70.5758", "-70.6,-33.7,-70.5,-33.5", "last", "9" * 30, "-1",
    "open,closed", "retiro-escombros", "puente-alto", "13201", "[]", "{}", "%00", "ñandú", "\u202e", "1" * 500]))
# Derandomised, as tests/test_openapi.py: the same examples on every run, so CI is repeatable.
EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

WEB = {"service_code": "poda-arboles", "lat": "-33.6117", "long": "-70.5758", "description": "Rama caída",
       "attribute[poda-arboles][riesgo]": "si", "reporter_name": "Ana", "reporter_email": "ana@example.cl",
       "reporter_phone": "+56912345678", "consent": "on", "public_visibility": "on", "address": "Calle 1"}
OPEN311 = {"jurisdiction_id": "puente-alto", "service_code": "poda-arboles", "lat": "-33.6117", "long": "-70.5758",
           "description": "Rama caída", "attribute[riesgo]": "si", "email": "ana@example.cl",
           "phone": "+56912345678", "first_name": "Ana", "last_name": "Soto", "address_string": "Calle 1",
           "device_id": "d1", "account_id": "a1", "media_url": "https://example.cl/x.jpg"}
FIELDS = sorted(set(WEB) | set(OPEN311) | {"token", "attribute[otro]", "attribute[poda-arboles][otro]"})
MUTATIONS = st.dictionaries(st.sampled_from(FIELDS), HOSTILE, min_size=1, max_size=3)
READS = ["/api/reports/", "/api/categories/", "/api/duplicados/", "/open311/v2/requests.json",
         "/open311/v2/requests.xml", "/open311/v2/services.json", "/open311/v2/discovery.json", "/seguimiento/",
         "/open311/v2/tokens/abc.json", "/open311/v2/requests/1.json", "/transparencia/datos/solicitudes.csv",
         "/transparencia/datos/solicitudes.geojson", "/transparencia/datos/indicadores.json"]
QUERIES = st.dictionaries(st.sampled_from([
    "lat", "long", "latitude", "longitude", "category", "service_code", "jurisdiction_id", "bbox", "page", "page_size",
    "status", "commune", "created_after", "created_before", "start_date", "end_date", "service_request_id", "radius",
    "codigo"]),
    HOSTILE, max_size=6)


@pytest.fixture
def api_key(communes):
    from geo_siac.open311.services import api_key_create

    return api_key_create(name="fuzz", rate_limit_per_minute=10**9)[1]


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10**9


def submitted_once_or_not_at_all(response, before: int, created: int, repeated: bool = False) -> None:
    assert response.status_code < 500, response.content[:300]
    stored = Report.objects.count() - before
    assert stored == (1 if response.status_code == created and not repeated else 0), (response.status_code, stored)


@EXAMPLES
@given(MUTATIONS)
def test_any_web_form_body_stores_one_report_or_nothing(client, communes, mutation):
    before = Report.objects.count()
    body = {**WEB, "token": f"fuzz-{before}", **mutation}
    # A token already used is a resubmitted form: it answers with the first report and stores nothing.
    token = body["token"][:64]
    repeated = "\x00" not in token and Submission.objects.filter(token=token).exists()
    response = client.post("/", body)
    submitted_once_or_not_at_all(response, before, 302, repeated)


@EXAMPLES
@given(MUTATIONS)
def test_any_open311_body_stores_one_report_or_nothing(client, api_key, mutation):
    before = Report.objects.count()
    response = client.post("/open311/v2/requests.json", {**OPEN311, "api_key": api_key, **mutation})
    submitted_once_or_not_at_all(response, before, 201)


@EXAMPLES
@given(st.sampled_from(READS), QUERIES)
def test_any_query_string_on_a_public_read_is_answered_below_500(client, communes, url, query):
    assert client.get(url, query).status_code < 500


IMPORT_COLUMNS = ["source_id", "created_at", "closed_at", "service_code", "channel", "status", "lat", "lng",
                  "description", "address"]
IMPORT_ROW = {"created_at": "2026-11-01T10:00:00-03:00", "closed_at": "", "service_code": "retiro-escombros",
              "channel": "web", "status": "submitted", "lat": "-33.6117", "lng": "-70.5758", "description": "x",
              "address": "y"}
DATES = st.sampled_from(["", "2026-02-30", "0001-01-01", "9999-12-31T23:59:59", "00000101T000000",
                         "9999/12/31T210000", "1969-12-31T23:59:59Z", "2101-01-01T00:00:00Z", "2026-13-45",
                         "2026-11-01T10:00:00-03:00", "2026-11-01", "2026-11-01 10:00:00+03"])
IMPORT_MUTATIONS = st.lists(st.dictionaries(st.sampled_from(IMPORT_COLUMNS[1:]), st.one_of(HOSTILE, DATES),
                                            max_size=3), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(IMPORT_MUTATIONS)
def test_any_import_row_is_stored_or_rejected_with_a_reason(communes, tmp_path_factory, rows):
    import csv
    import io

    from django.core.management import call_command

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=IMPORT_COLUMNS)
    writer.writeheader()
    before = Report.objects.count()
    for i, row in enumerate(rows):
        writer.writerow({**IMPORT_ROW, "source_id": f"fuzz-{before}-{i}", **row})
    folder = tmp_path_factory.mktemp("import")
    (folder / "reports.csv").write_text(buffer.getvalue(), encoding="utf-8")
    out = io.StringIO()
    call_command("import_reports", str(folder / "reports.csv"), "--no-progress", "--commit", "--no-bulk",
                 "--rejects", str(folder / "rejects.csv"), stdout=out, stderr=io.StringIO())
    summary = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    inserted, rejected = int(summary["insertadas"]), int(summary["rechazadas"].split()[0])
    assert inserted + rejected == len(rows) and Report.objects.count() - before == inserted


STAFF_FIELDS = ["status", "note", "note_is_public", "seen", "reason", "crew", "business_days", "reports"]
STAFF_ACTIONS = ["estado", "devolver", "derivar", "prorrogar", "supervision"]


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(STAFF_ACTIONS), st.dictionaries(st.sampled_from(STAFF_FIELDS), HOSTILE, min_size=1, max_size=3))
def test_any_staff_form_body_is_answered_below_500(client, crews, make_report, action, mutation):
    """A supervisor's forms (status, hand back, reroute, extend, bulk change) with one to three hostile fields."""
    from geo_siac.testing import WEST_POINT

    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    body = {"status": "in_progress", "note": "ok", "seen": report.updated_at.isoformat(), "reason": "motivo",
            "crew": str(crews["B"].pk), "business_days": "2", "reports": report.tracking_code, **mutation}
    url = ("/cuadrilla/supervision/" if action == "supervision"
           else f"/cuadrilla/solicitud/{report.tracking_code}/{action}/")
    assert client.post(url, body).status_code < 500
