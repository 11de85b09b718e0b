"""axe-core finds no critical or serious accessibility violation on any public or staff page, on a desktop
(1280x800) and on a phone (390x844), and no page scrolls sideways on the phone (wide tables scroll in their own
box). The pages are the HTML pages of the URL table in docs/security.md, visited as a visitor when a visitor may
open them and as an administrator otherwise, plus the error pages; axe-core comes from test-tools/ (npm, pinned by
its package-lock.json, installed by scripts/setup.sh), never from a CDN."""

import os
from pathlib import PurePosixPath

import pytest
from django.test import Client

from geo_siac.reports.messages import survey_token
from geo_siac.testing import PROJECT_ROOT, WEST_POINT
from tests.test_access_control import table

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "test-tools" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# Django's admin, the Swagger UI and DRF's browsable API are other projects' pages, checked by those projects.
OTHER_PROJECTS = ("/admin/", "/api/")
# Pages the table cannot list: a page that does not exist, and one the visitor's role may not use.
ERROR_PAGES = [("anonymous", "/no-existe/", 404), ("crew", "/operador/", 403)]


@pytest.fixture
def site_url(live_server) -> str:
    """The one place the browser tests get the site's address from."""
    return live_server.url


def pages(values: dict) -> list[tuple[str, str, int]]:
    """(who, path, status) of every page of the access table, a visitor's when a visitor may open it, else the
    administrator's, then the error pages. Files (CSV, GeoJSON, PNG...) are downloads, not pages; JSON answers
    without an extension are skipped by their content type."""
    found = []
    for method, url, expected in table():
        path = url.format(**values)
        download = PurePosixPath(path.split("?")[0]).suffix not in ("", ".html")
        if method != "GET" or path.startswith(OTHER_PROJECTS) or download:
            continue
        if expected["anonymous"] == "200" or expected["citizen"] == "200":
            found.append(("anonymous", path, 200))
        elif expected["admin"] == "200":
            found.append(("admin", path, 200))
    return found + ERROR_PAGES


def axe_findings(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    # Frames are checked as pages of their own (the heat map's mapa.html), not through the page that embeds them.
    results = page.evaluate("axe.run(document, {iframes: false, resultTypes: ['violations']})")
    return [
        f"{violation['impact']} {violation['id']}: {violation['help']} ({len(violation['nodes'])}x, e.g. "
        f"{violation['nodes'][0]['target']})"
        for violation in results["violations"]
        if violation["impact"] in ("critical", "serious")
    ]


def test_every_page_has_no_serious_axe_violation_on_a_desktop_or_a_phone(
    chromium, site_url, make_report, crews, settings
):
    assert AXE.exists(), f"{AXE} is missing: run scripts/setup.sh with GEO_SIAC_WITH_BROWSER=1"
    settings.GEO_SIAC_TILE_URL = ""
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10_000
    report = make_report(point=WEST_POINT, public_visibility=True)
    values = {"code": report.tracking_code, "id": report.pk, "token": survey_token(report)}
    clients = {"anonymous": Client(), "admin": Client(), "crew": Client()}
    clients["admin"].force_login(crews["admin"])
    clients["crew"].force_login(crews["member_a"])
    checked = []

    findings = []
    for viewport, size in VIEWPORTS.items():
        contexts = {}
        for who, client in clients.items():
            # bypass_csp: the pages allow no inline script, and axe arrives as one (tests/test_csp_browser.py
            # checks the policy itself).
            contexts[who] = chromium.new_context(viewport=size, bypass_csp=True)
            if "sessionid" in client.cookies:
                contexts[who].add_cookies(
                    [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site_url}]
                )
        try:
            tabs = {who: context.new_page() for who, context in contexts.items()}
            for who, path, status in pages(values):
                response = tabs[who].goto(site_url + path, wait_until="load")
                assert response.status == status, f"{path}: {response.status}"
                if not response.headers["content-type"].startswith("text/html"):
                    continue
                checked.append(path)
                findings += [f"{viewport} {path} ({who}): {finding}" for finding in axe_findings(tabs[who])]
                if viewport == "phone" and tabs[who].evaluate(
                    "document.documentElement.scrollWidth > window.innerWidth"
                ):
                    findings.append(f"{viewport} {path} ({who}): the page scrolls sideways")
        finally:
            for context in contexts.values():
                context.close()
    assert len(checked) > 2 * 20  # each viewport saw every page
    assert findings == []
