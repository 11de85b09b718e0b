"""The PostgreSQL session settings the application runs with (settings.PG_SESSION_OPTIONS, geo_siac.db)."""

from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from geo_siac.db import local_settings, parallel_query
from geo_siac.reports.services import EXPLAINED_BY_CALLER
from geo_siac.testing import other_session

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
        1 / 0  # noqa: B018 (the failure is the point)
    assert setting("max_parallel_workers_per_gather") == "0"


def test_local_settings_hold_inside_the_block_and_are_put_back_inside_an_outer_transaction():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '5MB'")
        with local_settings(enable_mergejoin="off", work_mem="64MB"):
            assert (setting("enable_mergejoin"), setting("work_mem")) == ("off", "64MB")
        # the outer transaction's own value comes back, not the session's default
        assert (setting("enable_mergejoin"), setting("work_mem")) == ("on", "5MB")


def test_placing_in_public_leaves_the_planner_as_it_found_it():
    from geo_siac.reports.services import report_public_cells_refresh

    names = ("enable_mergejoin", "enable_nestloop", "work_mem")
    before = [setting(name) for name in names]
    with transaction.atomic():
        report_public_cells_refresh()
        assert [setting(name) for name in names] == before


def test_heat_map_counts_run_with_parallel_workers_allowed():
    from geo_siac.maps import selectors

    seen = []
    real = selectors.parallel_query

    def spy():
        seen.append("parallel")
        return real()

    with mock.patch.object(selectors, "parallel_query", spy):  # res 8 is counted live (res 9 and 10 are stored)
        assert selectors.cell_counts(8) == {}
    assert seen == ["parallel"]


# geo_siac.db.KeyLookup: the ORM's query compiled once, run with each value.


def fields_of(instance) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.attname not in instance.get_deferred_fields()
    }


def test_key_lookup_returns_the_row_the_queryset_returns(communes):
    from geo_siac.catalogue.models import Category
    from geo_siac.db import KeyLookup, unique_row
    from geo_siac.zones.models import Commune

    category = Category.objects.filter(is_active=True).exclude(attributes=[]).first() or Category.objects.first()
    by_code = KeyLookup(lambda code: Category.objects.filter(is_active=True, service_code=code))
    found = by_code(category.service_code)
    assert type(found) is Category and found._state.adding is False and found._state.db == "default"
    assert fields_of(found) == fields_of(unique_row(Category.objects.filter(service_code=category.service_code)))
    assert isinstance(found.attributes, list)  # the JSON column went through its converter

    by_id = KeyLookup(lambda key: Commune.objects.active().filter(jurisdiction_id=key).defer("geometry"))
    commune = next(iter(communes.values()))
    loaded = by_id(commune.jurisdiction_id)
    assert loaded.get_deferred_fields() == {"geometry"}
    assert fields_of(loaded) == fields_of(Commune.objects.defer("geometry").get(pk=commune.pk))
    assert loaded.geometry.equals(commune.geometry)  # a deferred column still loads when asked


def test_key_lookup_loads_select_related_instances_as_the_queryset_does(make_report, communes):
    from django.db.models import Q

    from geo_siac.db import KeyLookup, unique_row
    from geo_siac.reports.models import Report
    from geo_siac.zones.models import Commune, CommuneIdentity

    report = make_report()

    def build(code):
        return (
            Report.objects.select_related("category__department", "commune")
            .defer("commune__geometry")
            .filter(tracking_code=code)
        )

    found, expected = KeyLookup(build)(report.tracking_code), unique_row(build(report.tracking_code))
    assert fields_of(found) == fields_of(expected)
    assert fields_of(found.commune) == fields_of(expected.commune)
    assert fields_of(found.category) == fields_of(expected.category)
    assert fields_of(found.category.department) == fields_of(expected.category.department)
    assert found.commune.get_deferred_fields() == {"geometry"}
    with CaptureQueriesContext(connection) as queries:  # the related instances came with the row
        assert (found.commune.name, found.category.department.name) == (
            expected.commune.name,
            expected.category.department.name,
        )
    assert len(queries) == 0

    # A reverse one-to-one (a comuna's identity): present, and absent (no further query either way).
    with_identity, without = list(communes.values())[:2]
    CommuneIdentity.objects.create(commune=with_identity, display_name="Municipalidad de prueba")
    by_cut = KeyLookup(lambda cut: Commune.objects.select_related("identity").defer("geometry").filter(cut=cut))
    with CaptureQueriesContext(connection) as queries:
        assert by_cut(with_identity.cut).identity.display_name == "Municipalidad de prueba"
        lacking = by_cut(without.cut)
        with pytest.raises(CommuneIdentity.DoesNotExist):
            lacking.identity  # noqa: B018
    assert len(queries) == 2
    assert not Commune.objects.filter(Q(pk=without.pk), ~Q(identity=None)).exists()


