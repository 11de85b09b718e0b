"""Project-wide checks: migrations match the models, imports point down the layers, pages and admin render, no asset
comes from a CDN."""

import ast
import re
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from geo_siac.geo_admin import OL
from geo_siac.testing import PROJECT_ROOT

CDN = re.compile(r"""(?:src|href)=["']https?://""")

# docs/architecture.md, "Layers", from the ground up: a module imports only from its own layer or below. The project
# modules (settings, URLs, servers, the test fixtures) sit on top, and so do tests: they build data with any app.
LAYERS = [
    {
        "web",
        "notifications",
        "db",
        "db_router",
        "geo",
        "geo_frames",
        "geo_admin",
        "text",
        "formats",
        "rates",
        "choices",
    },
    {"catalogue"},
    {"zones"},
    {"geocoding"},
    {"reports"},
    {"maps", "open311", "workspace", "alerts", "attention", "citizens", "webhooks", "messaging", "email_intake"},
    {"transparency"},
    {"__init__", "settings", "urls", "api_urls", "asgi", "wsgi", "gunicorn", "testing"},
]
LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


def imported_modules(path, package: str):
    """(line, module) for every geo_siac module the file imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            yield node.lineno, module


def upward_imports(root) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if "tests" in parts:
            continue
        own = parts[1].split(".")[0]
        assert own in LAYER_OF, f"{'/'.join(parts)}: geo_siac.{own} has no layer in LAYERS (docs/architecture.md)"
        package = ".".join(parts[:-1])
        for line, module in imported_modules(path, package):
            names = module.split(".")
            if names[0] != "geo_siac" or len(names) < 2:
                continue
            target = names[1]
            assert target in LAYER_OF, f"{'/'.join(parts)}:{line}: geo_siac.{target} has no layer in LAYERS"
            if LAYER_OF[target] > LAYER_OF[own]:
                found.append(f"{'/'.join(parts)}.py:{line} imports {module} ({own} sits below {target})")
    return found


def test_every_import_points_down_the_layers():
    assert upward_imports(PROJECT_ROOT / "geo_siac") == []


def test_an_upward_import_is_named_with_its_file_and_line(tmp_path):
    zones = tmp_path / "geo_siac" / "zones"
    zones.mkdir(parents=True)
    (zones / "selectors.py").write_text("def f():\n    from geo_siac.reports.states import OPEN\n")
    (zones / "models.py").write_text("from geo_siac.catalogue.models import Category\nfrom . import selectors\n")
    assert upward_imports(tmp_path / "geo_siac") == [
        "geo_siac/zones/selectors.py:2 imports geo_siac.reports.states (zones sits below reports)"
    ]


@pytest.mark.django_db
def test_migrations_match_models():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_home_page_lists_communes_and_categories(client, communes):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Puente Alto" in body and "Retiro de escombros" in body
    assert not CDN.search(body)


def test_home_page_in_english(client, communes):
    client.cookies["django_language"] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Debris removal" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/zones/commune/",
        "/admin/zones/servicepoint/",
        "/admin/reports/report/",
        "/admin/catalogue/category/",
        "/admin/notifications/notification/",
        "/admin/reports/surveyresponse/",
        "/admin/email_intake/inboundemail/",
    ],
)
def test_admin_lists_render(admin_client, make_report, url):
    make_report()
    assert admin_client.get(url).status_code == 200


def test_admin_map_widgets_load_openlayers_from_local_static_files(admin_client, make_report, communes):
    report = make_report()
    for url in (f"/admin/reports/report/{report.pk}/change/", f"/admin/zones/commune/{communes['13201'].pk}/change/"):
        body = admin_client.get(url).content.decode()
        assert f"/static/{OL}ol.js" in body
        assert not CDN.search(body), CDN.findall(body)
    assert (PROJECT_ROOT / "geo_siac" / "static" / OL / "ol.js").exists()


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/salud/",
        "/transparencia/",
        "/transparencia/mapa/",
        "/transparencia/celdas.geojson",
        "/transparencia/compromisos/",
        "/transparencia/datos/",
    ],
)
def test_public_pages_answer_head_like_get_without_a_body(client, communes, url):
    """Uptime monitors and link checkers ask with HEAD: the same status and headers as GET, no body, and never
    taken for a submission."""
    from geo_siac.reports.models import Report

    got = client.get(url)
    head = client.head(url)
    assert not Report.objects.exists()
    assert got.status_code == head.status_code == 200
    assert head["Content-Type"] == got["Content-Type"]
    assert head.content == b""
    assert client.put(url).status_code == 405


def test_favicon_ico_points_at_the_icon_among_the_static_files(client, communes):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("geo_siac/favicon.svg")
    assert finders.find("geo_siac/favicon.svg") is not None
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page and "geo_siac/favicon.svg" in page
