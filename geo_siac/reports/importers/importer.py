"""ReportImporter: reads and checks chunks in one thread while the other writes the previous one."""

import csv
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from django.db import DatabaseError, reset_queries
from django.utils.translation import gettext as _

from geo_siac.reports.importers.bulk_mode import (
    counts_deferred,
    import_lock,
    restore_suspended,
    suspend_secondary_schema,
)
from geo_siac.reports.importers.results import ImportSummary
from geo_siac.reports.importers.rows import ChunkPreparer
from geo_siac.reports.importers.source import open_chunks, resolve_columns
from geo_siac.reports.importers.staging import chunk_write, encode_staging
from geo_siac.reports.mappings import Mapping
from geo_siac.reports.models import Report, SuspendedSchemaObject
from geo_siac.reports.services.publication import report_public_cells_refresh

CHUNK_ROWS = 50_000


def bulk_by_default() -> bool:
    """Bulk mode into an empty report table, and to restart a bulk import that died: its indexes are down anyway, and
    only bulk mode places its reports in public before they come back."""
    return not Report.objects.exists() or SuspendedSchemaObject.objects.exists()


class ReportImporter:
    def __init__(
        self,
        *,
        mapping: Mapping,
        place_in: str | None = None,
        source: str | None = None,
        chunk_rows: int = CHUNK_ROWS,
        commit: bool = False,
        bulk: bool | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        self.mapping = mapping
        self.bulk = bulk  # None: bulk_by_default()
        self.source = source or mapping.source
        if ":" in self.source:
            # Its rows' keys, source:<source>:<source id>, would be ambiguous: "a:b" + "c" is "a" + "b:c".
            raise ValueError(
                _("El nombre de origen «%(source)s» tiene «:», que separa el origen del id de cada fila: use otro.")
                % {"source": self.source}
            )
        self.chunk_rows = chunk_rows
        self.commit = commit
        self.progress = progress
        self.preparer = ChunkPreparer(mapping=mapping, place_in=place_in)

    def run(self, path: Path, reject_path: Path | None = None) -> ImportSummary:
        summary = ImportSummary(
            reject_path=reject_path or path.with_name(path.stem + ".rechazos.csv"), source=self.source
        )
        if not self.commit:
            return self.read_and_write(path, summary)
        with import_lock():
            summary.bulk = self.bulk if self.bulk is not None else bulk_by_default()
            if summary.bulk:
                suspend_secondary_schema()
            else:
                restore_suspended()  # a crashed bulk import's indexes, before rows are added one by one
            try:
                # This run's chunks leave the counts kept by triggers to the recount at the end (bulk mode only).
                defer_counts = summary.bulk and counts_deferred()
                self.read_and_write(path, summary, defer_counts=defer_counts)
                if summary.bulk:
                    self.place(summary)
                return summary
            finally:
                if summary.bulk:
                    started = time.perf_counter()
                    restore_suspended()
                    summary.rebuild_seconds = time.perf_counter() - started

    @staticmethod
    def place(summary: ImportSummary) -> None:
        """Place every report in public before the rebuild, so this UPDATE writes no entry in the suspended indexes
        and the first refresh after the import has nothing to change (docs/transparency.md). The rows are committed
        already: a failed placing (a deadlock, a cancel) is kept in the summary, and the next refresh places them."""
        started = time.perf_counter()
        try:
            report_public_cells_refresh()
        except DatabaseError as exc:
            summary.place_error = str(exc).strip().partition("\n")[0] or type(exc).__name__
        summary.place_seconds = time.perf_counter() - started

    def read_and_write(self, path: Path, summary: ImportSummary, *, defer_counts: bool = False) -> ImportSummary:
        with open(summary.reject_path, "w", newline="", encoding="utf-8") as reject_file:
            writer = csv.writer(reject_file)
            header_written = False
            for read, rejected, rows, payload, rejects in self.prepared_chunks(path, summary):
                if not header_written:
                    writer.writerow(["fila", "campo", "motivo", *rejected.columns])
                    header_written = True
                for row_no, field_name, reason in rejects:
                    writer.writerow([row_no, field_name, reason, *rejected.loc[row_no].tolist()])
                if self.commit and rows:
                    inserted, existing, archived = chunk_write(
                        rows, payload, source=self.source, counts_deferred=defer_counts
                    )
                    summary.inserted += inserted
                    summary.already_imported += existing
                    summary.already_archived += archived
                    # Under DEBUG Django keeps every statement's text, and a restarted import's key lookups are
                    # megabytes each: memory would grow with the file (docs/performance.md).
                    reset_queries()
                summary.read += read
                if self.progress:
                    self.progress(read)
        return summary

    def prepared_chunks(self, path: Path, summary: ImportSummary) -> Iterator[tuple]:
        """Read and validate chunks in a worker thread while this thread writes the previous one to the
        database: psycopg2 releases the GIL while PostgreSQL works, so both cores are busy. The queue holds
        one chunk, so memory stays constant whatever the file size."""
        handoff: queue.Queue = queue.Queue(maxsize=1)
        done = object()
        stop = threading.Event()

        def produce() -> None:
            try:
                row_offset = 0
                for chunk in open_chunks(path, self.chunk_rows):
                    columns = resolve_columns(chunk, self.mapping)
                    chunk.index = pd.RangeIndex(row_offset + 2, row_offset + 2 + len(chunk))  # file row numbers
                    row_offset += len(chunk)
                    good, rejects = self.preparer.prepare(chunk, columns, summary)
                    payload = encode_staging(good) if self.commit and len(good) else b""
                    # Only the rejected rows travel on, for the rejects file: memory is three chunks in flight.
                    rejected = chunk.loc[[row_no for row_no, _field, _reason in rejects]]
                    item = (len(chunk), rejected, len(good), payload, rejects)
                    del chunk, good
                    while not stop.is_set():
                        try:
                            handoff.put(item, timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                handoff.put(done)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                handoff.put(exc)

        worker = threading.Thread(target=produce, name="import-reader", daemon=True)
        worker.start()
        try:
            while (item := handoff.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()
