"""The internal notes GeoSIAC writes as text (a routing, a return, a rerouting) are stored in the installation's
language: staff read one history, whatever language the page that triggered the note had (docs/i18n.md)."""

from django.utils import translation

from geo_siac.reports.models import EventKind
from geo_siac.reports.services import report_reroute, report_return
from geo_siac.testing import WEST_POINT


def test_an_english_request_keeps_its_routing_note_in_spanish(make_report, crews):
    with translation.override("en"):
        report = make_report(point=WEST_POINT, language="en")
    note = report.events.get(kind=EventKind.ROUTED).note
    assert note.startswith("Zona ") and "cuadrilla Cuadrilla Poniente" in note
    assert f"«{report.category.name_es}»" in note


def test_a_return_and_a_rerouting_from_an_english_page_are_noted_in_spanish(make_report, crews):
    report = make_report(point=WEST_POINT)
    with translation.override("en"):
        report_return(report=report, reason="No es nuestra", actor=crews["member_a"])
        report_reroute(report=report, crew=crews["B"], actor=crews["supervisor"])
    notes = list(report.events.filter(kind__in=[EventKind.RETURNED, EventKind.REROUTED]).values_list("note", flat=True))
    assert "Devuelta por Cuadrilla Poniente: No es nuestra" in notes
    assert "Derivada de cola de triage a Cuadrilla Oriente." in notes
