"""Property-based: any query string or form body at the public entry points gets an answer below 500, and a
submission either stores exactly one report (201 / 302) or nothing (4xx). Hostile values (NUL, NaN, injection,
traversal, huge numbers, bidi controls) are mixed into otherwise valid requests, so every field's validation
is reached, not only the first one. The same for rows of `import_reports` (each is stored or rejected with a
reason, and the command never stops on one) and for the supervisor's forms."""

import io
import re
import zlib
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.http import QueryDict
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve
from django.urls.converters import get_converters
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_siac.reports.messages import survey_token
from geo_siac.reports.models import Report, Submission
from geo_siac.testing import EAST_POINT, WEST_POINT, staff_account
from tests.test_coverage_page import puente_alto  # noqa: F401 (fixture)

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "0x10",
            "' OR 1=1 --",
            "<script>",
            "../../etc/passwd",
            "\x00",
            "a\x00b",
            "2026-13-45",
            "2026-11-23T25:00:00",
            "-33.6117",
            "-70.5758",
            "-70.6,-33.7,-70.5,-33.5",
            "last",
            "9" * 30,
            "-1",
            "open,closed",
            "retiro-escombros",
            "puente-alto",
            "13201",
            "[]",
            "{}",
            "%00",
            "ñandú",
            "\u202e",
            "1" * 500,
        ]
    ),
)
# Derandomised, as tests/test_openapi.py: the same examples on every run, so CI is repeatable.
EXAMPLES = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

WEB = {
    "service_code": "poda-arboles",
    "lat": "-33.6117",
    "long": "-70.5758",
    "description": "Rama caída",
    "attribute[poda-arboles][riesgo]": "si",
    "reporter_name": "Ana",
    "reporter_email": "ana@example.cl",
    "reporter_phone": "+56912345678",
    "consent": "on",
    "public_visibility": "on",
    "address": "Calle 1",
}
OPEN311 = {
    "jurisdiction_id": "puente-alto",
    "service_code": "poda-arboles",
    "lat": "-33.6117",
    "long": "-70.5758",
    "description": "Rama caída",
    "attribute[riesgo]": "si",
    "email": "ana@example.cl",
    "phone": "+56912345678",
    "first_name": "Ana",
    "last_name": "Soto",
    "address_string": "Calle 1",
    "device_id": "d1",
    "account_id": "a1",
    "media_url": "https://example.cl/x.jpg",
}
FIELDS = sorted(set(WEB) | set(OPEN311) | {"token", "attribute[otro]", "attribute[poda-arboles][otro]"})
MUTATIONS = st.dictionaries(st.sampled_from(FIELDS), HOSTILE, min_size=1, max_size=3)
READS = [
    "/api/reports/",
    "/api/categories/",
    "/api/duplicados/",
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml",
    "/open311/v2/services.json",
    "/open311/v2/discovery.json",
    "/seguimiento/",
    "/open311/v2/tokens/abc.json",
    "/open311/v2/requests/1.json",
    "/transparencia/datos/solicitudes.csv",
    "/transparencia/datos/solicitudes.geojson",
    "/transparencia/datos/indicadores.json",
]
QUERIES = st.dictionaries(
    st.sampled_from(
        [
            "lat",
            "long",
            "latitude",
            "longitude",
            "category",
            "service_code",
            "jurisdiction_id",
            "bbox",
            "page",
            "page_size",
            "status",
            "commune",
            "created_after",
            "created_before",
            "start_date",
            "end_date",
            "service_request_id",
            "radius",
            "codigo",
        ]
    ),
    HOSTILE,
    max_size=6,
)


@pytest.fixture
def api_key(communes):
    from geo_siac.open311.services import api_key_create

    return api_key_create(name="fuzz", rate_limit_per_minute=10**9)[1]


@pytest.fixture
def snapshots(communes):
    """The indicators and open data stored as their timers keep them (before their first run the exports answer 503)."""
    from geo_siac.transparency.services import indicator_snapshots_refresh

    indicator_snapshots_refresh()
    call_command("publish_open_data", stdout=io.StringIO())
    return communes


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
def test_any_query_string_on_a_public_read_is_answered_below_500(client, snapshots, url, query):
    assert client.get(url, query).status_code < 500


