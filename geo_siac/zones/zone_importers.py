"""Crew zone importer (`manage.py load_zones`) and generator (`manage.py generate_zones`).

Zones are repaired, clipped to their comuna and checked in metres (UTM 19S): overlaps between zones are
reported in m2 and refused unless a resolution is given, and the share of the comuna no zone covers is
reported. Saving goes through services.zone_save_version, so a redrawn zone becomes a new version."""

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.utils.text import slugify

from geo_siac.geo import METRIC_SRID, STORAGE_SRID
from geo_siac.zones.importers import clean, in_degrees, polygonal, read_geo_file, repair
from geo_siac.zones.models import Commune
from geo_siac.zones.services import zone_save_version

NAME_COLUMNS = ("nombre", "name", "zona", "NOMBRE", "NAME", "ZONA")
# Shared borders drawn by hand rarely match to the millimetre: overlaps below this are noise, not conflicts, and
# a zone with less than this inside its comuna is a sliver, not a zone.
OVERLAP_TOLERANCE_M2 = 1.0
RESOLUTIONS = ("first",)
# Overlays (clip, difference, union) run on this grid, in degrees (~0.01 mm). On floating precision GEOS falls back
# to snapping when noding fails, which moved a clipped zone's edge by 2 cm: 15 m2 outside its comuna.
GRID = 1e-10


class ZoneImportError(Exception):
    pass


@dataclass
class ZoneImportSummary:
    zones: list[tuple[str, float]] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    overlaps: list[tuple[str, str, float]] = field(default_factory=list)
    uncovered_share: float = 0.0
    committed: bool = False

    def lines(self) -> list[str]:
        out = [f"zona: {name} ({area:,.0f} m2)" for name, area in self.zones]
        out += [f"reparada: {line}" for line in self.repaired]
        out += [f"recortada a la comuna: {line}" for line in self.clipped]
        out += [f"omitida: {line}" for line in self.skipped]
        out += [f"traslape: {a} / {b}: {area:,.0f} m2" for a, b, area in self.overlaps]
        out.append(f"superficie de la comuna sin zona: {self.uncovered_share:.1%}")
        return out


def metric(geometry):
    return gpd.GeoSeries([geometry], crs=STORAGE_SRID).to_crs(epsg=METRIC_SRID).iloc[0]


def to_geos(geometry) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=STORAGE_SRID)


def commune_shape(cut: str) -> tuple[Commune, shapely.Geometry]:
    commune = Commune.objects.filter(cut=cut.zfill(5)).first()
    if commune is None:
        raise ZoneImportError(f"No existe la comuna con CUT {cut}: cárguela antes con load_comunas.")
    return commune, shapely.from_wkb(bytes(commune.geometry.wkb))


def read_zones(path: Path, name_field: str | None) -> list[tuple[str, shapely.Geometry]]:
    frame = read_geo_file(path, ZoneImportError)
    column = name_field or next((c for c in NAME_COLUMNS if c in frame.columns), None)
    if column not in frame.columns:
        raise ZoneImportError(f"Indique --field-name con la columna del nombre (columnas: {list(frame.columns)}).")
    frame = in_degrees(frame, path.name, ZoneImportError)
    return [(clean(name), geometry) for name, geometry in zip(frame[column], frame.geometry)]


def prepare(rows, boundary, summary: ZoneImportSummary) -> list[tuple[str, shapely.Geometry]]:
    """Repaired polygons clipped to the comuna, in file order; bad rows are skipped with the reason."""
    kept, seen = [], set()
    for name, geometry in rows:
        if not name:
            summary.skipped.append("zona sin nombre")
            continue
        if slugify(name) in seen:
            summary.skipped.append(f"{name}: nombre repetido")
            continue
        shape, note = repair(geometry)
        if shape is None:
            summary.skipped.append(f"{name}: {note}")
            continue
        if note:
            summary.repaired.append(f"{name}: {note}")
        clipped = polygonal(shapely.intersection(shape, boundary, grid_size=GRID))
        if clipped is None or metric(clipped).area < OVERLAP_TOLERANCE_M2:
            summary.skipped.append(f"{name}: queda fuera de la comuna (menos de 1 m2 dentro)")
            continue
        outside = metric(shape).area - metric(clipped).area
        if outside > OVERLAP_TOLERANCE_M2:
            summary.clipped.append(f"{name}: {outside:,.0f} m2 fuera de la comuna")
        seen.add(slugify(name))
        kept.append((name, clipped))
    return kept


def find_overlaps(zones, summary: ZoneImportSummary) -> None:
    for i, (name_a, shape_a) in enumerate(zones):
        for name_b, shape_b in zones[i + 1 :]:
            if shape_a.intersects(shape_b):
                area = metric(shapely.intersection(shape_a, shape_b, grid_size=GRID)).area
                if area > OVERLAP_TOLERANCE_M2:
                    summary.overlaps.append((name_a, name_b, area))


