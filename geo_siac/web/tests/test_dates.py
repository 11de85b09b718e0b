"""`{% load dates %}`: Django's `date` filter, the same text for every format and value."""

import datetime
import zoneinfo

import pytest
from django.template import engines
from django.utils import translation

from geo_siac.web.templatetags.dates import format_pieces

SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")
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
    loaded = "{% load " + library + " %}" if library else ""
    return engines["django"].from_string(loaded + source).render(context)


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
                        rendered(source, "dates", {"value": value, "form": form})
                    continue
                assert rendered(source, "dates", {"value": value, "form": form}) == djangos, (value, form)
        assert rendered("{{ value|date }}", "dates", {"value": VALUES[0]}) == rendered(
            "{{ value|date }}", "", {"value": VALUES[0]}
        )
    format_pieces.cache_clear()  # the filter rendered is this library's, not Django's
    rendered("{{ value|date:'j M Y, H:i' }}", "dates", {"value": VALUES[0]})
    assert format_pieces.cache_info().currsize == 1
    settings.USE_TZ = False
    assert rendered("{{ value|date:'c' }}", "dates", {"value": VALUES[4]}) == "2026-01-01T00:00:00"
