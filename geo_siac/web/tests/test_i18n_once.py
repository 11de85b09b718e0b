"""`{% load i18n_once %}`: Django's `{% translate %}` and `date` filter, the same text for every form they take."""

import datetime
import zoneinfo

import pytest
from django.template import engines
from django.templatetags.i18n import TranslateNode
from django.utils import translation

from geo_siac.web.templatetags.i18n_once import ConstantTranslateNode

SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")
TRANSLATIONS = [
    '{% translate "Seguimiento de la solicitud" %}',
    '{% translate "Historial" %}',
    "{% translate 'Foto de la solicitud' %}",
    '{% trans "Estado actual" %}',
    '{% translate "Un texto sin traducción, con 100% de <b>marcas</b> & \\"comillas\\"" %}',
    '{% translate "50%% de avance" %}',
    '{% translate "Historial" noop %}',
    '{% translate "Historial" as title %}[{{ title }}]',
    '{% translate "Mayo" context "month name" %}',
    '{% translate "Historial"|upper %}',
    "{% translate text %}",
    '{% autoescape off %}{% translate "Seguimiento de la solicitud" %}{% endautoescape %}',
]
FORMATS = [
    "DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT", "YEAR_MONTH_FORMAT", "c",
    "j M Y, H:i", r"j \d\e F \d\e Y \a \l\a\s H:i", "N j, Y, P", "a A b d D E f g G h H i l L m M n N o O r s S t T u U w W y Y z Z e I",
    r"\\\j \c", "",
]  # fmt: skip
VALUES = [
    datetime.datetime(2026, 11, 3, 14, 5, 7, tzinfo=datetime.UTC),
    datetime.datetime(2026, 4, 5, 2, 30, tzinfo=datetime.UTC),  # an hour Santiago's clock shows twice
    datetime.datetime(2026, 9, 6, 4, 0, tzinfo=datetime.UTC),  # the moment it skips an hour
    datetime.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=SANTIAGO),
    datetime.datetime(2026, 1, 1, 0, 0),  # naive
    datetime.date(2026, 2, 28),
    None,
    "",
    "no es una fecha",
]


def rendered(source: str, library: str, context: dict) -> str:
    return engines["django"].from_string("{% load i18n " + library + " %}" + source).render(context)


@pytest.mark.parametrize("language", ["es-cl", "en"])
def test_each_translation_is_djangos(language):
    with translation.override(language):
        for source in TRANSLATIONS:
            context = {"text": "Historial"}
            assert rendered(source, "i18n_once", context) == rendered(source, "", context), source
        assert rendered(TRANSLATIONS[0], "i18n_once", {}) == (
            "Seguimiento de la solicitud" if language == "es-cl" else "Request tracking"
        )


def test_only_a_quoted_text_alone_is_translated_by_the_constant_node():
    def nodes(source: str) -> list:
        template = engines["django"].from_string("{% load i18n i18n_once %}" + source).template
        return [type(node) for node in template.nodelist.get_nodes_by_type(TranslateNode)]

    assert nodes(TRANSLATIONS[0] + TRANSLATIONS[3]) == [ConstantTranslateNode, ConstantTranslateNode]
    for source in TRANSLATIONS[6:11]:
        assert nodes(source) == [TranslateNode], source


@pytest.mark.parametrize("language", ["es-cl", "en"])
def test_each_date_is_djangos(language, settings):
    with translation.override(language):
        for value in VALUES:
            for form in FORMATS:
                source = "{{ value|date:form }}"
                try:
                    djangos = rendered(source, "", {"value": value, "form": form})
                except TypeError:  # a time's format for a date
                    with pytest.raises(TypeError):
                        rendered(source, "i18n_once", {"value": value, "form": form})
                    continue
                assert rendered(source, "i18n_once", {"value": value, "form": form}) == djangos, (value, form)
        assert rendered("{{ value|date }}", "i18n_once", {"value": VALUES[0]}) == rendered(
            "{{ value|date }}", "", {"value": VALUES[0]}
        )
    settings.USE_TZ = False
    assert rendered("{{ value|date:'c' }}", "i18n_once", {"value": VALUES[4]}) == "2026-01-01T00:00:00"
