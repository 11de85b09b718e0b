"""The gazetteer's sources, shared by `load_addresses`, the tests and the benchmark. Each source reads its data into
`Entry` objects, counting what it read and skipped; `services.gazetteer_load` stores them, all or nothing.

- `OsmSource`: an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) through pyosmium: named highways (a street, and
  an intersection where two differently named ones share a node), `addr:*` points and named places.
- `PointTableSource`: GeoJSON or CSV address points (street, number, comuna, point), presets for INE's address
  layer and for DTPM's stops ("Street / Esq. Cross" names: intersections, streets, numbered stops, landmarks).
- `ServicePointSource`: the service points already loaded (their names, and their addresses).
"""

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyogrio

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.selectors import normalise
from geo_siac.geocoding.services import Entry, LoadSummary
from geo_siac.zones.models import Commune, ServicePoint

# Stops of one intersection (both sides of both roads, up to ~50 m from the corner on an avenue) lie within this
# distance of each other; farther apart, the same two names are another crossing (a street that meets a curved one
# twice). docs/geocoding.md has what 60 m and 120 m gave on DTPM's stops.
SAME_CROSSING_METRES = 120
# Stops named after one landmark (a metro station's entrances, a school's two streets) lie within this distance.
SAME_PLACE_METRES = 250
METRES_PER_DEGREE = 111_320
# DTPM's "Altura Del 1100": the stop stands at number 1100 of its street.
AT_NUMBER = re.compile(r"^altura\s+(?:del?\s+)?0*(\d{1,6})$", re.IGNORECASE)
# A house number as written in the registries: "1820", "1820-B", "S/N" (none).
HOUSE_NUMBER = re.compile(r"^\s*(?:n[°º.]?\s*|#\s*)?0*(\d{1,6})\b")
# DTPM's landmark stops: "Parada 3 / (M) Las Mercedes" is a stop at the metro station Las Mercedes.
LANDMARK_PREFIX = re.compile(r"^\((m|M)\)\s*")
# OSM tags that make a named node a place people look for.
POI_KEYS = ("amenity", "shop", "leisure", "tourism", "office", "healthcare", "public_transport", "railway", "place")


class AddressSourceError(Exception):
    pass


def house_number(text) -> int | None:
    match = HOUSE_NUMBER.match(str(text or ""))
    return int(match.group(1)) if match else None


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance: exact enough to group points a few tens of metres apart."""
    dx = (a[0] - b[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(dx, a[1] - b[1]) * METRES_PER_DEGREE


def clusters(points: list[tuple[float, float]], radius_m: float) -> list[list[int]]:
    """Indices of `points`, grouped: each point joins the first group whose first point is within `radius_m`."""
    groups: list[list[int]] = []
    for i, point in enumerate(points):
        group = next((g for g in groups if metres(points[g[0]], point) <= radius_m), None)
        if group is None:
            groups.append([i])
        else:
            group.append(i)
    return groups


def centroid(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def line_middle(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The street's point nearest halfway along the line through its points in their order along the street (its
    longer side): the point of a whole street, so a pick of it lands on none of its corners where points crowd (the
    point nearest their centroid was one), and on the street itself (the line cuts the bend of an L)."""
    middle = halfway(points)
    return min(points, key=lambda p: metres(p, middle))


