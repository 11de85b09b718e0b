"""A citizen form refused by the server (the report page, each kind's form, a service point's suggestion box) opens
with an error summary: how many problems, each a link to the input in error, and a title starting "Error: "; every
input in error is aria-invalid and described by its message (templates/_error_summary.html, reports/templatetags/
form_errors.py)."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from geo_siac.reports.templatetags.form_errors import FIELDS, error_links
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.zones.models import ServicePoint, ServicePointKind


class _Page(HTMLParser):
    """Each element with an id (its tag, attributes and text), the title, and the summary's heading and lines."""

    def __init__(self):
        super().__init__()
        self.by_id, self.title, self.heading, self.lines = {}, "", "", []
        self.open = []  # the elements whose text is being collected: (tag, record)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        fieldsets = [r for t, r in self.open if t == "fieldset"]
        record = {"tag": tag, "attrs": attrs, "text": "", "fieldset": fieldsets[-1] if fieldsets else None}
        if attrs.get("id"):
            self.by_id[attrs["id"]] = record
        inside_summary = any(r["attrs"].get("id") == "error-summary" for _t, r in self.open)
        if inside_summary and tag == "li":
            self.lines.append({"href": None, "text": ""})
        if inside_summary and tag == "a" and self.lines:
            self.lines[-1]["href"] = attrs["href"]
        if tag not in ("input", "br", "img", "meta", "link"):
            self.open.append((tag, record))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _tag, record in self.open:
            record["text"] += data
        tags = [tag for tag, _r in self.open]
        if tags and tags[-1] == "title":
            self.title += data
        in_summary = any(r["attrs"].get("id") == "error-summary" for _t, r in self.open)
        if in_summary and "h2" in tags:
            self.heading += data
        if in_summary and "li" in tags and self.lines:
            self.lines[-1]["text"] += data


def parsed(response) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def assert_summary_links_each_field_in_error(page: _Page, count: int):
    """The summary's count, and each line a link to a form control that is invalid and described by the line's
    message."""
    assert page.title.strip().startswith("Error: ")
    assert page.by_id["error-summary"]["attrs"]["tabindex"] == "-1"
    assert len(page.lines) == count
    assert page.heading.strip() == ("Hay un problema" if count == 1 else f"Hay {count} problemas")
    for line in page.lines:
        field = page.by_id[line["href"].removeprefix("#")]
        assert field["tag"] in ("input", "select", "textarea"), line
        # A group of radios or checkboxes is described on its fieldset, which takes no aria-invalid (no state of
        # a group); any other control is described and marked on itself.
        group = "aria-describedby" not in field["attrs"]
        marked = field["fieldset"] if group else field
        described = [page.by_id[i]["text"].strip() for i in marked["attrs"]["aria-describedby"].split()]
        assert line["text"].strip() in described, (line, described)
        assert marked["attrs"].get("aria-invalid") == (None if group else "true"), line


def invalid_ids(page: _Page) -> set[str]:
    return {i for i, record in page.by_id.items() if record["attrs"].get("aria-invalid") == "true"}


def test_an_empty_report_links_the_place_search_and_the_category(client, communes):
    page = parsed(response := client.post("/", {"token": "t-empty"}))
    assert response.status_code == 400
    assert_summary_links_each_field_in_error(page, 2)
    assert [line["href"] for line in page.lines] == ["#place-search-input", "#id_service_code"]
    search = page.by_id["place-search-input"]["attrs"]
    assert search["aria-describedby"].split() == ["place-search-help", "error-location"]
    assert search["aria-invalid"] == "true"
    assert invalid_ids(page) == {"place-search-input", "id_service_code"}


def test_a_missing_answer_links_the_chosen_categorys_question(client, communes):
    lat, lng = PUENTE_ALTO_CENTRE
    page = parsed(client.post("/", {"token": "t-q", "service_code": "control-plagas", "lat": lat, "long": lng}))
    assert_summary_links_each_field_in_error(page, 1)
    assert page.lines[0]["href"] == "#q-control-plagas-plaga"
    assert page.lines[0]["text"] == "Esta pregunta es obligatoria."
    question = page.by_id["q-control-plagas-plaga"]
    assert question["attrs"]["name"] == "attribute[control-plagas][plaga]"
    assert "aria-invalid" not in question["fieldset"]["attrs"]
    assert question["fieldset"]["attrs"]["aria-describedby"] == "error-q-control-plagas-plaga"


