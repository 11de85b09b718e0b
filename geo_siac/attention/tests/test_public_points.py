"""The public service-point pages: hours, "abierto ahora", the next night session, holidays and DST."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from geo_siac.attention.tests.conftest import NIGHT_SESSION, WEEKDAYS

SANTIAGO = ZoneInfo("America/Santiago")


@pytest.fixture
def at(monkeypatch):
    """Pages read the clock through django.utils.timezone.now; this sets it to a Santiago wall time."""

    def set_clock(*args):
        instant = datetime(*args, tzinfo=SANTIAGO)
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return set_clock


def test_point_page_shows_address_hours_procedures_and_responsible(client, make_offering):
    offering = make_offering()
    page = client.get(f"/puntos-de-atencion/{offering.service_point.pk}/").content.decode()
    assert "Av. Concha y Toro 1820, Puente Alto" in page
    assert "08:30–14:00" in page
    assert "primer jueves de cada mes, 19:00–22:30" in page
    assert "Certificado de residencia" in page and "Mesón 2" in page


def test_point_is_open_now_during_the_night_session_and_closed_after_it(client, make_point, at):
    point = make_point()
    at(2026, 12, 3, 21, 0)  # the first Thursday of December, during the session
    assert "Abierto ahora" in client.get(f"/puntos-de-atencion/{point.pk}/").content.decode()
    at(2026, 12, 3, 22, 45)
    assert "Cerrado ahora" in client.get(f"/puntos-de-atencion/{point.pk}/").content.decode()


def test_next_night_session_is_the_first_thursday_of_next_month_once_this_one_is_over(client, make_point, at):
    point = make_point()
    at(2026, 12, 4, 10, 0)
    page = client.get(f"/puntos-de-atencion/{point.pk}/").content.decode()
    assert "Próxima sesión: <strong>Atención Nocturna</strong>, jueves 7 de enero de 2027, 19:00–22:30" in page


def test_a_first_thursday_on_a_public_holiday_is_skipped_and_listed_as_closed(client, make_point, at):
    point = make_point()
    at(2025, 12, 20, 10, 0)  # 1 January 2026, New Year's Day, is the first Thursday of January
    page = client.get(f"/puntos-de-atencion/{point.pk}/").content.decode()
    assert "Próxima sesión: <strong>Atención Nocturna</strong>, jueves 5 de febrero de 2026, 19:00–22:30" in page
    assert "jueves 1 de enero (Año Nuevo)" in page


def test_night_session_across_the_end_of_dst_shows_its_wall_clock_hours(client, make_point, at):
    hours = {
        "weekly": {},
        "special_sessions": [
            {"weekday": "sat", "nth": 1, "hours": [["21:00", "01:00"]], "label": "Sesión de medianoche"}
        ],
    }
    point = make_point(opening_hours=hours)
    at(2027, 3, 20, 12, 0)  # DST ends at 24:00 on Saturday 3 April 2027: the session lasts five real hours
    page = client.get(f"/puntos-de-atencion/{point.pk}/").content.decode()
    assert "sábado 3 de abril de 2027, 21:00–01:00" in page
    at(2027, 4, 3, 23, 30)  # the first 23:30, before the clocks go back
    assert "Abierto ahora" in client.get(f"/puntos-de-atencion/{point.pk}/").content.decode()


def test_list_marks_open_points_and_sorts_them_by_distance_from_the_citizen(client, make_point, at):
    near = make_point(name="Punto cercano")
    far = make_point(
        name="OIRS lejana",
        cut="13122",
        lat=-33.4687,
        lng=-70.5571,
        opening_hours={"weekly": {"wed": [["08:30", "14:00"]]}},
    )
    at(2026, 12, 2, 10, 0)
    page = client.get("/puntos-de-atencion/", {"lat": "-33.47", "lng": "-70.556"}).content.decode()
    assert page.index("OIRS lejana") < page.index("Punto cercano")
    assert f'data-point="{far.pk}"' in page and f'data-point="{near.pk}"' in page
    assert "Abierto ahora" in page


def test_night_filter_keeps_only_points_with_a_coming_session(client, make_point):
    make_point(name="Con sesión nocturna")
    make_point(name="Sin sesión", opening_hours={"weekly": {"mon": [["08:30", "14:00"]]}})
    page = client.get("/puntos-de-atencion/", {"nocturna": "1"}).content.decode()
    assert "Con sesión nocturna" in page and "Sin sesión" not in page


def test_report_and_tracking_pages_link_to_the_service_points(client, make_report):
    report = make_report()
    assert 'href="/puntos-de-atencion/"' in client.get("/").content.decode()
    assert 'href="/puntos-de-atencion/"' in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()


def groups(page: str) -> list[tuple[str, bool, str]]:
    """Each comuna's fold of the list: its CUT, whether it is open, and its summary's text."""
    return [
        (cut, bool(opened), re.sub(r"\s+", " ", summary).strip())
        for cut, opened, summary in re.findall(
            r'<details class="commune-points" data-commune="(\d+)"( open)?>\s*<summary>(.*?)</summary>', page, re.S
        )
    ]


@pytest.fixture
def many_points(make_point):
    """A registry's worth: 20 points in Puente Alto and 10 in Peñalolén, more than a phone shows before the map."""
    for i in range(20):
        make_point(name=f"CESFAM {i:02d}", lat=-33.6106 + i / 1000)
    for i in range(10):
        make_point(name=f"CECOSF {i:02d}", cut="13122", lat=-33.4687 + i / 1000, lng=-70.5571)