def test_key_lookup_reads_each_value_afresh_and_keeps_values_out_of_the_sql():
    from geo_siac.catalogue.models import Category
    from geo_siac.db import KeyLookup

    category = Category.objects.filter(is_active=True).first()
    active = KeyLookup(lambda code: Category.objects.filter(is_active=True, service_code=code))
    assert active(category.service_code).pk == category.pk
    Category.objects.filter(pk=category.pk).update(is_active=False)
    assert active(category.service_code) is None  # the SQL is kept, never the answer
    assert active("x' OR '1'='1") is None and active("nada") is None
    Category.objects.filter(pk=category.pk).update(is_active=True)
    assert active(category.service_code).pk == category.pk


def test_key_lookup_refuses_queries_it_cannot_reproduce():
    from django.db.models import F

    from geo_siac.catalogue.models import Category
    from geo_siac.db import KeyLookup
    from geo_siac.reports.models import Report

    for build in (
        lambda code: Report.objects.annotate(code=F("category__service_code")).filter(tracking_code=code),
        lambda code: Category.objects.filter(service_code=code, name_es=code),
        lambda code: Category.objects.filter(is_active=True),
        lambda code: Report.objects.prefetch_related("events").filter(tracking_code=code),
        lambda code: Report.objects.extra(select={"one": "1"}).filter(tracking_code=code),
    ):
        with pytest.raises(ValueError, match="KeyLookup"):
            KeyLookup(build)("x")


def test_row_lookup_returns_the_values_row_with_joins_and_annotations(make_report):
    from django.db.models import F

    from geo_siac.db import RowLookup
    from geo_siac.reports.models import Report
    from geo_siac.reports.selectors import LATITUDE

    report = make_report()

    def build(pk):
        return Report.objects.filter(pk=pk).annotate(lat=LATITUDE, code=F("category__service_code"))

    fields = ("id", "created_at", "attributes", "lat", "code", "commune__name")
    by_pk = RowLookup(lambda pk: build(pk).values(*fields), marker=-1)
    assert by_pk(report.pk) == build(report.pk).values(*fields).get()
    assert by_pk(report.pk)["created_at"] == Report.objects.get(pk=report.pk).created_at
    assert by_pk(report.pk + 10**6) is None
    Report.objects.filter(pk=report.pk).update(description="cambiada")
    with_text = RowLookup(lambda pk: build(pk).values("description"), marker=-1)
    assert with_text(report.pk) == {"description": "cambiada"}  # the SQL is kept, never the answer


@pytest.mark.django_db(transaction=True)  # outside a test's transaction, to open a second session
def test_row_lookup_is_planned_once_per_database_session():
    from geo_siac.catalogue.models import Department
    from geo_siac.db import RowLookup

    by_name = RowLookup(lambda name: Department.objects.filter(name=name).values("id", "name"), marker="-")

    def prepared() -> list:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [by_name.statement.name])
            return cursor.fetchall()

    department = Department.objects.create(name="Dirección de Prueba")
    assert by_name("Dirección de Prueba")["id"] == department.pk
    assert by_name("Otra") is None
    (statement,) = prepared()  # one statement, its value a parameter
    assert "$1" in statement[0]
    connection.close()  # a new session (as after CONN_MAX_AGE) prepares it again
    assert prepared() == []
    assert by_name("Dirección de Prueba")["id"] == department.pk
    assert len(prepared()) == 1


def test_lookups_made_and_dropped_on_one_session_each_answer_their_own_query():
    import gc

    from geo_siac.catalogue.models import Department
    from geo_siac.db import RowLookup

    departments = [Department.objects.create(name=f"Dirección {n}") for n in range(3)]
    names = set()
    for round_ in range(30):
        department = departments[round_ % 3]
        # A query of its own each round: only this department's row, whatever name is asked.
        lookup = RowLookup(
            lambda name, pk=department.pk: Department.objects.filter(pk=pk, name=name).values("id"), marker="-"
        )
        assert lookup(department.name) == {"id": department.pk}
        assert lookup(departments[(round_ + 1) % 3].name) is None
        names.add(lookup.statement.name)
        del lookup
        gc.collect()  # the next lookup may take the freed object's place (and, before, its id())
    assert len(names) == 30


