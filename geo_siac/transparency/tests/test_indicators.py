"""Indicators on a small hand-computed dataset.

Reports and their history are built through the one write path (report_create, report_change_status,
survey_submit) with django.utils.timezone.now patched to explicit past instants, so created_at, event times,
closed_at and expected_at are the ones the services themselves compute.

Category retiro-escombros: deadline 5 business days. Chilean holidays: Fri 18 and Sat 19 Sept 2026.
As of Thu 1 Oct 2026 12:00 (Santiago):
  A web, received Thu 17 Sep 10:00 (deadline Fri 25 Sep: 21,22,23,24,25), acknowledged Mon 21 Sep 10:00,
    resolved Tue 22 Sep 10:00, survey 5.  Crosses the holiday.
  B phone, received Mon 7 Sep 10:00 (deadline Mon 14 Sep), acknowledged Tue 8, resolved Thu 10, reopened
    Fri 11, resolved Mon 21 Sep 10:00 (late), survey 2.
  C web, received Tue 1 Sep 10:00 (deadline Tue 8 Sep), never answered: open past deadline.
  D in person, received Tue 29 Sep 10:00 (deadline Tue 6 Oct), not answered yet, within deadline.
"""

from datetime import datetime
from io import StringIO
from unittest.mock import patch

import pytest
from django.core.management import call_command

from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, survey_submit
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.transparency.selectors import indicators, percentile, zone_names

AS_OF = datetime(2026, 10, 1, 12, tzinfo=SANTIAGO)


def at(month, day, hour=10):
    return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, hour, tzinfo=SANTIAGO))


@pytest.fixture
def dataset(make_report):
    def change(report, status, when):
        with at(*when):
            return report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status=status)

    with at(9, 17):
        a = make_report(channel="web")
    change(a, "acknowledged", (9, 21))
    a = change(a, "resolved", (9, 22))
    survey_submit(report=a, resolution_rating=5, service_rating=5)

    with at(9, 7):
        b = make_report(channel="phone")
    for status, when in [
        ("acknowledged", (9, 8)),
        ("resolved", (9, 10)),
        ("in_progress", (9, 11)),
        ("resolved", (9, 21)),
    ]:
        b = change(b, status, when)
    survey_submit(report=b, resolution_rating=2, service_rating=3)

    with at(9, 1):
        make_report(channel="web")
    with at(9, 29):
        make_report(channel="in_person")
    return Report.objects.all()


def test_percentile_interpolates_between_ranks():
    assert percentile([1.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 4.0], 0.9) == pytest.approx(3.7)
    assert percentile([], 0.5) is None


def test_indicators_of_the_hand_computed_dataset(dataset):
    result = indicators(dataset, as_of=AS_OF)[None]

    assert result["volume"] == 4
    assert result["channel_mix"] == {"web": 2, "phone": 1, "in_person": 1}
    assert result["digital_share"] == 0.5  # web twice; phone and in person are not digital
    # First response: A 17->21 Sep = 4 calendar days, 1 business day (18, 19 holidays, 20 Sunday);
    # B 7->8 Sep = 1 calendar day, 1 business day.
    assert result["first_response_median_days"] == 2.5
    assert result["first_response_p90_days"] == pytest.approx(1 + 0.9 * 3)
    assert result["first_response_median_business_days"] == 1
    assert result["first_response_p90_business_days"] == 1
    # Closing: A 17->22 Sep = 5 calendar, 2 business; B 7->21 Sep = 14 calendar and 9 business days
    # (8,9,10,11,14,15,16,17,21).
    assert result["closing_median_days"] == 9.5
    assert result["closing_p90_days"] == pytest.approx(5 + 0.9 * 9)
    assert result["closing_median_business_days"] == 5.5
    assert result["closing_p90_business_days"] == pytest.approx(2 + 0.9 * 7)
    assert result["closed_within_deadline_share"] == 0.5  # A by 25 Sep; B on 21 Sep, after 14 Sep
    # Deadline met: of the reports closed or already past their deadline (A, B, C; D is not due), A only.
    assert result["deadline_met_share"] == pytest.approx(1 / 3)
    assert result["unanswered_share"] == 0.5  # C and D still submitted
    assert result["unanswered_past_deadline_share"] == 0.5  # C (8 Sep) yes, D (6 Oct) not yet
    assert result["backlog"] == 2
    # Ages are elapsed time: C is 30 days 1 hour old (Chile moved its clocks forward on Sun 6 Sep 2026),
    # D 2 days 2 hours.
    assert result["backlog_oldest_age_days"] == pytest.approx(30 + 1 / 24)
    assert result["backlog_median_age_days"] == pytest.approx(16 + 1.5 / 24)
    assert result["reopened_share"] == 0.5  # B of the two ever closed
    assert result["satisfaction_average"] == 3.5
    assert result["satisfaction_distribution"] == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}


