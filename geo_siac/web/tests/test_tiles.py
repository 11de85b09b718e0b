"""/teselas/<z>/<x>/<y>: base map tiles served by the application from GEO_SIAC_TILES_PATH, an XYZ directory or an
MBTiles file (issue 22, point 2: a map without a reachable tile server)."""

import io
import sqlite3

import pytest
from PIL import Image

# A missing tile is answered by the 404 page, which names the host's municipality (zones.middleware): a query.
pytestmark = pytest.mark.django_db


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def mbtiles(tmp_path):
    """An MBTiles file as the specification lays it out: rows numbered from the south (TMS)."""
    path = tmp_path / "santiago.mbtiles"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.execute("INSERT INTO metadata VALUES ('format', 'png')")
        db.execute("INSERT INTO tiles VALUES (12, 1245, ?, ?)", ((1 << 12) - 1 - 2467, png((200, 10, 10))))
    db.close()
    return path


def test_an_mbtiles_file_serves_its_tiles_by_xyz_numbers(client, mbtiles, settings):
    settings.GEO_SIAC_TILES_PATH = str(mbtiles)
    response = client.get("/teselas/12/1245/2467")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).getpixel((5, 5)) == (200, 10, 10)
    assert "max-age=86400" in response["Cache-Control"]
    assert client.get("/teselas/12/1245/2468").status_code == 404


def test_an_xyz_directory_serves_its_png_and_jpeg_tiles(client, tmp_path, settings):
    (tmp_path / "15" / "9960").mkdir(parents=True)
    (tmp_path / "15" / "9960" / "19740.png").write_bytes(png((10, 200, 10)))
    Image.new("RGB", (256, 256), (10, 10, 200)).save(tmp_path / "15" / "9960" / "19741.jpg", "JPEG")
    settings.GEO_SIAC_TILES_PATH = str(tmp_path)
    assert client.get("/teselas/15/9960/19740")["Content-Type"] == "image/png"
    assert client.get("/teselas/15/9960/19741")["Content-Type"] == "image/jpeg"
    assert client.get("/teselas/15/9960/19742").status_code == 404


@pytest.mark.parametrize("url", ["/teselas/12/4096/0", "/teselas/23/0/0", "/teselas/1/0/2"])
def test_numbers_outside_the_zoom_level_are_a_404(client, mbtiles, settings, url):
    settings.GEO_SIAC_TILES_PATH = str(mbtiles)
    assert client.get(url).status_code == 404


def test_without_a_tiles_path_there_are_no_tiles(client, settings):
    settings.GEO_SIAC_TILES_PATH = ""
    assert client.get("/teselas/0/0/0").status_code == 404