IMPORT_COLUMNS = [
    "source_id",
    "created_at",
    "closed_at",
    "service_code",
    "channel",
    "status",
    "lat",
    "lng",
    "description",
    "address",
]
IMPORT_ROW = {
    "created_at": "2026-11-01T10:00:00-03:00",
    "closed_at": "",
    "service_code": "retiro-escombros",
    "channel": "web",
    "status": "submitted",
    "lat": "-33.6117",
    "lng": "-70.5758",
    "description": "x",
    "address": "y",
}
DATES = st.sampled_from(
    [
        "",
        "2026-02-30",
        "0001-01-01",
        "9999-12-31T23:59:59",
        "00000101T000000",
        "9999/12/31T210000",
        "1969-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2026-13-45",
        "2026-11-01T10:00:00-03:00",
        "2026-11-01",
        "2026-11-01 10:00:00+03",
    ]
)
IMPORT_MUTATIONS = st.lists(
    st.dictionaries(st.sampled_from(IMPORT_COLUMNS[1:]), st.one_of(HOSTILE, DATES), max_size=3), min_size=1, max_size=4
)


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
    call_command(
        "import_reports",
        str(folder / "reports.csv"),
        "--no-progress",
        "--commit",
        "--no-bulk",
        "--rejects",
        str(folder / "rejects.csv"),
        stdout=out,
        stderr=io.StringIO(),
    )
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
    body = {
        "status": "in_progress",
        "note": "ok",
        "seen": report.updated_at.isoformat(),
        "reason": "motivo",
        "crew": str(crews["B"].pk),
        "business_days": "2",
        "reports": report.tracking_code,
        **mutation,
    }
    url = (
        "/cuadrilla/supervision/"
        if action == "supervision"
        else f"/cuadrilla/solicitud/{report.tracking_code}/{action}/"
    )
    assert client.post(url, body).status_code < 500


# --- Every URL pattern, every role, hostile values in every parameter it reads ------------------------------------

ROLES = ["anonymous", "citizen", "crew", "supervisor", "operator", "planner", "superuser"]
# One value per parameter, role and method, in turn: of any four turns, one is NUL and one a 400-digit number.
OTHERS = [
    "-" + "9" * 400,
    "9223372036854775808",
    "1e309",
    "NaN",
    "-1",
    "",
    "x" * 5000,
    "2026-13-45",
    "2026-02-30",
    "0001-01-01T00:00",
    "9999-12-31",
    "a\x00b",
    "' OR 1=1 --",
    "<img src=x onerror=alert(1)>",
    "../../etc/passwd",
    "\u202e",
    "ñandú",
    "10001,-1",
]
TURNS = [value for pair in zip(OTHERS[::2], OTHERS[1::2], strict=True) for value in ("\x00", "9" * 400, *pair)]
PATH_TURNS = ["\x00", "9" * 400, "x" * 5000, "..%2F..%2Fetc%2Fpasswd"]
# What a valid request holds, so that one hostile parameter reaches the code behind the others' validation.
VALID = {
    **WEB,
    **OPEN311,
    "category": "retiro-escombros",
    "service_code": "retiro-escombros",
    "commune": "13201",
    "comuna": "13201",
    "res": "9",
    "thresholds": "500,1000",
    "catchment_m": "2000",
    "k": "1",
    "month": "2026-10",
    "since": "2026-01-01",
    "until": "2026-12-31",
    "measure": "count",
    "scheme": "quantiles",
    "classes": "5",
    "status": "in_progress",
    "channel": "phone",
    "latitude": "-33.61",
    "longitude": "-70.59",
    "lat": "-33.61",
    "lng": "-70.59",
    "note": "ok",
    "reason": "motivo",
    "business_days": "2",
    "codigo": "",
    "pagina": "1",
    "resolution_rating": "5",
    "service_rating": "4",
    "comment": "Bien",
    "email": "vecina@example.cl",
    "language": "es",
    "next": "/",
    "username": "nadie",
    "password": "x",
    "at": "2026-03-03T10:00",
    "kinds": "health",
}
# Path parameters that name no record of ours (formats, admin app labels) keep what the pattern allows.
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
NAMED_GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")
REGEX_SYNTAX = [("(?:", ""), (")?", ""), ("/?", ""), ("^", ""), ("$", ""), ("\\.", "."), (".*", "x")]


