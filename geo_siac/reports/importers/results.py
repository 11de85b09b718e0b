"""What an import tells its caller: a file it cannot read at all, and the summary of the rows."""

from dataclasses import dataclass, field
from pathlib import Path


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, delimiter, missing columns)."""


@dataclass
class ImportSummary:
    read: int = 0
    inserted: int = 0
    already_imported: int = 0
    already_archived: int = 0  # imported before, then archived with their year (their source key a tombstone)
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    reject_path: Path | None = None
    bulk: bool = False
    rebuild_seconds: float = 0.0  # bulk mode: rebuilding the indexes and foreign keys at the end
    place_seconds: float = 0.0  # bulk mode: placing every report in public before the rebuild
    place_error: str = ""  # bulk mode: why that placing failed (its reports then wait for the next refresh)
    source: str = ""  # what the rows are keyed by, with their source ids

    def place_warning(self) -> str:
        """What to tell the operator when the rows are stored but the placing failed, or ""."""
        if not self.place_error:
            return ""
        return (
            "Atención: las solicitudes quedaron importadas, pero no se les asignaron sus celdas públicas "
            f"({self.place_error}). Las asignará la próxima ejecución de refresh_indicators o publish_open_data; "
            "hasta entonces se publican sin celda, como una solicitud recién ingresada."
        )

    def reject(self, reason: str, count: int) -> None:
        self.rejected += count
        self.reasons[reason] = self.reasons.get(reason, 0) + count
