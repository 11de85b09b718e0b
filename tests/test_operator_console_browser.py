"""A phone operator places the citizen's problem on the map, sees a likely duplicate, files the report and reads
the tracking code back."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, browser_log_in, browser_user, chromium_launch
from geo_siac.zones.selectors import served_area_centre
from tests.test_place_search_browser import gazetteer  # noqa: F401 (a fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread


@pytest.mark.browser
def test_operator_clicks_the_map_sees_a_nearby_report_and_files_a_phone_report(production_server, make_report, crews):
    operator = browser_user(crews["operator"])
    lat, lng = served_area_centre(operator)  # the operator map opens centred here, in the operator's comuna
    earlier = make_report(point=(lat, lng))

    # Database checks come after the browser is closed (see test_crew_phone_browser.py).
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="es-CL")
        browser_log_in(page, production_server.url, "oscar", "/operador/")
        page.select_option("#id_channel", "phone")
        page.select_option("#id_category", "retiro-escombros")
        page.click("#operator-map")  # the centre of the map
        expect(page.locator("#nearby")).to_contain_text(earlier.tracking_code)
        assert abs(float(page.input_value("#id_latitude")) - lat) < 0.001
        page.fill("#id_description", "Vecina llamó: escombros frente a su casa")
        (PROJECT_ROOT / "test-output").mkdir(exist_ok=True)
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-console.png", full_page=True)
        page.click("#operator-form button[type=submit]")
        code = page.locator("#tracking-code").inner_text()
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-filed.png", full_page=True)
        browser.close()

    report = Report.objects.get(tracking_code=code)
    assert (report.channel, report.created_by) == ("phone", operator)
    assert report.description == "Vecina llamó: escombros frente a su casa"


@pytest.mark.browser
def test_operator_files_a_tree_pruning_by_phone_answering_its_question_at_typed_coordinates(production_server, crews):
    from django.contrib.gis.geos import Point

    from geo_siac.zones.models import ServicePoint

    browser_user(crews["operator"])
    desk = ServicePoint.objects.create(
        name="Call center municipal",
        kind="municipal_office",
        commune=crews["west"].commune,
        point=Point(-70.5758, -33.6117, srid=4326),
    )
    lat, lng = WEST_POINT  # in Puente Alto; the map opens on the first comuna served, Peñalolén

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        page = browser.new_page(viewport={"width": 1024, "height": 900}, locale="es-CL")
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        browser_log_in(page, production_server.url, "oscar", "/operador/")
        labels = page.locator("#operator-map .leaflet-tooltip.commune-label")
        expect(labels).to_have_count(2)
        assert sorted(labels.all_inner_texts()) == ["Peñalolén", "Puente Alto"]
        page.select_option("#id_channel", "phone")
        page.select_option("#id_received_at", label="Call center municipal · Puente Alto")
        question = page.locator("#q-poda-arboles-riesgo")
        expect(question).to_be_hidden()
        page.select_option("#id_category", "poda-arboles")
        expect(question).to_be_visible()
        page.select_option("#q-poda-arboles-riesgo", "si")
        page.fill("#id_latitude", str(lat))
        page.fill("#id_longitude", str(lng))
        page.press("#id_longitude", "Tab")  # the change event, as leaving the field does
        expect(page.locator("#operator-map .leaflet-marker-icon")).to_have_count(1)
        page.wait_for_function(
            f"() => window.geoSiacOperatorMap.getCenter().distanceTo([{lat}, {lng}]) < 50"
        )  # panned to the pin
        page.fill("#id_description", "Vecino llamó: rama sobre el cable de la luz")
        (PROJECT_ROOT / "test-output").mkdir(exist_ok=True)
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-tree-pruning.png", full_page=True)
        page.click("#operator-form button[type=submit]")
        code = page.locator("#tracking-code").inner_text()
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-tree-pruning-filed.png", full_page=True)
        assert script_errors == []
        browser.close()

    report = Report.objects.get(tracking_code=code)
    assert (report.category.service_code, report.channel, report.received_at) == ("poda-arboles", "phone", desk)
    assert report.attributes == {"riesgo": "si"}
    assert (round(report.location.y, 6), round(report.location.x, 6)) == (lat, lng)


@pytest.mark.browser
def test_the_place_the_operator_picks_fills_the_address_unless_one_was_typed(production_server, gazetteer, crews):
    from geo_siac.geocoding.selectors import geocode_search

    browser_user(crews["operator"])
    wrong = geocode_search("concha y toro con eyzaguirre")[0]
    crossing = geocode_search("concha y toro esquina san carlos")[0]
    assert wrong.label != crossing.label
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="es-CL")
        browser_log_in(page, production_server.url, "oscar", "/operador/")
        search, first = page.locator("#place-search-input"), page.locator("#place-search-list [role=option]").first
        search.press_sequentially("concha y toro con eyzaguirre", delay=20)
        first.click()
        expect(page.locator("#id_address")).to_have_value(wrong.label)
        # A wrong pick corrected: the address the pick filled follows the pin.
        search.fill("")
        search.press_sequentially("concha y toro esquina san carlos", delay=20)
        first.click()
        expect(page.locator("#id_latitude")).to_have_value(f"{crossing.latitude:.6f}")
        expect(page.locator("#id_address")).to_have_value(crossing.label)
        page.fill("#id_address", "Av. Concha y Toro 1820")
        page.click("#operator-map", position={"x": 40, "y": 200})  # the pin elsewhere, so the next pick shows
        expect(page.locator("#id_latitude")).not_to_have_value(f"{crossing.latitude:.6f}")
        search.fill("")
        search.press_sequentially("concha y toro esquina san carlos", delay=20)
        first.click()
        expect(page.locator("#id_latitude")).to_have_value(f"{crossing.latitude:.6f}")
        typed = page.input_value("#id_address")
        page.screenshot(path=PROJECT_ROOT / "test-output" / "operator-address-from-search.png", full_page=True)
        browser.close()
    assert typed == "Av. Concha y Toro 1820"
