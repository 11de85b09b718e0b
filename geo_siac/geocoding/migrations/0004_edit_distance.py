from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    """fuzzystrmatch's levenshtein_less_equal: a misspelt word is read as the names' words within its edit budget
    (selectors.WORD_READINGS_CTE). A trusted extension: the database's owner creates it, no superuser needed."""

    dependencies = [
        ("geocoding", "0003_gazetteer_words"),
    ]

    operations = [CreateExtension("fuzzystrmatch")]