def test_row_lookup_refuses_queries_it_cannot_reproduce():
    from geo_siac.db import RowLookup
    from geo_siac.reports.models import Report

    for build in (
        lambda pk: Report.objects.filter(pk=pk),  # no values()
        lambda pk: Report.objects.filter(pk=pk, duplicate_of=pk).values("id"),  # the marker twice
        lambda pk: Report.objects.values("id"),  # no marker
    ):
        with pytest.raises(ValueError, match="RowLookup"):
            RowLookup(build, marker=-1)(1)


def test_rows_by_key_returns_every_row_of_the_queryset_in_its_order_and_defers_as_it_does(make_report):
    from geo_siac.db import RowsByKey
    from geo_siac.reports.models import ReportEvent
    from geo_siac.reports.services import report_change_status

    busy, quiet = make_report(), make_report()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=busy, status="in_progress", note="En camino.")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=busy, status="resolved", note="Listo.")

    def build(pk):
        return ReportEvent.objects.filter(report_id=pk, is_public=True).order_by("-created_at", "-id")

    events = RowsByKey(build, marker=-1)
    for report in (busy, quiet, busy):
        expected, found = list(build(report.pk)), events(report.pk)
        assert [type(event) for event in found] == [ReportEvent] * len(expected)
        assert [fields_of(event) for event in found] == [fields_of(event) for event in expected]
    assert len(events(busy.pk)) > len(events(quiet.pk)) > 0 and events(-5) == []
    notes = RowsByKey(lambda pk: ReportEvent.objects.filter(report_id=pk).only("note").order_by("id"), marker=-1)
    found = notes(busy.pk)
    assert [event.note for event in found] == list(busy.events.order_by("id").values_list("note", flat=True))
    assert all("kind" in event.get_deferred_fields() for event in found)
    with pytest.raises(ValueError, match="RowsByKey"):
        RowsByKey(lambda pk: ReportEvent.objects.select_related("report").filter(report_id=pk), marker=-1)(busy.pk)


def test_query_template_sends_its_sql_again_with_each_calls_values(make_report):
    from django.db.models import F

    from geo_siac.db import QueryTemplate, Slot
    from geo_siac.reports.models import Report
    from geo_siac.reports.selectors import LATITUDE

    reports = [make_report(description=f"informe {n}") for n in range(4)]
    pks = [report.pk for report in reports]
    fields = ("id", "created_at", "attributes", "lat", "code", "commune__name", "description")

    def build(pk_list, after):
        return (
            Report.objects.filter(pk__any=pk_list, created_at__gte=after)
            .annotate(lat=LATITUDE, code=F("category__service_code"))
            .order_by("-id")
            .values(*fields)
        )

    template = QueryTemplate(lambda shape: build(Slot("pks"), Slot("after")))
    oldest = min(report.created_at for report in reports)
    assert template.rows("one", {"pks": pks[:3], "after": oldest}) == list(build(pks[:3], oldest))
    assert template.rows("one", {"pks": pks, "after": oldest}, limit=2, offset=1) == list(build(pks, oldest)[1:3])
    assert template.rows("one", {"pks": [], "after": oldest}) == []
    assert len(template.shapes) == 1  # compiled once, whatever the list's length
    Report.objects.filter(pk=pks[0]).update(description="cambiada")
    assert template.rows("one", {"pks": pks[:1], "after": oldest})[0]["description"] == "cambiada"  # never the answer
    with pytest.raises(ValueError, match="without a slice"):
        QueryTemplate(lambda shape: build(Slot("pks"), Slot("after"))[:1]).rows("one", {})


