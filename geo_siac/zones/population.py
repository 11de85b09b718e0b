"""Census-zone population importer and its areal interpolation to H3 cells (`load_population`)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import h3
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.db.models import Count

from geo_siac.geo import H3_RESOLUTIONS, METRIC_SRID, STORAGE_SRID
from geo_siac.geo_frames import areal_interpolate, h3_cells_covering, h3_cells_gdf
from geo_siac.zones.importers import in_degrees, read_geo_file, repair
from geo_siac.zones.models import CensusZone, PopulationCell

BANDS = ("pob_total", "pob_0_a_5", "pob_6_a_14", "pob_15_a_64", "pob_65_y_mas")
# Every resolution the heat maps count reports at, so their rates divide by the same cells (docs/maps.md).
CELL_RESOLUTIONS = H3_RESOLUTIONS
MAX_RELATIVE_LOSS = 0.001  # the interpolated total must match the zones' total within 0.1%
# Cells per comuna and resolution. The RM's 52 urban areas take 85,845 res-10 cells in all; a comuna needing more
# than this has coordinates in the wrong place (e.g. a vertex at 0,0), and covering it would run for hours.
MAX_CELLS_PER_COMMUNE = 250_000
KM2_PER_SQUARE_DEGREE = 111.32**2  # at the equator: an upper bound elsewhere
# An urban census zone is a few blocks across. One spanning a degree (~100 km) has a vertex out of place, and a
# thin one that long costs seconds to cover with cells although its area is small.
MAX_ZONE_SPAN_DEG = 1.0
# The census CensusZone holds unless load_population is told otherwise (--census): the maps name it as recorded.
DEFAULT_CENSUS = "Censo 2017 del INE, por zona censal urbana"


class PopulationImportError(Exception):
    pass


@dataclass
class PopulationImportSummary:
    zones: int = 0
    population: float = 0.0
    repaired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cells: dict[int, int] = field(default_factory=dict)
    cell_population: dict[int, float] = field(default_factory=dict)
    already_loaded: list[str] = field(default_factory=list)
    census: str = ""

    def lines(self) -> list[str]:
        out = [f"ya cargada, no se vuelve a cargar: comuna {cut}" for cut in self.already_loaded]
        if out and not self.zones:
            return out
        out += [f"censo: {self.census}", f"zonas censales: {self.zones}", f"población: {self.population:,.0f}"]
        out += [
            f"celdas H3 res {res}: {self.cells[res]} (población {self.cell_population[res]:,.1f})"
            for res in sorted(self.cells)
        ]
        out += [f"reparada: {line}" for line in self.repaired]
        out += [f"omitida: {line}" for line in self.skipped]
        return out


def read_zones(path: Path) -> gpd.GeoDataFrame:
    frame = read_geo_file(path, PopulationImportError)
    missing = [column for column in ("geocodigo", *BANDS) if column not in frame.columns]
    if missing:
        raise PopulationImportError(f"Faltan columnas {missing} en {path.name} (hay: {list(frame.columns)}).")
    if frame.crs is None:
        raise PopulationImportError(f"{path.name} no declara su sistema de coordenadas.")
    frame = in_degrees(frame, path.name, PopulationImportError)
    frame["geocodigo"] = frame["geocodigo"].astype(str).str.strip()
    frame["cut"] = frame["geocodigo"].str[:5]
    return frame


def import_population(
    *,
    path: Path,
    cuts: list[str] | None = None,
    resolutions: tuple[int, ...] = CELL_RESOLUTIONS,
    commit: bool = False,
    skip_loaded: bool = False,
    progress: Callable[[int], object] | None = None,
    census: str = DEFAULT_CENSUS,
) -> PopulationImportSummary:
    """Upsert census zones and replace their comunas' H3 population cells. Dry run unless `commit`. With
    `skip_loaded`, a comuna that already has cells at every resolution asked for is left as it is.

    Raises PopulationImportError, writing nothing, when an interpolated total strays more than 0.1%.
    """
    bad = [res for res in resolutions if res not in CELL_RESOLUTIONS]
    if bad:
        raise PopulationImportError(f"Resolución H3 no admitida: {bad} (use {CELL_RESOLUTIONS}).")
    wanted = {c.zfill(5) for c in cuts} if cuts else None
    loaded = loaded_cuts(resolutions) if skip_loaded else set()
    summary = PopulationImportSummary(census=census)
    if wanted and wanted <= loaded:  # nothing to do: the file is not even read
        summary.already_loaded = sorted(wanted)
        return summary
    frame = read_zones(path)
    if wanted:
        frame = frame[frame["cut"].isin(wanted)]
        if frame.empty:
            raise PopulationImportError(f"No hay zonas censales de las comunas {', '.join(cuts)} en {path.name}.")
    summary.already_loaded = sorted(set(frame["cut"]) & loaded)
    frame = frame[~frame["cut"].isin(loaded)]
    if frame.empty:  # every comuna of the file is loaded (with no --cut, known only after reading it)
        return summary
    frame = _clean_zones(frame, summary)
    for cut, zones in frame.groupby("cut"):
        _check_size(cut, zones, resolutions)
    with transaction.atomic():
        _write_zones(frame, path.name, census)
        PopulationCell.objects.filter(cut__in=frame["cut"].unique(), res__in=resolutions).delete()
        for res in resolutions:
            summary.cells[res], summary.cell_population[res] = 0, 0.0
        for cut, zones in frame.groupby("cut"):
            for res in resolutions:
                cells = _interpolate(cut, zones, res)
                _check_conserved(cut, res, zones["pob_total"].sum(), cells["pob_total"].sum())
                _write_cells(cut, res, cells)
                summary.cells[res] += len(cells)
                summary.cell_population[res] += float(cells["pob_total"].sum())
            if progress:
                progress(1)
        if not commit:
            transaction.set_rollback(True)
    return summary


def loaded_cuts(resolutions: tuple[int, ...]) -> set[str]:
    """The comunas that have population cells at every one of these resolutions."""
    rows = (
        PopulationCell.objects.filter(res__in=resolutions)
        .values("cut")
        .annotate(resolutions=Count("res", distinct=True))
        .filter(resolutions=len(set(resolutions)))
    )
    return {row["cut"] for row in rows}


def _clean_zones(frame: gpd.GeoDataFrame, summary: PopulationImportSummary) -> gpd.GeoDataFrame:
    geometries, keep = [], []
    for geocodigo, geometry in zip(frame["geocodigo"], frame.geometry):
        fixed, note = _repaired_zone(geometry)
        if fixed is None:
            summary.skipped.append(f"{geocodigo}: {note}")
        elif note:
            summary.repaired.append(f"{geocodigo}: {note}")
        geometries.append(fixed)
        keep.append(fixed is not None)
    frame = frame.set_geometry(gpd.GeoSeries(geometries, index=frame.index, crs=frame.crs))[keep]
    values = frame[list(BANDS)].apply(pd.to_numeric, errors="coerce")
    missing = values.isna().any(axis=1)
    summary.skipped += [f"{geocodigo}: sin datos de población" for geocodigo in frame.loc[missing, "geocodigo"]]
    frame, values = frame[~missing], values[~missing]
    negative = (values < 0).any(axis=1)
    if negative.any():
        raise PopulationImportError(f"Población negativa en la zona {frame.loc[negative, 'geocodigo'].iloc[0]}.")
    frame[list(BANDS)] = values.round().astype(int)
    summary.zones = len(frame)
    summary.population = float(frame["pob_total"].sum())
    return frame


def _repaired_zone(geometry):
    fixed, note = repair(geometry)
    if fixed is not None:
        west, south, east, north = fixed.bounds
        if (span := max(east - west, north - south)) > MAX_ZONE_SPAN_DEG:
            return None, f"se extiende {span:.1f}° (más de {MAX_ZONE_SPAN_DEG:.0f}°): una coordenada fuera de lugar"
    return fixed, note


def _check_size(cut: str, zones: gpd.GeoDataFrame, resolutions: tuple[int, ...]) -> None:
    area_km2 = float(shapely.area(zones.geometry.to_numpy()).sum()) * KM2_PER_SQUARE_DEGREE
    for res in resolutions:
        cells = area_km2 / h3.average_hexagon_area(res, unit="km^2")
        if cells > MAX_CELLS_PER_COMMUNE:
            raise PopulationImportError(
                f"Las zonas censales de la comuna {cut} cubren hasta {area_km2:,.0f} km2: serían unas {cells:,.0f} "
                f"celdas H3 res {res} (máximo {MAX_CELLS_PER_COMMUNE:,}). Revise las coordenadas y el sistema de "
                "referencia del archivo, o use una resolución menor (--res). No se escribió nada."
            )


def _interpolate(cut: str, zones: gpd.GeoDataFrame, res: int) -> pd.DataFrame:
    # A zone valid in degrees can fold over itself in UTM 19S when it reaches far from central Chile (a vertex
    # at the South Pole): GEOS then cannot intersect it with the cells.
    try:
        return interpolate_to_cells(zones, res)
    except shapely.errors.GEOSException as exc:
        raise PopulationImportError(
            f"No se pudo interpolar la comuna {cut} a H3 res {res} en EPSG:{METRIC_SRID} ({exc}); revise si hay "
            "zonas lejos de Chile central. No se escribió nada."
        ) from exc


def interpolate_to_cells(zones: gpd.GeoDataFrame, res: int) -> pd.DataFrame:
    """Population per H3 cell (int id) by area share in EPSG:32719; cells with no one are dropped."""
    cover = h3_cells_covering(shapely.MultiPolygon(list(shapely.get_parts(zones.geometry.to_numpy()))), res)
    cells = h3_cells_gdf(cover, crs=f"EPSG:{METRIC_SRID}")
    values = areal_interpolate(zones.to_crs(epsg=METRIC_SRID), list(BANDS), cells)
    values = values[values["pob_total"] > 0]
    return pd.DataFrame(
        {
            "cell": [h3.str_to_int(cell) for cell in values.index],
            "pob_total": values["pob_total"].to_numpy(),
            "pob_under_15": (values["pob_0_a_5"] + values["pob_6_a_14"]).to_numpy(),
            "pob_65_plus": values["pob_65_y_mas"].to_numpy(),
        }
    )


def _check_conserved(cut: str, res: int, expected: float, got: float) -> None:
    if expected > 0 and abs(got - expected) / expected > MAX_RELATIVE_LOSS:
        raise PopulationImportError(
            f"La interpolación a H3 res {res} de la comuna {cut} no conserva la población: "
            f"{got:,.1f} frente a {expected:,.0f} (tolerancia {MAX_RELATIVE_LOSS:.1%}). No se escribió nada."
        )


def _write_zones(frame: gpd.GeoDataFrame, source: str, census: str) -> None:
    CensusZone.objects.filter(geocodigo__in=list(frame["geocodigo"])).delete()
    CensusZone.objects.bulk_create(
        CensusZone(
            geocodigo=row["geocodigo"],
            cut=row["cut"],
            source=source,
            census=census,
            geometry=GEOSGeometry(memoryview(shapely.to_wkb(row["geometry"])), srid=STORAGE_SRID),
            **{band: row[band] for band in BANDS},
        )
        for row in frame.to_dict("records")
    )


def _write_cells(cut: str, res: int, cells: pd.DataFrame) -> None:
    PopulationCell.objects.bulk_create(
        (PopulationCell(cut=cut, res=res, **row) for row in cells.to_dict("records")), batch_size=5000
    )
