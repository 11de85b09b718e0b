"""The keyed links to an answer letter (reports.requester): they expire after GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS, and
whoever is not allowed to read a letter may have a fresh link sent to the requester's contact on file, which the
page never shows."""

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core.signing import Signer
from django.test import Client
from django.utils import timezone

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.notifications.models import Medium, Notification
from geo_siac.reports.models import Report
from geo_siac.reports.requester import LETTER_SALT, letter_key
from geo_siac.reports.services import report_answer, report_create

ROSA, PHONE = "rosa.perez@example.cl", "+56 9 8765 4321"
LINK_SUBJECT = "Enlace nuevo a la carta"


def answered(communes, crews, **contact) -> Report:
    report = report_create(
        channel=contact.pop("channel", "in_person"),
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        **contact,
    )
    return report_answer(report=report, outcome="delivered", note="Se adjunta el contrato.", actor=crews["supervisor"])


def key_signed(report: Report, days_ago: int) -> str:
    with mock.patch("django.core.signing.time.time", return_value=time.time() - days_ago * 86400):
        return letter_key(report)


def letter_page(report: Report, key: str):
    return Client().get(f"/seguimiento/{report.tracking_code}/carta/1/", {"clave": key})


def links_sent(report: Report) -> list[Notification]:
    return list(Notification.objects.filter(report=report, subject__startswith=LINK_SUBJECT))


def ask_link(client: Client, report: Report, **fields):
    return client.post(f"/seguimiento/{report.tracking_code}/enlace-carta/", fields)