def test_query_template_fills_a_subquerys_limit_from_a_slot(make_report):
    """slot_sliced: a subquery sliced up to a Slot is sent with that slot's value as its LIMIT, in the parameter's
    own place among the others (a value before the subquery and one inside it)."""
    from geo_siac.db import QueryTemplate, Slot, slot_sliced
    from geo_siac.reports.models import Report

    reports = [make_report(description=f"informe {n}") for n in range(5)]
    pks = sorted(report.pk for report in reports)

    def build(first, pk_list, above):
        newest = slot_sliced(Report.objects.filter(pk__any=pk_list).order_by("-id").values("pk"), first)
        return Report.objects.filter(pk__gt=above, pk__in=newest).order_by("id").values("id")

    template = QueryTemplate(lambda shape: build(Slot("first"), Slot("pks"), Slot("above")))
    for first in (1, 3, 5):
        expected = [{"id": pk} for pk in pks[-first:] if pk > pks[0]]
        assert template.rows("one", {"first": first, "pks": pks, "above": pks[0]}) == expected
        assert template.rows("one", {"first": first, "pks": pks, "above": pks[0]}) == list(build(first, pks, pks[0]))
    query = template.shapes["one"]
    assert query.sql.count("LIMIT %s") == 1 and [str(p) for p in query.params if p in ("first", "pks", "above")] == [
        "above",
        "pks",
        "first",
    ]


# geo_siac.db.refreshed_by_one: one process recomputes a cached value; the others serve the previous one.


def lock_holder(key: str):
    """Another database session (another worker) holding the key's lock, as while it recomputes the value."""

    from geo_siac.db import advisory_lock_id

    other = other_session()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [advisory_lock_id(key)])
    return other


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr("geo_siac.db.time", lambda: now[0])
    return now


def test_a_fresh_value_is_served_without_computing(clock):
    from geo_siac.db import refreshed_by_one

    assert refreshed_by_one("prueba:fresco", lambda: "primero", 60) == "primero"
    clock[0] += 59
    assert refreshed_by_one("prueba:fresco", lambda: pytest.fail("recomputed while fresh"), 60) == "primero"
    clock[0] += 2
    assert refreshed_by_one("prueba:fresco", lambda: "segundo", 60) == "segundo"
    assert refreshed_by_one("prueba:fresco", lambda: pytest.fail("recomputed while fresh"), 60) == "segundo"


@pytest.mark.django_db(transaction=True)
def test_while_another_process_refreshes_a_due_value_the_previous_one_is_served(clock):
    from geo_siac.db import refreshed_by_one

    refreshed_by_one("prueba:vencido", lambda: "anterior", 60)
    clock[0] += 61
    other = lock_holder("prueba:vencido")
    try:
        assert refreshed_by_one("prueba:vencido", lambda: pytest.fail("computed twice at once"), 60) == "anterior"
    finally:
        # The other process finished: its lock is gone. Unlocked before closing, since a closed connection's
        # backend lets go of its locks a moment later, and the next call could still find it held.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        other.close()
    assert refreshed_by_one("prueba:vencido", lambda: "nuevo", 60) == "nuevo"


@pytest.mark.django_db(transaction=True)
def test_with_no_value_at_all_the_others_wait_and_read_what_the_first_computed(clock):
    import threading

    from django.core.cache import cache

    from geo_siac.db import refreshed_by_one

    other = lock_holder("prueba:frio")
    outcome = {}

    def second():
        try:
            outcome["value"] = refreshed_by_one("prueba:frio", lambda: "calculado dos veces", 60)
        finally:
            connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)  # time to reach the lock and wait there; nothing is asserted on timing
    assert thread.is_alive(), "did not wait for the process computing the value"
    cache.set("prueba:frio", {"value": "calculado una vez", "fresh_until": clock[0] + 60})  # the first one's result
    other.close()
    thread.join(timeout=30)
    assert outcome == {"value": "calculado una vez"}


