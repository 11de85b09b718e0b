"""A crew member on a phone-sized screen: logs in, sees the map with their reports, moves one to "in progress",
and the citizen's tracking page shows it."""

import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.reports.models import Report, ResponseTemplate
from geo_siac.testing import EAST_POINT, PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user, chromium_launch

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output"
PHONE = {"width": 390, "height": 844}


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=True)
    return path


@pytest.mark.browser
def test_crew_member_on_a_phone_moves_a_report_to_in_progress_with_a_note(production_server, make_report, crews):
    browser_user(crews["member_a"])
    first, second = make_report(point=WEST_POINT), make_report(point=(WEST_POINT[0] - 0.005, WEST_POINT[1]))
    other_crews = make_report(point=EAST_POINT)

    # Database checks come after the browser is closed: Playwright's sync API runs the test body in a
    # greenlet, and a query made there would open a second connection that outlives the test.
    with sync_playwright() as playwright:
        page = chromium_launch(playwright).new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        browser_log_in(page, production_server.url, "ana", "/cuadrilla/")

        expect(page.locator("#crew-map .report-marker")).to_have_count(2)
        expect(page.locator("#crew-map path.leaflet-interactive").first).to_be_visible()
        expect(page.locator("#report-list")).to_contain_text(first.tracking_code)
        expect(page.locator("#report-list")).not_to_contain_text(other_crews.tracking_code)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "crew-phone-map.png")
        assert script_errors == []

        page.click(f"text={second.tracking_code}")
        expect(page.locator("#directions")).to_be_visible()
        lat, lng = second.location.y, second.location.x
        assert f"destination={lat:.6f},{lng:.6f}" in page.get_attribute("#directions", "href")
        page.select_option("#id_status", "in_progress")
        page.fill("#id_public_note", "Cuadrilla en camino con la camioneta")
        page.click("#status-form button[type=submit]")

        expect(page.locator("#report-status")).to_have_text("En ejecución")
        expect(page.locator(".history")).to_contain_text("Cuadrilla en camino con la camioneta")
        shot(page, "crew-phone-in-progress.png")

        citizen = chromium_launch(playwright).new_page(viewport=PHONE, locale="es-CL")
        citizen.goto(f"{production_server.url}/seguimiento/{second.tracking_code}/")
        expect(citizen.locator("body")).to_contain_text("En ejecución")
        expect(citizen.locator("body")).to_contain_text("Cuadrilla en camino con la camioneta")
        shot(citizen, "crew-phone-citizen-tracking.png")

    report = Report.objects.get(pk=second.pk)
    assert report.status == "in_progress"
    event = report.events.get(kind="status")
    assert (event.to_status, event.note, event.is_public) == (
        "in_progress",
        "Cuadrilla en camino con la camioneta",
        True,
    )


@pytest.mark.browser
def test_supervisor_on_a_phone_picks_two_reports_and_hands_them_to_the_other_crew(
    production_server, make_report, crews
):
    browser_user(crews["supervisor"])
    picked = [make_report(point=WEST_POINT), make_report(point=(WEST_POINT[0] - 0.005, WEST_POINT[1]))]
    left = make_report(point=(WEST_POINT[0] - 0.002, WEST_POINT[1]))

    with sync_playwright() as playwright:
        page = chromium_launch(playwright).new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
        browser_log_in(page, production_server.url, "sofia", "/cuadrilla/supervision/")

        # The page fits the phone (the workload table scrolls inside its box), and each report's box sits at the
        # left of its line, thumb-sized, beside the report's code, not stretched across the screen above it.
        expect(page.locator("h1")).to_have_text("Supervisión")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for report in picked:
            box = page.locator(f"input[name=reports][value='{report.tracking_code}']")
            code = page.locator(f"li:has(input[value='{report.tracking_code}']) a")
            square, link = box.bounding_box(), code.bounding_box()
            assert 16 <= square["width"] <= 40 and square["x"] + square["width"] <= link["x"], (square, link)
            assert square["y"] < link["y"] + link["height"] and link["y"] < square["y"] + square["height"]
            box.check()
        page.select_option("#id_crew", label="Cuadrilla Oriente")
        page.fill("#id_note", "Reasignadas por carga de trabajo")
        shot(page, "supervisor-phone-bulk.png")
        page.click("#bulk-form button[type=submit]")
        expect(page.locator(".messages")).to_be_visible()

    assert {r.crew_id for r in Report.objects.filter(pk__in=[r.pk for r in picked])} == {crews["B"].pk}
    assert Report.objects.get(pk=left.pk).crew_id == crews["A"].pk


