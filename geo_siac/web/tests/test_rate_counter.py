"""The rate counter every limit shares: one row per key in PostgreSQL, counted by one upsert."""

import os
import subprocess
import sys
import threading

import pytest
from django.db import connection, transaction

from geo_siac.testing import PROJECT_ROOT
from geo_siac.web.models import RateCounter
from geo_siac.web.ratelimit import attempts, count_attempt, count_in_windows

pytestmark = pytest.mark.django_db


def at(monkeypatch, seconds: float) -> None:
    monkeypatch.setattr("geo_siac.web.ratelimit.time", lambda: seconds)


@pytest.mark.django_db(transaction=True)
def test_attempts_from_many_connections_at_once_are_each_counted_once():
    threads, per_thread = 4, 50
    start, seen = threading.Barrier(threads), []

    def hammer():
        try:
            start.wait(timeout=30)
            seen.extend(count_attempt("login:ip:203.0.113.5", 600) for _ in range(per_thread))
        finally:
            connection.close()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(seen) == list(range(1, threads * per_thread + 1))  # every attempt got its own number
    assert attempts("login:ip:203.0.113.5") == threads * per_thread


@pytest.mark.django_db(transaction=True)
def test_another_process_counts_on_from_the_same_row():
    count_attempt("submissions:198.51.100.20", 3600)
    database = {**connection.settings_dict, "PORT": connection.settings_dict["PORT"] or 5432}
    url = "postgis://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**database)  # the test database
    script = "from geo_siac.web.ratelimit import count_attempt; print(count_attempt('submissions:198.51.100.20', 3600))"
    other = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.split()[-1] == "2"
    assert count_attempt("submissions:198.51.100.20", 3600) == 3


def test_the_window_opens_at_the_first_attempt_and_the_next_attempt_after_it_starts_again(monkeypatch):
    at(monkeypatch, 1_000_000.5)
    assert [count_attempt("open311:7", 60) for _ in range(2)] == [1, 2]
    at(monkeypatch, 1_000_059)
    assert count_attempt("open311:7", 60) == 3
    at(monkeypatch, 1_000_060)
    assert attempts("open311:7") == 0
    assert count_attempt("open311:7", 60) == 1
    assert attempts("open311:7") == 1


def test_keys_count_apart_and_an_unknown_key_has_no_attempts():
    count_attempt("login:user:a", 900)
    count_attempt("login:user:a", 900)
    count_attempt("login:user:b", 900)
    assert (attempts("login:user:a"), attempts("login:user:b"), attempts("login:user:c")) == (2, 1, 0)


def test_now_and_then_a_count_deletes_the_rows_whose_window_is_over(monkeypatch):
    at(monkeypatch, 1_000_000)
    monkeypatch.setattr("geo_siac.web.ratelimit.random", lambda: 0.5)  # not this time
    count_attempt("submissions:192.0.2.1", 60)
    count_attempt("submissions:192.0.2.2", 3600)
    at(monkeypatch, 1_000_100)
    count_attempt("open311:1", 60)
    assert RateCounter.objects.count() == 3
    monkeypatch.setattr("geo_siac.web.ratelimit.random", lambda: 0.0)  # the one call in PURGE_ONE_CALL_IN
    assert count_attempt("open311:1", 60) == 2
    assert sorted(RateCounter.objects.values_list("key", flat=True)) == ["open311:1", "submissions:192.0.2.2"]


def test_a_count_inside_a_rolled_back_transaction_goes_with_it():
    count_attempt("submissions:192.0.2.9", 3600)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert count_attempt("submissions:192.0.2.9", 3600) == 2
        raise RuntimeError
    assert count_attempt("submissions:192.0.2.9", 3600) == 2


def test_the_counter_table_is_unlogged():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = %s", [RateCounter._meta.db_table])
        assert cursor.fetchone() == ("u",)


def test_several_keys_count_in_one_statement_each_in_its_own_window(monkeypatch, django_assert_num_queries):
    at(monkeypatch, 1_000_000)
    monkeypatch.setattr("geo_siac.web.ratelimit.random", lambda: 0.5)
    count_attempt("form-posts:192.0.2.4", 3600)
    with django_assert_num_queries(1):
        counted = count_in_windows([("submissions:192.0.2.4", 600), ("form-posts:192.0.2.4", 3600)])
    assert counted == [(1, 1_000_600), (2, 1_003_600)]  # in the order asked, not the statement's key order


@pytest.mark.django_db(transaction=True)
def test_many_connections_counting_the_same_keys_in_opposite_orders_never_deadlock():
    threads, per_thread = 4, 25
    start, failures = threading.Barrier(threads), []

    def hammer(limits):
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):
                with transaction.atomic():  # each statement's row locks held to the end, as in a request's transaction
                    count_in_windows(limits)
        except Exception as error:  # a deadlock surfaces here as OperationalError
            failures.append(error)
        finally:
            connection.close()

    orders = [[("actions:a", 600), ("actions:b", 600)], [("actions:b", 600), ("actions:a", 600)]]
    workers = [threading.Thread(target=hammer, args=(orders[number % 2],)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert failures == []
    assert (attempts("actions:a"), attempts("actions:b")) == (threads * per_thread, threads * per_thread)


def test_a_key_asked_twice_in_one_statement_is_refused_by_name():
    with pytest.raises(ValueError, match="actions:a"):
        count_in_windows([("actions:a", 600), ("actions:a", 600)])
