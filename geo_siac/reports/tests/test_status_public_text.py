"""A person who resolves a request, or closes it with a reason, writes what was done for the citizen: the text goes on
the public status event and in the message, apart from the internal note. One rule (states.public_text_refusal) for
the crew's and the supervisor's status form, a bulk change and an offline change."""

import pytest
from django.core.exceptions import ValidationError

from geo_siac.notifications.models import Notification
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_bulk_update, report_change_status
from geo_siac.reports.states import PUBLIC_TEXT_REQUIRED, Status
from geo_siac.testing import WEST_POINT

MISSING = "Escriba qué se hizo, para el vecino: lo verá en el seguimiento y en el aviso."


@pytest.mark.parametrize("target", sorted(PUBLIC_TEXT_REQUIRED))
def test_an_outcome_told_with_a_reason_is_refused_without_a_text_for_the_citizen(make_report, target):
    report = make_report(reporter_email="vecina@example.cl")
    told = Notification.objects.filter(report=report).count()
    with pytest.raises(ValidationError) as caught:
        report_change_status(report=report, status=target, note="Solo para la cuadrilla", public_note="  ")
    assert caught.value.message_dict == {"public_note": [MISSING]}
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED
    assert list(report.events.values_list("kind", flat=True)) == ["created", "routed"]
    assert Notification.objects.filter(report=report).count() == told


def test_the_text_for_the_citizen_is_the_public_event_and_the_message_and_the_note_stays_internal(make_report):
    report = make_report(reporter_email="vecina@example.cl")
    told = Notification.objects.filter(report=report).count()
    report_change_status(
        report=report,
        status=Status.CLOSED_UNFIXABLE,
        note="El dueño del sitio no abrió",
        public_note="El sitio es privado; se notificó al propietario para que retire los escombros.",
    )
    status_event = report.events.get(kind="status")
    assert (status_event.note, status_event.is_public) == (
        "El sitio es privado; se notificó al propietario para que retire los escombros.",
        True,
    )
    assert list(report.events.filter(kind="note").values_list("note", "is_public")) == [
        ("El dueño del sitio no abrió", False)
    ]
    (message,) = Notification.objects.filter(report=report).order_by("pk")[told:]
    assert "se notificó al propietario" in message.body and "El dueño del sitio" not in message.body


def test_a_step_the_citizen_is_not_told_a_reason_for_needs_no_text(make_report):
    report = report_change_status(report=make_report(), status=Status.IN_PROGRESS, note="Vamos mañana", public_note="")
    assert report.status == Status.IN_PROGRESS
    assert report.events.get(kind="status").note == ""


def test_a_note_marked_visible_counts_as_the_text_for_the_citizen(make_report):
    report = report_change_status(
        report=make_report(), status=Status.RESOLVED, note="Se podó el árbol.", note_is_public=True, public_note=""
    )
    assert report.events.get(kind="status").note == "Se podó el árbol."


def test_a_bulk_resolution_without_a_text_is_refused_once_and_moves_nothing(make_report, crews):
    reports = [make_report(point=WEST_POINT), make_report(point=WEST_POINT)]
    with pytest.raises(ValidationError) as caught:
        report_bulk_update(reports=reports, status=Status.RESOLVED, note="lote", actor=crews["supervisor"])
    assert caught.value.message_dict == {"public_note": [MISSING]}
    results = report_bulk_update(
        reports=reports, status=Status.RESOLVED, public_note="Se limpió el microbasural.", actor=crews["supervisor"]
    )
    assert [r.outcome for r in results] == ["changed", "changed"]
    for report in reports:
        assert report.events.get(kind="status").note == "Se limpió el microbasural."


def test_a_caller_must_say_whether_it_explains_the_change_itself(make_report):
    report = make_report()
    with pytest.raises(TypeError):
        report_change_status(report=report, status=Status.RESOLVED)  # no default: the rule is never skipped by accident
    report_change_status(report=report, status=Status.RESOLVED, public_note=EXPLAINED_BY_CALLER)
    assert report.events.get(kind="status").to_status == Status.RESOLVED