@pytest.mark.browser
def test_zone_names_and_report_labels_reach_the_crew_map_as_text_not_markup(production_server, make_report, crews):
    """A zone's name comes from an imported GIS file: markup in it stays text in the map's tooltip."""
    from geo_siac.zones.models import Zone

    hostile = '<img src="x" id="injected">Poniente'
    Zone.objects.filter(pk=crews["west"].pk).update(name=hostile)
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)

    with sync_playwright() as playwright:
        page = chromium_launch(playwright).new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
        browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
        expect(page.locator("#crew-map .report-marker")).to_have_count(1)
        page.evaluate("""() => {  // open the zone's tooltip as a pointer over it would
            const zone = document.querySelector('#crew-map path.leaflet-interactive:not(.report-marker)');
            zone.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
        }""")
        expect(page.locator(".leaflet-tooltip")).to_have_text(f"{hostile} v1")  # str(zone): name and version
        page.locator("#crew-map .report-marker").dispatch_event("click")
        popup_link = page.locator(".leaflet-popup-content a")
        expect(popup_link).to_contain_text(report.tracking_code)
        assert popup_link.get_attribute("href").endswith(f"/cuadrilla/solicitud/{report.tracking_code}/")
        assert page.locator("#injected").count() == 0


def png_bytes(colour: str, size=(640, 480)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def serve_media_as_nginx(page, media_root: Path) -> None:
    """Production serves /media/ from nginx (docs/deployment.md), not gunicorn: the browser gets it here the same."""

    def fulfil(route):
        path = media_root / route.request.url.split("/media/", 1)[1]
        if path.is_file():
            route.fulfill(path=path)
        else:
            route.fulfill(status=404)

    page.route("**/media/**", fulfil)


@pytest.mark.browser
def test_crew_member_on_a_phone_sees_the_citizens_photo_and_answers_and_resolves_with_two_photos(
    production_server, make_report, crews, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    media = production_server.root / "media"
    settings.MEDIA_ROOT = media  # where the server keeps and finds photos
    browser_user(crews["member_a"])
    report = make_report(
        point=WEST_POINT,
        category="poda-arboles",
        attributes={"riesgo": "si"},
        address="Pasaje Los Aromos 123",
        description="Rama apoyada en el cable de la luz",
        photo=SimpleUploadedFile("arbol.png", png_bytes("forestgreen"), "image/png"),
    )

    with sync_playwright() as playwright:
        # The "nginx" below answers only the page's own requests, not those of the crew app's service worker.
        page = chromium_launch(playwright).new_page(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", service_workers="block"
        )
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        serve_media_as_nginx(page, media)
        browser_log_in(page, production_server.url, "ana", "/cuadrilla/")
        page.click(f"text={report.tracking_code}")

        photo = page.locator("#citizen-photos img")
        expect(photo).to_be_visible()
        assert photo.evaluate("img => img.complete && img.naturalWidth > 0")  # the photo itself, not a broken icon
        facts = page.locator("#report-facts")
        expect(facts).to_contain_text("¿La rama o el árbol representa un riesgo inmediato?")
        expect(facts.locator("dd.answer")).to_have_text("Sí")
        expect(facts).to_contain_text("Pasaje Los Aromos 123")
        expect(facts).to_contain_text("Rama apoyada en el cable de la luz")
        lat, lng = f"{report.location.y:.6f}", f"{report.location.x:.6f}"
        assert page.get_attribute("#navigate", "href").startswith(f"geo:{lat},{lng}?q={lat},{lng}(")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "crew-phone-citizen-report.png")

        page.select_option("#id_status", "resolved")
        page.fill("#id_public_note", "Rama retirada; cable despejado")
        page.fill("#id_note", "El vecino del 12 pidió que le avisen antes de cortar")
        page.set_input_files(
            "#id_photos",
            [
                {"name": "antes.png", "mimeType": "image/png", "buffer": png_bytes("saddlebrown")},
                {"name": "despues.png", "mimeType": "image/png", "buffer": png_bytes("skyblue")},
            ],
        )
        shot(page, "crew-phone-resolving.png")
        (SCREENSHOTS / "crew22").mkdir(parents=True, exist_ok=True)
        page.locator("#status-form").screenshot(path=SCREENSHOTS / "crew22" / "phone-resolving-form.png")
        page.click("#status-form button[type=submit]")
        expect(page.locator("#report-status")).to_have_text("Resuelta")
        expect(page.locator(".history")).to_contain_text("foto 2")
        shot(page, "crew-phone-resolved.png")
        page.locator("#status-form").scroll_into_view_if_needed()
        page.select_option("#id_status", "in_progress")  # reopening: no reply asked
        assert page.locator("#id_public_note").evaluate("box => box.validationMessage") == ""
        page.goto(f"{production_server.url}/seguimiento/{report.tracking_code}/")
        expect(page.locator("body")).to_contain_text("Rama retirada; cable despejado")
        expect(page.locator("body")).not_to_contain_text("vecino del 12")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        (SCREENSHOTS / "crew22").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "crew22" / "tracking-reply.png", full_page=True)
        assert script_errors == []

    event = Report.objects.get(pk=report.pk).events.get(kind="status")
    assert (event.to_status, event.note) == ("resolved", "Rama retirada; cable despejado")
    assert [(media / p.image.name).is_file() for p in event.photos.all()] == [True, True]


