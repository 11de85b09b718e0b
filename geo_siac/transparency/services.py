"""Writes of the transparency app: the stored snapshots of the published indicators and the open-data files."""

import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.db import advisory_lock_id, parallel_query
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.services import report_public_cells_refresh
from geo_siac.transparency import exports
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.periods import is_named
from geo_siac.transparency.selectors import (
    OPEN_DATA_FILES,
    PUBLISHED,
    compute_published,
    encode_results,
    local_midnight,
    period_range,
)

REFRESH_LOCK = "transparency:indicator_snapshots_refresh"


# How long a refresh waits for another (a named period's history run by hand takes minutes at 20 million reports)
# before it gives up: under the timer's 10-minute interval, so runs never pile up.
REFRESH_LOCK_WAIT_SECONDS = 300


class RefreshRunning(RuntimeError):
    """Another indicator_snapshots_refresh held the lock for longer than REFRESH_LOCK_WAIT_SECONDS."""


@transaction.atomic
def indicator_snapshots_refresh(
    *, periods: Iterable[str] | None = None, as_of: datetime | None = None, keep_without_reports: bool = False
) -> list[IndicatorSnapshot]:
    """Compute the periods (the relative ones of PUBLISHED by default; also named ones, "2025" or "2025-03") at one
    instant and replace their snapshots together, so readers see either the old set or the new one. A named period
    without reports is not published (its old snapshot, if any, is removed), so the pages never offer it; with
    `keep_without_reports` (the timer's mending of old snapshots) its old snapshot is kept: a year whose reports left
    the live tables keeps its published figures.

    One refresh computes at a time: while another holds the lock (the timer's run beside one by hand), this one
    waits for it, up to REFRESH_LOCK_WAIT_SECONDS, then raises RefreshRunning; the relative periods are judged
    when it has the lock, so the figures it stores are as fresh as its own run."""
    periods = list(dict.fromkeys(periods or PUBLISHED))
    _check_periods(periods, as_of or timezone.now())
    _wait_for_lock()
    as_of = as_of or timezone.now()
    report_public_cells_refresh()  # the public map counts these places: new reports reach it on this timer
    snapshots = []
    for period in periods:
        with parallel_query():
            published = compute_published(period, as_of=as_of)
        if is_named(period) and not published.results[None]:
            if not keep_without_reports:
                IndicatorSnapshot.objects.filter(period=period).delete()
            continue
        snapshot, _created = IndicatorSnapshot.objects.update_or_create(
            period=period,
            defaults={
                "start": published.start,
                "end": published.end,
                "as_of": as_of,
                "results": encode_results(published.results),
            },
        )
        snapshots.append(snapshot)
    return snapshots


def _wait_for_lock() -> None:
    """Take the refresh lock until this transaction ends, waiting at most REFRESH_LOCK_WAIT_SECONDS for it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{REFRESH_LOCK_WAIT_SECONDS}s"])
        try:
            with transaction.atomic():  # a savepoint: the timeout's error must not abort the caller's transaction
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_id(REFRESH_LOCK)])
        except OperationalError as exc:
            raise RefreshRunning(
                _(
                    "Otro refresh_indicators calcula los indicadores desde hace más de %(seconds)s s; no se calculó nada."
                )
                % {"seconds": REFRESH_LOCK_WAIT_SECONDS}
            ) from exc
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _check_periods(periods: list[str], as_of: datetime) -> None:
    """Every period is known and none starts after `as_of`, or nothing is computed (ValueError naming them)."""
    problems = []
    for period in periods:
        if period not in PUBLISHED and not is_named(period):
            problems.append(
                _("Periodo desconocido «%(period)s»: debe ser %(relative)s, un año (AAAA) o un mes (AAAA-MM).")
                % {"period": period, "relative": ", ".join(PUBLISHED)}
            )
            continue
        try:
            start, _end = period_range(period, as_of)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if local_midnight(start) >= as_of:
            problems.append(
                _("El periodo %(period)s empieza el %(start)s, no antes del instante del cálculo (%(as_of)s).")
                % {"period": period, "start": start, "as_of": f"{as_of.astimezone(SANTIAGO):%Y-%m-%d %H:%M}"}
            )
    if problems:
        raise ValueError(" ".join(problems))


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    reports: int
    size: int
    seconds: float


def open_data_publish(directory: Path | None = None) -> list[PublishedFile]:
    """Write every open-data report file (OPEN_DATA_FILES) into `directory` (GEO_SIAC_OPEN_DATA_DIR). Each is
    written beside its final name and renamed over it when complete, so a download never gets half a file. A
    million reports take about a minute (CSV and GeoJSON), once per run instead of once per download: served from
    the files, a download costs the server nothing but the transfer. First it decides every report's public place
    (reports.services.report_public_cells_refresh), which the files then publish."""
    directory = Path(directory or settings.GEO_SIAC_OPEN_DATA_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    report_public_cells_refresh()  # the places the files, Open311, the API and the map all give
    published = []
    for name in OPEN_DATA_FILES:
        started = time.monotonic()
        handle, partial = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".partial")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                pieces = 0  # one per report, plus the CSV's header or the GeoJSON's opening and closing
                for piece in exports.open_data_lines(name):
                    out.write(piece)
                    pieces += 1
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, 0o644)  # mkstemp makes it private; the web server must read it
            os.replace(partial, directory / name)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        reports = pieces - (1 if name.endswith(".csv") else 2)
        published.append(
            PublishedFile(directory / name, reports, (directory / name).stat().st_size, time.monotonic() - started)
        )
    return published
