from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from geo_siac.alerts.models import OIRS_COORDINATION, EscalationRule
from geo_siac.catalogue.models import Department
from geo_siac.reports.letters import signer_of
from geo_siac.zones.models import Commune
from geo_siac.zones.roles import SUPERVISOR


def test_the_demo_admin_can_sign_letters_and_hears_the_demo_escalation_rules(communes, settings, tmp_path):
    """scripts/serve.sh's demo: one account does every staff job, so it must be able to sign a letter and be among
    the recipients of the escalation rules the demo seeds (walked as a new officer: neither was possible)."""
    settings.BASE_DIR = tmp_path  # ensure_demo_admin keeps its password under BASE_DIR/var
    call_command("ensure_demo_admin", stdout=StringIO())
    call_command("seed_alerts_demo", stdout=StringIO())
    out = StringIO()
    call_command("ensure_demo_admin", stdout=StringIO())
    call_command("seed_alerts_demo", stdout=out)
    assert "demo: 0 reglas de escalamiento nuevas" in out.getvalue()  # a second run changes nothing

    admin = get_user_model().objects.get(username="admin")
    assert signer_of(admin) == (
        "Demo GeoSIAC",
        "Encargada de la OIRS y de la Unidad de Transparencia Municipal (demostración)",
    )
    assert set(admin.groups.values_list("name", flat=True)) == {SUPERVISOR, OIRS_COORDINATION}
    departments = Department.objects.filter(categories__is_active=True).distinct().count()
    assert departments and Commune.objects.active().count() == len(communes)
    rules = EscalationRule.objects.all()
    assert rules.count() == len(communes) * departments * 3
    assert {
        (level, days, tuple(to))
        for level, days, to in rules.values_list("level", "threshold_business_days", "recipients")
    } == {
        (1, -2, ("crew_supervisor",)),
        (2, 1, ("department_head",)),
        (3, 5, ("oirs_coordinator", "municipal_administrator")),
    }


def test_seed_alerts_demo_keeps_a_rule_the_municipality_changed(communes, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    call_command("ensure_demo_admin", stdout=StringIO())
    call_command("seed_alerts_demo", stdout=StringIO())
    rule = EscalationRule.objects.order_by("pk").first()
    EscalationRule.objects.filter(pk=rule.pk).update(threshold_business_days=-4)
    call_command("seed_alerts_demo", stdout=StringIO())
    rule.refresh_from_db()
    assert rule.threshold_business_days == -4


def test_the_demo_admin_is_told_when_a_request_escalates(crews, make_report, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from geo_siac.alerts.models import AlertKind, StaffAlert
    from geo_siac.alerts.services import alerts_run
    from geo_siac.reports.models import Report
    from geo_siac.testing import WEST_POINT

    settings.BASE_DIR = tmp_path
    call_command("ensure_demo_admin", stdout=StringIO())
    call_command("seed_alerts_demo", stdout=StringIO())
    report = make_report(point=WEST_POINT)
    Report.objects.filter(pk=report.pk).update(expected_at=timezone.now() - timedelta(days=30))
    alerts_run()
    heard = StaffAlert.objects.filter(user__username="admin", alert__report=report, alert__kind=AlertKind.ESCALATION)
    # Found past all three levels at once: told only level 3 (the OIRS), not also level 1 (its crew's supervision).
    assert set(heard.values_list("alert__level", flat=True)) == {3}