def test_indicators_group_by_channel(dataset):
    by_channel = indicators(dataset, "channel", as_of=AS_OF)

    assert {channel: r["volume"] for channel, r in by_channel.items()} == {"web": 2, "phone": 1, "in_person": 1}
    assert by_channel["web"]["closed_within_deadline_share"] == 1.0
    assert by_channel["web"]["unanswered_past_deadline_share"] == 1.0
    assert by_channel["phone"]["reopened_share"] == 1.0


def test_indicators_by_commune_are_per_thousand_inhabitants_when_population_is_loaded(dataset):
    from geo_siac.zones.models import PopulationCell

    PopulationCell.objects.create(cut="13201", res=8, cell=1, pob_total=1500, pob_under_15=0, pob_65_plus=0)
    PopulationCell.objects.create(cut="13201", res=8, cell=2, pob_total=500, pob_under_15=0, pob_65_plus=0)

    result = indicators(dataset, "commune", as_of=AS_OF)["13201"]

    assert result["per_1000_inhabitants"] == 2.0  # 4 reports / 2,000 inhabitants * 1,000


def test_per_thousand_is_absent_without_population(dataset):
    assert indicators(dataset, "commune", as_of=AS_OF)["13201"]["per_1000_inhabitants"] is None


def test_indicators_group_by_local_month_and_department(dataset):
    by_month = indicators(dataset, "month", as_of=AS_OF)
    by_department = indicators(dataset, "department", as_of=AS_OF)

    assert {month.strftime("%Y-%m"): r["volume"] for month, r in by_month.items()} == {"2026-09": 4}
    assert {department: r["volume"] for department, r in by_department.items()} == {
        "Dirección de Medio Ambiente, Aseo y Ornato": 4
    }


@pytest.fixture
def zoned(crews, make_report, communes):
    """Reports in the `crews` fixture's zones of Puente Alto (5 business days each), as of AS_OF:
    W1 west, received Mon 7 Sep (due Mon 14 Sep), resolved Wed 9 Sep: on time.
    W2 west, received Tue 1 Sep (due Tue 8 Sep), never answered: past its deadline.
    -- the west zone is redrawn (version 2, renamed) on Tue 15 Sep --
    W3 west v2, received Tue 29 Sep (due Tue 6 Oct), open: not due yet.
    E1 east, received Mon 7 Sep (due Mon 14 Sep), resolved Mon 21 Sep: late.
    G1 in the north of Puente Alto that no zone covers, received Mon 7 Sep: open, past its deadline.
    P1 in Peñalolén's own zone "poniente", received Mon 7 Sep: open, past its deadline.
    """
    from geo_siac.testing import EAST_POINT, GAP_POINT, PENALOLEN_CENTRE, WEST_POINT, box
    from geo_siac.zones.services import zone_save_version

    lat, lng = PENALOLEN_CENTRE
    zone_save_version(
        commune=communes["13122"],
        key="poniente",
        name="Poniente",
        geometry=box(lng - 0.01, lat - 0.01, lng + 0.01, lat + 0.01),
    )
    with at(9, 7):
        w1, e1 = make_report(point=WEST_POINT), make_report(point=EAST_POINT)
        make_report(point=GAP_POINT)
        make_report(point=PENALOLEN_CENTRE)
    with at(9, 1):
        make_report(point=WEST_POINT)
    with at(9, 9):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=w1, status="resolved")
    with at(9, 21):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=e1, status="resolved")
    with at(9, 15):
        zone_save_version(
            commune=communes["13201"],
            key="poniente",
            name="Poniente Alto",
            geometry=box(-70.60, -33.63, PUENTE_ALTO_CENTRE[1], -33.59),
        )
    with at(9, 29):
        w3 = make_report(point=WEST_POINT)
    assert (w1.zone.version, w3.zone.version) == (1, 2)
    return Report.objects.all()


