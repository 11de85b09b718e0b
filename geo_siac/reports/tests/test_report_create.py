from datetime import date, datetime
from zoneinfo import ZoneInfo

import h3
import pytest
from django.core.exceptions import ValidationError

from geo_siac.catalogue.models import Category
from geo_siac.geo import H3_RESOLUTIONS
from geo_siac.reports.models import Report, ReportEvent
from geo_siac.reports.states import Status
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE


def assert_rejected(make, field: str, fragment: str, **kwargs):
    before = (Report.objects.count(), ReportEvent.objects.count())
    with pytest.raises(ValidationError) as caught:
        make(**kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert fragment in caught.value.message_dict[field][0]
    assert (Report.objects.count(), ReportEvent.objects.count()) == before
    return caught.value.message_dict[field][0]


def test_report_in_puente_alto_gets_commune_code_deadline_and_history(make_report, communes):
    report = make_report(reporter_email="vecina@example.cl")
    assert report.commune == communes["13201"]
    assert report.status == Status.SUBMITTED
    assert report.tracking_code.startswith("PA-") and len(report.tracking_code) == 12
    assert report.expected_at > report.created_at
    event = report.events.get(kind="created")
    assert (event.to_status, event.actor_label) == ("submitted", "Web")


def test_report_in_penalolen_is_assigned_to_penalolen(make_report, communes):
    report = make_report(point=PENALOLEN_CENTRE)
    assert report.commune == communes["13122"]
    assert report.tracking_code.startswith("PE-")


def test_h3_cells_equal_h3_library_at_every_stored_resolution(make_report):
    lat, lng = -33.59731, -70.56012
    report = make_report(point=(lat, lng))
    for res in H3_RESOLUTIONS:
        assert getattr(report, f"h3_res{res}") == h3.str_to_int(h3.latlng_to_cell(lat, lng, res))
    stored = Report.objects.get(pk=report.pk)
    assert stored.h3_res9 == h3.str_to_int(h3.latlng_to_cell(lat, lng, 9))


@pytest.mark.parametrize(
    ("lat", "lng", "field", "fragment"),
    [
        (None, -70.57, "latitude", "Falta la latitud"),
        ("", -70.57, "latitude", "Falta la latitud"),
        (-33.6, None, "longitude", "Falta la longitud"),
        ("abc", -70.57, "latitude", "debe ser un número"),
        (-33.6, "-70,57x", "longitude", "debe ser un número"),
        (float("nan"), -70.57, "latitude", "número finito"),
        ("inf", -70.57, "latitude", "número finito"),
        (-91, -70.57, "latitude", "entre -90 y 90"),
        (-33.6, 181, "longitude", "entre -180 y 180"),
        (True, -70.57, "latitude", "debe ser un número"),
    ],
)
def test_bad_coordinates_are_rejected_and_nothing_is_written(make_report, lat, lng, field, fragment):
    assert_rejected(make_report, field, fragment, point=(lat, lng))


def test_pin_outside_every_active_commune_names_the_nearest_and_its_distance(make_report):
    # Plaza de Armas de Santiago: in comuna Santiago, not served by this installation.
    message = assert_rejected(make_report, "location", "fuera de las comunas atendidas", point=(-33.4378, -70.6505))
    assert "Peñalolén" in message
    assert " km" in message


def test_unknown_and_inactive_categories_are_rejected(make_report):
    assert_rejected(make_report, "category", "no existe", category="no-existe")
    Category.objects.filter(service_code="grafiti").update(is_active=False)
    assert_rejected(make_report, "category", "no existe o no está activa", category="grafiti")


def test_description_over_4000_characters_is_rejected(make_report):
    assert_rejected(make_report, "description", "el máximo es 4.000", description="x" * 4001)
    assert make_report(description="x" * 4000).description == "x" * 4000


def test_several_errors_are_reported_together(make_report):
    with pytest.raises(ValidationError) as caught:
        make_report(point=("x", None), category="nope", reporter_email="not-an-email")
    assert {"latitude", "longitude", "category", "reporter_email"} <= set(caught.value.message_dict)


def test_required_extra_question_must_be_answered(make_report):
    assert_rejected(make_report, "attribute[plaga]", "obligatoria", category="control-plagas")
    assert_rejected(
        make_report, "attribute[plaga]", "no permitidos", category="control-plagas", attributes={"plaga": ["dragones"]}
    )
    report = make_report(category="control-plagas", attributes={"plaga": ["roedores", "insectos"]})
    assert report.attributes == {"plaga": ["roedores", "insectos"]}


def test_deadline_counts_business_days_in_santiago(make_report, monkeypatch):
    # Friday 2026-09-11 10:00 in Santiago, 5 business days: skips the weekend and 18-19 September.
    friday = datetime(2026, 9, 11, 10, 0, tzinfo=ZoneInfo("America/Santiago"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: friday)
    report = make_report(category="retiro-escombros")  # 5 business days
    due = report.expected_at.astimezone(ZoneInfo("America/Santiago"))
    assert due.date().isoformat() == "2026-09-21"


def test_deadline_skips_the_installations_closed_days(make_report, monkeypatch):
    """The closed days reach report_create with the placement's round trip (zones.selectors.placement)."""
    from geo_siac.zones.models import ClosedDay

    friday = datetime(2026, 9, 11, 10, 0, tzinfo=ZoneInfo("America/Santiago"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: friday)
    ClosedDay.objects.create(day=date(2026, 9, 15), reason="Aniversario comunal")
    ClosedDay.objects.create(day=date(2026, 9, 28), reason="Después del plazo: no cuenta")
    report = make_report(category="retiro-escombros")  # 5 business days: the 21st without the closed day
    assert report.expected_at.astimezone(ZoneInfo("America/Santiago")).date().isoformat() == "2026-09-22"


def test_the_one_statement_insert_writes_every_column_as_the_orm_save_would(make_report, crews):
    """report_store inserts the report, its events and the form token in one statement built from the models'
    own fields (geo_siac.db.insert_sql, typed_values): the same report saved by the ORM is the same row."""
    filed = make_report(
        category="control-plagas",
        attributes={"plaga": ["roedores"]},
        reporter_name="Ana",
        reporter_email="ana@example.cl",
        public_visibility=True,
        address="Pasaje 1",
        created_by=crews["operator"],
        actor_label="OIRS",
        submission_token="t-1",
    )
    stored = Report.objects.get(pk=filed.pk)
    copy = Report.objects.get(pk=filed.pk)
    copy.pk, copy.tracking_code = None, "PA-ZZZZ-ZZZZ"
    copy.save(force_insert=True)
    ours, orms = (
        {k: v for k, v in Report.objects.filter(pk=pk).values().get().items() if k not in ("id", "tracking_code")}
        for pk in (stored.pk, copy.pk)
    )
    assert ours == orms and len(ours) == len(Report._meta.concrete_fields) - 2
    assert stored.location.equals_exact(filed.location) and stored.attributes == {"plaga": ["roedores"]}
    events = list(
        stored.events.order_by("id").values(
            "kind", "to_status", "is_public", "actor_id", "actor_label", "note", "created_at"
        )
    )
    assert events == [
        {
            "kind": "created",
            "to_status": "submitted",
            "is_public": True,
            "actor_id": crews["operator"].pk,
            "actor_label": "OIRS",
            "note": "",
            "created_at": stored.created_at,
        },
        {
            "kind": "routed",
            "to_status": "",
            "is_public": False,
            "actor_id": None,
            "actor_label": "GeoSIAC",
            "note": events[1]["note"],
            "created_at": stored.created_at,
        },
    ]
    assert events[1]["note"]  # the routing decision, said in words
    assert stored.submission.token == "t-1"


def test_a_request_without_a_place_is_written_as_the_orm_save_would(communes):
    """A placeless kind's INSERT has another shape (no location): its row is the ORM's too."""
    from geo_siac.catalogue.kinds import RequestKind
    from geo_siac.reports.services import report_create

    filed = report_create(
        kind=RequestKind.COMPLAINT,
        category="reclamo-servicio",
        commune=communes["13201"],
        channel="web",
        description="No pasó el camión.",
        submission_token="t-2",
    )
    copy = Report.objects.get(pk=filed.pk)
    copy.pk, copy.tracking_code = None, "PA-ZZZZ-ZZZY"
    copy.save(force_insert=True)
    ours, orms = (
        {k: v for k, v in Report.objects.filter(pk=pk).values().get().items() if k not in ("id", "tracking_code")}
        for pk in (filed.pk, copy.pk)
    )
    assert ours == orms and ours["location"] is None and ours["kind"] == "complaint"


def test_the_insert_written_once_per_shape_is_the_one_djangos_compiler_writes(communes, crews, monkeypatch):
    """report_write sends geo_siac.db.compiled_insert_sql's statement: for every shape of report the ways of filing
    give (placed, placeless, at a desk, by an operator, with answers and a link), and one placed in another SRID or
    with its id left to the column, it is byte for byte the statement insert_sql compiles for the same report."""
    from django.contrib.gis.geos import Point
    from django.db import connection

    from geo_siac.catalogue.kinds import RequestKind
    from geo_siac.db import compiled_insert_sql, insert_sql
    from geo_siac.reports.services import create, report_create
    from geo_siac.zones.models import ServicePoint

    def sent(sql, params) -> bytes:
        with connection.cursor() as cursor:
            return cursor.mogrify(sql, params)

    compared = []
    real = create.compiled_insert_sql

    def checked(report):
        djangos = sent(*insert_sql(report))
        statement = real(report)
        assert sent(*statement) == djangos
        compared.append(djangos)
        return statement

    monkeypatch.setattr(create, "compiled_insert_sql", checked)
    desk = ServicePoint.objects.create(
        name="OIRS Peñalolén",
        kind="municipal_office",
        commune=communes["13122"],
        point=Point(-70.54, -33.485, srid=4326),
    )
    placed = dict(category="retiro-escombros", latitude=PUENTE_ALTO_CENTRE[0], longitude=PUENTE_ALTO_CENTRE[1])
    reports = [
        report_create(**placed, channel="web", description="Escombros."),
        report_create(**placed, channel="web", description="Otra vez.", submission_token="t-3"),
        report_create(
            **{**placed, "category": "control-plagas"},
            channel="open311",
            attributes={"plaga": ["roedores"]},
            media_url="https://example.cl/foto.jpg",
            public_visibility=True,
            language="en",
        ),
        report_create(
            **placed, channel="phone", created_by=crews["operator"], actor_label="OIRS", reporter_name="Ana",
            reporter_email="ana@example.cl", address="Pasaje 1",
        ),
        report_create(
            kind=RequestKind.COMPLAINT, category="reclamo-servicio", commune=communes["13201"], channel="web",
            description="No pasó el camión.",
        ),
        report_create(
            kind=RequestKind.INFORMATION, category="acceso-informacion", received_at=desk, channel="in_person",
            created_by=crews["operator"], reporter_name="Rosa Pérez", reporter_phone="+56 9 8765 4321",
            description="Copia del contrato.",
        ),
    ]  # fmt: skip
    assert len(compared) == len(reports) == len(set(compared))
    elsewhere = Report.objects.get(pk=reports[0].pk)
    elsewhere.location = Point(350_000, 6_280_000, srid=32719)  # UTM 19S: the compiler transforms it
    elsewhere.pk = None
    for report in (elsewhere, reports[4]):
        statement = compiled_insert_sql(report)
        assert sent(*statement) == sent(*insert_sql(report))
    assert b"ST_Transform" in sent(*compiled_insert_sql(elsewhere))
    assert b'"id"' not in sent(*compiled_insert_sql(elsewhere))


def test_a_tracking_code_already_taken_is_drawn_again_and_only_the_new_report_is_written(make_report, monkeypatch):
    first = make_report()
    drawn = iter([first.tracking_code, first.tracking_code, "PA-2345-6789"])
    monkeypatch.setattr("geo_siac.reports.services.create.new_tracking_code", lambda prefix: next(drawn))
    second = make_report(reporter_email="vecina@example.cl")
    assert second.tracking_code == "PA-2345-6789"
    assert Report.objects.count() == 2 and Report.objects.get(tracking_code=first.tracking_code) == first
    assert list(second.events.values_list("kind", flat=True).order_by("id")) == ["created", "routed"]
    assert second.notifications.count() == 1


def test_when_every_tracking_code_drawn_is_taken_nothing_is_written(make_report, monkeypatch):
    first = make_report()
    before = (Report.objects.count(), ReportEvent.objects.count())
    monkeypatch.setattr("geo_siac.reports.services.create.new_tracking_code", lambda prefix: first.tracking_code)
    with pytest.raises(RuntimeError, match="free tracking code"):
        make_report()
    assert (Report.objects.count(), ReportEvent.objects.count()) == before


def test_the_same_form_token_twice_returns_the_first_report_and_writes_nothing_more(make_report):
    first = make_report(submission_token="formulario-1", reporter_email="vecina@example.cl")
    before = (Report.objects.count(), ReportEvent.objects.count(), first.notifications.count())
    assert make_report(submission_token="formulario-1", reporter_email="vecina@example.cl") == first
    assert (Report.objects.count(), ReportEvent.objects.count(), first.notifications.count()) == before


def test_centre_constant_is_inside_puente_alto(communes):
    from django.contrib.gis.geos import Point

    lat, lng = PUENTE_ALTO_CENTRE
    assert communes["13201"].geometry.contains(Point(lng, lat, srid=4326))


def test_nul_and_control_characters_are_rejected_by_field(make_report):
    assert_rejected(make_report, "description", "caracteres de control", description="hola\x00mundo")
    assert_rejected(make_report, "address", "caracteres de control", address="Av.\x07 Concha y Toro")
    assert make_report(description="línea 1\nlínea 2\ttab").description == "línea 1\nlínea 2\ttab"


def test_address_over_300_characters_is_rejected(make_report):
    assert_rejected(make_report, "address", "máximo 300", address="x" * 301)


def test_a_service_point_of_a_comuna_not_served_is_refused_by_name_and_nothing_is_written(make_report, communes):
    from django.contrib.gis.geos import Point

    from geo_siac.zones.models import Commune, ServicePoint

    penalolen = communes["13122"]
    desk = ServicePoint.objects.create(
        name="OIRS Peñalolén",
        kind="oirs",
        commune=penalolen,
        point=Point(PENALOLEN_CENTRE[1], PENALOLEN_CENTRE[0], srid=4326),
    )
    Commune.objects.filter(pk=penalolen.pk).update(is_active=False)
    with pytest.raises(ValidationError) as caught:
        make_report(channel="in_person", received_at=desk)
    assert caught.value.message_dict["received_at"] == [
        "El punto de atención «OIRS Peñalolén» no pertenece a una comuna atendida."
    ]
    assert not Report.objects.exists()
    Commune.objects.filter(pk=penalolen.pk).update(is_active=True)
    assert make_report(channel="in_person", received_at=desk).received_at == desk


def test_an_in_person_request_names_its_desk_where_its_comuna_has_one(make_report, communes):
    from django.contrib.gis.geos import Point

    from geo_siac.zones.models import ServicePoint

    assert make_report(channel="in_person").received_at is None  # Puente Alto has no point loaded yet
    ServicePoint.objects.create(
        name="OIRS Peñalolén", kind="oirs", commune=communes["13122"], point=Point(*PENALOLEN_CENTRE[::-1], srid=4326)
    )
    assert make_report(channel="in_person").received_at is None  # another comuna's point is not its desk
    desk = ServicePoint.objects.create(
        name="OIRS Puente Alto",
        kind="oirs",
        commune=communes["13201"],
        point=Point(*PUENTE_ALTO_CENTRE[::-1], srid=4326),
    )
    count = Report.objects.count()
    with pytest.raises(ValidationError) as caught:
        make_report(channel="in_person")
    assert caught.value.message_dict == {
        "received_at": [
            "Una solicitud presencial se registra con el punto de atención u oficina donde vino la persona: elíjalo."
        ]
    }
    assert Report.objects.count() == count
    assert make_report(channel="phone").received_at is None
    assert make_report(channel="in_person", received_at=desk).received_at == desk


def transaction_statements(captured) -> list[str]:
    return [q["sql"] for q in captured if q["sql"].strip().upper() in ("BEGIN", "COMMIT", "ROLLBACK")]


@pytest.mark.django_db(transaction=True)
def test_a_report_with_nothing_else_to_write_is_stored_by_its_one_statement_without_a_transaction(
    make_report, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = make_report(channel="open311")
    drawn = iter([first.tracking_code, "PA-2345-6789"])
    monkeypatch.setattr("geo_siac.reports.services.create.new_tracking_code", lambda prefix: next(drawn))
    with CaptureQueriesContext(connection) as captured:
        second = make_report(channel="open311")  # its first tracking code is taken: drawn again
    assert transaction_statements(captured) == []
    assert second.tracking_code == "PA-2345-6789" and Report.objects.count() == 2
    assert list(second.events.values_list("kind", flat=True).order_by("id")) == ["created", "routed"]
    assert Report.objects.get(tracking_code=first.tracking_code) == first
    monkeypatch.undo()
    with CaptureQueriesContext(connection) as captured:
        third = make_report(submission_token="formulario-9", reporter_email="vecina@example.cl")
    # A form token and an email are written after the report's statement: the three go in one transaction.
    assert transaction_statements(captured) == ["BEGIN", "COMMIT"]
    assert third.submission.token == "formulario-9" and third.notifications.count() == 1


def plan_cache_mode() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_submission_gives_generic_plans_to_its_own_transaction_only(make_report):
    """The report's statement sets plan_cache_mode for its transaction (its foreign-key checks at commit), never for
    the session: an Open311 POST (its statement alone, no transaction) and a form's transaction leave the next
    request's plans to the server's setting."""
    from django.db import transaction

    before = plan_cache_mode()
    assert before != "force_generic_plan"
    alone = make_report(channel="open311")
    assert plan_cache_mode() == before
    with transaction.atomic():
        with_token = make_report(submission_token="generic-plans")
        assert plan_cache_mode() == "force_generic_plan"
    assert plan_cache_mode() == before
    assert Report.objects.filter(pk__in=[alone.pk, with_token.pk]).count() == 2
    assert ReportEvent.objects.filter(report__in=[alone.pk, with_token.pk]).count() == 4


def test_the_reports_insert_is_prepared_once_per_session(make_report, communes):
    """report_write sends its statement as an EXECUTE of a statement prepared once per session and shape
    (geo_siac.db.execute_prepared): a second report, and one without a place (its point a NULL parameter), run the
    same statement, and each stores its own values."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from geo_siac.catalogue.kinds import RequestKind

    def filed(**kwargs):
        with CaptureQueriesContext(connection) as captured:
            report = make_report(**kwargs)
        [name] = re.findall(r"EXECUTE (reports_report_statement_\d+)\(", " ".join(q["sql"] for q in captured))
        return report, name

    first, first_name = filed(description="Primera.")
    second, second_name = filed(description="Segunda.", point=PENALOLEN_CENTRE)
    placeless, placeless_name = filed(
        kind=RequestKind.COMPLAINT, category="reclamo-servicio", commune=communes["13201"], latitude=None,
        longitude=None, description="Sin lugar.",
    )  # fmt: skip
    assert first_name == second_name == placeless_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'reports_report_statement_%%'")
        assert first_name in {name for (name,) in cursor.fetchall()}
    stored = {r.pk: r for r in Report.objects.filter(pk__in=[first.pk, second.pk, placeless.pk])}
    assert [stored[r.pk].description for r in (first, second, placeless)] == ["Primera.", "Segunda.", "Sin lugar."]
    assert stored[second.pk].commune == communes["13122"] and stored[placeless.pk].location is None
    assert ReportEvent.objects.filter(report__in=stored).count() == 6


@pytest.mark.django_db(transaction=True)  # a new session, on which the report's statement is not yet prepared
def test_a_statement_first_prepared_in_a_savepoint_rolled_back_runs_in_the_retry_in_the_same_transaction(
    make_report, monkeypatch
):
    """A tracking code already taken, inside a caller's transaction, rolls back the savepoint of the attempt that
    PREPAREd the report's statement: PostgreSQL keeps a prepared statement through a rollback, and the next
    attempt's EXECUTE of it, in the same transaction, stores the report."""
    import re

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    first = make_report(channel="open311")
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'reports_report_statement_%%'")
        assert cursor.fetchone() == (0,)
    drawn = iter([first.tracking_code, "PA-2345-6789"])
    monkeypatch.setattr("geo_siac.reports.services.create.new_tracking_code", lambda prefix: next(drawn))
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        second = make_report(reporter_email="vecina@example.cl")
    sent = [
        "EXECUTE" if q["sql"].startswith("EXECUTE reports_report_statement_") else q["sql"].split(" ")[0]
        for q in captured
        if q["sql"].startswith(("EXECUTE reports_report_statement_", "SAVEPOINT", "ROLLBACK TO", "RELEASE"))
    ]
    assert sent == ["SAVEPOINT", "EXECUTE", "ROLLBACK", "RELEASE", "SAVEPOINT", "EXECUTE", "RELEASE"]
    names = re.findall(r"EXECUTE (reports_report_statement_\d+)\(", " ".join(q["sql"] for q in captured))
    assert len(set(names)) == 1
    assert second.tracking_code == "PA-2345-6789" and Report.objects.count() == 2
    assert list(second.events.values_list("kind", flat=True).order_by("id")) == ["created", "routed"]
    assert second.notifications.count() == 1
