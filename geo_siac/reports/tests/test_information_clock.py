"""The Ley 20.285 clock across Chilean holidays: the one extension of 10 business days before the deadline, the
subsanación that gives the citizen 5 business days and restarts the 20, its lapse ("se tiene por desistida"), the
answer with its legal outcome, and the referral to the competent body; each tells the citizen through the outbox.

2026 holidays crossed: Fri 18 and Sat 19 September, Mon 12 October."""

from datetime import date, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Institution
from geo_siac.notifications.models import Notification
from geo_siac.reports.services import (
    information_correction_receive,
    information_correction_request,
    information_corrections_lapse,
    information_extend,
    report_add_citizen_info,
    report_answer,
    report_create,
    report_refer,
)
from geo_siac.reports.states import Status
from geo_siac.zones.models import ClosedDay

SANTIAGO = ZoneInfo("America/Santiago")
CITIZEN = "solicitante@example.cl"


def at(year, month, day, hour=10):
    return datetime(year, month, day, hour, 0, tzinfo=SANTIAGO)


def run_at(moment, function, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return function(**kwargs)


def day_of(moment) -> date:
    return moment.astimezone(SANTIAGO).date()


@pytest.fixture
def information_request(communes):
    def make(moment):
        return run_at(
            moment,
            report_create,
            kind=RequestKind.INFORMATION,
            category="acceso-informacion",
            commune=communes["13201"],
            channel="web",
            description="Contratos de alumbrado 2025.",
            reporter_name="Rosa Pérez",
            reporter_email=CITIZEN,
        )

    return make


def outbox_to_citizen() -> list[str]:
    return list(Notification.objects.filter(recipient=CITIZEN).order_by("id").values_list("body", flat=True))


def test_the_one_extension_crosses_fiestas_patrias_and_a_second_is_refused(information_request, crews):
    report = information_request(at(2026, 8, 20))  # Thu 20 August
    assert day_of(report.expected_at) == date(2026, 9, 17)  # 20 business days: Thu 17 September
    report = run_at(
        at(2026, 9, 16), information_extend, report=report, reason="Volumen de documentos", actor=crews["supervisor"]
    )
    # 10 business days after Thu 17 September: 18 and 19 are holidays, so Mon 21 ... Fri 2 October.
    assert day_of(report.expected_at) == date(2026, 10, 2)
    assert report.events.get(kind="extended").is_public
    notice = outbox_to_citizen()[-1]
    assert (
        "se prorrogó 10 días hábiles, del 17 de septiembre de 2026 al 2 de octubre de 2026" in notice
        and "Volumen de documentos" in notice
    )
    with pytest.raises(ValidationError) as caught:
        run_at(at(2026, 9, 25), information_extend, report=report, reason="Otra vez", actor=crews["supervisor"])
    assert caught.value.message_dict["reason"] == [
        "El plazo ya fue prorrogado el 16-09-2026: la ley permite una sola prórroga."
    ]
    report.refresh_from_db()
    assert day_of(report.expected_at) == date(2026, 10, 2)


def test_an_extension_after_the_deadline_is_refused_and_nothing_changes(information_request, crews):
    report = information_request(at(2026, 8, 20))
    with pytest.raises(ValidationError) as caught:
        run_at(at(2026, 9, 18), information_extend, report=report, reason="Tarde", actor=crews["supervisor"])
    assert caught.value.message_dict["reason"] == [
        "El plazo venció el 17-09-2026: la prórroga debe comunicarse antes del vencimiento."
    ]
    report.refresh_from_db()
    assert report.deadline_extended_at is None and day_of(report.expected_at) == date(2026, 9, 17)
    assert not report.events.filter(kind="extended").exists()


def test_an_extension_skips_the_installations_closed_days(information_request, crews):
    report = information_request(at(2026, 8, 20))
    ClosedDay.objects.create(day=date(2026, 9, 21), reason="Aniversario comunal")
    report = run_at(at(2026, 9, 16), information_extend, report=report, reason="Volumen", actor=crews["supervisor"])
    assert day_of(report.expected_at) == date(2026, 10, 5)


def test_a_correction_pauses_the_clock_across_a_holiday_and_the_answer_restarts_the_20_days(information_request, crews):
    report = information_request(at(2026, 9, 14))
    report = run_at(
        at(2026, 9, 16),
        information_correction_request,
        report=report,
        note="Indique qué contratos y de qué años.",
        actor=crews["supervisor"],
    )
    # 5 business days after Wed 16 September: Thu 17, (18, 19 holidays) Mon 21, Tue 22, Wed 23, Thu 24.
    assert day_of(report.correction_due_at) == date(2026, 9, 24)
    assert day_of(report.expected_at) == date(2026, 9, 24)
    assert "hasta el 24 de septiembre de 2026" in outbox_to_citizen()[-1] and "desistida" in outbox_to_citizen()[-1]
    with pytest.raises(ValidationError) as caught:
        run_at(at(2026, 9, 17), information_extend, report=report, reason="x", actor=crews["supervisor"])
    assert "espera la subsanación" in caught.value.messages[0]
    # The citizen answers through "Mis solicitudes" on Tue 22 September: 20 business days from then, past the
    # Monday 12 October holiday, end on Wed 21 October.
    run_at(at(2026, 9, 22), report_add_citizen_info, report=report, note="Los de alumbrado de 2025.", by_email=CITIZEN)
    report.refresh_from_db()
    assert report.correction_due_at is None and day_of(report.expected_at) == date(2026, 10, 21)
    assert "hasta el 21 de octubre de 2026" in report.events.filter(kind="correction").last().note
    assert run_at(at(2026, 9, 25), information_corrections_lapse) == 0


def test_an_unanswered_correction_is_deemed_withdrawn_at_the_end_of_its_fifth_business_day(information_request, crews):
    report = information_request(at(2026, 9, 14))
    run_at(
        at(2026, 9, 16),
        information_correction_request,
        report=report,
        note="Precise el período.",
        actor=crews["supervisor"],
    )
    assert run_at(at(2026, 9, 24, 18), information_corrections_lapse) == 0  # still Thursday 24 September
    assert run_at(at(2026, 9, 25, 0), information_corrections_lapse) == 1
    report.refresh_from_db()
    assert report.status == Status.CLOSED_WITHDRAWN
    assert report.closed_at == datetime(2026, 9, 24, 23, 59, 59, tzinfo=SANTIAGO)
    assert "se tiene por desistida" in outbox_to_citizen()[-1]
    assert run_at(at(2026, 9, 26), information_corrections_lapse) == 0


def test_a_correction_received_at_the_desk_restarts_the_clock(information_request, crews):
    report = information_request(at(2026, 9, 14))
    run_at(at(2026, 9, 16), information_correction_request, report=report, note="Precise.", actor=crews["supervisor"])
    report = run_at(
        at(2026, 9, 17), information_correction_receive, report=report, note="Trajo la carta.", actor=crews["operator"]
    )
    # 20 business days from Thu 17 September: Mon 21 September is the first, Mon 12 October is skipped.
    assert day_of(report.expected_at) == date(2026, 10, 19)
    with pytest.raises(ValidationError):
        run_at(at(2026, 9, 18), information_correction_receive, report=report, note="Otra", actor=crews["operator"])


def test_a_denial_needs_its_legal_ground_and_the_answer_records_the_outcome(information_request, crews):
    report = information_request(at(2026, 9, 14))
    with pytest.raises(ValidationError) as caught:
        report_answer(report=report, outcome="denied", note="No corresponde.", actor=crews["supervisor"])
    assert "causal legal" in caught.value.message_dict["ground"][0]
    with pytest.raises(ValidationError) as caught:
        report_answer(report=report, outcome="delivered", ground="art21_2", note="Adjunto.", actor=crews["supervisor"])
    assert "Solo una denegación" in caught.value.message_dict["ground"][0]
    report = report_answer(
        report=report,
        outcome="partly_delivered",
        ground="art21_2",
        note="Se entregan los contratos sin datos personales.",
        actor=crews["supervisor"],
    )
    assert report.status == Status.RESOLVED
    assert (report.legal_outcome, report.denial_ground) == ("partly_delivered", "art21_2")
    assert "Entregada parcialmente (Art. 21 N°2" in outbox_to_citizen()[-1]


def test_a_referral_closes_the_request_and_tells_the_citizen_where_it_went(information_request, crews):
    registro_civil = Institution.objects.get(name="Servicio de Registro Civil e Identificación")
    report = information_request(at(2026, 9, 14))
    report = report_refer(report=report, institution=registro_civil, actor=crews["supervisor"])
    assert report.status == Status.CLOSED_NOT_MUNICIPAL
    assert report.referred_to == registro_civil
    assert "Derivada a Servicio de Registro Civil e Identificación" in outbox_to_citizen()[-1]
    with pytest.raises(ValidationError):
        report_refer(report=report, institution=registro_civil, actor=crews["supervisor"])


def test_the_legal_clock_is_refused_for_a_kind_without_it(communes, crews):
    report = report_create(
        kind=RequestKind.SUGGESTION,
        category="sugerencia",
        commune=communes["13201"],
        channel="web",
        description="Más ciclovías.",
    )
    with pytest.raises(ValidationError) as caught:
        information_extend(report=report, reason="x", actor=crews["supervisor"])
    assert "no admite «Prórroga legal (Ley 20.285)»" in caught.value.messages[0]


def test_the_lapse_command_closes_a_request_whose_correction_lapsed(information_request, crews):
    from io import StringIO

    from django.core.management import call_command

    report = information_request(at(2026, 9, 14))
    run_at(at(2026, 9, 16), information_correction_request, report=report, note="Precise.", actor=crews["supervisor"])
    out = StringIO()
    with mock.patch("django.utils.timezone.now", return_value=at(2026, 9, 28)):
        call_command("lapse_corrections", stdout=out)
    assert out.getvalue() == "solicitudes desistidas: 1\n"
    report.refresh_from_db()
    assert report.status == Status.CLOSED_WITHDRAWN