def test_indicators_group_by_zone_across_its_versions(zoned):
    by_zone = indicators(zoned, "zone", as_of=AS_OF)

    assert {zone: r["volume"] for zone, r in by_zone.items()} == {
        "13201/poniente": 3,
        "13201/oriente": 1,
        "13122/poniente": 1,
        None: 1,
    }
    west, east, nowhere = by_zone["13201/poniente"], by_zone["13201/oriente"], by_zone[None]
    # West: W1 closed on time; W2 open past its deadline; W3 not due: 1 met of 2 due.
    assert west["deadline_met_share"] == 0.5
    assert west["closed_within_deadline_share"] == 1.0
    assert west["backlog"] == 2
    assert west["unanswered_past_deadline_share"] == 0.5  # W2 yes, W3 not yet
    assert east["deadline_met_share"] == 0.0 and east["closed"] == 1
    assert nowhere["backlog"] == 1 and nowhere["deadline_met_share"] == 0.0


def test_zone_names_use_the_latest_version_and_the_comuna(zoned):
    assert zone_names() == {
        "13201/poniente": "Poniente Alto (Puente Alto)",
        "13201/oriente": "Oriente (Puente Alto)",
        "13122/poniente": "Poniente (Peñalolén)",
    }


def test_department_is_the_one_routing_made_responsible_and_the_catalogues_without_routing(crews, make_report):
    from django.utils import timezone

    from geo_siac.catalogue.models import Department
    from geo_siac.testing import EAST_POINT, WEST_POINT

    parks = Department.objects.create(name="Dirección de Parques")
    crews["B"].department = parks
    crews["B"].save()
    make_report(point=WEST_POINT)  # crew A: the catalogue's department
    routed_to_parks = make_report(point=EAST_POINT)
    imported = make_report(point=WEST_POINT)
    Report.objects.filter(pk=imported.pk).update(department=None, crew=None, zone=None)
    assert routed_to_parks.department == parks

    by_department = indicators(Report.objects.all(), "department", as_of=timezone.now())

    assert {department: r["volume"] for department, r in by_department.items()} == {
        "Dirección de Medio Ambiente, Aseo y Ornato": 2,
        "Dirección de Parques": 1,
    }


def test_imported_open_requests_past_submitted_do_not_pull_the_first_response_to_zero(communes, tmp_path):
    """Three imported requests acknowledged or in progress (when, the source does not say) and two closed after 2
    and 4 days: the first response is measured on the two closings, not on three made-up zeros."""
    path = tmp_path / "historia.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
        "a,2026-09-01 10:00,,bache,web,acknowledged,-33.6117,-70.5758,x\n"
        "b,2026-09-01 10:00,,bache,web,in_progress,-33.6117,-70.5758,x\n"
        "c,2026-09-02 10:00,,bache,web,in_progress,-33.6117,-70.5758,x\n"
        "d,2026-09-01 10:00,2026-09-03 10:00,bache,web,resolved,-33.6117,-70.5758,x\n"
        "e,2026-09-01 10:00,2026-09-05 10:00,bache,web,resolved,-33.6117,-70.5758,x\n",
        encoding="utf-8",
    )
    call_command("import_reports", str(path), "--no-progress", "--commit", stdout=StringIO())

    result = indicators(Report.objects.all(), as_of=AS_OF)[None]
    assert result["volume"] == 5
    assert result["first_response_median_days"] == 3.0
    assert result["unanswered_share"] == 0.0  # not answered when, but answered: none reads as unanswered