def test_a_link_past_its_lifetime_is_refused_with_a_way_to_get_a_new_one(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    page = letter_page(report, key_signed(report, days_ago=91))
    body = page.content.decode()
    assert page.status_code == 403 and "Estimado(a)" not in body
    assert "Este enlace venció" in body and 'id="letter-link-send"' in body


def test_a_link_within_its_lifetime_opens_the_letter_and_its_pdf_keeps_the_same_key(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    key = key_signed(report, days_ago=89)
    page = letter_page(report, key)
    assert page.status_code == 200 and "Estimado(a) Rosa Pérez:" in page.content.decode()
    # The page's PDF link carries the key it was opened with: a fresh one would let an old link renew itself.
    assert f'href="/seguimiento/{report.tracking_code}/carta/1.pdf?clave={key}"' in page.content.decode()


def test_the_lifetime_is_a_setting(communes, crews, settings):
    report = answered(communes, crews, reporter_email=ROSA)
    settings.GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS = 7
    assert letter_page(report, key_signed(report, days_ago=8)).status_code == 403
    assert letter_page(report, key_signed(report, days_ago=6)).status_code == 200


def test_an_altered_key_is_refused_without_saying_it_expired(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    page = letter_page(report, letter_key(report)[:-1] + "x")
    assert page.status_code == 403 and "Este enlace venció" not in page.content.decode()


@pytest.mark.parametrize("letter_age_days, opens", [(30, True), (91, False)])
def test_an_untimed_link_sent_before_links_expired_lasts_as_long_counted_from_its_letter(
    communes, crews, letter_age_days, opens
):
    report = answered(communes, crews, reporter_email=ROSA)
    report.letters.update(issued_at=timezone.now() - timedelta(days=letter_age_days))
    page = letter_page(report, Signer(salt=LETTER_SALT).signature(report.tracking_code))
    assert (page.status_code, "Estimado(a)" in page.content.decode()) == ((200, True) if opens else (403, False))


def test_a_stranger_asks_a_new_link_and_exactly_one_goes_to_the_email_on_file_never_shown(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    stranger = Client()
    offer = stranger.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "Enviar un enlace nuevo a quien hizo la solicitud" in offer and "rosa" not in offer.lower()
    answer = ask_link(stranger, report)
    body = answer.content.decode()
    assert answer.status_code == 200 and 'id="letter-link-sent"' in body
    # Whoever asks may be anyone with the code: not even a masked address (its domain can name an employer).
    assert "al correo que dejó quien hizo la solicitud" in body and "rosa" not in body.lower()
    assert "example.cl" not in body and "***" not in body
    ask_link(stranger, report)  # a reload of the answer posts again: the link already queued answers it
    (sent,) = links_sent(report)
    assert (sent.recipient, sent.medium) == (ROSA, Medium.EMAIL)
    link = re.search(rf"https?://[^/\s]+(/seguimiento/{report.tracking_code}/carta/1/\?clave=[\w.-]+)", sent.body)[1]
    assert "Estimado(a) Rosa Pérez:" in Client().get(link).content.decode()


def test_a_new_link_asked_on_the_letters_page_answers_there(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    answer = ask_link(Client(), report, carta="1")
    assert 'id="letter-locked"' in answer.content.decode() and 'id="letter-link-sent"' in answer.content.decode()
    assert len(links_sent(report)) == 1


@pytest.mark.parametrize("channel, medium", [("whatsapp", Medium.WHATSAPP), ("phone", Medium.SMS)])
def test_a_request_with_only_a_phone_gets_its_link_on_the_channel_it_came_by(communes, crews, channel, medium):
    report = answered(communes, crews, channel=channel, reporter_phone=PHONE)
    body = ask_link(Client(), report).content.decode()
    (sent,) = links_sent(report)
    assert (sent.recipient, sent.medium) == (PHONE, medium) and "/carta/1/?clave=" in sent.body
    assert "al teléfono que dejó" in body and "8765" not in body and "21 " not in body and "***" not in body


def test_past_the_requests_limit_nothing_more_is_sent(communes, crews, settings):
    settings.GEO_SIAC_LETTER_LINKS_PER_REQUEST = 1
    report = answered(communes, crews, reporter_email=ROSA)
    assert ask_link(Client(), report).status_code == 200
    later = timezone.now() + timedelta(minutes=11)  # past the window in which a retry finds the queued link
    with mock.patch("django.utils.timezone.now", return_value=later):
        refused = ask_link(Client(REMOTE_ADDR="10.9.9.9"), report)  # another client: the limit is the request's
    assert refused.status_code == 429 and 'id="letter-link-refused"' in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert len(links_sent(report)) == 1


def test_past_the_clients_limit_nothing_more_is_sent(communes, crews, settings):
    settings.GEO_SIAC_LETTER_LINKS_PER_CLIENT = 1
    first, second = (answered(communes, crews, reporter_email=ROSA) for _ in range(2))
    client = Client()
    assert ask_link(client, first).status_code == 200
    assert ask_link(client, second).status_code == 429
    assert (len(links_sent(first)), len(links_sent(second))) == (1, 0)


def test_a_request_that_left_no_contact_sends_nothing_and_says_where_to_ask(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    Report.objects.filter(pk=report.pk).update(reporter_email="")
    body = ask_link(Client(), report).content.decode()
    assert 'id="letter-link-no-contact"' in body and "OIRS" in body
    assert links_sent(report) == []


def test_asking_a_link_needs_the_pages_csrf_token(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    assert ask_link(Client(enforce_csrf_checks=True), report).status_code == 403
    assert links_sent(report) == []


def test_a_request_without_a_letter_has_no_link_to_send(communes, crews):
    report = report_create(
        channel="in_person",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_email=ROSA,
    )
    assert ask_link(Client(), report).status_code == 404


def test_an_untimed_key_is_not_revived_by_a_letter_issued_after_links_were_timed(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    # Its only letter was issued after the cut-off: no untimed key was ever sent with it.
    with mock.patch(
        "geo_siac.reports.requester.LETTER_KEYS_TIMED_SINCE", timezone.now() - timedelta(days=10), create=True
    ):
        page = letter_page(report, Signer(salt=LETTER_SALT).signature(report.tracking_code))
    assert page.status_code == 403 and "Estimado(a)" not in page.content.decode()


def test_a_retry_past_the_limit_is_answered_not_refused(communes, crews, settings):
    settings.GEO_SIAC_LETTER_LINKS_PER_REQUEST = 1
    report = answered(communes, crews, reporter_email=ROSA)
    assert ask_link(Client(), report).status_code == 200
    retry = ask_link(Client(), report)
    assert retry.status_code == 200 and 'id="letter-link-sent"' in retry.content.decode()
    assert len(links_sent(report)) == 1


def test_a_request_without_contact_asked_twice_is_answered_twice(communes, crews, settings):
    settings.GEO_SIAC_LETTER_LINKS_PER_CLIENT = 1
    report = answered(communes, crews, reporter_email=ROSA)
    Report.objects.filter(pk=report.pk).update(reporter_email="")
    client = Client()
    for _ in range(2):
        answer = ask_link(client, report)
        assert answer.status_code == 200 and 'id="letter-link-no-contact"' in answer.content.decode()


def test_a_retry_spends_nothing_of_the_requests_limit(communes, crews, settings):
    settings.GEO_SIAC_LETTER_LINKS_PER_REQUEST = 2
    report = answered(communes, crews, reporter_email=ROSA)
    client = Client()
    assert ask_link(client, report).status_code == 200
    assert ask_link(client, report).status_code == 200  # the retry
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=11)):
        again = ask_link(client, report)
    assert again.status_code == 200 and 'id="letter-link-sent"' in again.content.decode()
    assert len(links_sent(report)) == 2


def test_staff_asking_links_spend_the_requests_limit_too(communes, crews, settings):
    settings.GEO_SIAC_LETTER_LINKS_PER_REQUEST = 1
    report = answered(communes, crews, reporter_email=ROSA)
    desk = Client()
    desk.force_login(crews["supervisor"])
    assert ask_link(desk, report).status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=11)):
        assert ask_link(desk, report).status_code == 429
    assert len(links_sent(report)) == 1


def test_asking_links_counts_in_the_ceiling_of_a_clients_form_posts(communes, crews, settings):
    settings.GEO_SIAC_FORM_POSTS_PER_WINDOW = 1
    first, second = (answered(communes, crews, reporter_email=ROSA) for _ in range(2))
    client = Client()
    assert ask_link(client, first).status_code == 200
    refused = ask_link(client, second)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "No enviamos el enlace" in refused.content.decode() and links_sent(second) == []


def test_an_sms_link_is_the_code_and_the_link_in_one_part(communes, crews):
    report = answered(communes, crews, channel="phone", reporter_phone=PHONE)
    ask_link(Client(), report)
    (sent,) = links_sent(report)
    assert sent.body.startswith(f"Carta de la solicitud {report.tracking_code}: http")
    assert len(sent.body) <= 160 and sent.body.isascii()  # GSM-7 and one part: no accents, no second line


def test_a_letter_number_that_is_not_ascii_digits_is_not_found_not_a_crash(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    assert ask_link(Client(), report, carta="²").status_code == 404


def test_a_link_to_another_letter_of_the_same_request_is_sent_too_and_from_the_municipality(communes, crews):
    report = answered(communes, crews, reporter_email=ROSA)
    second = report.letters.get()
    second.pk, second.number = None, 2
    second.save()
    ask_link(Client(), report, carta="1")
    ask_link(Client(), report, carta="2")  # within the repeat window, but another letter: its own link
    sent = links_sent(report)
    assert sorted(re.search(r"/carta/(\d+)/", s.body)[1] for s in sent) == ["1", "2"]
    assert all(s.sender_name and "Municipalidad" in s.sender_name for s in sent)
