"""A supervisor merges a duplicate into its original (report_merge_duplicate)."""

import pytest
from django.core.exceptions import ValidationError

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Follower, Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_follow, report_merge_duplicate
from geo_siac.testing import PENALOLEN_CENTRE, WEST_POINT
from geo_siac.transparency.selectors import indicators, transparency_reports


def test_merge_closes_the_duplicate_with_its_original_and_moves_its_followers(make_report, crews):
    original = make_report(point=WEST_POINT, reporter_email="primera@example.cl")
    duplicate = make_report(point=WEST_POINT, reporter_email="segunda@example.cl")
    report_follow(report=duplicate, email="vecino@example.cl")
    report_follow(report=duplicate, email="primera@example.cl")  # already told about the original: not twice

    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of) == ("closed_duplicate", original)
    assert duplicate.closed_at is not None
    assert sorted(Follower.objects.filter(report=original).values_list("email", flat=True)) == [
        "segunda@example.cl",
        "vecino@example.cl",
    ]
    assert not Follower.objects.filter(report=duplicate).exists()
    notes = list(original.events.filter(kind="note").values_list("note", flat=True))
    assert notes == [f"Se le unió la duplicada {duplicate.tracking_code} (2 seguidores nuevos)."]


def test_each_citizen_of_the_duplicate_is_told_in_their_language_which_report_to_follow(make_report, crews):
    original = make_report(point=WEST_POINT)
    duplicate = make_report(point=WEST_POINT, reporter_email="resident@example.com", language="en")
    report_follow(report=duplicate, email="vecina@example.cl", language="es")

    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])

    told = {
        n.recipient: n.body for n in Notification.objects.filter(report=duplicate) if original.tracking_code in n.body
    }
    assert set(told) == {"resident@example.com", "vecina@example.cl"}
    assert f"Follow request {original.tracking_code} at" in told["resident@example.com"]
    assert f"Siga la solicitud {original.tracking_code} en" in told["vecina@example.cl"]
    assert f"/seguimiento/{original.tracking_code}/" in told["vecina@example.cl"]
    assert "encuesta" not in told["vecina@example.cl"]  # nothing was solved here to rate


def test_the_duplicates_tracking_page_links_to_the_original(client, make_report, crews):
    original = make_report(point=WEST_POINT)
    duplicate = make_report(point=WEST_POINT)
    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])

    page = client.get(f"/seguimiento/{duplicate.tracking_code}/").content.decode()
    assert "Cerrada: duplicada" in page
    assert f'<a href="/seguimiento/{original.tracking_code}/">{original.tracking_code}</a>' in page


def test_indicators_count_a_merged_problem_once(make_report, crews):
    original = make_report(point=WEST_POINT)
    duplicate = make_report(point=WEST_POINT)
    make_report(point=WEST_POINT)
    before = indicators(transparency_reports())[None]

    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])

    after = indicators(transparency_reports())[None]
    assert (before["volume"], before["backlog"], before["closed"]) == (3, 3, 0)
    assert (after["volume"], after["backlog"], after["closed"]) == (2, 2, 0)


def refused(duplicate: Report, original: Report, by) -> str:
    events = {r.pk: r.events.count() for r in (duplicate, original)}
    with pytest.raises(ValidationError) as caught:
        report_merge_duplicate(duplicate=duplicate, original=original, by=by)
    for report in (duplicate, original):
        fresh = Report.objects.get(pk=report.pk)
        assert (fresh.status, fresh.duplicate_of_id, fresh.events.count()) == (
            report.status,
            report.duplicate_of_id,
            events[report.pk],
        )
    return " ".join(caught.value.messages)


def test_a_report_is_not_merged_into_itself(make_report, crews):
    report = make_report(point=WEST_POINT)
    assert refused(report, report, crews["supervisor"]) == "Una solicitud no puede ser duplicada de sí misma."


def test_a_report_is_not_merged_into_a_closed_one(make_report, crews):
    original, duplicate = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    original = report_change_status(public_note=EXPLAINED_BY_CALLER, report=original, status="resolved")
    assert refused(duplicate, original, crews["supervisor"]) == (
        f"{original.tracking_code} está cerrada: la original debe estar abierta."
    )


def test_a_closed_report_is_not_merged(make_report, crews):
    original, duplicate = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    duplicate = report_change_status(public_note=EXPLAINED_BY_CALLER, report=duplicate, status="resolved")
    assert refused(duplicate, original, crews["supervisor"]) == f"{duplicate.tracking_code} ya está cerrada."


def test_merging_into_a_duplicate_names_its_original_instead_of_making_a_chain(make_report, crews):
    first, second, third = (make_report(point=WEST_POINT) for _ in range(3))
    second = report_merge_duplicate(duplicate=second, original=first, by=crews["supervisor"])
    assert refused(third, second, crews["supervisor"]) == (
        f"{second.tracking_code} ya es duplicada de {first.tracking_code}: elija esa como original."
    )


def test_a_report_that_had_duplicates_hands_them_to_its_own_original(make_report, crews):
    first, second, third = (make_report(point=WEST_POINT) for _ in range(3))
    report_merge_duplicate(duplicate=third, original=second, by=crews["supervisor"])
    report_merge_duplicate(duplicate=second, original=first, by=crews["supervisor"])
    assert Report.objects.get(pk=third.pk).duplicate_of == first


def test_a_reopened_duplicate_no_longer_points_at_its_original_and_counts_again(make_report, crews):
    original, duplicate = make_report(point=WEST_POINT), make_report(point=WEST_POINT)
    report_merge_duplicate(duplicate=duplicate, original=original, by=crews["supervisor"])
    reopened = report_change_status(public_note=EXPLAINED_BY_CALLER, report=duplicate, status="acknowledged")
    assert reopened.duplicate_of is None and Report.objects.get(pk=duplicate.pk).duplicate_of is None
    assert indicators(transparency_reports())[None]["volume"] == 2


def test_reports_of_two_comunas_are_not_merged(make_report, crews):
    puente_alto, penalolen = make_report(point=WEST_POINT), make_report(point=PENALOLEN_CENTRE)
    assert refused(penalolen, puente_alto, crews["supervisor"]) == (
        f"{penalolen.tracking_code} es de Peñalolén y {puente_alto.tracking_code} de Puente Alto: solo se unen "
        "solicitudes de la misma comuna."
    )
