"""The test database is dropped at the end of a session only when no session of PostgreSQL still uses it: a
connection left open fails the DROP ("is being accessed by other users") and leaves test_<name>_gwN behind."""

import os

import pytest
from django.db import connection
from playwright.sync_api import sync_playwright

from geo_siac.testing import close_every_connection

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def sessions_of_the_test_database() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_a_connection_opened_under_playwright_is_closed_before_the_test_database_is_dropped():
    # Under sync_playwright an event loop runs in the thread, so Django keeps its connections in another context:
    # what a browser test's code queries there opens a connection the session's teardown never sees.
    with sync_playwright():
        stranded = backend_pid()
    assert backend_pid() != stranded and stranded in sessions_of_the_test_database()

    close_every_connection()

    assert stranded not in sessions_of_the_test_database()
