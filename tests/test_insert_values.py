"""The values an INSERT built by geo_siac.db (compiled_insert_sql, typed_values) sends are Django's own: a value that
kept_as_is lets through unchanged is exactly what pre_save and get_db_prep_save give, and every other value still
goes through them."""

import enum
import warnings
from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import Point
from django.utils.functional import lazy

from geo_siac.db import default_connection, kept_as_is, save_value
from geo_siac.notifications.models import Notification
from geo_siac.open311.models import ApiKey
from geo_siac.reports.models import Report, ReportEvent, ReportKey, Submission
from geo_siac.reports.states import Channel
from geo_siac.zones.models import Commune

lazy_text = lazy(lambda: "perezoso", str)


class Small(enum.IntEnum):
    TWO = 2


# Values of every kind a report's fields may hold, those kept_as_is lets through and those it must not.
VALUES = [
    None,
    "",
    "texto",
    Channel.WEB,  # a str enum: Django keeps it too
    lazy_text(),
    0,
    7,
    2**40,
    True,
    False,
    Small.TWO,
    1.5,
    "12",
    datetime(2026, 12, 4, 18, 0, tzinfo=UTC),
    datetime(2026, 12, 4, 18, 0),  # naive: Django makes it aware, with a warning
    {"plaga": ["roedores"]},
    Point(-70.57, -33.6, srid=4326),
]


def djangos(obj, field, database):
    return field.get_db_prep_save(field.pre_save(obj, add=True), database)


def sets_itself(field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def compared(model, field) -> tuple[int, int]:
    """Each of VALUES in `field` of a new `model` instance, saved by save_value and by Django: (values compared,
    values kept as they were)."""
    database, test = default_connection(), kept_as_is(field)
    count = kept = 0
    for value in VALUES:
        obj = model()
        obj.__dict__[field.attname] = value
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                expected = djangos(obj, field, database)
            except Exception as refused:  # noqa: BLE001 (whatever Django raises, ours must raise too)
                with pytest.raises(type(refused)):
                    save_value(obj, field, test, database)
                continue
            ours = save_value(obj, field, test, database)
        count += 1
        if test is not None and (value is None or test(value)):
            kept += 1
            assert ours is value, (field.name, value)
        assert type(ours) is type(expected), (field.name, value)
        assert getattr(ours, "adapted", ours) == getattr(expected, "adapted", expected), (field.name, value)
    return count, kept


@pytest.mark.parametrize("model", [Report, ReportEvent, ReportKey, Submission, Notification, Commune, ApiKey])
def test_every_field_saves_each_value_as_djangos_pre_save_and_get_db_prep_save_do(model):
    total = kept = 0
    for field in model._meta.local_concrete_fields:
        if sets_itself(field):  # pre_save writes the time: the next test
            assert kept_as_is(field) is None, field.name
            continue
        count, kept_here = compared(model, field)
        total, kept = total + count, kept + kept_here
    assert total and kept


def test_a_foreign_key_to_a_text_key_saves_each_value_as_django_does():
    from django.contrib.sessions.models import Session
    from django.db import models

    field = models.ForeignKey(Session, on_delete=models.CASCADE)
    field.set_attributes_from_name("session")
    assert compared(Report, field)[0]


def test_geometry_json_and_a_time_that_sets_itself_go_through_django():
    """A datetime field with auto_now or auto_now_add writes the time in its pre_save: it is never kept as it is,
    and its saved value is the time of the save."""
    fields = {f.name: kept_as_is(f) for f in Report._meta.local_concrete_fields}
    assert fields["location"] is None and fields["attributes"] is None
    assert all(fields[name] is not None for name in ("description", "commune", "created_at", "h3_res9", "status"))
    database = default_connection()
    before = datetime.now(UTC)
    for model, name in ((Commune, "updated_at"), (ApiKey, "created_at")):
        field = model._meta.get_field(name)
        assert sets_itself(field) and kept_as_is(field) is None
        obj = model()
        obj.__dict__[field.attname] = datetime(2000, 1, 1, tzinfo=UTC)
        assert save_value(obj, field, None, database) >= before
