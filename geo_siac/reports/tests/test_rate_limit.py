"""Anonymous web submissions are limited per client IP: only accepted new requests spend the budget, actions on an
existing request have their own, and a refused form comes back as typed (429) saying when it can be sent."""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from geo_siac.citizens.services import CITIZEN_EMAIL
from geo_siac.reports.messages import reopen_token
from geo_siac.reports.models import Report
from geo_siac.reports.ratelimit import submission_refusal
from geo_siac.reports.states import Status
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.web.ratelimit import attempts, count_in_window, uncount_attempt

START = 1_000_000
ROSA = "rosa@example.cl"


def submit(client, n: int, ip: str = "203.0.113.7", **headers):
    lat, lng = PUENTE_ALTO_CENTRE
    return client.post(
        "/",
        {"token": f"t{n}", "lat": lat, "long": lng, "service_code": "microbasural", "description": "Basura"},
        REMOTE_ADDR=ip,
        **headers,
    )


def ask_information(client, n: int, description: str = "Actas del concejo de 2025.", ip: str = "203.0.113.7"):
    return client.post(
        "/solicitud/acceso-informacion/",
        {
            "token": f"i{n}",
            "service_code": "acceso-informacion",
            "commune": "13201",
            "description": description,
            "reporter_name": "Rosa Díaz",
            "reporter_email": ROSA,
            "consent": "on",
        },
        REMOTE_ADDR=ip,
    )


def at(monkeypatch, seconds: int) -> None:
    monkeypatch.setattr("geo_siac.web.ratelimit.time", lambda: seconds)


def signed_in(client, email: str = ROSA):
    session = client.session
    session[CITIZEN_EMAIL] = email
    session.save()
    return client