@pytest.mark.django_db(transaction=True)  # outside a transaction: where a request's lookups run
def test_a_lookup_prepared_before_a_migration_changed_its_columns_is_prepared_again(communes):
    """A rolling deploy: another server migrates while this session keeps its prepared statement, whose result type
    PostgreSQL then refuses ("cached plan must not change result type"). The lookup prepares it again and answers."""
    from geo_siac.zones.models import CommuneIdentity
    from geo_siac.zones.selectors import COMMUNE_BY_JURISDICTION

    commune = next(iter(communes.values()))
    CommuneIdentity.objects.create(commune=commune, display_name="Municipalidad antes")
    assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).identity.display_name == "Municipalidad antes"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE zones_communeidentity ALTER COLUMN display_name TYPE varchar(250)")
        try:
            with connection.cursor() as second:  # the statement is stale now, as PostgreSQL says
                with pytest.raises(Exception, match="cached plan must not change result type"):
                    second.execute(f"EXECUTE {COMMUNE_BY_JURISDICTION.statement.name}(%s)", [commune.jurisdiction_id])
            CommuneIdentity.objects.filter(commune=commune).update(display_name="Municipalidad después")
            assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).identity.display_name == "Municipalidad después"
            assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).pk == commune.pk  # and stays prepared
            # Inside a transaction the error has aborted it: the call fails, the session is to be closed when the
            # request ends, and the lookup's next call (a new name) prepares afresh.
            cursor.execute("ALTER TABLE zones_communeidentity ALTER COLUMN display_name TYPE varchar(200)")
            stale = COMMUNE_BY_JURISDICTION.statement.number
            with pytest.raises(Exception, match="cached plan must not change result type"), transaction.atomic():
                COMMUNE_BY_JURISDICTION(commune.jurisdiction_id)
            assert connection.close_at == 0 and COMMUNE_BY_JURISDICTION.statement.number != stale
            connection.close_at = None
            assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).identity.display_name == "Municipalidad después"
        finally:
            cursor.execute("ALTER TABLE zones_communeidentity ALTER COLUMN display_name TYPE varchar(150)")


@pytest.mark.django_db(transaction=True)  # outside a transaction: where a lookup and an Open311 POST run
def test_after_deallocate_all_the_next_submission_and_lookup_prepare_their_statements_again(make_report, communes):
    """DEALLOCATE ALL (DISCARD ALL, a pool's reset of a session, drops them too) leaves this process believing its
    statements prepared on the session: a submission and a lookup prepare theirs again and answer. Inside a
    transaction the error has aborted it: that call fails, and every statement is prepared again on its next call."""
    from django.db import DatabaseError

    from geo_siac.reports.models import Report
    from geo_siac.zones.selectors import COMMUNE_BY_JURISDICTION

    def prepared() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            return {name for (name,) in cursor.fetchall()}

    def deallocate_all():
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        assert prepared() == set()

    commune = communes["13201"]
    first = make_report(channel="open311")
    assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).pk == commune.pk
    deallocate_all()
    second = make_report(channel="open311")  # its statement alone, outside a transaction
    assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).pk == commune.pk
    assert COMMUNE_BY_JURISDICTION.statement.name in prepared()
    assert any(name.startswith("reports_report_statement_") for name in prepared())
    deallocate_all()
    with pytest.raises(DatabaseError, match="does not exist"), transaction.atomic():
        COMMUNE_BY_JURISDICTION(commune.jurisdiction_id)
    assert COMMUNE_BY_JURISDICTION(commune.jurisdiction_id).pk == commune.pk
    third = make_report(submission_token="tras-deallocate")  # in a transaction: its statement forgotten too
    assert Report.objects.filter(pk__in=[first.pk, second.pk, third.pk]).count() == 3
    assert third.submission.token == "tras-deallocate"


@pytest.mark.django_db(transaction=True)  # outside a test's transaction, to open a second session
def test_a_prepared_query_template_is_prepared_once_per_session_and_again_when_stale():
    """QueryTemplate(prepared=True): one statement per shape and session, its slots, limit and offset parameters;
    a new session prepares it again, and so does a session whose statement a migration made stale."""
    from geo_siac.catalogue.models import Department
    from geo_siac.db import QueryTemplate, Slot

    for n in range(4):
        Department.objects.create(name=f"Prueba QT {n}")
    names = QueryTemplate(
        lambda shape: (
            Department.objects.filter(name__startswith="Prueba QT", name__gte=Slot("start"))
            .order_by("name")
            .values("name")
        ),
        prepared=True,
    )

    def page(start: str, limit=None, offset=0) -> list[str]:
        return [row["name"] for row in names.rows("from", {"start": start}, limit=limit, offset=offset)]

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement FROM pg_prepared_statements WHERE name = %s",
                [names.shapes["from"].statement.name],
            )
            return [statement for (statement,) in cursor.fetchall()]

    assert page("Prueba QT 1") == ["Prueba QT 1", "Prueba QT 2", "Prueba QT 3"]
    assert page("Prueba QT 1", limit=1, offset=1) == ["Prueba QT 2"]
    assert page("Prueba QT 3", limit=5, offset=0) == ["Prueba QT 3"]
    (statement,) = prepared()
    assert names.shapes["from"].statement.name.startswith("zones_department_list_")
    assert ">= ($1)" in statement and "LIMIT $2 OFFSET $3" in statement
    connection.close()  # a new session (as after CONN_MAX_AGE) prepares it again
    assert prepared() == []
    assert page("Prueba QT 2", limit=1) == ["Prueba QT 2"]
    assert len(prepared()) == 1
    stale = names.shapes["from"].statement.number
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE zones_department ALTER COLUMN name TYPE varchar(250)")
        try:
            assert page("Prueba QT 3") == ["Prueba QT 3"]
            assert names.shapes["from"].statement.number != stale
        finally:
            cursor.execute("ALTER TABLE zones_department ALTER COLUMN name TYPE varchar(200)")


