"""The crew app offline, on a phone-sized Chromium against the production server: installable, the queue readable
with no network, changes recorded on the phone and sent once when the network returns, conflicts held and explained."""

import io
import json
import os
import re
import socket
import threading
import time
import uuid

import pytest
from django.db import connection
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import CrewAction, EventPhoto, Report, ResponseTemplate
from geo_siac.reports.services import report_reroute
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user, chromium_launch
from geo_siac.workspace.access import seen_token

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = PROJECT_ROOT / "test-output" / "crew22"
CSRF = "k" * 32  # a CSRF secret the test sets as the cookie and sends back in the header, as the phone's page does


def jpeg(width=3000, height=2000) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "olive").save(buffer, "JPEG", quality=60)
    return buffer.getvalue()


# An engine that reads `hour12: false` as the 1-24 hour cycle (Chrome 80, older Safari), printing midnight as 24:05:
# this Chromium does not, so the test makes it.
OLD_ENGINE_HOURS = """(() => {
  const toLocaleString = Date.prototype.toLocaleString;
  Date.prototype.toLocaleString = function (locales, options) {
    if (options && options.hour12 === false && !options.hourCycle) {
      options = Object.assign({}, options, {hourCycle: "h24"});
      delete options.hour12;
    }
    return toLocaleString.call(this, locales, options);
  };
})();"""


def phone(browser):
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")


def open_queue(page, base_url):
    """Log in, load the queue, and wait until the service worker controls the page and has kept it for offline."""
    browser_log_in(page, base_url, "ana", "/cuadrilla/")
    for _ in range(300):  # wait_for_function evaluates a string, which the page's policy refuses
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == base_url + "/cuadrilla/sw.js"
    page.reload()
    page.wait_for_selector("html[data-offline-ready='1']")


