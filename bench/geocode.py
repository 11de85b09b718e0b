"""Geocoding benchmark (issue #22, point 1): search and reverse geocoding over a gazetteer of synthetic entries
spread over the 52 comunas of the Región Metropolitana.

    GEO_SIAC_BENCH_DB=geo_siac_bench_geocode .venv/bin/python bench/geocode.py [--entries 1000000] [--queries 300]

Uses its own database (created and migrated like bench/ingest.py). When its gazetteer holds fewer than --entries
entries it is emptied and filled through services.gazetteer_load, the loader's one write path: 70% numbered
addresses, 15% streets, 10% intersections, 5% named places, with names drawn from Chilean street-name words (and
the real names of ../shared/data/streets when present). Every RM comuna is served, so the comuna filter drops
nothing. Then it times, in this process, through the Django connection:
- geocode_search for prefixes of real entries' labels as a user types them (4, 8, 12 characters, the whole label,
  lower case), for whole labels with one letter wrong (the similarity search) and "A con B" for intersections,
  limit 10;
- geocode_search for the labels with their longest word replaced by random letters (a street that does not exist:
  the search should answer nothing, and quickly);
- geocode_reverse for random points in the region.
For the misspelt labels and "A con B" it also prints how often the first answer bears the entry's label, and for
the made-up names how often anything was answered.
Targets: search p95 <= 30 ms, reverse p95 <= 10 ms. It prints the load average before and after the timings.
A second run reuses the loaded gazetteer (same GEO_SIAC_BENCH_DB, at least --entries entries).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PGDATABASE"] = os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_bench_geocode")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geo_siac.settings")

from bench.ingest import prepare_database  # noqa: E402

RM = tuple(str(c) for c in range(13101, 13133)) + (
    "13201",
    "13202",
    "13203",
    "13301",
    "13302",
    "13303",
    "13401",
    "13402",
    "13403",
    "13404",
    "13501",
    "13502",
    "13503",
    "13504",
    "13505",
    "13601",
    "13602",
    "13603",
    "13604",
    "13605",
)
GIVEN = (
    "José",
    "Luis",
    "Manuel",
    "Pedro",
    "Juan",
    "Carlos",
    "Francisco",
    "Diego",
    "Bernardo",
    "Arturo",
    "Gabriela",
    "María",
    "Teresa",
    "Javiera",
    "Isabel",
    "Ana",
    "Rosa",
    "Santa Rosa",
    "San Pedro",
    "San José",
    "Ramón",
    "Domingo",
    "Vicente",
    "Eduardo",
    "Alberto",
    "Benjamín",
    "Andrés",
    "Ignacio",
    "Tomás",
    "Salvador",
)
SURNAMES = (
    "Carrera",
    "O'Higgins",
    "Prat",
    "Balmaceda",
    "Montt",
    "Errázuriz",
    "Vicuña Mackenna",
    "Concha y Toro",
    "Matte",
    "Larraín",
    "Eyzaguirre",
    "Tocornal",
    "Núñez",
    "Pérez",
    "González",
    "Rodríguez",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Soto",
    "Contreras",
    "Silva",
    "Martínez",
    "Sepúlveda",
    "Morales",
    "Fuentes",
    "Valenzuela",
    "Araya",
    "Espinoza",
    "Castillo",
    "Tapia",
    "Reyes",
    "Gutiérrez",
    "Castro",
    "Pizarro",
    "Álvarez",
    "Vásquez",
    "Sánchez",
    "Fernández",
    "Ramírez",
    "Carrasco",
    "Gómez",
    "Cortés",
    "Herrera",
    "Núñez",
    "Jara",
    "Vergara",
    "Rivera",
    "Figueroa",
    "Riquelme",
    "García",
    "Miranda",
    "Bravo",
    "Vera",
    "Molina",
    "Vega",
    "Campos",
)
NOUNS = (
    "Los Aromos",
    "Las Acacias",
    "El Peumo",
    "Los Boldos",
    "El Roble",
    "Las Perdices",
    "Los Quillayes",
    "La Cordillera",
    "El Volcán",
    "Los Copihues",
    "Las Rosas",
    "El Canelo",
    "Los Álamos",
    "La Florida",
    "El Manzano",
    "Los Presidentes",
    "Las Torres",
    "El Valle",
    "La Serena",
    "Los Cerezos",
)
PREFIXES = ("Av. ", "Avda. ", "Pje. ", "Psje. ", "Calle ", "Gral. ", "Alc. ", "Sta. ", "", "", "", "")
PLACES = (
    "CESFAM",
    "Escuela",
    "Liceo",
    "Plaza",
    "Jardín Infantil",
    "Parroquia",
    "Sede Vecinal",
    "Cancha",
    "Colegio",
    "Metro",
)


def street_names(rng: random.Random, count: int) -> list[str]:
    from django.conf import settings

    names = set()
    stops = settings.GEO_SIAC_SHARED_DATA / "streets/dtpm_stops_puente_alto_penalolen.geojson"
    if stops.exists():
        import json

        for feature in json.loads(stops.read_text())["features"]:
            names.update(n for n in (feature["properties"]["street"], feature["properties"]["cross_street"]) if n)
    while len(names) < count:
        kind = rng.random()
        if kind < 0.5:
            core = f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}"
        elif kind < 0.8:
            core = f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
        else:
            core = (
                f"{rng.choice(NOUNS)} {rng.randint(1, 40)}"
                if rng.random() < 0.3
                else rng.choice(NOUNS) + f" {rng.choice(SURNAMES)}"
            )
        names.add(rng.choice(PREFIXES) + core)
    return sorted(names)


def synthetic_entries(count: int, rng: random.Random):
    """Entries with points in the region, each given the comuna whose centroid is nearest."""
    from geo_siac.geocoding.models import EntryKind
    from geo_siac.geocoding.services import Entry
    from geo_siac.zones.models import Commune

    centres = [(c.cut, c.geometry.centroid.x, c.geometry.centroid.y) for c in Commune.objects.filter(cut__in=RM)]
    names = street_names(rng, 40_000)
    for i in range(count):
        cut, x0, y0 = rng.choice(centres)
        x, y = x0 + rng.gauss(0, 0.02), y0 + rng.gauss(0, 0.02)
        draw = rng.random()
        street = rng.choice(names)
        if draw < 0.70:
            number = rng.randint(1, 12_000)
            yield Entry(EntryKind.ADDRESS, f"{street} {number}", x, y, f"a{i}", number=number, cut=cut)
        elif draw < 0.85:
            yield Entry(EntryKind.STREET, street, x, y, f"s{i}", cut=cut)
        elif draw < 0.95:
            yield Entry(EntryKind.INTERSECTION, f"{street} / Esq. {rng.choice(names)}", x, y, f"i{i}", cut=cut)
        else:
            yield Entry(EntryKind.PLACE, f"{rng.choice(PLACES)} {rng.choice(names)}", x, y, f"p{i}", cut=cut)


def load(entries: int) -> None:
    from django.db import connection

    from geo_siac.geocoding.models import GazetteerEntry
    from geo_siac.geocoding.services import gazetteer_load
    from geo_siac.zones.models import Commune

    Commune.objects.filter(cut__in=RM).update(is_active=True)
    if GazetteerEntry.objects.count() >= entries:
        return
    GazetteerEntry.objects.all().delete()
    started = time.perf_counter()
    summary = gazetteer_load(source="bench", entries=synthetic_entries(entries, random.Random(22)), commit=True)
    print(
        f"loaded {summary.created:,} entries in {time.perf_counter() - started:.0f} s "
        f"(skipped {sum(summary.skipped.values())})"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE geocoding_gazetteerentry")


def one_letter_wrong(text: str) -> str:
    """The middle letter of the longest word replaced by the next one (no entry then begins with the text)."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    middle = len(words[i]) // 2
    letter = words[i][middle]
    words[i] = words[i][:middle] + ("a" if letter == "z" else chr(ord(letter) + 1)) + words[i][middle + 1 :]
    return " ".join(words)


