"""The citizen form on a phone (390x844), against the production server, as a walk found it (form24): a photo over
the server's limit is said at once and never sent; a form refused with a photo says to choose it again; the English
form's outside-comuna message is one, with a decimal point; an address the gazetteer cannot number is offered as the
street. Screenshots go to test-output/form24/."""

import io
import os

import pytest
from django.core.management import call_command
from PIL import Image
from playwright.sync_api import expect

from geo_siac.testing import PROJECT_ROOT, shared_data

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "form24"
PHONE = {"width": 390, "height": 844}
MB = 1024 * 1024


@pytest.fixture
def phone(chromium, production_server):
    from django.db import connections

    OUTPUT.mkdir(parents=True, exist_ok=True)

    def page(locale="es-CL"):
        context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=locale)
        contexts.append(context)
        opened = context.new_page()
        opened.base_url = production_server.url
        return opened

    contexts = []
    yield page
    for context in contexts:
        context.close()
    connections.close_all()  # Playwright's greenlet has its own connection; it would block the database teardown


def test_a_photo_over_the_limit_is_said_before_sending_and_taken_off_the_form(phone, communes):
    page = phone()
    page.goto(page.base_url + "/")
    photo = page.locator("#id_photo")
    limit = int(photo.get_attribute("data-max-bytes"))
    assert limit == 10 * MB  # the production server's setting (GEO_SIAC_PHOTO_MAX_BYTES), rendered into the page
    expect(page.locator("label[for=id_photo]")).to_contain_text("hasta 10 MB")
    photo.set_input_files({"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (11 * MB)})
    expect(page.locator("#error-photo")).to_have_text(
        "La foto elegida pesa 11 MB y el máximo es 10 MB: no se enviará. Elija otra más liviana (una captura de "
        "pantalla de la foto sirve)."
    )
    expect(photo).to_have_attribute("aria-invalid", "true")
    assert photo.evaluate("input => input.files.length") == 0  # nothing of it is sent with the form
    photo.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "1-photo-too-large.png")
    photo.set_input_files({"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * 1000})
    expect(page.locator("#error-photo")).to_have_text("")
    expect(photo).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-photo")).to_have_attribute("aria-live", "polite")  # said when it appears
    photo.set_input_files({"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (limit + 1024)})
    expect(page.locator("#error-photo")).to_contain_text("pesa 10,1 MB y el máximo es 10 MB")  # rounded up


def test_the_request_to_choose_the_photo_again_goes_once_a_photo_is_chosen(phone, communes):
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 90, 200)).save(png, "PNG")
    photo = {"name": "foto.png", "mimeType": "image/png", "buffer": png.getvalue()}
    page = phone()
    page.goto(page.base_url + "/")
    page.locator("#id_photo").set_input_files(photo)
    page.click("#submit-report")  # refused: no category, no place
    again = page.locator("#photo-again")
    expect(again).to_be_visible()
    page.locator("#id_photo").set_input_files(photo)
    expect(again).to_be_hidden()
    assert "photo-again" not in (page.locator("#id_photo").get_attribute("aria-describedby") or "")


def test_the_english_form_refused_outside_says_one_message_with_a_decimal_point(phone, communes):
    page = phone("en-US")
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.base_url}])
    page.goto(page.base_url + "/")
    page.locator("details.coords-details summary").click()
    page.fill("#id_lat", "-33.4489")
    page.fill("#id_long", "-70.6693")
    page.select_option("#id_service_code", index=1)
    page.click("#submit-report")
    summary = page.locator("#error-summary li").filter(has_text="outside")
    expect(summary).to_contain_text(" km away")
    text = summary.text_content()
    assert "," not in text.split("km")[0].split(", ")[-1]
    expect(page.locator("#error-location")).to_have_text(text.strip())
    page.screenshot(path=OUTPUT / "2-english-outside.png", full_page=True)


def test_a_number_the_street_lacks_is_offered_as_the_street_on_the_phone(phone, communes):
    stops = shared_data("streets/dtpm_stops_puente_alto_penalolen.geojson")
    call_command("load_addresses", stops, "--preset", "dtpm", "--no-progress", "--commit", stdout=io.StringIO())
    page = phone()
    page.goto(page.base_url + "/comuna/puente-alto/")
    search = page.locator("#place-search-input")
    search.press_sequentially("Concha y Toro 1500", delay=40)
    options = page.locator("#place-search-list [role=option] .place-label-text")
    expect(options.first).to_have_text("Av. Concha y Toro – sin número conocido")
    labels = options.all_text_contents()
    assert not [label for label in labels if " Y " in label or label.endswith(" 1500")]
    page.screenshot(path=OUTPUT / "3-street-without-number.png")
    search.press("Enter")
    expect(page.locator("#id_address")).to_have_value("Concha y Toro 1500")
    expect(page.locator("#place-search-note")).to_contain_text("No conocemos números")
    page.screenshot(path=OUTPUT / "4-street-picked.png", full_page=True)


def test_a_pin_put_outside_after_a_refusal_for_no_place_says_it_is_outside(phone, communes):
    page = phone()
    page.goto(page.base_url + "/")
    page.click("#submit-report")  # refused: no place
    expect(page.locator("#error-location")).to_contain_text("Falta el lugar")
    page.locator("details.coords-details summary").click()
    page.fill("#id_lat", "-33.4489")
    page.fill("#id_long", "-70.6693")
    page.locator("#id_long").dispatch_event("change")
    expect(page.locator("#error-location")).to_have_text(
        "Ese punto está fuera de las comunas atendidas. Elija un lugar dentro del límite dibujado."
    )
