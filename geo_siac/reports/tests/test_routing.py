import pytest
from django.core.exceptions import ValidationError

from geo_siac.catalogue.models import Category, CategoryGroup
from geo_siac.reports.selectors import triage_queue
from geo_siac.reports.services import report_reroute, report_return
from geo_siac.testing import EAST_POINT, GAP_POINT, PUENTE_ALTO_CENTRE, WEST_POINT, box
from geo_siac.zones.models import Crew
from geo_siac.zones.services import zone_assign_crew, zone_save_version


def routed_note(report) -> str:
    return report.events.get(kind="routed").note


def test_point_in_each_zone_goes_to_that_zones_crew_with_the_reason_in_the_history(make_report, crews):
    west = make_report(point=WEST_POINT)
    east = make_report(point=EAST_POINT)
    assert (west.zone, west.crew, west.department) == (crews["west"], crews["A"], crews["A"].department)
    assert (east.zone, east.crew) == (crews["east"], crews["B"])
    assert "Cuadrilla Poniente" in routed_note(west) and "Poniente v1" in routed_note(west)


def test_point_on_the_shared_border_goes_to_one_zone_always_the_same(make_report, crews):
    first = make_report(point=PUENTE_ALTO_CENTRE)
    second = make_report(point=PUENTE_ALTO_CENTRE)
    assert first.zone == second.zone == crews["east"]  # "oriente" sorts before "poniente"
    assert first.crew == crews["B"]


def test_point_in_a_gap_goes_to_triage_with_the_catalogue_department(make_report, crews):
    report = make_report(point=GAP_POINT)
    assert report.commune.cut == "13201"
    assert (report.zone, report.crew) == (None, None)
    assert report.department.name == "Dirección de Medio Ambiente, Aseo y Ornato"
    assert "cola de triage" in routed_note(report)
    assert report in triage_queue()


def test_triage_keeps_the_catalogue_department_after_it_is_renamed(make_report, crews):
    department = crews["A"].department
    department.name = "Dirección de Aseo"
    department.save()
    report = make_report(point=GAP_POINT)
    assert report.crew is None
    assert report.department == department
    assert report.department.name == "Dirección de Aseo"


def test_zone_without_a_crew_for_the_category_goes_to_triage(make_report, crews):
    crews["west"].responsibilities.all().delete()
    report = make_report(point=WEST_POINT)
    assert report.zone == crews["west"] and report.crew is None
    assert "sin cuadrilla" in routed_note(report)


def test_crew_for_a_category_beats_crew_for_its_group_beats_the_zone_default(make_report, crews):
    category = Category.objects.get(service_code="retiro-escombros")
    other_group = CategoryGroup.objects.exclude(pk=category.group_id).first()
    specialists = Crew.objects.create(department=crews["A"].department, commune=crews["A"].commune, name="Escombros")
    group_crew = Crew.objects.create(department=crews["A"].department, commune=crews["A"].commune, name="Aseo")
    zone_assign_crew(zone=crews["west"], crew=group_crew, category_group=category.group)
    assert make_report(point=WEST_POINT).crew == group_crew
    zone_assign_crew(zone=crews["west"], crew=specialists, category=category)
    assert make_report(point=WEST_POINT).crew == specialists
    zone_assign_crew(zone=crews["west"], crew=specialists, category_group=other_group)
    other = Category.objects.filter(group=other_group, attributes=[]).first()
    assert make_report(point=WEST_POINT, category=other).crew == specialists


def test_redrawn_zone_keeps_past_reports_on_the_old_version_and_routes_new_ones_by_the_new(make_report, crews):
    before = make_report(point=WEST_POINT)
    redrawn = zone_save_version(
        commune=crews["west"].commune, key="poniente", name="Poniente", geometry=box(-70.60, -33.63, -70.585, -33.59)
    )
    after_inside = make_report(point=WEST_POINT)
    after_outside = make_report(point=(-33.61, -70.58))
    before.refresh_from_db()
    assert before.zone.version == 1 and before.zone.retired_at is not None
    assert (after_inside.zone, after_inside.crew) == (redrawn, crews["A"])
    assert redrawn.version == 2
    assert after_outside.crew is None


