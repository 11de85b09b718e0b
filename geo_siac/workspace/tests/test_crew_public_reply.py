"""The status form's reply for the citizen: asked for when resolving or closing with a reason, its templates' texts on
the select's options for the phone to copy, kept apart from the internal note, and shown on the tracking page."""

from django.urls import reverse

from geo_siac.reports.models import Report, ResponseTemplate
from geo_siac.testing import WEST_POINT

MISSING = "Escriba qué se hizo, para el vecino: lo verá en el seguimiento y en el aviso."


def post_status(client, report, **fields):
    return client.post(
        reverse("crew:status", args=[report.tracking_code]), {"seen": report.updated_at.isoformat(), **fields}
    )


def test_each_template_option_carries_its_filled_text_and_the_reply_box_starts_empty(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    mine = ResponseTemplate.objects.create(title="Retiro", category=report.category, body="Retiramos lo de {codigo}.")
    ours = ResponseTemplate.objects.create(title="Visita", department=report.department, body="Pasamos\r\na ver.")
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert '<select name="" aria-describedby="id_response_helptext" id="id_response">' in page  # never sent
    select = page[page.index('id="id_response">') :].split("</select>")[0]
    assert f'<option value="{mine.pk}" data-text="Retiramos lo de {report.tracking_code}." data-default="1">' in select
    assert f'<option value="{ours.pk}" data-text="Pasamos\r\na ver.">' in select
    box = page[page.index('name="public_note"') :].split("</textarea>")[0]
    assert box.endswith(">\n")  # empty: the script fills it for a resolution only
    assert 'data-required-for="closed_not_municipal closed_unfixable resolved"' in box
    assert 'data-prefill-for="resolved"' in box
    assert f'data-required-message="{MISSING}"' in box
    # "Respuesta tipo" sits right above the reply box, and the internal note is its own field, labelled as such.
    assert page.index('id="id_status"') < page.index('id="id_response"') < page.index('id="id_public_note"')
    assert page.index('id="id_public_note"') < page.index('for="id_note">Nota interna (solo personal municipal)')
    assert 'name="note_is_public"' not in page


def test_the_status_form_reads_the_templates_once(make_report, crews, django_assert_num_queries):
    from django.test import RequestFactory

    from geo_siac.workspace.forms import StatusForm

    report = make_report(point=WEST_POINT)
    ResponseTemplate.objects.create(title="Retiro", category=report.category, body="Listo.")
    request = RequestFactory().post("/", {"status": "in_progress", "public_note": ""})
    with django_assert_num_queries(1):
        form = StatusForm(request.POST, current=report.status, report=report)
        assert form.is_valid(), form.errors
        form.as_p()


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


def test_a_multi_line_template_copied_into_the_box_is_published_as_the_browser_sent_it(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    template = ResponseTemplate.objects.create(
        title="Retiro", category=report.category, body="Retiramos.\nVolvemos el lunes."
    )
    client.force_login(crews["member_a"])
    sent = "Retiramos.\r\nVolvemos el lunes."  # a browser sends a textarea's lines with CRLF
    # An old page still sends the select's value: it is not read, the box is.
    response = post_status(client, report, status="resolved", response=template.pk, public_note=sent)
    assert response.status_code == 302
    assert Report.objects.get(pk=report.pk).events.get(kind="status").note == sent


def test_closing_as_unfixable_asks_for_its_own_text_even_with_a_resolution_template(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    ResponseTemplate.objects.create(title="Retiro", category=report.category, body="Retiramos lo de {codigo}.")
    client.force_login(crews["member_a"])
    response = post_status(client, report, status="closed_unfixable", public_note="")
    assert response.status_code == 400
    assert response.context["status_form"].errors == {"public_note": [MISSING]}
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_a_reply_longer_than_the_limit_is_refused(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = post_status(client, report, status="resolved", public_note="x" * 2001)
    assert response.status_code == 400
    assert Report.objects.get(pk=report.pk).status == "submitted"


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


def test_the_bulk_replys_help_text_is_the_one_its_box_points_to(client, make_report, crews):
    make_report(point=WEST_POINT)
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:supervision")).content.decode()
    assert 'aria-describedby="id_public_note_helptext"' in page
    assert '<small id="id_public_note_helptext">Obligatoria al resolver o cerrar;' in page