def every_route(patterns=None, prefix: str = "") -> list[str]:
    """Every URL pattern of the project (admin, APIs, Open311, every app), as the resolver's full route."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            routes += every_route(pattern.url_patterns, joined(prefix, str(pattern.pattern)))
        else:
            routes.append(joined(prefix, str(pattern.pattern)))
    return routes


def joined(prefix: str, route: str) -> str:
    """As the resolver joins an include's route to its patterns' (ResolverMatch.route)."""
    return prefix + route.removeprefix("^") if prefix else route


def path_for(route: str, values: dict[str, str]) -> str:
    path = NAMED_GROUP.sub(lambda m: values.get(m[1]) or re.split(r"[|)\]]", m[2].lstrip("("))[0], route)
    path = CONVERTER.sub(lambda m: converted(m[1], values[m[2]]), path)
    for syntax, text in REGEX_SYNTAX:
        path = path.replace(syntax, text)
    return "/" + path


def path_parameters(route: str) -> set[str]:
    converters = CONVERTER.finditer(NAMED_GROUP.sub("", route))
    return {m[1] for m in NAMED_GROUP.finditer(route)} | {m[2] for m in converters}


def converted(converter: str | None, value: str) -> str:
    """DRF's format suffix converter takes the suffix with its dot."""
    if converter and not re.fullmatch(get_converters()[converter].regex, value):
        return f".{value}" if re.fullmatch(get_converters()[converter].regex, f".{value}") else value
    return value


@contextmanager
def parameters_read():
    """The names the view asked the request's query string or form body for (whether it held them or not): the
    one of the two the test filled, so a POST's hostile values go only where a POST is read."""
    names = set()

    def spy(method):
        def read(self, key, *args, **kwargs):
            if isinstance(self, QueryDict) and len(self):
                names.add(key)
            return method(self, key, *args, **kwargs)

        return read

    methods = ("__contains__", "get", "getlist")  # not [...]: iterating over every item reads them all
    with mock.patch.multiple(MultiValueDict, **{m: spy(getattr(MultiValueDict, m)) for m in methods}):
        yield names


def hostile(name: str, turn: int) -> str:
    return TURNS[(zlib.crc32(name.encode()) + turn) % len(TURNS)]


def role_user(role: str, crews: dict, django_user_model):
    if role in ("anonymous", "citizen"):
        return None
    if role == "planner":
        return staff_account("planificadora", is_staff=True)
    user = {
        "crew": crews["member_a"],
        "supervisor": crews["supervisor"],
        "operator": crews["operator"],
        "superuser": crews["admin"],
    }[role]
    if role in ("supervisor", "operator"):
        user.is_staff = True
        user.save()
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def production(settings):
    """GEO_SIAC_PRODUCTION's security settings; requests come over HTTPS, as behind the production proxy."""
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = settings.SECURE_HSTS_PRELOAD = True
    # A log-in attempt hashes a password (~0.3 s with the real hasher); the answer's status does not depend on it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The superuser also sends each parameter alone, five times the others' work: its routes are split in four parts,
# four tests that the suite's workers can run side by side.
SUPERUSER_PARTS = 4
ROLE_PARTS = [(role, None) for role in ROLES if role != "superuser"] + [
    ("superuser", part) for part in range(SUPERUSER_PARTS)
]