def test_crew_hands_a_report_back_with_a_reason_and_a_supervisor_reroutes_it(make_report, crews):
    report = make_report(point=WEST_POINT)
    report_return(report=report, reason="Es un sitio privado del vecino", actor=crews["member_a"])
    report.refresh_from_db()
    assert report.crew is None and report in triage_queue()
    report_reroute(report=report, crew=crews["B"], reason="Lo ve Oriente", actor=crews["supervisor"])
    report.refresh_from_db()
    assert report.crew == crews["B"] and report not in triage_queue()
    history = list(report.events.values_list("kind", "note"))
    assert [kind for kind, _ in history] == ["created", "routed", "returned", "rerouted"]
    assert "sitio privado" in history[2][1]
    assert "Cuadrilla Poniente" in history[3][1] or "triage" in history[3][1]


def test_hand_back_without_a_reason_is_refused_and_changes_nothing(make_report, crews):
    report = make_report(point=WEST_POINT)
    with pytest.raises(ValidationError) as caught:
        report_return(report=report, reason="  ", actor=crews["member_a"])
    assert "motivo" in caught.value.message_dict["reason"][0]
    report.refresh_from_db()
    assert report.crew == crews["A"] and report.events.count() == 2


def crew_responsible(zone, category):
    """The routing rule in the ORM, as it was before placement's SQL: a row for the category beats one for its
    group beats the zone's default, then the oldest row."""
    from django.db.models import Q

    from geo_siac.zones.models import ZoneResponsibility

    rows = (
        ZoneResponsibility.objects.filter(
            Q(category=category)
            | Q(category_group_id=category.group_id)
            | Q(category__isnull=True, category_group__isnull=True),
            zone=zone,
        )
        .select_related("crew__department")
        .order_by("id")
    )

    def specificity(row) -> int:
        return 0 if row.category_id == category.pk else 1 if row.category_group_id == category.group_id else 2

    best = min(rows, key=specificity, default=None)
    return best.crew if best is not None else None


def test_one_query_placement_agrees_with_the_selectors_it_replaces(crews, django_assert_num_queries):
    """zones.selectors.placement answers comuna, zone and crew in one round trip; on a grid over Puente Alto and
    its neighbours, for every category, it must give what commune_containing, zone_containing and the ORM rule
    above give."""
    from django.contrib.gis.geos import Point

    from geo_siac.zones.selectors import commune_containing, placement, zone_containing

    category = Category.objects.get(service_code="retiro-escombros")
    zone_assign_crew(
        zone=crews["west"],
        crew=Crew.objects.create(department=crews["A"].department, commune=crews["A"].commune, name="Aseo"),
        category_group=category.group,
    )
    zone_assign_crew(
        zone=crews["east"],
        crew=Crew.objects.create(department=crews["A"].department, commune=crews["A"].commune, name="Esc."),
        category=category,
    )
    checked = 0
    for lat in [-33.66 + i * 0.01 for i in range(10)]:
        for lng in [-70.64 + j * 0.01 for j in range(12)]:
            point = Point(lng, lat, srid=4326)
            for each in Category.objects.all():
                with django_assert_num_queries(1):
                    placed = placement(point, each)
                commune = commune_containing(point)
                if commune is None:
                    assert placed is None
                    continue
                zone = zone_containing(point, commune)
                crew = crew_responsible(zone, each) if zone else None
                assert (placed.commune, placed.zone, placed.crew) == (commune, zone, crew)
                assert placed.commune.tracking_prefix == commune.tracking_prefix
                if crew is not None:
                    assert placed.crew.department.name == crew.department.name
                checked += 1
    assert checked > 100