def record_offline(page, base_url, report, *, status, note, public_note="", photo: bytes | None = None):
    page.goto(f"{base_url}/cuadrilla/solicitud/{report.tracking_code}/")
    page.select_option("#id_status", status)
    if public_note:
        page.fill("#id_public_note", public_note)
    page.fill("#id_note", note)
    if photo:
        page.set_input_files("#id_photos", files=[{"name": "cierre.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.click("#status-form button[type=submit]")
    expect(page.locator("#pending-changes")).to_contain_text(f"{report.tracking_code} · ")
    expect(page.locator("#pending-changes")).to_contain_text("pendiente de envío")
    # Said where the crew member is looking, not at the foot of the page below the button just tapped.
    expect(page.locator("#offline-notice")).to_have_text(re.compile("^Guardado en este dispositivo"))
    expect(page.locator("#offline-notice")).to_be_in_viewport()


@pytest.mark.browser
def test_two_reports_closed_offline_survive_a_reload_and_land_once_with_their_photos(
    production_server, make_report, crews
):
    browser_user(crews["member_a"])
    first = make_report(point=WEST_POINT, reporter_email="uno@example.cl")
    ResponseTemplate.objects.create(title="Retiro", category=first.category, body="Retiramos lo de {codigo}.")
    second = make_report(point=(WEST_POINT[0] - 0.005, WEST_POINT[1]), reporter_email="dos@example.cl")
    notified = {r.pk: Notification.objects.filter(report=r).count() for r in (first, second)}
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        context.add_init_script(OLD_ENGINE_HOURS)
        page = context.new_page()
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        open_queue(page, production_server.url)
        # A page kept since just after midnight says so in 00-23 hours, as the history does, whatever the engine.
        page.evaluate("document.getElementById('offline-app').dataset.generatedAt = '2026-12-04T00:05:00'")
        context.set_offline(True)
        expect(page.locator("#data-age")).to_contain_text("4 dic, 00:05")
        context.set_offline(False)

        manifest = context.request.get(f"{production_server.url}/cuadrilla/manifest.webmanifest")
        assert manifest.headers["content-type"] == "application/manifest+json"
        body = manifest.json()
        assert (body["name"], body["lang"], body["start_url"], body["scope"], body["display"]) == (
            "GeoSIAC · Cuadrilla",
            "es-CL",
            "/cuadrilla/",
            "/cuadrilla/",
            "standalone",
        )
        for icon in body["icons"]:
            image = context.request.get(production_server.url + icon["src"])
            assert image.headers["content-type"] == "image/png"
            width, height = Image.open(io.BytesIO(image.body())).size
            assert f"{width}x{height}" == icon["sizes"]
        assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}

        context.set_offline(True)
        # Offline too, a resolution is not queued without its reply for the citizen: the phone says what is missing.
        # The template's text, filled on the server, rides on its option: offline it still starts a resolution.
        page.goto(f"{production_server.url}/cuadrilla/solicitud/{first.tracking_code}/")
        box = page.locator("#id_public_note")
        page.select_option("#id_status", "resolved")
        expect(box).to_have_value(f"Retiramos lo de {first.tracking_code}.")
        page.select_option("#id_status", "closed_unfixable")
        expect(box).to_have_value("")
        page.fill("#id_note", "Retirados")
        page.click("#status-form button[type=submit]")
        assert page.evaluate("document.getElementById('id_public_note').validationMessage") == (
            "Escriba qué se hizo, para el vecino: lo verá en el seguimiento y en el aviso."
        )
        expect(page.locator("#pending-section")).to_be_hidden()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "offline-reply-missing.png")
        record_offline(
            page,
            production_server.url,
            first,
            status="resolved",
            note="Retirados",
            public_note="Retiramos los escombros de la vereda.",
            photo=jpeg(),
        )
        record_offline(
            page,
            production_server.url,
            second,
            status="resolved",
            note="Barrido",
            public_note="Barrimos la calle.",
            photo=jpeg(),
        )

        started = time.monotonic()
        page.goto(f"{production_server.url}/cuadrilla/")
        expect(page.locator("#report-list")).to_contain_text(first.tracking_code)
        print(f"offline queue page from cache: {time.monotonic() - started:.3f} s")  # docs/performance.md
        expect(page.locator("#report-list")).to_contain_text(second.tracking_code)
        expect(page.locator("#pending-changes li")).to_have_count(2)
        expect(page.locator("#data-age")).to_contain_text("Sin conexión")
        expect(page.locator("#data-age")).to_contain_text("min).")

        context.set_offline(False)
        expect(page.locator("#offline-notice")).to_have_text("Cambios enviados: 2.")
        expect(page.locator("#pending-section")).to_be_hidden()
        assert script_errors == []
        browser.close()

    for report, reply in ((first, "Retiramos los escombros de la vereda."), (second, "Barrimos la calle.")):
        report = Report.objects.get(pk=report.pk)
        assert report.status == "resolved"
        assert list(report.events.filter(kind="status").values_list("note", "is_public")) == [(reply, True)]
        stored = EventPhoto.objects.get(event__report=report)
        with Image.open(production_server.root / "media" / stored.image.name) as image:
            assert max(image.size) <= 1600  # resized on the phone: the 3000 px original never left it
        assert Notification.objects.filter(report=report).count() == notified[report.pk] + 1


def multipart(fields: dict, photo: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="f.jpg"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + photo
        + b"\r\n"
    )
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="complete"\r\n\r\n1\r\n'.encode())
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


@pytest.mark.browser
def test_an_upload_cut_mid_body_then_replayed_three_times_is_applied_exactly_once(
    production_server, make_report, crews, client
):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT, reporter_email="uno@example.cl")
    notified = Notification.objects.filter(report=report).count()
    client.force_login(crews["member_a"])
    session = client.cookies["sessionid"].value
    fields = {
        "key": str(uuid.uuid4()),
        "kind": "status",
        "status": "resolved",
        "note": "Listo",
        "public_note": "Se despejó la calzada.",
        "seen": seen_token(crews["member_a"], report),
    }
    content_type, body = multipart(fields, jpeg(800, 600))
    host = production_server.url.removeprefix("http://")
    head = (
        f"POST /cuadrilla/api/acciones/ HTTP/1.1\r\nHost: {host}\r\n"
        f"Cookie: sessionid={session}; csrftoken={CSRF}\r\nX-CSRFToken: {CSRF}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    hostname, port = host.split(":")
    with socket.create_connection((hostname, int(port)), timeout=10) as cut:
        cut.sendall(head + body[: len(body) // 2])  # the signal drops halfway through the photo
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        context.add_cookies(
            [
                {"name": "sessionid", "value": session, "url": production_server.url},
                {"name": "csrftoken", "value": CSRF, "url": production_server.url},
            ]
        )
        answers = [
            context.request.post(
                f"{production_server.url}/cuadrilla/api/acciones/",
                headers={"X-CSRFToken": CSRF},
                multipart={
                    **fields,
                    "photos": {"name": "f.jpg", "mimeType": "image/jpeg", "buffer": jpeg(800, 600)},
                    "complete": "1",
                },
            )
            for _ in range(3)
        ]
        results = [(a.status, a.json()["replayed"], a.json()["status"]) for a in answers]
        browser.close()
    assert results == [(200, False, "resolved"), (200, True, "resolved"), (200, True, "resolved")]
    report = Report.objects.get(pk=report.pk)
    assert report.events.filter(kind="status").count() == 1
    assert EventPhoto.objects.filter(event__report=report).count() == 1
    assert CrewAction.objects.filter(report=report).count() == 1
    assert Notification.objects.filter(report=report).count() == notified + 1


def reroute(report, crew, supervisor):
    """The supervisor's change, on its own connection: a query in Playwright's greenlet would leave one open."""
    try:
        report_reroute(report=Report.objects.get(pk=report.pk), crew=crew, actor=supervisor)
    finally:
        connection.close()


@pytest.mark.browser
def test_a_report_rerouted_while_the_crew_is_offline_is_held_and_explained_on_the_phone(
    production_server, make_report, crews
):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        page = context.new_page()
        open_queue(page, production_server.url)
        context.set_offline(True)
        record_offline(
            page, production_server.url, report, status="resolved", note="Hecho sin señal", public_note="Reparado."
        )
        supervisor = threading.Thread(target=reroute, args=(report, crews["B"], crews["supervisor"]))
        supervisor.start()
        supervisor.join(timeout=30)
        page.evaluate("window.scrollTo(0, 0)")  # back at the form, as someone starting the next note would be
        context.set_offline(False)
        held = page.locator("#pending-changes li.pending-conflict")
        expect(held).to_contain_text("no se aplicó: Fue derivada a Cuadrilla Oriente.")
        # A report's page shows what it showed before the change was sent, and says so; read out, not scrolled to.
        notice = page.locator("#offline-notice")
        expect(notice).to_have_text("Cambios enviados: 1. Recargue la página para ver el estado actual.")
        assert page.evaluate("window.scrollY") == 0
        expect(notice).not_to_be_in_viewport()
        expect(held).to_contain_text("Su nota y sus fotos quedaron como nota interna para la supervisión")
        page.goto(f"{production_server.url}/cuadrilla/")  # the report page is no longer theirs: 404
        expect(page.locator("#pending-changes li.pending-conflict")).to_have_count(1)  # kept until acknowledged
        expect(page.locator("#report-list")).not_to_contain_text(report.tracking_code)
        page.click("#pending-changes li.pending-conflict button")
        expect(page.locator("#pending-section")).to_be_hidden()
        browser.close()
    report = Report.objects.get(pk=report.pk)
    assert report.status == "submitted" and report.crew == crews["B"]
    note = report.events.get(kind="note")
    assert "Nota de la cuadrilla: Hecho sin señal" in note.note and not note.is_public
    assert json.loads(json.dumps(CrewAction.objects.get(report=report).result))["outcome"] == "conflict"


@pytest.mark.browser
def test_a_change_queued_offline_is_sent_by_the_service_workers_background_sync_with_no_page_open(
    production_server, make_report, crews
):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        page = context.new_page()
        open_queue(page, production_server.url)
        context.set_offline(True)
        record_offline(
            page,
            production_server.url,
            report,
            status="resolved",
            note="Enviado por el worker",
            public_note="Reparado.",
        )
        assert page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())") == ["crew-outbox"]
        page.close()  # no page left to send it on load or on `online`: only the worker's sync event can
        time.sleep(1)
        assert Report.objects.get(pk=report.pk).status == "submitted"
        context.set_offline(False)
        for _ in range(100):
            if Report.objects.get(pk=report.pk).status == "resolved":
                break
            time.sleep(0.2)
        browser.close()
    report = Report.objects.get(pk=report.pk)
    assert report.status == "resolved"
    assert report.events.filter(kind="status").count() == 1
    assert CrewAction.objects.filter(report=report).count() == 1


@pytest.mark.browser
def test_an_online_status_change_records_where_the_crew_worked_when_asked(production_server, make_report, crews):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="es-CL",
            geolocation={"latitude": -33.6102, "longitude": -70.5903, "accuracy": 9},
            permissions=["geolocation"],
        )
        page = context.new_page()
        browser_log_in(page, production_server.url, "ana", f"/cuadrilla/solicitud/{report.tracking_code}/")
        page.select_option("#id_status", "in_progress")
        page.check("#record-location")
        page.click("#status-form button[type=submit]")
        expect(page.locator("#report-status")).to_have_text("En ejecución")
        browser.close()
    event = Report.objects.get(pk=report.pk).events.get(kind="status", to_status="in_progress")
    assert (round(event.work_location.y, 4), round(event.work_location.x, 4), event.work_location_accuracy_m) == (
        -33.6102,
        -70.5903,
        9,
    )


def phone_data(page) -> dict:
    """What the crew app keeps on this phone: its caches' names and the outbox's changes."""
    return page.evaluate("""Promise.all([caches.keys(), new Promise((resolve, reject) => {
          const open = indexedDB.open("geo-siac-crew", 1);
          open.onupgradeneeded = () => open.result.createObjectStore("outbox", {keyPath: "id", autoIncrement: true});
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const count = open.result.transaction("outbox").objectStore("outbox").count();
            count.onsuccess = () => { open.result.close(); resolve(count.result); };
          };
        })]).then(([names, outbox]) => ({caches: names.filter(n => n.startsWith("geo-siac-crew-")), outbox}))""")


@pytest.mark.browser
def test_logging_out_offers_to_send_pending_changes_first_then_clears_the_phone(production_server, make_report, crews):
    browser_user(crews["member_a"])
    report = make_report(point=WEST_POINT)
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        context = phone(browser)
        page = context.new_page()
        open_queue(page, production_server.url)
        context.set_offline(True)
        record_offline(
            page, production_server.url, report, status="resolved", note="Antes de salir", public_note="Reparado."
        )

        page.click("#staff-menu-button")  # on a phone the logout is in the folded menu
        page.click("#logout-form button[type=submit]")
        warning = page.locator("#logout-warning")
        expect(warning).to_contain_text("Cambios sin enviar en este dispositivo: 1.")
        page.click("#logout-send")  # still offline: nothing can be sent, nothing is deleted, no logout
        expect(warning).to_contain_text("No se pudieron enviar")
        assert phone_data(page)["outbox"] == 1 and phone_data(page)["caches"]
        assert page.url.endswith(f"/cuadrilla/solicitud/{report.tracking_code}/")

        context.set_offline(False)
        page.click("#logout-send")
        page.wait_for_url("**/cuenta/ingresar/")
        assert phone_data(page) == {"caches": [], "outbox": 0}

        context.set_offline(True)
        for url in ("/cuadrilla/", f"/cuadrilla/solicitud/{report.tracking_code}/"):
            try:
                page.goto(production_server.url + url)
            except PlaywrightError as error:
                assert "ERR_" in str(error)  # nothing kept to answer with
            else:
                assert report.tracking_code not in page.content()
        browser.close()
    report = Report.objects.get(pk=report.pk)
    assert report.status == "resolved" and report.events.filter(kind="status").count() == 1
