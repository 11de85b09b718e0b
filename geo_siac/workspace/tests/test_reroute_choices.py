"""reroute_choices, the one place that says which crews a reroute offers: the report's comuna's, by name, without
the crew holding it; the same from a queryset (a form's check) and from crews already loaded (the board)."""

import pytest

from geo_siac.reports.models import Report
from geo_siac.testing import WEST_POINT
from geo_siac.workspace.selectors import reroute_choices
from geo_siac.zones.models import Commune, Crew

pytestmark = pytest.mark.django_db


def test_the_same_crews_from_a_queryset_and_from_a_list(crews, make_report):
    report = Report.objects.get(pk=make_report(point=WEST_POINT).pk)
    assert report.crew_id == crews["A"].pk
    Crew.objects.create(  # another comuna's, to be left out
        department=crews["A"].department, commune=Commune.objects.get(cut="13122"), name="Cuadrilla de Peñalolén"
    )
    in_comuna = list(Crew.objects.filter(commune_id=report.commune_id).exclude(pk=crews["A"].pk).order_by("name"))
    assert in_comuna
    assert list(reroute_choices(report, Crew.objects.all())) == in_comuna
    assert reroute_choices(report, list(Crew.objects.order_by("name"))) == in_comuna
    assert crews["A"] in reroute_choices(report, Crew.objects.all(), holder=True)
    assert crews["A"] in reroute_choices(report, list(Crew.objects.all()), holder=True)
