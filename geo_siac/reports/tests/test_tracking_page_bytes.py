"""The tracking page with its links reversed once (`{% fixed_url %}`) and its dates by `{% load dates %}` is the page
Django's `{% url %}` and `date` gave, byte for byte."""

import copy
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_create

TEMPLATES = Path(django_settings.BASE_DIR) / "geo_siac"
CHANGED = {"base.html": TEMPLATES / "templates/base.html", "reports/tracking.html": TEMPLATES / "reports/templates/reports/tracking.html"}  # fmt: skip
# Each render masks the follow form's CSRF secret afresh: the one part of a page that differs between two renders.
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[A-Za-z0-9]+"')


@pytest.fixture
def reports(make_report, communes):
    open_one = make_report(public_visibility=True, description="Hoyo en la calzada.\nFrente al 1820.")
    started = make_report(public_visibility=True)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=started,
        status="in_progress",
        note="Cuadrilla en camino.",
        note_is_public=True,
    )
    resolved = make_report()
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=resolved, status="resolved", note="Reparado.", note_is_public=True
    )
    information = report_create(
        channel="web",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    return [open_one, started, resolved, information]


def pages(client, reports, prefix: str, language: str) -> list[bytes]:
    answers = [
        client.get(f"{prefix}/seguimiento/{report.tracking_code}/", HTTP_ACCEPT_LANGUAGE=language) for report in reports
    ]
    assert [answer.status_code for answer in answers] == [200] * len(reports)
    return [CSRF.sub(b"CSRF", answer.content) for answer in answers]


@pytest.mark.parametrize("language", ["es-cl", "en"])
@pytest.mark.parametrize("prefix", ["", "/comuna/puente-alto"])
def test_the_tracking_page_is_the_one_djangos_tags_gave_in_each_state(client, reports, settings, prefix, language):
    ours = pages(client, reports, prefix, language)
    with_djangos_tags = {
        name: path.read_text()
        .replace("{% fixed_url ", "{% url ")
        .replace("{% load fixed_url ", "{% load ")
        .replace(" i18n dates %}", " i18n %}")
        for name, path in CHANGED.items()
    }
    assert all(
        "fixed_url" not in source and "dates" not in "".join(re.findall(r"{% load [^%]*%}", source))
        for source in with_djangos_tags.values()
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["APP_DIRS"] = False
    templates[0]["OPTIONS"]["loaders"] = [
        ("django.template.loaders.locmem.Loader", with_djangos_tags),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader",
    ]
    settings.TEMPLATES = templates
    assert pages(client, reports, prefix, language) == ours
    assert len(set(ours)) == len(reports)
    assert all(f'<html lang="{language}">'.encode() in page for page in ours)
    # The follow form keeps its token; the language form has none (a cached public page must not hand one out).
    assert [b"CSRF" in page for page in ours] == [True, True, False, True]
    assert b"Cuadrilla en camino." in ours[1] and b"Ley 20.285" in ours[3]
    assert (b"Seguimiento de la solicitud" in ours[0]) == (language == "es-cl")
