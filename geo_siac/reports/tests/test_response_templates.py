"""Response templates ("respuestas tipo"): written in the admin, picked on the crew's status form."""

from django.urls import reverse

from geo_siac.catalogue.models import Category
from geo_siac.notifications.models import Notification
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import ResponseTemplate
from geo_siac.testing import WEST_POINT

MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()

ADD_URL = "/admin/reports/responsetemplate/add/"


def admin_form(**fields) -> dict:
    return {"title": "Cierre", "category": "", "department": "", "body": "Listo.", "is_active": "on", **fields}


def test_a_template_with_an_unknown_placeholder_is_refused_on_save_naming_it(client, crews):
    category = Category.objects.get(service_code="retiro-escombros")
    client.force_login(crews["admin"])
    response = client.post(
        ADD_URL, admin_form(category=category.pk, body="Solicitud {codigo}: pasamos el {fecha} con {camion}.")
    )
    assert response.status_code == 200
    assert (
        "Marcadores desconocidos: {camion}, {fecha}. Use solo {codigo}, {categoria}, {plazo}, {cuadrilla}."
        in response.content.decode()
    )
    assert not ResponseTemplate.objects.exists()


def test_a_template_with_a_stray_brace_or_an_attribute_lookup_is_refused(client, crews):
    category = Category.objects.get(service_code="retiro-escombros")
    client.force_login(crews["admin"])
    stray = client.post(ADD_URL, admin_form(category=category.pk, body="Solicitud {codigo"))
    assert "Hay una llave sin cerrar o sin abrir." in stray.content.decode()
    lookup = client.post(ADD_URL, admin_form(category=category.pk, body="{codigo.__class__}"))
    assert "Marcadores desconocidos: {codigo.__class__}." in lookup.content.decode()
    assert not ResponseTemplate.objects.exists()


def test_a_template_is_for_a_category_or_a_department(client, crews):
    category = Category.objects.get(service_code="retiro-escombros")
    client.force_login(crews["admin"])
    for scope in ({}, {"category": category.pk, "department": crews["A"].department.pk}):
        response = client.post(ADD_URL, admin_form(**scope))
        assert "Elija una categoría o una dirección (una de las dos)." in response.content.decode()
    assert client.post(ADD_URL, admin_form(department=crews["A"].department.pk)).status_code == 302


def test_crew_closes_a_report_with_a_template_and_the_resident_gets_the_filled_text(client, make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email="vecina@example.cl")
    mine = ResponseTemplate.objects.create(
        title="Retirado",
        category=report.category,
        body="Su solicitud {codigo} ({categoria}) fue atendida por {cuadrilla} dentro del plazo ({plazo}).",
    )
    ours = ResponseTemplate.objects.create(title="Visita", department=report.department, body="Pasamos a ver.")
    ResponseTemplate.objects.create(title="Bache", category=Category.objects.get(service_code="bache"), body="x")
    ResponseTemplate.objects.create(title="Antigua", category=report.category, body="y", is_active=False)
    client.force_login(crews["member_a"])

    day = report.expected_at.astimezone(SANTIAGO)
    # The day written out in Spanish, the templates' language, as every date in the citizen's history.
    deadline = f"{day.day} de {MONTHS[day.month - 1]} de {day.year}"
    text = (
        f"Su solicitud {report.tracking_code} (Retiro de escombros) fue atendida por Cuadrilla Poniente dentro "
        f"del plazo ({deadline})."
    )
    offered = client.get(reverse("crew:report", args=[report.tracking_code])).context["status_form"]
    assert [(pk, t) for pk, _title, t, _default in offered.templates] == [
        (str(mine.pk), text),
        (str(ours.pk), "Pasamos a ver."),
    ]
    # The phone copies the option's text into the reply box; the box is what is sent.
    response = client.post(
        reverse("crew:status", args=[report.tracking_code]), {"status": "resolved", "public_note": text}
    )
    assert response.status_code == 302
    assert text in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert Notification.objects.filter(report=report, recipient="vecina@example.cl", body__contains=text).exists()