def made_up(text: str, rng: random.Random) -> str:
    """The longest word replaced by as many random letters: a street no gazetteer holds (a letter for a letter)."""
    words = text.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    words[i] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in words[i])
    return " ".join(words)


def first_is(entry, places) -> bool:
    """The first answer bears the entry's label (the same label in another comuna counts: the text cannot tell)."""
    return bool(places) and places[0].label == entry.label


def percentiles(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(
        f"{label:<28} n={len(samples):>5}  p50 {statistics.median(samples):6.1f} ms  p95 {p95:6.1f} ms  "
        f"max {ordered[-1]:6.1f} ms"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine inflates every timing, so say how much."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=300, help="labels whose prefixes are searched")
    args = parser.parse_args()
    prepare_database(cuts=RM)

    import django

    django.setup()
    from django.contrib.gis.geos import Point

    from geo_siac.geocoding.models import GazetteerEntry
    from geo_siac.geocoding.selectors import geocode_reverse, geocode_search

    load(args.entries)
    rng = random.Random(7)
    total = GazetteerEntry.objects.count()
    print(f"gazetteer: {total:,} entries; load average before the timings: {load_average()}")
    ids = rng.sample(
        range(1, GazetteerEntry.objects.order_by("-id").values_list("id", flat=True).first() + 1), args.queries * 2
    )
    sampled = list(GazetteerEntry.objects.filter(id__in=ids).exclude(kind="intersection")[: args.queries])
    crossings = list(GazetteerEntry.objects.filter(kind="intersection", id__in=ids)[: args.queries // 3])
    for warm in sampled[:20]:
        geocode_search(warm.label.lower())
    every = []
    for length in (4, 8, 12, None):
        samples = [timed(lambda q=entry.label.lower()[:length]: geocode_search(q)) for entry in sampled]
        percentiles(f"search prefix {length or 'whole'}", samples)
        every += samples
    firsts = []
    samples = [
        timed(lambda e=entry: firsts.append(first_is(e, geocode_search(one_letter_wrong(e.label.lower())))))
        for entry in sampled
    ]
    percentiles("search, one letter wrong", samples)
    print(f"{'':<28} first answer is the entry's label: {sum(firsts) / len(firsts):.1%}")
    every += samples
    firsts = []
    samples = [
        timed(lambda e=entry: firsts.append(first_is(e, geocode_search(e.label.lower().replace(" / esq. ", " con ")))))
        for entry in crossings
    ]
    percentiles("search 'A con B'", samples)
    print(f"{'':<28} first answer is the entry's label: {sum(firsts) / len(firsts):.1%}")
    answered = []
    unknown = random.Random(11)
    samples = [
        timed(lambda e=entry: answered.append(bool(geocode_search(made_up(e.label.lower(), unknown)))))
        for entry in sampled
    ]
    percentiles("search, a made-up name", samples)
    print(f"{'':<28} answered with some place: {sum(answered) / len(answered):.1%}")
    percentiles("search, all", every + samples)
    points = [Point(rng.uniform(-70.85, -70.45), rng.uniform(-33.65, -33.35), srid=4326) for _ in range(1000)]
    for point in points[:20]:
        geocode_reverse(point)
    percentiles("reverse", [timed(lambda p=point: geocode_reverse(p)) for point in points])
    print(f"load average after the timings: {load_average()}")


if __name__ == "__main__":
    main()