def test_the_map_comes_before_a_long_list_folded_per_comuna_with_its_count(client, many_points):
    page = client.get("/puntos-de-atencion/").content.decode()
    assert page.index('id="points-map"') < page.index('id="points"') < page.index("CESFAM 00")
    assert "30 puntos de atención, por comuna" in page
    assert [(cut, opened, re.sub(r"<[^>]+>", "", summary)) for cut, opened, summary in groups(page)] == [
        ("13122", False, "Peñalolén (10 puntos)"),
        ("13201", False, "Puente Alto (20 puntos)"),
    ]
    assert page.count("<li data-point=") == 30


def test_sorted_by_distance_the_nearest_comuna_comes_first_and_open(client, many_points):
    page = client.get("/puntos-de-atencion/", {"lat": "-33.61", "lng": "-70.576"}).content.decode()
    assert [(cut, opened) for cut, opened, _summary in groups(page)] == [("13201", True), ("13122", False)]
    assert page.index("CESFAM 01") < page.index("CESFAM 00") < page.index("CESFAM 02") < page.index("CECOSF 00")


def test_a_short_list_is_shown_whole(client, make_point):
    make_point(name="Municipalidad")
    make_point(name="OIRS de Peñalolén", cut="13122", lat=-33.4687, lng=-70.5571)
    page = client.get("/puntos-de-atencion/").content.decode()
    assert [(cut, opened) for cut, opened, _summary in groups(page)] == [("13122", True), ("13201", True)]
    assert "2 puntos de atención, por comuna" in page


@pytest.mark.parametrize("label", ["", "   "])
@pytest.mark.parametrize("language, day", [("es", "jueves"), ("en", "Thursday")])
def test_a_session_without_a_name_is_shown_by_its_day_with_no_empty_name_before_it(
    client, make_point, at, language, day, label
):
    unnamed = {**NIGHT_SESSION, "label": label}
    point = make_point(opening_hours={"weekly": WEEKDAYS, "special_sessions": [unnamed]})
    at(2026, 12, 4, 10, 0)
    client.cookies["django_language"] = language
    heading = "Próxima sesión:" if language == "es" else "Next session:"
    for path in ("/puntos-de-atencion/", f"/puntos-de-atencion/{point.pk}/"):
        shown = re.sub(r"<[^>]+>", "", client.get(path).content.decode().split(heading)[1].split("19:00")[0]).strip()
        assert shown.startswith(day), (path, shown)
    coming = (
        client.get(f"/puntos-de-atencion/{point.pk}/").content.decode().split('id="sessions">')[1].split("</ul>")[0]
    )
    assert re.findall(r"<li>(\w+)", coming) == [day, day]
