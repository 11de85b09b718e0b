"""No HTML id twice on a page: a label, an aria-describedby or axe finds the first element with an id, so the staff
report page's many forms (status, return, reroute, extend, reclassify, department and each kind's steps, several
with a "note", a "reason" and a hidden "seen") each carry their own ids (workspace.forms.PageForm). Checked on
every staff page of the access table (docs/security.md), and on the report page of each kind as a supervisor sees
it, also when it comes back with a form's errors."""

from collections import Counter
from html.parser import HTMLParser
from pathlib import PurePosixPath

import pytest
from django.test import Client

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.services import report_create
from tests.test_access_control import table


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = Counter()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


def duplicate_ids(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return sorted(value for value, n in parser.ids.items() if n > 1)


def is_page(response) -> bool:
    return response.status_code == 200 and response.get("Content-Type", "").startswith("text/html")


@pytest.fixture
def supervisor(crews):
    client = Client()
    client.force_login(crews["supervisor"])
    return client


@pytest.fixture
def requests_of_each_kind(make_report, communes):
    """A service request in crew A's zone and a placeless request of every other kind, open."""
    made = [make_report()]
    for kind, topic in (
        (RequestKind.COMPLAINT, "reclamo-servicio"),
        (RequestKind.QUERY, "consulta-tramites"),
        (RequestKind.SUGGESTION, "sugerencia"),
        (RequestKind.COMPLIMENT, "felicitacion"),
        (RequestKind.INFORMATION, "acceso-informacion"),
    ):
        made.append(
            report_create(
                kind=kind,
                category=topic,
                commune=communes["13201"],
                channel="web",
                description="Texto de la solicitud.",
                reporter_name="Rosa Pérez",
                reporter_email="rosa@example.cl",
            )
        )
    return made


def test_the_report_page_of_each_kind_has_no_id_twice(supervisor, requests_of_each_kind):
    for report in requests_of_each_kind:
        page = supervisor.get(f"/cuadrilla/solicitud/{report.tracking_code}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert duplicate_ids(html) == [], report.kind
        assert 'id="id_note"' in html and 'for="id_note"' in html  # the status form keeps its ids


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("devolver", {"reason": ""}),
        ("derivar", {"crew": "", "reason": "x"}),
        ("prorrogar", {"business_days": "0", "reason": ""}),
        ("estado", {"status": "", "note": "x"}),
    ],
)
def test_the_report_page_back_with_a_forms_errors_has_no_id_twice(supervisor, requests_of_each_kind, step, data):
    report = requests_of_each_kind[0]
    url = f"/cuadrilla/solicitud/{report.tracking_code}/{step}/"
    response = supervisor.post(url, {**data, "seen": report.updated_at.isoformat()})
    assert response.status_code == 400, (url, response.status_code)
    html = response.content.decode()
    assert 'class="errorlist' in html and duplicate_ids(html) == []


def test_the_information_steps_back_with_errors_have_no_id_twice(supervisor, requests_of_each_kind):
    information = requests_of_each_kind[-1]
    for step, data in (("correction", {"note": ""}), ("referral", {"institution": ""}), ("legal_extend", {})):
        response = supervisor.post(f"/cuadrilla/solicitud/{information.tracking_code}/paso/{step}/", data)
        assert response.status_code == 400, (step, response.status_code)
        assert duplicate_ids(response.content.decode()) == [], step


def test_no_staff_page_of_the_access_table_has_an_id_twice(client, crews, make_report):
    report = make_report()
    admin = Client()
    admin.force_login(crews["admin"])
    checked, found = [], {}
    for method, url, expected in table():
        path = url.format(code=report.tracking_code, id=report.pk, token="x")
        if method != "GET" or expected["admin"] != "200" or PurePosixPath(path.split("?")[0]).suffix:
            continue
        response = admin.get(path)
        if is_page(response):
            checked.append(path)
            if duplicates := duplicate_ids(response.content.decode()):
                found[path] = duplicates
    assert len(checked) > 20 and found == {}