def test_submissions_beyond_the_limit_get_429_and_are_not_stored(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 2
    assert [submit(client, n).status_code for n in range(3)] == [302, 302, 429]
    assert Report.objects.count() == 2
    refused = submit(client, 4).content.decode()
    assert "No enviamos su solicitud" in refused and 'id="report-form"' in refused


def test_the_limit_is_per_client(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    assert submit(client, 1, ip="203.0.113.7").status_code == 302
    assert submit(client, 2, ip="198.51.100.4").status_code == 302


def test_behind_a_trusted_proxy_the_limit_is_per_client_not_per_proxy(client, settings, communes):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    assert submit(client, 1, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 302
    assert submit(client, 2, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302
    # A forged entry in front of the proxy's own is not a fresh budget.
    assert submit(client, 3, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7").status_code == 429


def test_forms_refused_by_their_validation_spend_nothing(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 2
    empty = {"token": "vacio", "service_code": "acceso-informacion", "commune": "13201"}
    for _ in range(5):
        assert client.post("/solicitud/acceso-informacion/", empty, REMOTE_ADDR="203.0.113.7").status_code == 400
    assert ask_information(client, 1, description="").status_code == 400
    assert attempts("submissions:203.0.113.7") == 0
    assert [ask_information(client, n).status_code for n in range(3)] == [302, 302, 429]
    assert Report.objects.count() == 2


def test_the_eleventh_request_comes_back_as_typed_saying_how_long_to_wait(client, communes, monkeypatch):
    at(monkeypatch, START)
    assert [ask_information(client, n).status_code for n in range(10)] == [302] * 10
    at(monkeypatch, START + 48 * 60)  # the window opened 48 minutes ago: 12 are left
    refused = ask_information(client, 10, description="Contratos de aseo de 2024 y 2025, con sus anexos.")
    page = refused.content.decode()
    assert refused.status_code == 429 and Report.objects.count() == 10
    assert "Podrá enviar otra solicitud en 12 minutos." in page and refused["Retry-After"] == str(12 * 60)
    assert ">Contratos de aseo de 2024 y 2025, con sus anexos.</textarea>" in page
    assert 'value="Rosa Díaz"' in page and 'href="/puntos-de-atencion/"' in page
    at(monkeypatch, START + 3600)  # the window is over
    assert ask_information(client, 11).status_code == 302


def test_the_wait_is_said_in_english_too(client, settings, communes, monkeypatch):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    at(monkeypatch, START)
    ask_information(client, 1)
    at(monkeypatch, START + 3600 - 59)
    client.cookies["django_language"] = "en"
    assert "You can send another request in 1 minute." in ask_information(client, 2).content.decode()


def test_actions_on_a_request_have_their_own_limit_and_spend_nothing_of_new_requests(
    client, settings, make_report, monkeypatch
):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    settings.GEO_SIAC_ACTIONS_PER_REPORT = 2
    at(monkeypatch, START)
    report = make_report(reporter_email=ROSA)
    signed_in(client)
    url = f"/mis-solicitudes/solicitud/{report.tracking_code}/agregar/"
    assert client.post(url, {"note": ""}, REMOTE_ADDR="203.0.113.7").status_code == 400  # refused: not counted
    added = [client.post(url, {"note": f"Nota {n}."}, REMOTE_ADDR="203.0.113.7").status_code for n in range(2)]
    at(monkeypatch, START + 20 * 60)
    refused = client.post(url, {"note": "La vereda sigue rota frente al 120."}, REMOTE_ADDR="203.0.113.7")
    assert added == [302, 302] and refused.status_code == 429
    page = refused.content.decode()
    assert (
        "Podrá volver a intentarlo en 40 minutos." in page and ">La vereda sigue rota frente al 120.</textarea>" in page
    )
    assert report.events.filter(note__startswith="Nota").count() == 2
    assert ask_information(client, 1).status_code == 302  # the new requests' budget is whole


def test_a_reopening_counts_in_the_actions_budget_not_the_new_requests(client, settings, make_report):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    settings.GEO_SIAC_ACTIONS_PER_REPORT = 1
    report = make_report(reporter_email=ROSA)
    Report.objects.filter(pk=report.pk).update(status=Status.RESOLVED, closed_at=report.created_at)
    signed_in(client)
    url = f"/mis-solicitudes/solicitud/{report.tracking_code}/reabrir/"
    assert client.post(url, {"reason": "Sigue igual."}, REMOTE_ADDR="203.0.113.7").status_code == 302
    assert attempts("submissions:203.0.113.7") == 0 and attempts(f"actions:203.0.113.7:{report.pk}") == 1
    assert ask_information(client, 1).status_code == 302


def test_a_refused_reopening_link_keeps_the_reason_typed(client, settings, make_report):
    settings.GEO_SIAC_ACTIONS_PER_REPORT = 0
    report = make_report(reporter_email=ROSA)
    Report.objects.filter(pk=report.pk).update(status=Status.RESOLVED, closed_at=report.created_at)
    refused = client.post(
        f"/mis-solicitudes/reabrir/{reopen_token(report, ROSA)}/",
        {"reason": "El hoyo sigue."},
        REMOTE_ADDR="203.0.113.7",
    )
    page = refused.content.decode()
    assert refused.status_code == 429 and ">El hoyo sigue.</textarea>" in page
    assert "Podrá volver a intentarlo en 60 minutos." in page
    assert Report.objects.get(pk=report.pk).times_reopened == 0


def test_follow_requests_are_limited_per_report_and_per_client_and_spend_new_requests_too(
    client, settings, make_report
):
    settings.GEO_SIAC_ACTIONS_PER_REPORT = 1
    settings.GEO_SIAC_ACTIONS_PER_WINDOW = 2
    first, second, third = make_report(), make_report(), make_report()

    def follow(report, email):
        return client.post(f"/seguimiento/{report.tracking_code}/seguir/", {"email": email}, REMOTE_ADDR="203.0.113.9")

    assert follow(first, "no-es-un-correo").status_code == 400  # refused: not counted
    assert follow(first, "a@example.cl").status_code == 200
    again = follow(first, "b@example.cl")
    page = again.content.decode()
    assert again.status_code == 429 and "No registramos su correo" in page
    assert "Podrá intentarlo de nuevo en 60 minutos." in page
    # What was typed stays in the follow form, and the page says where to go in person.
    assert 'value="b@example.cl"' in page and 'href="/puntos-de-atencion/"' in page
    assert [follow(second, "a@example.cl").status_code, follow(third, "a@example.cl").status_code] == [200, 429]
    assert list(first.followers.values_list("email", flat=True)) == ["a@example.cl"]
    # Following emails an address nobody confirmed: each accepted one spends a new request's budget as well.
    assert attempts("submissions:203.0.113.9") == 2


def test_a_form_sent_twice_counts_once_and_past_the_limit_still_shows_its_report(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    first = submit(client, 1)
    again = submit(client, 1)
    assert first.status_code == again.status_code == 302 and again["Location"] == first["Location"]
    assert attempts("submissions:203.0.113.7") == 1 and Report.objects.count() == 1


def test_a_form_sent_twice_at_once_gives_its_count_back(client, communes, monkeypatch):
    submit(client, 1)
    # The second post of a double click, before the first one committed: its token is not found yet, and
    # report_create returns the first one's report.
    monkeypatch.setattr("geo_siac.reports.views.submitted_tracking_code", lambda token: None)
    assert submit(client, 1).status_code == 302
    assert attempts("submissions:203.0.113.7") == 1 and Report.objects.count() == 1


def test_every_form_post_counts_in_a_ceiling_never_given_back(client, communes):
    empty = {"token": "vacio", "service_code": "acceso-informacion", "commune": "13201", "description": ""}
    statuses = [
        client.post("/solicitud/acceso-informacion/", empty, REMOTE_ADDR="203.0.113.7").status_code for _ in range(61)
    ]
    assert statuses == [400] * 60 + [429]
    page = client.post(
        "/solicitud/acceso-informacion/", {**empty, "description": "Actas."}, REMOTE_ADDR="203.0.113.7"
    ).content.decode()
    assert "Podrá enviar otra solicitud en 60 minutos." in page and ">Actas.</textarea>" in page
    assert attempts("form-posts:203.0.113.7") == 62 and attempts("submissions:203.0.113.7") == 0


def test_an_error_while_filing_gives_the_count_back(client, communes, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr("geo_siac.reports.views.report_create", broken)
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        submit(client, 1)
    assert attempts("submissions:203.0.113.7") == 0


def test_a_refused_form_with_a_photo_asks_to_choose_it_again(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 0
    lat, lng = PUENTE_ALTO_CENTRE
    photo = SimpleUploadedFile("hoyo.jpg", b"not decoded when refused", content_type="image/jpeg")
    values = {"token": "f1", "lat": lat, "long": lng, "service_code": "microbasural", "description": "Basura"}
    refused = client.post("/", {**values, "photo": photo}, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and "Si adjuntó una foto, vuelva a elegirla." in refused.content.decode()
    without = client.post("/", values, REMOTE_ADDR="203.0.113.7").content.decode()
    assert "vuelva a elegirla" not in without


def test_sign_in_links_and_area_alerts_are_refused_on_their_form_and_invalid_emails_spend_nothing(client, settings, db):
    settings.GEO_SIAC_SIGN_IN_LINKS_PER_CLIENT = 1
    link = "/mis-solicitudes/ingresar/"
    assert client.post(link, {"email": "no-es-un-correo"}, REMOTE_ADDR="203.0.113.7").status_code == 400
    assert client.post(link, {"email": "a@example.cl"}, REMOTE_ADDR="203.0.113.7").status_code == 200
    refused = client.post(link, {"email": "b@example.cl"}, REMOTE_ADDR="203.0.113.7")
    page = refused.content.decode()
    assert refused.status_code == 429 and refused["Retry-After"] in ("3599", "3600")
    assert "No enviamos el enlace" in page and 'value="b@example.cl"' in page
    assert attempts("sign-in:client:203.0.113.7") == 1
    alert = "/mis-solicitudes/avisos/"
    assert client.post(alert, {"email": "no-es-un-correo"}, REMOTE_ADDR="203.0.113.7").status_code == 400
    assert attempts("area-alert:client:203.0.113.7") == 0


def test_refusal_outside_a_counting_view_is_a_configuration_error(rf):
    with pytest.raises(ImproperlyConfigured, match="view lacks @counts_submissions"):
        submission_refusal(rf.post("/"))


def test_a_count_is_given_back_only_in_the_window_it_was_counted_in(db, monkeypatch):
    at(monkeypatch, START)
    _count, counted_in = count_in_window("k", 60)
    at(monkeypatch, START + 61)  # that window is over; another attempt opens the next one
    assert count_in_window("k", 60) == (1, START + 61 + 60)
    uncount_attempt("k", counted_in)
    assert attempts("k") == 1


@pytest.mark.django_db(transaction=True)
def test_posts_sent_in_parallel_never_pass_the_limit_and_refusals_leave_no_count(settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 3
    posts, start, statuses = 8, threading.Barrier(8), []

    def post(n: int):
        try:
            start.wait(timeout=30)
            valid = n % 2 == 0
            response = ask_information(Client(), n, description="Actas." if valid else "")
            statuses.append((valid, response.status_code))
        finally:
            connection.close()

    workers = [threading.Thread(target=post, args=(n,)) for n in range(posts)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    accepted = [status for valid, status in statuses if status == 302]
    assert len(statuses) == posts and all(status in (400, 429) for valid, status in statuses if not valid)
    assert len(accepted) <= 3 and Report.objects.count() == len(accepted)
    assert attempts("submissions:203.0.113.7") == len(accepted)  # the invalid and the refused were given back
    rest = [ask_information(Client(), n).status_code for n in range(10, 10 + 4 - len(accepted))]
    assert rest == [302] * (3 - len(accepted)) + [429]  # together, exactly the limit
