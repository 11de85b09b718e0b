from datetime import datetime
from unittest.mock import patch

import pytest
from django.core.management import call_command

from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.services import report_change_status


def at(month, day):
    return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))


@pytest.fixture
def october(make_report):
    """Two reports in September, three in October (one closed on time, one late, one open)."""
    with at(9, 10):
        make_report(channel="phone")
        make_report(channel="phone")
    with at(10, 5):
        on_time, late, _open = make_report(), make_report(), make_report()
    with at(10, 6):
        report_change_status(report=on_time, status="resolved")
    with at(10, 20):
        report_change_status(report=late, status="resolved")


@pytest.mark.django_db
def test_executive_report_command_writes_html_with_the_figures_and_a_pdf(october, tmp_path):
    call_command("executive_report", commune="13201", month="2026-10", out=str(tmp_path))

    html = (tmp_path / "informe-13201-2026-10.html").read_text()
    pdf = (tmp_path / "informe-13201-2026-10.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert '<tr data-key="volume">' in html
    volume_row = html.split('<tr data-key="volume">')[1].split("</tr>")[0]
    assert "<td>3</td><td>2</td><td>1</td>" in volume_row.replace("\n", "").replace("    ", "")
    # Deadline met in October: one of the two closed was on time; the open one (due 13 Oct, 12 Oct being a
    # holiday) is late by 1 Nov: 1 of 3.
    deadline_row = html.split('<tr data-key="deadline_met_share">')[1].split("</tr>")[0]
    assert "33 %" in deadline_row
    assert "Retiro de escombros: 33 %" in html
    assert html.count("data:image/png;base64,") == 2


@pytest.mark.django_db
def test_executive_report_page_is_for_staff_only(client, october, django_user_model):
    assert client.get("/transparencia/informe/?commune=13201&month=2026-10").status_code == 302

    client.force_login(django_user_model.objects.create_user("jefa", is_staff=True))
    html = client.get("/transparencia/informe/?commune=13201&month=2026-10")
    pdf = client.get("/transparencia/informe/?commune=13201&month=2026-10&format=pdf")

    assert html.status_code == 200 and b"Informe ejecutivo" in html.content
    assert pdf.content.startswith(b"%PDF")
