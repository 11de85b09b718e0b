"""The active comunas as shapely geometries, for the importer's vectorised point-in-polygon and the message of a
point outside them."""

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod, Transformer

from geo_siac.geo import METRIC_SRID, STORAGE_SRID
from geo_siac.reports.importers.results import ImportFileError
from geo_siac.zones.messages import outside_message
from geo_siac.zones.models import Commune


@dataclass
class CommuneIndex:
    """Active comunas as prepared shapely geometries, for vectorised point-in-polygon."""

    ids: list[int]
    names: list[str]
    prefixes: list[str]
    geometries: list
    metric: list

    @classmethod
    def load(cls, only_cut: str | None = None) -> "CommuneIndex":
        queryset = Commune.objects.active().order_by("cut")
        if only_cut:
            queryset = queryset.filter(cut=only_cut)
        communes = list(queryset)
        if not communes:
            raise ImportFileError("No hay comunas activas: cargue comunas con load_comunas --commit.")
        transformer = Transformer.from_crs(STORAGE_SRID, METRIC_SRID, always_xy=True)

        def to_metric(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

        geometries = [shapely.from_wkb(bytes(c.geometry.wkb)) for c in communes]
        for geometry in geometries:
            shapely.prepare(geometry)
        return cls(
            ids=[c.pk for c in communes],
            names=[c.name for c in communes],
            prefixes=[c.tracking_prefix for c in communes],
            geometries=geometries,
            metric=[shapely.transform(g, to_metric) for g in geometries],
        )

    def locate(self, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index into this list of the comuna holding each point, -1 for none (lowest CUT wins on borders)."""
        found = np.full(len(lng), -1, dtype=np.int64)
        for i in reversed(range(len(self.geometries))):
            found[shapely.intersects_xy(self.geometries[i], lng, lat)] = i
        return found

    def outside_messages(self, lng: np.ndarray, lat: np.ndarray) -> list[str]:
        """zones.messages.outside_message for each point, as report_create words it: the nearest comuna is found in
        metres (UTM 19S) and the distance to its nearest point measured on the WGS84 spheroid, as PostGIS measures
        on geography for report_create."""
        to_metric = Transformer.from_crs(STORAGE_SRID, METRIC_SRID, always_xy=True)
        points = shapely.points(*to_metric.transform(lng, lat))
        nearest = np.argmin(np.stack([shapely.distance(g, points) for g in self.metric]), axis=0)
        ends = shapely.get_coordinates(shapely.shortest_line(np.array(self.metric, dtype=object)[nearest], points))
        end_lng, end_lat = to_metric.transform(ends[::2, 0], ends[::2, 1], direction="INVERSE")
        _forward, _back, metres = Geod(ellps="WGS84").inv(lng, lat, end_lng, end_lat)
        return [outside_message(self.names[i], m) for i, m in zip(nearest, metres, strict=True)]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return shapely.union_all(self.geometries).bounds
