"""Service point importer (GeoJSON or CSV with a column mapping), shared by `load_service_points` and the tests."""

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from django.contrib.gis.geos import Point
from django.db import transaction

from geo_siac.geo import STORAGE_SRID
from geo_siac.text import CONTROL_CHARACTERS
from geo_siac.zones.importers import clean
from geo_siac.zones.messages import format_distance
from geo_siac.zones.models import Commune, ServicePoint, ServicePointKind
from geo_siac.zones.opening_hours import validate_opening_hours
from geo_siac.zones.selectors import OutsideCommune, point_in_commune

# Candidate columns per target, first present wins. DEIS: the raw registry CSV and the RM GeoJSON extract.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "nombre"),
    "kind": ("kind", "tipo"),
    "latitude": ("latitude", "lat", "latitud"),
    "longitude": ("longitude", "lng", "lon", "longitud"),
    "cut": ("cut", "cut_comuna", "codigo_comuna"),
    "address": ("address", "direccion"),
    "source_id": ("id", "source_id", "codigo"),
    "service": ("services", "servicio"),
    "status": ("status", "estado"),
    "hours": ("hours", "horario", "opening_hours"),
}
PRESETS: dict[str, dict] = {
    "deis": {
        "columns": {
            "name": ("EstablecimientoGlosa",),
            "latitude": ("Latitud",),
            "longitude": ("Longitud",),
            "cut": ("cut_comuna", "ComunaCodigo"),
            "address": ("NombreVia",),
            "number": ("Numero",),
            "source_id": ("EstablecimientoCodigo",),
            "service": ("TipoEstablecimientoGlosa",),
            "status": ("EstadoFuncionamiento",),
        },
        "kind": ServicePointKind.HEALTH,
        "sep": ";",
        "closed": {"cerrado"},
        "source": "deis",
    },
}


class ServicePointImportError(Exception):
    pass


@dataclass
class ServicePointImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: Counter = field(default_factory=Counter)
    already_loaded: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)  # loaded all the same: registries place a desk by its door

    def lines(self) -> list[str]:
        out = [f"ya cargados, no se vuelven a cargar: puntos de la comuna {cut}" for cut in self.already_loaded]
        if out and not self.read:
            return out
        out += [f"leídas: {self.read}", f"creados: {self.created}", f"actualizados: {self.updated}"]
        out += [f"omitidas ({count}): {reason}" for reason, count in self.skipped.most_common()]
        out += [f"aviso: {line}" for line in self.outside]
        return out