def halfway(points: list[tuple[float, float]]) -> tuple[float, float]:
    (west, south), (east, north) = min(points), max(points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    along_x = metres((west, south), (east, south)) >= metres((west, south), (west, north))
    line = sorted(set(points), key=lambda p: p if along_x else (p[1], p[0]))
    legs = [metres(a, b) for a, b in itertools.pairwise(line)]
    left = sum(legs) / 2
    for (a, b), leg in zip(itertools.pairwise(line), legs, strict=True):
        if leg and left <= leg:
            share = left / leg
            return a[0] + share * (b[0] - a[0]), a[1] + share * (b[1] - a[1])
        left -= leg
    return line[0]


def normalised(names) -> dict[str, str]:
    """Each distinct name as the gazetteer reads it (the one normaliser), asked in batches."""
    distinct = sorted(set(names))
    out: dict[str, str] = {}
    for start in range(0, len(distinct), 1000):
        batch = distinct[start : start + 1000]
        out.update(zip(batch, normalise(*batch), strict=True))
    return out


class AddressSource:
    """One source of gazetteer entries; `summary` counts what it read and what it skipped, and why."""

    source = ""

    def __init__(self):
        self.summary = LoadSummary()

    def entries(self) -> Iterator[Entry]:
        raise NotImplementedError

    def skip(self, reason: str) -> None:
        self.summary.skipped[reason] += 1


class StreetNetwork:
    """Street names seen at points: streets (one entry per name and comuna, at its most central point) and the
    intersections of two names (one entry per crossing, at the centre of the points that name it). A crossing's
    comuna is the one its point lies in (services.PLACE_IN_COMMUNES)."""

    def __init__(self):
        self.street_points: dict[tuple[str, str | None], list[tuple[float, float]]] = defaultdict(list)
        self.crossing_points: dict[tuple[str, str], list[tuple[tuple[float, float], str, str]]] = defaultdict(list)

    def add_street(self, name: str, point: tuple[float, float], cut: str | None = None) -> None:
        self.street_points[(name, cut)].append(point)

    def add_crossing(self, first: str, second: str, point: tuple[float, float]) -> None:
        self.crossing_points[(first, second)].append((point, first, second))

    def entries(self) -> Iterator[Entry]:
        keys = normalised(
            [name for name, _cut in self.street_points] + [n for pair in self.crossing_points for n in pair]
        )
        streets: dict[tuple[str, str | None], list] = defaultdict(list)
        for (name, cut), points in self.street_points.items():
            streets[(keys[name], cut)].append((name, points))
        for (key, cut), spellings in streets.items():
            if not key:
                continue
            x, y = line_middle([p for _name, pts in spellings for p in pts])
            label = max(spellings, key=lambda s: len(s[1]))[0]
            yield Entry(EntryKind.STREET, label, x, y, f"calle:{cut or ''}:{key}", cut=cut)
        crossings: dict[tuple[str, str], list] = defaultdict(list)
        for (first, second), seen in self.crossing_points.items():
            pair = tuple(sorted((keys[first], keys[second])))
            if pair[0] and pair[1]:  # "Angel Pimentel / Esq. Psje. Angel Pimentel" is a corner too
                crossings[pair].extend(seen)
        for pair, seen in crossings.items():
            for group in clusters([point for point, _a, _b in seen], SAME_CROSSING_METRES):
                x, y = centroid([seen[i][0] for i in group])
                _point, first, second = seen[group[0]]
                yield Entry(
                    EntryKind.INTERSECTION,
                    f"{first} / Esq. {second}",
                    x,
                    y,
                    f"esquina:{pair[0]}:{pair[1]}:{round(y, 4)}:{round(x, 4)}",
                )


class PointTableSource(AddressSource):
    """GeoJSON or CSV points. Generic columns (first present wins): street, number, name (a named place), comuna
    (CUT or name), and the point (the GeoJSON geometry, or latitude/longitude columns)."""

    COLUMNS = {
        "street": ("street", "calle", "nombre_via", "via"),
        "number": ("number", "numero", "num"),
        "name": ("name", "nombre"),
        "comuna": ("comuna", "cut", "codigo_comuna", "cut_comuna"),
        "latitude": ("latitude", "lat", "latitud"),
        "longitude": ("longitude", "lon", "lng", "longitud"),
        "id": ("id", "source_id", "codigo"),
    }

    def __init__(self, path: Path, *, columns: dict | None = None, sep: str = ","):
        super().__init__()
        self.path = Path(path)
        self.columns = {**self.COLUMNS, **(columns or {})}
        self.sep = sep
        self.source = self.path.name

    def frame(self) -> pd.DataFrame:
        if not self.path.exists():
            raise AddressSourceError(f"no existe el archivo {self.path}")
        if self.path.suffix.lower() == ".csv":
            frame = pd.read_csv(self.path, sep=self.sep, dtype=str, keep_default_na=False)
        else:
            try:
                frame = pyogrio.read_dataframe(self.path)
            except Exception as exc:  # pyogrio raises its own errors for unreadable files
                raise AddressSourceError(f"no se pudo leer {self.path}: {exc}") from exc
            if frame.crs is not None and frame.crs.to_epsg() not in (4326, None):
                frame = frame.to_crs(4326)
            frame["_lon"] = frame.geometry.x.where(frame.geometry.geom_type == "Point")
            frame["_lat"] = frame.geometry.y.where(frame.geometry.geom_type == "Point")
        lower = {column.lower(): column for column in frame.columns}
        self.column = {
            target: next((lower[c.lower()] for c in names if c.lower() in lower), None)
            for target, names in self.columns.items()
        }
        if self.column["street"] is None and self.column["name"] is None:
            raise AddressSourceError(
                f"{self.path.name}: no tiene columna de calle ni de nombre "
                f"({', '.join(self.columns['street'] + self.columns['name'])})"
            )
        return frame

    def value(self, row, target: str) -> str:
        column = self.column.get(target)
        value = None if column is None else row[column]
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()

    def point(self, row) -> tuple[float, float] | None:
        try:
            if "_lon" in row:
                return float(row["_lon"]), float(row["_lat"])
            return float(self.value(row, "longitude").replace(",", ".")), float(
                self.value(row, "latitude").replace(",", ".")
            )
        except ValueError:
            return None

    def entries(self) -> Iterator[Entry]:
        frame = self.frame()
        cuts = commune_lookup()
        for index, row in frame.iterrows():
            self.summary.read += 1
            point = self.point(row)
            if point is None or not all(map(math.isfinite, point)):
                self.skip("sin coordenadas")
                continue
            source_id = self.value(row, "id") or str(index)
            cut = cuts(self.value(row, "comuna"))
            street, number, name = (
                self.value(row, "street"),
                house_number(self.value(row, "number")),
                self.value(row, "name"),
            )
            if street:
                label = f"{street} {number}" if number is not None else street
                kind = EntryKind.ADDRESS if number is not None else EntryKind.STREET
                yield Entry(kind, label, *point, source_id=source_id, number=number, cut=cut)
            elif name:
                yield Entry(EntryKind.PLACE, name, *point, source_id=source_id, cut=cut)
            else:
                self.skip("sin calle ni nombre")


class StopsSource(PointTableSource):
    """DTPM's stops with their names parsed (street, cross_street, landmark, kind): each "Street / Esq. Cross" is
    an intersection and names two streets, "Street / Esq. Altura Del 1100" is number 1100 of Street, a landmark
    or metro station is a named place."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.source = "dtpm"

    def entries(self) -> Iterator[Entry]:
        frame = self.frame()
        network = StreetNetwork()
        landmarks: dict[str, list] = defaultdict(list)
        cuts = commune_lookup()
        for _index, row in frame.iterrows():
            self.summary.read += 1
            point = self.point(row)
            stop, kind = str(row.get("stop_id") or ""), str(row.get("kind") or "")
            street, cross = text(row.get("street")), text(row.get("cross_street"))
            landmark, cut = text(row.get("landmark")), cuts(text(row.get("cut")))
            if point is None or not all(map(math.isfinite, point)) or not stop:
                self.skip("sin coordenadas o sin stop_id")
            elif kind == "metro_station" and landmark:
                landmarks[f"Metro {landmark}"].append((point, stop, cut))
            elif kind == "landmark" and landmark:
                landmarks[LANDMARK_PREFIX.sub("Metro ", landmark)].append((point, stop, cut))
            elif street and cross and (at := AT_NUMBER.match(cross)):
                number = int(at.group(1))
                network.add_street(street, point, cut)
                yield Entry(
                    EntryKind.ADDRESS, f"{street} {number}", *point, source_id=f"altura:{stop}", number=number, cut=cut
                )
            elif street and cross:
                network.add_street(street, point, cut)
                network.add_street(cross, point, cut)
                network.add_crossing(street, cross, point)
            else:
                self.skip("parada sin calle, esquina ni hito")
        yield from landmark_entries(landmarks)
        yield from network.entries()


def landmark_entries(landmarks: dict[str, list]) -> Iterator[Entry]:
    """One place per landmark: the stops named after a metro station or a school stand on its several sides."""
    for label, stops in landmarks.items():
        for group in clusters([point for point, _stop, _cut in stops], SAME_PLACE_METRES):
            x, y = centroid([stops[i][0] for i in group])
            _point, stop, cut = stops[group[0]]
            yield Entry(EntryKind.PLACE, label, x, y, source_id=f"hito:{stop}", cut=cut)


class OsmSource(AddressSource):
    """An OpenStreetMap extract read with pyosmium (node locations kept, so ways have coordinates)."""

    source = "osm"

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)

    def entries(self) -> Iterator[Entry]:
        import osmium

        if not self.path.exists():
            raise AddressSourceError(f"no existe el archivo {self.path}")
        network = StreetNetwork()
        names_at: dict[int, set[str]] = defaultdict(set)
        located: dict[int, tuple[float, float]] = {}
        found: list[Entry] = []
        try:
            for item in osmium.FileProcessor(str(self.path)).with_locations():
                tags = item.tags
                if not len(tags):  # a way's untagged nodes are its geometry, not something to look for
                    continue
                self.summary.read += 1
                if item.is_node():
                    found.extend(self.node_entries(item, tags))
                elif item.is_way() and "highway" in tags and tags.get("name"):
                    for node in item.nodes:
                        if node.location.valid():
                            point = (node.location.lon, node.location.lat)
                            network.add_street(tags["name"], point)
                            names_at[node.ref].add(tags["name"])
                            located[node.ref] = point
                else:
                    self.skip("ni calle con nombre, ni dirección, ni lugar con nombre")
        except RuntimeError as exc:  # libosmium's errors (a truncated or invalid file) reach Python as RuntimeError
            raise AddressSourceError(f"no se pudo leer {self.path}: {exc}") from exc
        for ref, names in names_at.items():
            ordered = sorted(names)
            for i, first in enumerate(ordered):
                for second in ordered[i + 1 :]:
                    network.add_crossing(first, second, located[ref])
        yield from found
        yield from network.entries()

    def node_entries(self, node, tags) -> Iterator[Entry]:
        point = (node.location.lon, node.location.lat)
        number = house_number(tags.get("addr:housenumber"))
        if tags.get("addr:street") and number is not None:
            yield Entry(
                EntryKind.ADDRESS,
                f"{tags['addr:street']} {number}",
                *point,
                source_id=f"n{node.id}:addr",
                number=number,
            )
        if tags.get("name") and any(key in tags for key in POI_KEYS):
            yield Entry(EntryKind.PLACE, tags["name"], *point, source_id=f"n{node.id}")
        elif not tags.get("addr:street") or number is None:
            self.skip("ni calle con nombre, ni dirección, ni lugar con nombre")


class ServicePointSource(AddressSource):
    """The service points already loaded: each is a named place, and its address (street and number) an address."""

    source = "puntos-de-atencion"

    def entries(self) -> Iterator[Entry]:
        for sp in ServicePoint.objects.select_related("commune").order_by("id"):
            self.summary.read += 1
            point, cut = (sp.point.x, sp.point.y), sp.commune.cut
            yield Entry(EntryKind.PLACE, sp.name, *point, source_id=f"punto:{sp.id}", cut=cut)
            street, _, tail = sp.address.rpartition(" ")
            number = house_number(tail) if street else None
            if number is not None:
                yield Entry(
                    EntryKind.ADDRESS,
                    f"{street} {number}",
                    *point,
                    source_id=f"punto:{sp.id}:direccion",
                    number=number,
                    cut=cut,
                )


PRESETS = {
    # INE's national address layer: street, house number, comuna code, and the point as the layer's geometry.
    "ine": {
        "street": ("NOMBRE_VIA", "NOM_CALLE", "CALLE"),
        "number": ("NUMERO", "NUM_DOMICILIO", "NRO"),
        "name": (),
        "comuna": ("CUT", "COD_COMUNA", "COMUNA"),
        "id": ("ID", "OBJECTID"),
    },
}


def text(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def commune_lookup():
    """A comuna's CUT from a CUT (with or without its leading zero) or a name as a file writes it; None if unknown."""
    communes = list(Commune.objects.values_list("cut", "name"))
    by_name = normalised(name for _cut, name in communes)
    cut_by_key = {by_name[name]: cut for cut, name in communes}
    cuts = {cut for cut, _name in communes}
    cache: dict[str, str | None] = {}

    def lookup(value: str) -> str | None:
        if not value:
            return None
        if value.isdigit():
            return value.zfill(5) if value.zfill(5) in cuts else None
        if value not in cache:
            cache[value] = cut_by_key.get(normalise(value)[0])
        return cache[value]

    return lookup


def address_source(path: Path | None, *, preset: str | None = None, sep: str = ",") -> AddressSource:
    """The source for a file (by its extension and preset), or the service points when `path` is None."""
    if path is None:
        return ServicePointSource()
    name = Path(path).name.lower()
    if name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")):
        return OsmSource(path)
    if preset == "dtpm":
        return StopsSource(path)
    if preset is not None and preset not in PRESETS:
        raise AddressSourceError(f"preset desconocido {preset!r} (conocidos: dtpm, {', '.join(PRESETS)})")
    if not name.endswith((".csv", ".geojson", ".json", ".gpkg", ".shp")):
        raise AddressSourceError(f"{path}: formato no reconocido (.osm.pbf, .osm, .geojson, .json, .gpkg, .shp, .csv)")
    table = PointTableSource(path, columns=PRESETS.get(preset), sep=sep)
    table.source = preset or table.source
    return table
