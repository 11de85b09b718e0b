"""The geocoding migrations' extensions: created if missing, never dropped when unapplied."""

from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.state import ProjectState

EDIT_DISTANCE = import_module("geo_siac.geocoding.migrations.0004_edit_distance")


def extensions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_unapplying_the_edit_distance_migration_keeps_fuzzystrmatch():
    # Dropping it would fail ("must be owner of extension") where a DBA or template1 made it, and remove what
    # other objects of the database may use.
    assert "fuzzystrmatch" in extensions()
    state = ProjectState()
    with connection.schema_editor(atomic=True) as editor:
        for operation in EDIT_DISTANCE.Migration.operations:
            operation.database_backwards("geocoding", editor, state, state)
    assert "fuzzystrmatch" in extensions()


@pytest.mark.django_db
def test_the_words_table_has_no_trigram_index():
    # It was kept up to date by every load and read by no query once words are read by edit distance.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'geocoding_gazetteerword'")
        definitions = [definition for (definition,) in cursor.fetchall()]
    assert definitions and not [definition for definition in definitions if "gin_trgm_ops" in definition]
