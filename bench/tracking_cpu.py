"""CPU per tracking page (GET /seguimiento/<code>/), in process: where the page's time goes in Django.

    GEO_SIAC_BENCH_DB=<a copy of the load bench's database> .venv/bin/python bench/tracking_cpu.py \
        [--count 140] [--batches 9] [--language es-cl|en] [--profile] [--dump FILE]

Renders the tracking pages of a few reports of the bench database through Django's test client (production
settings, DEBUG off): the first report found in each state bench/load.py's pages show, and an information request
and a complaint when there are any. Prints the CPU per page (`time.process_time`, this process only) of each batch
of `--count` pages over those reports, the least and the median; the least is the figure other work on the machine
disturbs least. With --dump it writes the pages (CSRF values masked, the one part that differs between two renders)
to FILE, to compare two checkouts' pages byte for byte; with --profile it prints a cProfile of one batch on the CPU
clock. Run it from each checkout in turn (its code is the one measured), on the same database; STATIC_ROOT names
a directory of collected static files to share between runs (else each collects its own).
"""

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from submission_cpu import production_settings  # noqa: E402  (PGDATABASE from GEO_SIAC_BENCH_DB)

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[A-Za-z0-9]+"')
STATES = ["submitted", "acknowledged", "in_progress", "resolved", "closed_unfixable", "closed_duplicate"]


def tracked_reports() -> list:
    """The codes of the reports whose pages are rendered, one per state and kind named above that has one."""
    from geo_siac.catalogue.kinds import RequestKind
    from geo_siac.reports.models import Report

    reports = Report.objects.order_by("id").values_list("tracking_code", flat=True)
    codes = [reports.filter(status=status).first() for status in STATES]
    for kind in (RequestKind.INFORMATION, RequestKind.COMPLAINT):
        codes.append(reports.filter(kind=kind).first())
    return [code for code in dict.fromkeys(codes) if code is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=140, help="pages per batch (after one uncounted round)")
    parser.add_argument("--batches", type=int, default=9)
    parser.add_argument("--language", default="es-cl")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--profile-file", help="with --profile, where to write the profile's data too (pstats)")
    parser.add_argument("--dump")
    options = parser.parse_args()
    production_settings()
    if "STATIC_ROOT" not in os.environ:  # production's storage needs its manifest: collected once per process
        os.environ["STATIC_ROOT"] = tempfile.mkdtemp(prefix="geo_siac_tracking_cpu_")
    import django

    django.setup()
    from django.core.management import call_command

    if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE=options.language)
    codes = tracked_reports()
    paths = [f"/seguimiento/{code}/" for code in codes]

    def batch() -> None:
        for n in range(options.count):
            assert client.get(paths[n % len(paths)]).status_code == 200

    pages = [CSRF.sub(b"CSRF", client.get(path).content) for path in paths]
    if options.dump:
        Path(options.dump).write_bytes(b"\n\0\n".join(pages))
    print(f"{len(paths)} reports ({', '.join(codes)}); load average {open('/proc/loadavg').read().strip()}")
    spent = []
    for _ in range(options.batches):
        started = time.process_time()
        batch()
        spent.append((time.process_time() - started) / options.count * 1000)
    print(f"CPU ms per page: least {min(spent):.3f}, median {statistics.median(spent):.3f}")
    print("  batches: " + " ".join(f"{value:.3f}" for value in spent))
    if options.profile:
        profile = cProfile.Profile(time.process_time)
        profile.runcall(batch)
        if options.profile_file:
            profile.dump_stats(options.profile_file)
        pstats.Stats(profile).sort_stats("tottime").print_stats(options.top)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(options.top)
    print(f"load average at the end: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
