"""/teselas/<z>/<x>/<y>: base map tiles served by the application itself, for an intranet that cannot reach a tile
server. GEO_SIAC_TILES_PATH names an XYZ directory ({z}/{x}/{y}.png, .jpg or .webp) or an MBTiles file of raster
tiles (read with the standard library's sqlite3); without it every tile is a 404."""

import sqlite3
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

MAX_ZOOM = 22
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
# A base map changes when its file is replaced, rarely: a day in the browser's cache spares the server a map's worth
# of requests on every visit.
MAX_AGE_SECONDS = 86400


def directory_tile(root: Path, z: int, x: int, y: int) -> tuple[bytes, str] | None:
    for extension, content_type in CONTENT_TYPES.items():
        path = root / str(z) / str(x) / f"{y}.{extension}"
        if path.is_file():
            return path.read_bytes(), content_type
    return None


def mbtiles_tile(path: Path, z: int, x: int, y: int) -> tuple[bytes, str] | None:
    """The MBTiles specification numbers rows from the south (TMS): row = 2^z - 1 - y."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y),
        ).fetchone()
        if row is None:
            return None
        found = connection.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    finally:
        connection.close()
    content_type = CONTENT_TYPES.get((found[0] if found else "png").lower())
    return None if content_type is None else (bytes(row[0]), content_type)


@require_safe
def tile(request, z: int, x: int, y: int):
    if not settings.GEO_SIAC_TILES_PATH or z > MAX_ZOOM or x >= 1 << z or y >= 1 << z:
        raise Http404("No such tile.")
    source = Path(settings.GEO_SIAC_TILES_PATH)
    found = directory_tile(source, z, x, y) if source.is_dir() else mbtiles_tile(source, z, x, y)
    if found is None:
        raise Http404("No such tile.")
    data, content_type = found
    response = HttpResponse(data, content_type=content_type)
    patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
    return response
