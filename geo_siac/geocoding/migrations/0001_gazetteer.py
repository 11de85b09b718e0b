import django.contrib.gis.db.models.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.comparison
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations, models

import geo_siac.geocoding.models

# Abbreviations Chilean street names carry (DTPM's stops, the DEIS registry, OSM), each read as its full word; street
# types are dropped ("Av. Concha y Toro", "avenida concha y toro" and "concha y toro" read the same), and so are the
# number markers ("#1820", "N° 1820") and "esquina".
WORDS = {
    "av": "",
    "avda": "",
    "avenida": "",
    "calle": "",
    "pje": "",
    "psje": "",
    "pasaje": "",
    "esq": "",
    "esquina": "",
    "n": "",
    "nro": "",
    "num": "",
    "numero": "",
    "gral": "general",
    "alc": "alcalde",
    "sta": "santa",
    "sto": "santo",
    "sn": "san",
    "pdte": "presidente",
    "tte": "teniente",
    "cap": "capitan",
    "cdte": "comandante",
    "cmdte": "comandante",
    "cnel": "coronel",
    "sgto": "sargento",
    "dr": "doctor",
    "dra": "doctora",
    "prof": "profesor",
    "ob": "obispo",
    "mons": "monsenor",
    "pbro": "presbitero",
    "ing": "ingeniero",
    "stgo": "santiago",
    "pob": "poblacion",
    "hno": "hermano",
    "hna": "hermana",
    "gob": "gobernador",
    "cdo": "comando",
    # The registry names health centres in full or by their acronym, as people do.
    "cesfam": "centro de salud familiar",
    "cecosf": "centro comunitario de salud familiar",
}
VALUES = ", ".join(f"('{short}', '{full}')" for short, full in sorted(WORDS.items()))

# The one normaliser of the gazetteer: the stored search_text column and every query go through it. IMMUTABLE (a
# generated column needs it) holds because unaccent is called with its dictionary named, not through search_path.
NORMALISE = f"""
CREATE OR REPLACE FUNCTION geocoding_normalise(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT coalesce(string_agg(word, ' ' ORDER BY position), '')
FROM (
    SELECT coalesce(abbreviation.replacement, split.token) AS word, split.position
    FROM regexp_split_to_table(
        btrim(regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary,
                                                   regexp_replace(value, '[#°º]', ' ', 'g'))),
                             '[^a-z0-9]+', ' ', 'g')),
        ' ') WITH ORDINALITY AS split(token, position)
    LEFT JOIN (VALUES {VALUES}) AS abbreviation(short, replacement) ON abbreviation.short = split.token
) AS words
WHERE word <> ''
$$
"""


class CreateExtensionKept(CreateExtension):
    """CREATE EXTENSION IF NOT EXISTS; unapplying keeps it: scripts/setup.sh made it as a superuser (this role could
    not drop it), and other objects of the database may use it."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("zones", "0006_commune_boundary_versions"),
    ]

    operations = [
        CreateExtensionKept("pg_trgm"),
        CreateExtensionKept("unaccent"),
        migrations.RunSQL(NORMALISE, "DROP FUNCTION geocoding_normalise(text)"),
        migrations.CreateModel(
            name="GazetteerEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("street", "calle"),
                            ("intersection", "intersección"),
                            ("address", "dirección"),
                            ("place", "lugar"),
                        ],
                        max_length=12,
                        verbose_name="tipo",
                    ),
                ),
                ("label", models.CharField(max_length=300, verbose_name="nombre")),
                (
                    "search_text",
                    models.GeneratedField(
                        db_persist=True,
                        expression=geo_siac.geocoding.models.Normalised(models.F("label")),
                        output_field=models.TextField(),
                    ),
                ),
                ("number", models.PositiveIntegerField(blank=True, null=True, verbose_name="número")),
                ("point", django.contrib.gis.db.models.fields.PointField(srid=4326, verbose_name="ubicación")),
                ("source", models.CharField(max_length=40, verbose_name="origen")),
                ("source_id", models.CharField(max_length=200, verbose_name="identificador en el origen")),
                (
                    "commune",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="zones.commune",
                        verbose_name="comuna",
                    ),
                ),
            ],
            options={
                "verbose_name": "entrada del nomenclátor",
                "verbose_name_plural": "nomenclátor",
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        django.contrib.postgres.indexes.OpClass("search_text", name="gin_trgm_ops"),
                        name="gazetteer_search_trgm",
                    ),
                    models.Index(
                        django.db.models.functions.comparison.Collate(models.F("search_text"), "C"),
                        name="gazetteer_search_prefix",
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("source", "source_id"), name="gazetteer_unique_source_id")
                ],
            },
        ),
    ]