def first_wins(zones) -> list[tuple[str, shapely.Geometry]]:
    """Earlier zones in the file keep the shared area; later ones lose it (and vanish if only a sliver is left)."""
    taken, out = None, []
    for name, shape in zones:
        rest = polygonal(shape if taken is None else shapely.difference(shape, taken, grid_size=GRID))
        if rest is not None and metric(rest).area >= OVERLAP_TOLERANCE_M2:
            out.append((name, rest))
        taken = shape if taken is None else shapely.union(taken, shape, grid_size=GRID)
    return out


def uncovered_share(zones, boundary) -> float:
    if not zones:
        return 1.0
    covered = shapely.intersection(
        shapely.union_all([shape for _name, shape in zones], grid_size=GRID), boundary, grid_size=GRID
    )
    return max(0.0, 1 - metric(covered).area / metric(boundary).area)


def save_zones(*, commune: Commune, zones, source: str, summary: ZoneImportSummary, commit: bool) -> None:
    summary.zones = [(name, metric(shape).area) for name, shape in zones]
    if not commit:
        return
    with transaction.atomic():
        for name, shape in zones:
            zone_save_version(commune=commune, key=slugify(name), name=name, geometry=to_geos(shape), source=source)
    summary.committed = True


def import_zones(
    *, path: Path, cut: str, name_field: str | None = None, resolve: str | None = None, commit: bool = False
) -> ZoneImportSummary:
    """Check (and with `commit`, save) the zones in a file. Overlaps refuse the commit unless `resolve`."""
    if resolve is not None and resolve not in RESOLUTIONS:
        raise ZoneImportError(f"Resolución de traslapes desconocida '{resolve}'; use: {', '.join(RESOLUTIONS)}.")
    commune, boundary = commune_shape(cut)
    summary = ZoneImportSummary()
    zones = prepare(read_zones(path, name_field), boundary, summary)
    find_overlaps(zones, summary)
    if summary.overlaps and resolve == "first":
        zones = first_wins(zones)
    summary.uncovered_share = uncovered_share(zones, boundary)
    if summary.overlaps and resolve is None and commit:
        raise ZoneImportError(
            "Hay zonas que se traslapan (ver arriba); no se guardó nada. Corrija el archivo o indique "
            "--resolve-overlaps first (las zonas anteriores en el archivo conservan el área compartida).\n"
            + "\n".join(summary.lines())
        )
    save_zones(commune=commune, zones=zones, source=path.name, summary=summary, commit=commit)
    return summary


def h3_zones(boundary, resolution: int) -> list[tuple[str, shapely.Geometry]]:
    # "overlap" keeps the cells along the border too, so the clipped cells cover the whole comuna.
    cells = h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(boundary), resolution, contain="overlap")
    shapes = [(f"H3 {cell}", shapely.geometry.shape(h3.cells_to_geo([cell]))) for cell in sorted(cells)]
    return [
        (name, clipped)
        for name, shape in shapes
        if (clipped := polygonal(shapely.intersection(shape, boundary, grid_size=GRID))) is not None
    ]


def grid_zones(boundary, size_m: float) -> list[tuple[str, shapely.Geometry]]:
    projected = metric(boundary)
    west, south, east, north = projected.bounds
    cells = []
    for i, x in enumerate(range(int(west), int(east) + 1, int(size_m))):
        for j, y in enumerate(range(int(south), int(north) + 1, int(size_m))):
            cells.append((f"Cuadro {i + 1}-{j + 1}", shapely.box(x, y, x + size_m, y + size_m)))
    frame = gpd.GeoDataFrame({"name": [n for n, _ in cells]}, geometry=[c for _, c in cells], crs=METRIC_SRID)
    frame = frame.to_crs(epsg=STORAGE_SRID)
    return [
        (name, clipped)
        for name, shape in zip(frame["name"], frame.geometry)
        if (clipped := polygonal(shapely.intersection(shape, boundary, grid_size=GRID))) is not None
    ]


def generate_zones(
    *, cut: str, h3_resolution: int | None = None, grid_m: float | None = None, commit: bool = False
) -> ZoneImportSummary:
    """Zones for a municipality that has none: H3 cells or a square grid in metres, clipped to the comuna."""
    if (h3_resolution is None) == (grid_m is None):
        raise ZoneImportError("Indique --h3-res o --grid-m (uno de los dos).")
    if h3_resolution is not None and not 5 <= h3_resolution <= 9:
        raise ZoneImportError("--h3-res debe estar entre 5 y 9.")
    if grid_m is not None and grid_m < 200:
        raise ZoneImportError("--grid-m debe ser de al menos 200 metros.")
    commune, boundary = commune_shape(cut)
    zones = h3_zones(boundary, h3_resolution) if h3_resolution is not None else grid_zones(boundary, grid_m)
    summary = ZoneImportSummary()
    summary.uncovered_share = uncovered_share(zones, boundary)
    source = f"H3 res {h3_resolution}" if h3_resolution is not None else f"cuadrícula {grid_m:.0f} m"
    save_zones(commune=commune, zones=zones, source=source, summary=summary, commit=commit)
    return summary
