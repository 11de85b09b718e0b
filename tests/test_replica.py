"""Public reads from a streaming replica (geo_siac.db_router), against a real second PostgreSQL cluster made by
`pg_basebackup` and streaming from the test database's cluster (geo_siac.testing.StreamingReplica).

Which database answered is read from the queries each connection ran (CaptureQueriesContext per alias): a page
served by the replica ran its report query there and not on the primary. Data must be committed for the replica to
see it, hence transactional tests.
"""

import copy
import time
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from geo_siac.db_router import REPLICA, WRITTEN_COOKIE
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.services import indicator_snapshots_refresh

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, databases=["default", REPLICA])]


@pytest.fixture(scope="module")
def replica_alias(streaming_replica):
    """settings.DATABASES["replica"] as DATABASE_REPLICA_URL makes it, for this module only (other modules' tests
    must not find an alias they did not ask for)."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update(HOST="127.0.0.1", PORT=str(streaming_replica.port))
    settings_dict["OPTIONS"]["connect_timeout"] = 2
    settings_dict["TEST"]["MIRROR"] = "default"
    connections.settings[REPLICA] = settings_dict
    yield streaming_replica
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture
def replica(replica_alias, settings, communes):
    """The replica, caught up; every request checks its state afresh and retries it at once after a failure."""
    settings.GEO_SIAC_REPLICA_CHECK_SECONDS = 0
    settings.GEO_SIAC_REPLICA_RETRY_SECONDS = 0
    settings.GEO_SIAC_REPLICA_MAX_LAG_SECONDS = 30
    replica_alias.wait_caught_up()
    yield replica_alias
    if not replica_alias.running():
        replica_alias.start()
    replica_alias.resume()  # a no-op unless a test paused it


@contextmanager
def queries(*aliases):
    """The queries each alias ran inside the block."""
    with ExitStack() as stack:
        yield SimpleNamespace(
            **{alias: stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases}
        )


def read_reports(captured) -> bool:
    """A query read reports: the table in its SQL, or a prepared lookup of it (geo_siac.db.KeyLookup) run."""
    return any(
        'FROM "reports_report"' in query["sql"] or query["sql"].startswith("EXECUTE reports_report_lookup_")
        for query in captured.captured_queries
    )


def file_report(client) -> str:
    lat, lng = PUENTE_ALTO_CENTRE
    response = client.post(
        "/",
        {
            "token": f"replica-{time.monotonic_ns()}",
            "lat": str(lat),
            "long": str(lng),
            "service_code": "retiro-escombros",
            "attribute[retiro-escombros][volumen]": "1-3m3",
            "description": "Escombros frente al consultorio.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_public_pages_read_from_the_replica_and_staff_pages_from_the_primary(replica, make_report, crews, client):
    report = make_report(point=(-33.61, -70.59), public_visibility=True)
    replica.wait_caught_up()
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)

    for path, shown in [
        (f"/seguimiento/{report.tracking_code}/", report.tracking_code),
        (f"/open311/v2/requests/{report.pk}.json", report.description),
        ("/api/reports/", report.description),
        ("/transparencia/celdas.geojson", "FeatureCollection"),
    ]:
        with queries("default", REPLICA) as seen:
            response = client.get(path)
        assert response.status_code == 200 and shown in response.content.decode(), path
        assert read_reports(seen.replica) and not read_reports(seen.default), path
    # The indicators page reads their snapshot, never the reports (docs/indicators.md), and from the replica too.
    indicator_snapshots_refresh()
    replica.wait_caught_up()
    with queries("default", REPLICA) as seen:
        response = client.get("/transparencia/")
    assert '<dd id="headline-volume">1</dd>' in response.content.decode()
    snapshots = IndicatorSnapshot._meta.db_table
    assert [q for q in seen.replica.captured_queries if snapshots in q["sql"]]
    assert not [q for q in seen.default.captured_queries if snapshots in q["sql"]]
    assert not read_reports(seen.replica) and not read_reports(seen.default)

    client.force_login(crews["member_a"])
    with queries("default", REPLICA) as seen:
        response = client.get("/cuadrilla/")
    assert response.status_code == 200 and report.tracking_code in response.content.decode()
    assert read_reports(seen.default) and not read_reports(seen.replica)


def test_a_citizen_sees_their_new_report_at_once_while_others_read_the_lagging_replica(replica):
    replica.pause()
    citizen = Client()
    code = file_report(citizen)
    assert citizen.cookies[WRITTEN_COOKIE].value.isdigit()

    for path in (f"/enviada/{code}/", f"/seguimiento/{code}/"):
        with queries("default", REPLICA) as seen:
            response = citizen.get(path)
        assert response.status_code == 200 and code in response.content.decode(), path
        assert read_reports(seen.default) and not read_reports(seen.replica), path

    # Within the lag limit everyone else still reads the replica, which has not replayed the report yet.
    with queries("default", REPLICA) as seen:
        response = Client().get(f"/seguimiento/{code}/")
    assert response.status_code == 404 and read_reports(seen.replica)


def test_a_replica_lagging_past_the_limit_is_not_read_until_it_catches_up(replica, settings):
    replica.pause()
    code = file_report(Client())
    settings.GEO_SIAC_REPLICA_MAX_LAG_SECONDS = 1
    replica.wait_for("SELECT now() - pg_last_xact_replay_timestamp() > interval '1.5 seconds'")

    with queries("default", REPLICA) as seen:
        response = Client().get(f"/seguimiento/{code}/")
    assert response.status_code == 200 and code in response.content.decode()
    assert read_reports(seen.default) and not read_reports(seen.replica)

    replica.resume()
    replica.wait_caught_up()
    with queries("default", REPLICA) as seen:
        response = Client().get(f"/seguimiento/{code}/")
    assert response.status_code == 200 and code in response.content.decode()
    assert read_reports(seen.replica) and not read_reports(seen.default)


def test_public_pages_are_served_by_the_primary_while_the_replica_is_stopped(replica, make_report, settings, client):
    report = make_report(public_visibility=True)
    replica.wait_caught_up()
    with queries(REPLICA) as seen:  # the worker now holds a connection to the replica
        assert client.get(f"/seguimiento/{report.tracking_code}/").status_code == 200
    assert read_reports(seen.replica)

    # The replica stops after its last check: the page's own query fails, and the page is read again on the primary.
    settings.GEO_SIAC_REPLICA_CHECK_SECONDS = 60
    replica.stop()
    with queries("default") as seen:
        response = client.get(f"/seguimiento/{report.tracking_code}/")
    assert response.status_code == 200 and report.tracking_code in response.content.decode()
    assert read_reports(seen.default)

    # The next check is refused at once: the primary answers, Open311 included.
    settings.GEO_SIAC_REPLICA_CHECK_SECONDS = 0
    for path in (f"/seguimiento/{report.tracking_code}/", f"/open311/v2/requests/{report.pk}.json"):
        with queries("default") as seen:
            response = client.get(path)
        assert response.status_code == 200 and report.description in response.content.decode(), path
        assert read_reports(seen.default), path