def test_each_refused_contact_field_is_linked_and_marked(client, communes):
    lat, lng = PUENTE_ALTO_CENTRE
    data = {"token": "t-c", "service_code": "retiro-escombros", "lat": lat, "long": lng, "reporter_email": "x"}
    page = parsed(client.post("/", {**data, "attribute[retiro-escombros][volumen]": "1-3m3"}))
    # Contact without consent is refused before anything else is checked.
    assert_summary_links_each_field_in_error(page, 1)
    assert page.lines[0]["href"] == "#id_consent"
    assert page.by_id["id_consent"]["attrs"]["aria-invalid"] == "true"
    page = parsed(client.post("/", {**data, "consent": "on", "attribute[retiro-escombros][volumen]": "1-3m3"}))
    assert [line["href"] for line in page.lines] == ["#id_reporter_email"]
    assert invalid_ids(page) == {"id_reporter_email"}


@pytest.mark.parametrize("slug", ["reclamo", "consulta", "sugerencia", "felicitacion", "acceso-informacion"])
def test_an_empty_request_of_each_kind_links_its_fields(client, communes, slug):
    page = parsed(response := client.post(f"/solicitud/{slug}/", {"token": f"t-{slug}"}))
    assert response.status_code == 400
    hrefs = [line["href"] for line in page.lines]
    assert "#id_description" in hrefs and "#id_commune" in hrefs
    assert_summary_links_each_field_in_error(page, len(hrefs))
    assert invalid_ids(page) == {href.removeprefix("#") for href in hrefs}


def test_an_empty_suggestion_box_links_its_first_choice_and_marks_the_group(client, communes):
    point = ServicePoint.objects.create(
        name="Edificio consistorial",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13201"],
        point=Point(PUENTE_ALTO_CENTRE[1], PUENTE_ALTO_CENTRE[0], srid=4326),
    )
    page = parsed(response := client.post(f"/buzon/{point.pk}/", {"token": "t-box"}))
    assert response.status_code == 400
    assert_summary_links_each_field_in_error(page, 1)
    first_choice = page.by_id["id_service_code"]
    assert first_choice["attrs"]["type"] == "radio" and page.lines[0]["href"] == "#id_service_code"
    assert first_choice["fieldset"]["attrs"]["aria-describedby"] == "error-service_code"
    assert invalid_ids(page) == set()


def test_a_form_without_errors_has_no_summary_and_nothing_invalid(client, communes):
    for path in ("/", "/solicitud/reclamo/"):
        page = parsed(client.get(path))
        assert "error-summary" not in page.by_id and not page.title.startswith("Error")
        assert invalid_ids(page) == set()
    search = parsed(client.get("/")).by_id["place-search-input"]["attrs"]
    assert search["aria-describedby"].split() == ["place-search-help", "error-location"]


def test_a_message_about_no_field_comes_first_unlinked_and_fields_follow_the_forms_order():
    errors = {"reporter_email": "b", "submission_token": "a", "attribute[x]": "q", "location": "l"}
    lines = error_links(errors, questions_of="c")
    assert [(line["href"], line["message"]) for line in lines] == [
        ("", "a"),
        ("#place-search-input", "l"),
        ("#q-c-x", "q"),
        ("#id_reporter_email", "b"),
    ]
    # A page without the category's questions (a kind's form) links no answer.
    assert [line["href"] for line in error_links(errors) if line["message"] == "q"] == [""]


def test_every_input_and_message_id_of_the_table_is_on_its_form(client, communes):
    """FIELDS and the templates write each id apart: every one the summary links to is on the page."""
    report = parsed(client.get("/")).by_id
    request = parsed(client.get("/solicitud/acceso-informacion/")).by_id
    for field, ids in FIELDS.items():
        # The report page's comuna is the pin's; documents are offered only by the kinds that take them.
        page = request if field in ("commune", "documents") else report
        assert all(i in page for i in ids), (field, ids)


def coordinates_open(response) -> bool:
    return re.search(r'<details class="coords-details" open[ >]', response.content.decode()) is not None


def test_bad_coordinates_link_the_latitude_and_open_the_coordinates_section(client, communes):
    response = client.post("/", {"token": "t-lat", "service_code": "retiro-escombros", "lat": "abc", "long": "-70.57"})
    page = parsed(response)
    assert "#id_lat" in [line["href"] for line in page.lines]
    assert_summary_links_each_field_in_error(page, len(page.lines))
    assert coordinates_open(response) and "data-fold-with-script" not in response.content.decode()  # stays open


def test_a_missing_place_opens_the_coordinates_without_script_and_its_message_follows_the_search_box(client, communes):
    response = client.post("/", {"token": "t-place"})
    assert coordinates_open(response) and not coordinates_open(client.get("/"))
    html = response.content.decode()
    box, message = html.index('id="place-search-input"'), html.index('id="error-location"')
    assert box < message < html.index('id="place-search-note"') < html.index('id="map"')


def test_the_place_search_without_an_error_field_is_described_by_its_help_alone(client, communes):
    page = parsed(client.get(reverse("citizens:area_alert")))
    assert page.by_id["place-search-input"]["attrs"]["aria-describedby"] == "place-search-help"
