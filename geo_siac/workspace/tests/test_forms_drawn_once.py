"""The report page's status and hand-back forms, drawn once per process (workspace.forms.DrawnOnce): the same HTML
as Django draws them on every view, with each report's own values."""

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

from geo_siac.reports.models import ResponseTemplate
from geo_siac.testing import WEST_POINT
from geo_siac.workspace.forms import DRAWN, ReasonForm, StatusForm


def drawn_by_django(form) -> str:
    return str(forms.Form.as_p(form))


@pytest.fixture(autouse=True)
def nothing_drawn_yet():
    DRAWN.clear()
    yield
    DRAWN.clear()


@pytest.mark.parametrize("language", ["es-cl", "en"])
def test_status_form_is_drawn_as_django_draws_it_for_each_report_and_language(make_report, crews, language):
    first = make_report(point=WEST_POINT)
    second = make_report(point=WEST_POINT)
    ResponseTemplate.objects.create(title="Retirado <a tiempo>", category=first.category, body="Listo.")
    ResponseTemplate.objects.create(title="Visita", department=first.department, body="Pasamos.")
    with translation.override(language):
        for report in (first, second, first):
            seen = {"seen": report.updated_at.isoformat()}
            drawn = str(StatusForm(current=report.status, report=report, initial=seen).as_p())
            expected = drawn_by_django(StatusForm(current=report.status, report=report, initial=seen))
            assert drawn == expected
            assert f'value="{report.updated_at.isoformat()}"' in drawn and "Retirado &lt;a tiempo&gt;" in drawn
    assert len(DRAWN) == 1  # one drawing for the three forms: the same choices, another `seen` each


def test_a_new_response_template_or_another_status_is_a_new_drawing(make_report, crews):
    report = make_report(point=WEST_POINT)
    seen = {"seen": report.updated_at.isoformat()}
    before = str(StatusForm(current=report.status, report=report, initial=seen).as_p())
    ResponseTemplate.objects.create(title="Retirado", category=report.category, body="Listo.")
    after = str(StatusForm(current=report.status, report=report, initial=seen).as_p())
    assert "Retirado" not in before and "Retirado" in after
    in_progress = str(StatusForm(current="in_progress", report=report, initial=seen).as_p())
    assert in_progress == drawn_by_django(StatusForm(current="in_progress", report=report, initial=seen))
    assert in_progress != after


def test_a_value_that_would_need_escaping_is_escaped_as_django_escapes_it():
    initial = {"seen": '"><script>x</script>'}
    assert str(ReasonForm(initial=initial).as_p()) == drawn_by_django(ReasonForm(initial=initial))
    assert "<script>" not in str(ReasonForm(initial=initial).as_p())


def test_a_bound_form_with_errors_is_drawn_as_usual(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    response = client.post(reverse("crew:hand_back", args=[report.tracking_code]), {"reason": ""})
    assert response.status_code == 400
    form = response.context["return_form"]
    assert form.errors and str(form.as_p()) == drawn_by_django(form)


def test_report_page_shows_each_reports_own_version_in_both_forms(client, make_report, crews):
    client.force_login(crews["member_a"])
    for report in (make_report(point=WEST_POINT), make_report(point=WEST_POINT)):
        page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
        version = report.updated_at.isoformat()
        assert f'name="seen" value="{version}" id="id_seen"' in page
        assert f'name="seen" value="{version}" id="id_return_seen"' in page


def test_two_bound_forms_each_show_their_own_input_and_error_and_none_is_kept(client, make_report, crews):
    """Without the bound-form guard the second would be shown the first one's text (review 22)."""
    from geo_siac.workspace import forms as workspace_forms

    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    url = reverse("crew:hand_back", args=[report.tracking_code])
    first = client.post(url, {"reason": ""}).context["return_form"]
    second = client.post(url, {"reason": "x" * 5000}).context["return_form"]
    assert first.errors and second.errors and first.errors != second.errors
    assert str(first.as_p()) == drawn_by_django(first) and str(second.as_p()) == drawn_by_django(second)
    assert "x" * 5000 in str(second.as_p()) and "x" * 5000 not in str(first.as_p())
    assert not [key for key in workspace_forms.DRAWN if key[0] is ReasonForm and key[4] == ()]


def test_a_value_holding_another_fields_marker_is_written_in_as_text(settings):
    """Values are written in one pass: one is never read again as another's marker."""
    from geo_siac.workspace.forms import marker

    initial = {"reason": "1" + marker("seen") + "2", "seen": "2026-12-03T10:00:00-03:00"}
    assert str(ReasonForm(initial=initial).as_p()) == drawn_by_django(ReasonForm(initial=initial))


def test_an_empty_value_is_drawn_as_django_draws_it():
    initial = {"seen": ""}
    assert str(ReasonForm(initial=initial).as_p()) == drawn_by_django(ReasonForm(initial=initial))
