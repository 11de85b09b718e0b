"""The details an English reader meets after the catalogue: dates written in English, the language list naming each
language in itself, map controls and the admin's field labels in the page's language (issue #20)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.utils import translation

SANTIAGO = ZoneInfo("America/Santiago")


def test_tracking_page_writes_dates_in_the_readers_language(client, make_report):
    report = make_report()
    report.__class__.objects.filter(pk=report.pk).update(
        created_at=datetime(2026, 11, 20, 9, 5, tzinfo=SANTIAGO), expected_at=datetime(2026, 12, 2, 18, tzinfo=SANTIAGO)
    )
    url = f"/seguimiento/{report.tracking_code}/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es-cl").content.decode()
    assert "2 December 2026" in english and "20 November 2026, 09:05" in english
    assert " de December" not in english and " de November" not in english
    assert "2 de diciembre de 2026" in spanish


def test_submitted_page_gives_the_deadline_with_its_weekday_in_english(client, make_report):
    report = make_report()
    report.__class__.objects.filter(pk=report.pk).update(expected_at=datetime(2026, 12, 2, 18, tzinfo=SANTIAGO))
    page = client.get(f"/enviada/{report.tracking_code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Wednesday 2 December 2026" in page


@pytest.mark.parametrize("language", ["es-cl", "en"])
def test_language_list_names_each_language_in_that_language(client, communes, language):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert re.search(r'<option value="es-cl" lang="es-cl"( selected)?>Español \(Chile\)</option>', page)
    assert re.search(r'<option value="en" lang="en"( selected)?>English</option>', page)


@pytest.mark.parametrize(
    ("language", "zoom_in", "zoom_out"), [("es-cl", "Acercar", "Alejar"), ("en", "Zoom in", "Zoom out")]
)
def test_map_zoom_buttons_are_titled_in_the_pages_language(client, make_report, crews, language, zoom_in, zoom_out):
    make_report()
    report_page = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'data-zoom-in="{zoom_in}" data-zoom-out="{zoom_out}"' in report_page
    client.force_login(crews["admin"])
    folium_map = client.get("/mapas/calor/mapa.html", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'"zoomInTitle": "{zoom_in}", "zoomOutTitle": "{zoom_out}"' in folium_map


def test_every_field_the_admin_shows_has_a_label_in_both_languages():
    unlabelled = []
    for model in admin.site._registry:
        if not model.__module__.startswith("geo_siac."):
            continue
        for field in model._meta.get_fields():
            if field.auto_created or not hasattr(field, "verbose_name"):
                continue
            with translation.override("es-cl"):
                spanish = str(field.verbose_name)
            if spanish == field.name.replace("_", " "):
                unlabelled.append(f"{model.__name__}.{field.name}")
    assert unlabelled == []


@pytest.mark.parametrize(("language", "label"), [("es-cl", "Dirección municipal"), ("en", "Municipal department")])
def test_admin_crew_form_labels_its_department_in_the_pages_language(client, crews, language, label):
    client.force_login(crews["admin"])
    page = client.get("/admin/zones/crew/add/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'for="id_department">{label}:</label>' in page
