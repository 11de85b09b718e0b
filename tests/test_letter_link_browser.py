"""Someone opens an answer letter's link that expired, on a phone against the production server: the page says the
link expired and offers «Enviar un enlace nuevo a quien hizo la solicitud»; one press queues one fresh link to the
contact on file and says where it went, masked, with no sideways scroll and no axe finding."""

import os

import pytest

from geo_siac.notifications.models import Notification
from geo_siac.reports.tests.test_letter_links import LINK_SUBJECT, ROSA, answered, key_signed
from geo_siac.testing import PROJECT_ROOT
from tests.test_accessibility_browser import axe_findings
from tests.test_my_reports_browser import PHONE, phone_page  # noqa: F401  (a fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "cit24"


def check(page, name: str) -> None:
    page.screenshot(path=OUTPUT / f"{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    assert axe_findings(page) == [], name
    assert "rosa" not in page.content().lower(), name


def test_an_expired_letter_link_offers_a_new_one_and_sends_it_once(phone_page, communes, crews):  # noqa: F811
    OUTPUT.mkdir(parents=True, exist_ok=True)
    report = answered(communes, crews, reporter_email=ROSA)
    page = phone_page
    page.goto(f"{page.base_url}/seguimiento/{report.tracking_code}/")
    check(page, "tracking_offer")
    page.goto(f"{page.base_url}/seguimiento/{report.tracking_code}/carta/1/?clave={key_signed(report, days_ago=91)}")
    assert "Este enlace venció" in page.inner_text("main") and "Estimado(a)" not in page.inner_text("main")
    check(page, "letter_offer")
    with page.expect_navigation():
        page.click("text=Enviar un enlace nuevo a quien hizo la solicitud")
    sent = page.inner_text("#letter-link-sent")
    assert "al correo que dejó quien hizo la solicitud" in sent and "example.cl" not in sent
    check(page, "letter_sent")
    assert Notification.objects.filter(report=report, recipient=ROSA, subject__startswith=LINK_SUBJECT).count() == 1
