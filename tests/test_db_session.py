"""The PostgreSQL session settings the application runs with (settings.PG_SESSION_OPTIONS, geo_siac.db)."""

from unittest import mock

import pytest
from django.db import connection

from geo_siac.db import parallel_query

pytestmark = pytest.mark.django_db


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_request_sessions_run_without_jit_or_parallel_workers():
    assert setting("jit") == "off"
    assert setting("max_parallel_workers_per_gather") == "0"


def test_parallel_query_allows_workers_inside_the_block_only(settings):
    settings.GEO_SIAC_PARALLEL_WORKERS = 3
    with parallel_query():
        assert setting("max_parallel_workers_per_gather") == "3"
    assert setting("max_parallel_workers_per_gather") == "0"


def test_parallel_query_ends_with_its_block_when_the_block_fails():
    with pytest.raises(ZeroDivisionError), parallel_query():
        1 / 0
    assert setting("max_parallel_workers_per_gather") == "0"


def test_heat_map_counts_run_with_parallel_workers_allowed():
    from geo_siac.maps import selectors

    seen = []
    real = selectors.parallel_query

    def spy():
        seen.append("parallel")
        return real()

    with mock.patch.object(selectors, "parallel_query", spy):
        assert selectors.cell_counts(9) == {}
    assert seen == ["parallel"]
