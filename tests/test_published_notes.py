"""What staff write to a requester is published only where it may be: a note of a request of another kind than a
service request (a subsanación of an access-to-information request, addressed to a named person) never reaches
Open311 or a public webhook, and a service request's public note that quotes its tracking code is published with
the code masked (the code opens a non-public request's tracking page)."""

import pytest

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.open311.tests.contract import get
from geo_siac.reports.selectors import TRACKING_CODE_MASK
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    information_correction_request,
    report_change_status,
    report_create,
)
from geo_siac.webhooks.models import WebhookEndpoint
from geo_siac.webhooks.payloads import event_body

PERSONAL = "Sra. Rosa Pérez, indique su RUT 12.345.678-9"


def published_text(client) -> str:
    """Everything Open311 publishes about requests and their updates, in both formats."""
    texts = []
    for fmt in ("json", "xml"):
        texts.append(get(client, "requests", fmt, extensions="true")[0].content.decode())
        texts.append(get(client, "servicerequestupdates", fmt)[0].content.decode())
    return "\n".join(texts)


@pytest.mark.django_db
def test_a_note_to_an_access_to_information_requester_is_not_published(client, communes, crews):
    report = report_create(
        channel="web",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Contratos de alumbrado 2025.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    information_correction_request(report=report, note=PERSONAL, actor=crews["supervisor"])

    assert PERSONAL in "".join(report.events.filter(is_public=True).values_list("note", flat=True))
    assert PERSONAL not in published_text(client)
    asked = report.events.get(note__contains=PERSONAL)
    assert event_body(asked, internal=False) is None
    assert PERSONAL in event_body(asked, internal=True)["event"]["note"]


@pytest.mark.django_db
def test_a_public_note_quoting_the_tracking_code_is_published_with_the_code_masked(client, make_report):
    report = make_report(public_visibility=True)
    note = f"Su solicitud {report.tracking_code} fue atendida."
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", note=note, note_is_public=True
    )

    published = published_text(client)
    assert report.tracking_code not in published
    assert f"Su solicitud {TRACKING_CODE_MASK} fue atendida." in published
    WebhookEndpoint.objects.create(description="ERP", url="https://erp.example.cl/", secret="s")
    resolved = report.events.get(to_status="resolved")
    assert event_body(resolved, internal=False)["event"]["note"] == f"Su solicitud {TRACKING_CODE_MASK} fue atendida."
