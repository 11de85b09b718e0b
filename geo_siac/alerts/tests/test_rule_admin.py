"""The escalation rules' admin page explains a level and labels its fields alike."""

from django.contrib.messages import get_messages

from geo_siac.alerts.models import EscalationRule, Recipient
from geo_siac.catalogue.models import Department

ADD = "/admin/alerts/escalationrule/add/"


def test_the_rule_form_explains_a_level_and_capitalises_avisar_a(admin_client, communes):
    page = admin_client.get(ADD).content.decode()
    assert "1 es el primer aviso; cada nivel siguiente (2, 3...) se alcanza después que el anterior" in page
    assert ">Avisar a:</label>" in page and ">avisar a:" not in page


def test_saving_a_rule_says_so_without_a_wrong_article(admin_client, communes):
    department = Department.objects.get(name="Dirección de Obras Municipales")
    form = {
        "commune": communes["13201"].pk,
        "department": department.pk,
        "level": "1",
        "threshold_business_days": "0",
        "recipients": [Recipient.values[0]],
    }
    response = admin_client.post(ADD, form, follow=True)
    rule = EscalationRule.objects.get(commune=communes["13201"], department=department, level=1)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Se guardó «{rule}» (regla de escalamiento)."]