@pytest.mark.browser
def test_a_resolution_starts_with_the_categorys_template_a_closing_status_empty_and_a_template_is_copied_into_the_box(
    production_server, make_report, crews
):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    ResponseTemplate.objects.create(title="Retiro", category=report.category, body="Retiramos lo de {codigo}.")
    visit = ResponseTemplate.objects.create(
        title="Visita", department=report.department, body="Pasamos a ver.\nEl sitio es privado."
    )
    missing = "Escriba qué se hizo, para el vecino: lo verá en el seguimiento y en el aviso."
    with sync_playwright() as playwright:
        page = chromium_launch(playwright).new_page(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL", service_workers="block"
        )
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        browser_log_in(page, production_server.url, "ana", f"/cuadrilla/solicitud/{report.tracking_code}/")
        box = page.locator("#id_public_note")
        expect(box).to_have_value("")
        page.select_option("#id_status", "resolved")
        expect(box).to_have_value(f"Retiramos lo de {report.tracking_code}.")
        (SCREENSHOTS / "crew22").mkdir(parents=True, exist_ok=True)
        page.locator("#status-form").screenshot(path=SCREENSHOTS / "crew22" / "phone-reply-prefilled.png")
        page.select_option("#id_status", "closed_unfixable")  # the resolution's text would tell the wrong thing
        expect(box).to_have_value("")
        assert box.evaluate("box => box.validationMessage") == missing
        page.select_option("#id_response", str(visit.pk))
        expect(box).to_have_value("Pasamos a ver.\nEl sitio es privado.")
        assert box.evaluate("box => box.validationMessage") == ""
        box.press("End")
        box.type(" Se avisó al dueño.")
        page.select_option("#id_status", "resolved")  # an edited box is never overwritten
        page.select_option("#id_status", "closed_unfixable")
        expect(box).to_have_value("Pasamos a ver.\nEl sitio es privado. Se avisó al dueño.")
        page.locator("#status-form").screenshot(path=SCREENSHOTS / "crew22" / "phone-reply-template-edited.png")
        page.click("#status-form button[type=submit]")
        expect(page.locator("#report-status")).to_have_text("Cerrada: no se pudo resolver")
        assert script_errors == []
    # What the box showed is what was sent (the browser's CRLF kept as it came).
    note = Report.objects.get(pk=report.pk).events.get(kind="status").note
    assert note.replace("\r\n", "\n") == "Pasamos a ver.\nEl sitio es privado. Se avisó al dueño."
