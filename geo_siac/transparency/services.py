"""Writes of the transparency app: the stored snapshots of the published indicators and the open-data files."""

import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from geo_siac.db import parallel_query
from geo_siac.reports.services import report_public_cells_refresh
from geo_siac.transparency import exports
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.selectors import OPEN_DATA_FILES, PUBLISHED, compute_published, encode_results


@transaction.atomic
def indicator_snapshots_refresh(*, periods: Iterable[str] | None = None,
                                as_of: datetime | None = None) -> list[IndicatorSnapshot]:
    """Compute the published periods (all by default) at one instant and replace their snapshots together, so
    readers see either the old set or the new one."""
    as_of = as_of or timezone.now()
    periods = list(periods or PUBLISHED)
    unknown = sorted(set(periods) - set(PUBLISHED))
    if unknown:
        raise ValueError(f"unknown period(s) {', '.join(unknown)}; known: {', '.join(PUBLISHED)}")
    snapshots = []
    for period in periods:
        with parallel_query():
            published = compute_published(period, as_of=as_of)
        snapshot, _created = IndicatorSnapshot.objects.update_or_create(period=period, defaults={
            "start": published.start, "end": published.end, "as_of": as_of,
            "results": encode_results(published.results)})
        snapshots.append(snapshot)
    return snapshots


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
        published.append(PublishedFile(directory / name, reports, (directory / name).stat().st_size,
                                       time.monotonic() - started))
    return published