@pytest.mark.parametrize(("role", "part"), ROLE_PARTS)
def test_every_url_answers_hostile_parameters_below_500_for_every_role(
    role, part, production, crews, make_report, puente_alto, django_user_model, api_key
):
    """Every URL pattern from the resolver (so a new view is covered without editing this test), its path
    parameters filled with our own records and with a hostile value; then every parameter the view reads set to a
    hostile value in an otherwise valid GET query and POST body, all at once and (as the superuser, whom every view
    serves) one at a time. No answer may be a 5xx."""
    from geo_siac.transparency.services import indicator_snapshots_refresh

    report = make_report(point=WEST_POINT, public_visibility=True)
    make_report(point=EAST_POINT, category="bache")
    indicator_snapshots_refresh()  # as refresh_indicators' timer keeps them: the exports answer 503 before
    call_command("publish_open_data", stdout=io.StringIO())  # likewise the open-data downloads
    real = role != "anonymous"
    own = {
        "code": report.tracking_code if real else "ZZZZ9999",
        "token": survey_token(report) if real else "x",
        "id": str(report.pk),
        "pk": str(report.pk),
        "object_id": str(report.pk),
        "service_request_id": str(report.pk),
        "service_code": "retiro-escombros",
        "content_type_id": "1",
        "path": "x.jpg",
        "name": "x.jpg",  # a photo's file name
        "number": "1",  # a request's letter
        "document_id": "1",  # a document of that letter
        "url": "x",
        "format": "json",
        "slug": "permiso-de-circulacion",
        "z": "12",
        "x": "1245",
        "y": "2467",
        "step": "legal_extend",
    }
    valid = {
        **VALID,
        "reports": report.tracking_code,
        "crew": str(crews["B"].pk),
        "zone": str(crews["west"].pk),
        "seen": report.updated_at.isoformat(),
        "api_key": api_key,
        "token": f"fuzz-{role}",
    }
    client = Client(raise_request_exception=True)
    if (user := role_user(role, crews, django_user_model)) is not None:
        client.force_login(user)
    failures = []

    def ask(method: str, path: str, data: dict, note: str = "") -> None:
        try:
            with transaction.atomic():
                response = getattr(client, method)(path, data, secure=True)
            status = response.status_code
            if user is not None and "sessionid" in response.cookies and not response.cookies["sessionid"].value:
                client.force_login(user)  # the log-out pages ended the session: the rest is still asked as `role`
        except Exception as exc:  # noqa: BLE001 (each failure is listed, then the test fails on the list)
            status = f"{type(exc).__name__}: {str(exc)[:120]}"
        if not isinstance(status, int) or status >= 500:
            failures.append(f"{method.upper()} {path[:80]!r} {note[:60]}: {status}")

    fuzzed = set()  # (view, method, parameter): a view reached by several routes (format suffixes) is fuzzed once
    for turn, route in enumerate(every_route()):
        if part is not None and turn % SUPERUSER_PARTS != part:
            continue
        turn += ROLES.index(role)
        if filled := path_parameters(route) & set(own) - {"format"}:
            # One hostile value per route and role; the seven roles take the four values in turn.
            ask("get", path_for(route, {**own, **dict.fromkeys(filled, PATH_TURNS[turn % 4])}), valid, "hostile path")
        path = path_for(route, own)
        match = resolve(path.split("?")[0])
        assert match.route == route, f"cannot fill {route!r}: got {path!r}"
        for method in ("get", "post"):
            with parameters_read() as names:
                ask(method, path, valid)
            if not names:
                continue
            # Every role sends every parameter the view reads hostile at once; the superuser, whom every view
            # serves, also sends each one alone, so that one bad value reaches the code behind the others' checks.
            ask(method, path, {**valid, **{name: hostile(name, turn) for name in names}}, "every parameter")
            if role != "superuser" or route.startswith("admin/"):  # the admin: Django's generic views
                continue
            for name in sorted(names - {n for v, m, n in fuzzed if (v, m) == (match.func, method)}):
                fuzzed.add((match.func, method, name))
                ask(method, path, {**valid, name: hostile(name, turn)}, f"{name}={hostile(name, turn)!r}")
    assert failures == []
