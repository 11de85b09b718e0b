"""The status form's reply for the citizen: asked for when resolving or closing with a reason, started from the
category's response template, kept apart from the internal note, and shown on the tracking page."""

from django.urls import reverse

from geo_siac.reports.models import Report, ResponseTemplate
from geo_siac.testing import WEST_POINT

MISSING = "Escriba qué se hizo, para el vecino: lo verá en el seguimiento y en el aviso."


def post_status(client, report, **fields):
    return client.post(
        reverse("crew:status", args=[report.tracking_code]), {"seen": report.updated_at.isoformat(), **fields}
    )


def test_the_reply_box_starts_with_the_categorys_template_filled_for_the_report(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    ResponseTemplate.objects.create(title="Retiro", category=report.category, body="Retiramos lo de {codigo}.")
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    box = page[page.index('name="public_note"') :].split("</textarea>")[0]
    assert box.endswith(f"Retiramos lo de {report.tracking_code}.")
    assert 'data-required-for="closed_not_municipal closed_unfixable resolved"' in box
    assert f'data-required-message="{MISSING}"' in box
    assert page.count('name="note"') == 1  # the internal note is its own field


def test_resolving_without_a_reply_is_refused_next_to_the_box_and_nothing_changes(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = post_status(client, report, status="resolved", note="Listo", public_note="")
    assert response.status_code == 400
    form = response.context["status_form"]
    assert form.errors == {"public_note": [MISSING]}
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_the_reply_is_on_the_tracking_page_and_the_internal_note_is_not(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = post_status(
        client,
        report,
        status="closed_not_municipal",
        public_note="El cable caído es de la empresa eléctrica; le avisamos para que lo retire.",
        note="Llamar a Juan Pérez de la empresa",
    )
    assert response.status_code == 302
    client.logout()
    tracking = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "le avisamos para que lo retire" in tracking
    assert "Juan Pérez" not in tracking


def test_the_templates_text_left_as_it_was_is_not_published_on_a_step_that_needs_no_reply(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    ResponseTemplate.objects.create(title="Retiro", category=report.category, body="Retiramos lo de {codigo}.")
    client.force_login(crews["member_a"])
    prefilled = f"Retiramos lo de {report.tracking_code}."
    assert post_status(client, report, status="in_progress", public_note=prefilled).status_code == 302
    assert Report.objects.get(pk=report.pk).events.get(kind="status").note == ""


def test_a_bulk_resolution_without_a_reply_is_refused_on_the_supervision_page(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    response = client.post(reverse("crew:supervision"), {"reports": [report.tracking_code], "status": "resolved"})
    assert response.status_code == 400
    assert MISSING in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "submitted"
    response = client.post(
        reverse("crew:supervision"),
        {"reports": [report.tracking_code], "status": "resolved", "public_note": "Se tapó el bache."},
    )
    assert response.status_code == 302
    assert "Se tapó el bache." in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
