"""A timeline event's kind and status labels (ReportEvent.get_kind_display, get_to_status_display) are Django's."""

import pytest
from django.utils import translation

from geo_siac.reports.models import EventKind, ReportEvent
from geo_siac.reports.states import Status


@pytest.mark.parametrize("language", ["es-cl", "en"])
def test_each_label_is_the_one_djangos_display_gives(language):
    kind, to_status = ReportEvent._meta.get_field("kind"), ReportEvent._meta.get_field("to_status")
    with translation.override(language):
        for value in [*EventKind.values, "", "no-such-kind", None]:
            event = ReportEvent(kind=value)
            assert event.get_kind_display() == ReportEvent._get_FIELD_display(event, kind), value
        for value in [*Status.values, "", "no-such-status"]:
            event = ReportEvent(kind=EventKind.STATUS, to_status=value)
            assert event.get_to_status_display() == ReportEvent._get_FIELD_display(event, to_status), value
        shown = ReportEvent(kind=EventKind.ROUTED, to_status=Status.RESOLVED)
        expected = {"es-cl": ("Asignación automática", "Resuelta"), "en": ("Automatic assignment", "Resolved")}
        assert (shown.get_kind_display(), shown.get_to_status_display()) == expected[language]
        assert type(shown.get_kind_display()) is str
