"""The demo's one account signs every letter: its title must fit the unit that answers, a Ley 20.285 answer of the
Unidad de Transparencia Municipal as well as a reclamo of the OIRS."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import AnswerLetter, Signatory
from geo_siac.reports.services import report_answer, report_create


def test_the_demo_signer_of_a_transparencia_answer_names_the_transparencia_unit(communes, settings, tmp_path):
    settings.BASE_DIR = tmp_path  # ensure_demo_admin keeps its password under BASE_DIR/var
    call_command("ensure_demo_admin", stdout=StringIO())
    admin = get_user_model().objects.get(username="admin")
    report = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Copia del decreto de la plaza.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    report_answer(report=report, outcome="delivered", note="Se entrega el decreto.", actor=admin)
    content = AnswerLetter.objects.get(report=report).content
    assert content["department"] == "Unidad de Transparencia Municipal"
    assert "Unidad de Transparencia Municipal" in content["signer_title"] and "OIRS" in content["signer_title"]


def test_an_earlier_demos_oirs_only_title_is_brought_up_to_date_and_a_municipalitys_own_is_kept(
    communes, settings, tmp_path
):
    settings.BASE_DIR = tmp_path
    call_command("ensure_demo_admin", stdout=StringIO())
    signatory = Signatory.objects.get(user__username="admin")
    Signatory.objects.filter(pk=signatory.pk).update(title="Encargada de la OIRS (demostración)")
    call_command("ensure_demo_admin", stdout=StringIO())
    signatory.refresh_from_db()
    assert "Transparencia" in signatory.title
    Signatory.objects.filter(pk=signatory.pk).update(title="Administradora Municipal")
    call_command("ensure_demo_admin", stdout=StringIO())
    signatory.refresh_from_db()
    assert signatory.title == "Administradora Municipal"
