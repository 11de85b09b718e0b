"""Coverage benchmark (issue 7): every RM comuna at H3 res 9 and 10 against the RM's health facilities.

    PGDATABASE=geo_siac_wt7 .venv/bin/python bench/coverage.py [--skip-load]

Loads into the database named by PGDATABASE (dry runs are not enough: the analysis reads the tables):
the 52 RM comunas (INE 2017, inactive unless already active), the census zones interpolated to res 9 and 10,
and the 1,052 facilities of ../shared/data/service_points/salud_rm.geojson. Then it times the full analysis
(distances, shares, 2SFCA over every loaded comuna's people, underserved cells, reports per 1,000) per comuna,
the 5-site recommendation for Puente Alto, and the exact maximal covering (HiGHS) for 1-5 sites in every comuna
at res 9 beside the greedy one: the solver's time in total and the greedy gap. --skip-load reuses what a previous
run loaded.
"""

import argparse
import os
import sys
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geo_siac.settings")
RESOLUTIONS = (9, 10)


def timed(label: str, action):
    start = time.perf_counter()
    value = action()
    print(f"{label}: {time.perf_counter() - start:.2f} s", flush=True)
    return value


def command(*args) -> str:
    from django.core.management import call_command

    out = StringIO()
    call_command(*map(str, args), stdout=out)
    return out.getvalue()


def load() -> None:
    from django.conf import settings

    data = settings.GEO_SIAC_SHARED_DATA  # ../shared/data unless GEO_SIAC_SHARED_DATA says otherwise
    timed(
        "load_comunas (52 RM comunas)",
        lambda: command("load_comunas", data / "comunas/rm_comunas_ine2017.geojson", "--commit"),
    )
    output = timed(
        "load_population (1,865 census zones -> H3 res 9 and 10)",
        lambda: command(
            "load_population",
            data / "census/rm_zonas_censales_2017_poblacion.geojson",
            "--res",
            9,
            "--res",
            10,
            "--no-progress",
            "--commit",
        ),
    )
    lines = output.splitlines()
    print("  " + "\n  ".join(line for line in lines if not line.startswith("reparada")))
    print(f"  reparadas: {sum(line.startswith('reparada') for line in lines)}")
    output = timed(
        "load_service_points (salud_rm.geojson)",
        lambda: command(
            "load_service_points",
            data / "service_points/salud_rm.geojson",
            "--preset",
            "deis",
            "--no-progress",
            "--commit",
        ),
    )
    print("  " + "\n  ".join(output.splitlines()))


def analyse_region(res: int) -> None:
    from geo_siac.maps.selectors import CoverageOptions, coverage, underserved_cells
    from geo_siac.zones.models import Commune, ServicePoint

    communes = list(Commune.objects.filter(cut__startswith="13").order_by("cut"))
    people = covered = cells = 0.0

    def run():
        nonlocal people, covered, cells
        for commune in communes:
            result = coverage(commune, CoverageOptions(res=res))
            underserved_cells(result)
            people += result.cells["pob_total"].sum()
            covered += result.shares["total"][1000]["population"]
            cells += len(result.cells)

    timed(f"full coverage analysis, {len(communes)} comunas, res {res}", run)
    print(
        f"  {ServicePoint.objects.count()} service points, {cells:,.0f} populated cells, "
        f"{people:,.0f} people, {covered / people:.1%} within 1 km of a health facility"
    )


def recommend_puente_alto(res: int) -> None:
    from geo_siac.maps.selectors import CoverageOptions, coverage, recommend_sites
    from geo_siac.zones.models import Commune

    puente_alto = Commune.objects.get(cut="13201")
    sites = timed(
        f"5-site recommendation for Puente Alto, res {res} (analysis included)",
        lambda: recommend_sites(coverage(puente_alto, CoverageOptions(res=res)), k=5),
    )
    for _, site in sites.iterrows():
        print(
            f"  {int(site['rank'])}. ({site.lat:.5f}, {site.lng:.5f}) +{site.gain:,.0f} people ({site.gain_share:.1%})"
        )


def exact_sites_region(res: int) -> None:
    """The solver alone is timed: each comuna's analysis is done once, before its five exact solves."""
    from geo_siac.maps.selectors import CoverageOptions, coverage, greedy_gap, recommend_sites
    from geo_siac.zones.models import Commune

    solver = solver_cpu = 0.0
    gaps = []
    for commune in Commune.objects.filter(cut__startswith="13").order_by("cut"):
        result = coverage(commune, CoverageOptions(res=res))
        for k in range(1, 6):
            start, start_cpu = time.perf_counter(), time.process_time()
            exact = recommend_sites(result, k=k, method="exact")
            solver += time.perf_counter() - start
            solver_cpu += time.process_time() - start_cpu
            gaps.append(
                (greedy_gap(recommend_sites(result, k=k), exact), k, commune.name, exact["gain"].sum(), commune.cut)
            )
        if commune.cut == "13122":
            people = result.cells["pob_total"]
            print(
                f"  Peñalolén, 2SFCA per 1,000 (region-wide demand): max {result.cells['access'].max():,.2f}, "
                f"population-weighted mean {(result.cells['access'] * people).sum() / people.sum():,.3f}"
            )
    print(
        f"exact maximal covering, 1-5 sites in {len(gaps) // 5} comunas, res {res}: solver {solver:.2f} s in total "
        f"({solver_cpu:.2f} s of this process's CPU, which other processes' load does not inflate)"
    )
    suboptimal = sorted((gap for gap in gaps if gap[0] > 0), reverse=True)
    print(f"  greedy below the optimum in {len(suboptimal)} of {len(gaps)} cases")
    for gap, k, name, optimum, cut in [*suboptimal[:5], *(g for g in gaps if g[4] == "13122" and g[1] == 5)]:
        print(f"  {name} ({cut}), {k} sites: greedy {gap:.1%} below the optimum ({optimum:,.0f} people)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()
    if not args.skip_load:
        load()
    for res in RESOLUTIONS:
        analyse_region(res)
    for res in RESOLUTIONS:
        recommend_puente_alto(res)
    exact_sites_region(9)


if __name__ == "__main__":
    main()
