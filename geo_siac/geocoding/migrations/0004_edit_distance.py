from importlib import import_module

from django.db import migrations

CreateExtensionKept = import_module("geo_siac.geocoding.migrations.0001_gazetteer").CreateExtensionKept


class Migration(migrations.Migration):
    """fuzzystrmatch's levenshtein_less_equal: a misspelt word is read as the names' words within its edit budget
    (selectors.WORD_READINGS_CTE). A trusted extension: the database's owner creates it, no superuser needed; as
    pg_trgm and unaccent, unapplying keeps it (a DBA or template1 may have made it, and others may use it)."""

    dependencies = [
        ("geocoding", "0003_gazetteer_words"),
    ]

    operations = [CreateExtensionKept("fuzzystrmatch")]
