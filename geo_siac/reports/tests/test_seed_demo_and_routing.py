"""The demo's zones and crews, and routing of imported reports (reports_route_unrouted)."""

from io import StringIO

from django.core.management import call_command

from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.routing import route
from geo_siac.reports.states import OPEN
from geo_siac.testing import WEST_POINT
from geo_siac.zones.models import Crew, Zone


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", "--reports", "300", *args, stdout=out)
    return out.getvalue()


def test_the_demo_has_zones_and_crews_and_its_open_reports_are_routed_like_report_create(communes):
    out = seed()
    assert Zone.objects.current().filter(commune__cut="13201").exists()
    assert Zone.objects.current().filter(commune__cut="13122").exists()
    assert Crew.objects.exists()
    open_reports = Report.objects.filter(source="demo", status__in=OPEN).select_related("category", "commune")
    assert open_reports.exists() and f"{open_reports.count()} solicitudes abiertas enrutadas" in out
    for report in open_reports:
        decision = route(report.location, report.commune, report.category)
        assert (report.zone, report.crew, report.department) == (decision.zone, decision.crew, decision.department)
        assert report.events.filter(kind=EventKind.ROUTED, is_public=False).count() == 1
    assert open_reports.filter(crew__isnull=False).count() > 0.9 * open_reports.count()  # the grid covers the comunas
    # The grid is dated at the history's start, so the import places the closed history in it without routing.
    closed = Report.objects.filter(source="demo").exclude(status__in=OPEN)
    assert closed.filter(zone__isnull=False).count() > 0.9 * closed.count()
    assert not ReportEvent.objects.filter(report__in=closed, kind=EventKind.ROUTED).exists()


def test_seeding_again_adds_nothing(communes):
    seed()
    counts = (Report.objects.count(), Zone.objects.count(), Crew.objects.count(), ReportEvent.objects.count())
    out = seed()
    assert "0 zonas y 0 cuadrillas nuevas; 0 solicitudes abiertas enrutadas" in out
    assert (Report.objects.count(), Zone.objects.count(), Crew.objects.count(), ReportEvent.objects.count()) == counts


def test_import_with_route_assigns_the_open_rows_to_the_crew_of_their_zone(communes, crews, tmp_path):
    lat, lng = WEST_POINT
    path = tmp_path / "h.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,status,lat,lng\n"
        f"o1,2026-10-01 10:00,,retiro-escombros,submitted,{lat},{lng}\n"
        f"c1,2026-10-01 10:00,2026-10-02 10:00,retiro-escombros,resolved,{lat},{lng}\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command("import_reports", str(path), "--commit", "--route", "--no-progress", stdout=out)
    assert "enrutadas: 1 solicitudes abiertas" in out.getvalue()
    opened, closed = Report.objects.get(source_id="o1"), Report.objects.get(source_id="c1")
    assert (opened.zone, opened.crew) == (crews["west"], crews["A"])
    assert closed.crew is None and not closed.events.filter(kind=EventKind.ROUTED).exists()


def test_the_demo_has_service_points_open_on_a_tuesday_night_in_each_served_comuna(communes):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from geo_siac.zones.models import ServicePoint

    assert "4 puntos de atención con horario nuevos" in seed("--no-crews")
    tuesday_night = datetime(2026, 3, 3, 20, 0, tzinfo=ZoneInfo("America/Santiago"))
    open_then = [p for p in ServicePoint.objects.filter(source="demo") if p.is_open_at(tuesday_night)]
    assert sorted(p.commune.cut for p in open_then) == ["13122", "13201"]
    assert {p.kind for p in open_then} == {"night_service"}
    assert "0 puntos de atención con horario nuevos, 4 ya existían" in seed("--no-crews")