def property_text(value) -> str:
    """A GeoJSON property as the text a CSV cell would hold: "" when missing, JSON for an object, 3639 rather than
    3639.0 for a whole number that pandas stored as a float because another feature lacked it (an id must read the
    same in every file, or the upsert by source id would create a second point)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, dict | list):  # an object property, such as the hours, as the JSON a CSV cell holds
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(path: Path, sep: str) -> pd.DataFrame:
    """Rows as strings; from GeoJSON, the point geometry gives the `longitude` and `latitude` columns."""
    if not path.exists():
        raise ServicePointImportError(f"No existe el archivo {path}.")
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8", keep_default_na=False)
        frame = gpd.read_file(path).to_crs(epsg=STORAGE_SRID)
    except Exception as exc:  # pandas, pyogrio and pyproj raise many types for unreadable files
        raise ServicePointImportError(f"No se pudo leer {path} como CSV o GeoJSON: {exc}") from exc
    points = frame.geometry.where(frame.geometry.geom_type == "Point")
    table = pd.DataFrame(frame.drop(columns="geometry")).astype(object).map(property_text)
    table["longitude"] = shapely.get_x(points.to_numpy()).astype(str)
    table["latitude"] = shapely.get_y(points.to_numpy()).astype(str)
    return table


def resolve_columns(table: pd.DataFrame, preset: dict | None, overrides: dict[str, str]) -> dict[str, str]:
    preset_columns = preset["columns"] if preset else {}
    candidates = {
        target: preset_columns.get(target, ()) + DEFAULT_COLUMNS.get(target, ())
        for target in {*DEFAULT_COLUMNS, *preset_columns}
    }
    by_lower = {column.lower(): column for column in table.columns}
    mapping = {
        target: next(by_lower[c.lower()] for c in options if c.lower() in by_lower)
        for target, options in candidates.items()
        if any(c.lower() in by_lower for c in options)
    }
    for target, column in overrides.items():
        if column not in table.columns:
            raise ServicePointImportError(
                f"La columna '{column}' (para {target}) no existe; hay: {list(table.columns)}."
            )
        mapping[target] = column
    missing = [t for t in ("name", "latitude", "longitude") if t not in mapping]
    if missing:
        raise ServicePointImportError(
            f"Faltan columnas para {', '.join(missing)}: indique --map campo=columna (hay: {list(table.columns)})."
        )
    return mapping


SOURCE_MAX = ServicePoint._meta.get_field("source").max_length
SOURCE_ID_MAX = ServicePoint._meta.get_field("source_id").max_length


def import_service_points(
    *,
    path: Path,
    preset: str | None = None,
    kind: str | None = None,
    cuts: list[str] | None = None,
    column_overrides: dict[str, str] | None = None,
    sep: str | None = None,
    source: str | None = None,
    commit: bool = False,
    skip_loaded: bool = False,
    progress: Callable[[int], object] | None = None,
) -> ServicePointImportSummary:
    """Upsert service points by (source, source id). Dry run unless `commit`. With `skip_loaded`, the rows of a
    comuna that already has points from this source are left out.

    Closed facilities, rows without valid coordinates and rows whose comuna is not loaded are counted
    by reason and not loaded.
    """
    if preset is not None and preset not in PRESETS:
        raise ServicePointImportError(f"Preset desconocido '{preset}'; use uno de: {', '.join(PRESETS)}.")
    layout = PRESETS.get(preset, {})
    if kind is not None and kind not in ServicePointKind.values:
        raise ServicePointImportError(f"Tipo desconocido '{kind}'; use uno de: {', '.join(ServicePointKind.values)}.")
    source = source or layout.get("source") or path.stem
    if len(source) > SOURCE_MAX:
        raise ServicePointImportError(
            f"El nombre del origen tiene {len(source)} caracteres; el máximo es {SOURCE_MAX}: indíquelo con --source."
        )
    wanted = {c.zfill(5) for c in cuts} if cuts else None
    loaded = (
        set(ServicePoint.objects.filter(source=source).values_list("commune__cut", flat=True)) if skip_loaded else set()
    )
    summary = ServicePointImportSummary(already_loaded=sorted(loaded & wanted if wanted else loaded))
    if wanted and wanted <= loaded:  # nothing to do: the file is not even read
        return summary
    table = read_table(path, sep or layout.get("sep", ","))
    mapping = resolve_columns(table, layout or None, column_overrides or {})
    row_kind = kind or layout.get("kind")
    if row_kind is None and "kind" not in mapping:
        raise ServicePointImportError("Indique --kind o una columna de tipo (--map kind=columna).")
    context = _Context(
        mapping=mapping,
        kind=row_kind,
        closed=layout.get("closed", {"cerrado", "closed"}),
        cuts={c.zfill(5) for c in cuts} if cuts else None,
        loaded=loaded,
        communes={c.cut: c for c in Commune.objects.all()},
        source=source,
    )
    with transaction.atomic():
        for row in table.to_dict("records"):
            _import_row(row, context, summary)
            if progress:
                progress(1)
        if not commit:
            transaction.set_rollback(True)
    return summary


@dataclass
class _Context:
    mapping: dict[str, str]
    kind: str | None
    closed: set[str]
    cuts: set[str] | None
    loaded: set[str]
    communes: dict[str, Commune]
    source: str

    def value(self, row: dict, target: str) -> str:
        column = self.mapping.get(target)
        return clean(row.get(column)) if column else ""


def _import_row(row: dict, ctx: _Context, summary: ServicePointImportSummary) -> None:
    cut = ctx.value(row, "cut").zfill(5) if ctx.value(row, "cut") else ""
    if ctx.cuts is not None and cut not in ctx.cuts:
        return
    values, reason, outside = _row_values(row, ctx, cut)
    if not reason and values["commune"].cut in ctx.loaded:
        return
    summary.read += 1
    if reason:
        summary.skipped[reason] += 1
        return
    source_id = ctx.value(row, "source_id")
    if source_id:
        _, created = ServicePoint.objects.update_or_create(source=ctx.source, source_id=source_id, defaults=values)
    else:
        ServicePoint.objects.create(source=ctx.source, **values)
        created = True
    if created:
        summary.created += 1
    else:
        summary.updated += 1
    if outside is not None:
        where = f", en {outside.containing.name}" if outside.containing else ""
        summary.outside.append(
            f"{values['name']} fuera de su comuna {values['commune'].name} ({format_distance(outside.distance_m)}{where})"
        )


def _row_values(row: dict, ctx: _Context, cut: str) -> tuple[dict, str | None, OutsideCommune | None]:
    if ctx.value(row, "status").lower() in ctx.closed:
        return {}, "establecimiento cerrado", None
    texts = [ctx.value(row, target) for target in ("name", "address", "number", "service", "source_id")]
    if any(CONTROL_CHARACTERS.search(text) for text in texts):  # PostgreSQL refuses NUL in text
        return {}, "texto con caracteres de control", None
    if len(ctx.value(row, "source_id")) > SOURCE_ID_MAX:
        return {}, f"identificador de origen de más de {SOURCE_ID_MAX} caracteres", None
    point = _point(ctx.value(row, "latitude"), ctx.value(row, "longitude"))
    if point is None:
        return {}, "sin coordenadas válidas", None
    commune = ctx.communes.get(cut) if cut else _commune_at(point, ctx.communes)
    if commune is None:
        return {}, "comuna no cargada en la base" if cut else "fuera de toda comuna cargada", None
    outside = point_in_commune(point, commune) if cut else None  # without a CUT the comuna is the covering one
    kind = ctx.value(row, "kind") or ctx.kind
    if kind not in ServicePointKind.values:
        return {}, f"tipo desconocido '{kind}'", None
    name = ctx.value(row, "name")
    if not name:
        return {}, "sin nombre", None
    service = ctx.value(row, "service")
    values = {
        "name": name[:200],
        "kind": kind,
        "point": point,
        "commune": commune,
        "address": " ".join(filter(None, [ctx.value(row, "address"), ctx.value(row, "number")]))[:300],
        "services": [{"name": service}] if service else [],
    }
    if "hours" not in ctx.mapping:  # a file without hours leaves the hours entered in the admin as they are
        return values, None, outside
    try:
        values["opening_hours"] = opening_hours(ctx.value(row, "hours"))
    except ValueError as exc:
        return {}, f"horario no válido: {exc}", None
    return values, None, outside


def opening_hours(text: str) -> dict | None:
    """An hours cell: empty means unknown (None); otherwise the JSON spec of `opening_hours.py`, validated."""
    if not text:
        return None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"no es JSON ({exc.msg}, carácter {exc.pos + 1})") from exc
    return validate_opening_hours(spec)


def _point(latitude: str, longitude: str) -> Point | None:
    try:
        lat, lng = float(latitude.replace(",", ".")), float(longitude.replace(",", "."))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or (lat == 0 and lng == 0) or lat != lat or lng != lng:
        return None
    return Point(lng, lat, srid=STORAGE_SRID)


def _commune_at(point: Point, communes: dict[str, Commune]) -> Commune | None:
    """The loaded comuna covering the point, the lowest CUT on a shared border (as selectors.commune_containing)."""
    return communes.get(Commune.objects.covering(point).order_by("cut").values_list("cut", flat=True).first())