def test_a_prepared_query_template_sliced_to_its_first_few_keeps_that_limit_in_its_statement():
    """A prepared template whose query takes its first few ([:number]) has that number in its statement's text, so
    that a generic plan knows it (geo_siac.geocoding.selectors.REVERSE); it takes no limit or offset of a call's, and
    neither an unprepared template nor an offset may slice the query."""
    from geo_siac.catalogue.models import Department
    from geo_siac.db import QueryTemplate, Slot

    for n in range(4):
        Department.objects.create(name=f"Prueba QT {n}")

    def build(start, first=slice(None, 2)):
        return (
            Department.objects.filter(name__startswith="Prueba QT", name__gte=start)
            .order_by("name")
            .values("name")[first]
        )

    names = QueryTemplate(lambda shape: build(Slot("start")), prepared=True)
    assert names.rows("from", {"start": "Prueba QT 1"}) == list(build("Prueba QT 1"))
    assert [row["name"] for row in names.rows("from", {"start": "Prueba QT 3"})] == ["Prueba QT 3"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name = %s",
            [names.shapes["from"].statement.name],
        )
        (statement,) = cursor.fetchone()
    assert statement.endswith("LIMIT 2") and "OFFSET" not in statement
    with pytest.raises(ValueError, match="has its own limit"):
        names.rows("from", {"start": "Prueba QT 1"}, limit=1)
    with pytest.raises(ValueError, match="without a slice"):
        QueryTemplate(lambda shape: build(Slot("start"), slice(1, 3)), prepared=True).rows("from", {"start": "P"})
    with pytest.raises(ValueError, match="without a slice"):
        QueryTemplate(lambda shape: build(Slot("start"))).rows("from", {"start": "P"})


@pytest.mark.django_db(transaction=True)  # outside a test's transaction: where a staff form's reclassification runs
def test_a_reclassification_after_a_migration_made_the_comunas_terms_stale_prepares_them_again(communes, crews):
    """A rolling deploy migrates a column the comuna's terms read (zones.selectors.TERMS, a prepared statement) while
    this session keeps the statement: the reclassification reads the terms before its transaction takes the report's
    lock, so that their EXECUTE is prepared again and sent once more instead of aborting the transaction."""
    from geo_siac.catalogue.kinds import RequestKind
    from geo_siac.reports.models import EventKind, Report
    from geo_siac.reports.services import report_create, report_reclassify
    from geo_siac.zones.selectors import TERMS

    query = report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel="email",
        description="Quiero reclamar: el camión de la basura no pasa hace dos semanas.",
        reporter_name="Rosa Pérez",
        reporter_email="vecina@example.cl",
    )
    (shape,) = TERMS.shapes.values()  # prepared on this session by the submission
    stale = shape.statement.number
    with connection.cursor() as cursor:
        # A column the terms alone of the reclassification's prepared statements read.
        cursor.execute("ALTER TABLE zones_communecategory ALTER COLUMN response_days TYPE integer")
        try:
            report_reclassify(
                report=query, category="reclamo-servicio", reason="Es un reclamo.", actor=crews["supervisor"]
            )
            assert shape.statement.number != stale and connection.close_at != 0
        finally:
            cursor.execute("ALTER TABLE zones_communecategory ALTER COLUMN response_days TYPE smallint")
    stored = Report.objects.get(pk=query.pk)
    assert (stored.kind, stored.category.service_code) == (RequestKind.COMPLAINT, "reclamo-servicio")
    assert stored.events.filter(kind=EventKind.RECLASSIFIED, is_public=False).count() == 1
