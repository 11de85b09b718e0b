"""The satisfaction survey linked from the closing message: signed link, 1-5 ratings, one answer per report."""

from geo_siac.reports.messages import survey_token
from geo_siac.reports.models import SurveyResponse
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status


def closed_report(make_report):
    report = make_report(reporter_email="rosa@example.cl", reporter_name="Rosa Pérez")
    return report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved")


def test_citizen_answers_the_survey_once(client, make_report):
    report = closed_report(make_report)
    url = f"/encuesta/{survey_token(report)}/"
    page = client.get(url).content.decode()
    assert report.tracking_code in page and "Rosa" not in page and "rosa@example.cl" not in page
    response = client.post(url, {"resolution_rating": "4", "service_rating": "5", "comment": "Rápido y amable."})
    assert "¡Gracias!" in response.content.decode()
    answer = SurveyResponse.objects.get(report=report)
    assert (answer.resolution_rating, answer.service_rating, answer.comment) == (4, 5, "Rápido y amable.")

    again = client.post(url, {"resolution_rating": "1", "service_rating": "1"})
    assert again.status_code == 400
    assert "ya tiene una encuesta respondida" in again.content.decode()
    assert SurveyResponse.objects.get(report=report).resolution_rating == 4


def test_ratings_outside_1_to_5_are_refused_next_to_each_question(client, make_report):
    report = closed_report(make_report)
    response = client.post(f"/encuesta/{survey_token(report)}/", {"resolution_rating": "9"})
    assert response.status_code == 400
    assert response.content.decode().count("Elija una nota de 1 a 5.") == 2
    assert not SurveyResponse.objects.exists()


def test_tampered_link_is_refused(client, make_report):
    report = closed_report(make_report)
    response = client.get(f"/encuesta/{survey_token(report)[:-2]}xx/")
    assert response.status_code == 404
    assert "no es válido o ya venció" in response.content.decode()


def test_open_report_cannot_be_surveyed_yet(client, make_report):
    report = make_report()
    response = client.post(f"/encuesta/{survey_token(report)}/", {"resolution_rating": "3", "service_rating": "3"})
    assert response.status_code == 400
    assert "cuando la solicitud se cierra" in response.content.decode()
