"""folium pages must load every asset from our own static files (no internet at run time)."""

import re
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import pytest

from geo_siac.maps.folium_offline import (
    CDN_TO_VENDOR,
    OfflineAssetError,
    assert_offline,
    localize,
    offline_map,
    vendor_paths,
)

STATIC_ROOT = Path(__file__).resolve().parents[2] / "static"


def _square(west, north, east, south):
    return [[[west, north], [east, north], [east, south], [west, south], [west, north]]]


COMUNAS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"nombre": "Providencia", "solicitudes": 12},
            "geometry": {
                "type": "Polygon",
                "coordinates": _square(-70.63, -33.42, -70.60, -33.44),
            },
        },
        {
            "type": "Feature",
            "properties": {"nombre": "Ñuñoa", "solicitudes": 40},
            "geometry": {
                "type": "Polygon",
                "coordinates": _square(-70.61, -33.45, -70.58, -33.47),
            },
        },
    ],
}


def _full_map(**kwargs) -> folium.Map:
    fmap = offline_map(location=[-33.44, -70.61], zoom_start=13, **kwargs)
    folium.GeoJson(COMUNAS, name="Comunas", tooltip=folium.GeoJsonTooltip(["nombre"])).add_to(fmap)
    colormap = branca.colormap.LinearColormap(["#ffffb2", "#bd0026"], vmin=0, vmax=40, caption="Solicitudes")
    folium.GeoJson(
        COMUNAS,
        name="Solicitudes por comuna",
        style_function=lambda f: {
            "fillColor": colormap(f["properties"]["solicitudes"]),
            "color": "#555",
            "weight": 1,
            "fillOpacity": 0.7,
        },
        highlight_function=lambda f: {"weight": 3},
    ).add_to(fmap)
    colormap.add_to(fmap)  # legend: branca adds d3 to the header by hand
    cluster = folium.plugins.MarkerCluster(name="Solicitudes").add_to(fmap)
    for lat, lng in [(-33.43, -70.62), (-33.431, -70.621), (-33.46, -70.59)]:
        folium.Marker([lat, lng], icon=folium.Icon(color="red", icon="trash", prefix="fa", angle=45)).add_to(cluster)
    folium.plugins.HeatMap([[-33.43, -70.62, 1.0], [-33.46, -70.59, 0.5]], name="Calor").add_to(fmap)
    folium.LayerControl().add_to(fmap)
    return fmap


def _local_refs(html: str, static_url: str = "/static/") -> list[str]:
    return re.findall(r'(?:src|href)="' + re.escape(static_url) + r'(vendor/[^"]+)"', html)


def test_rendered_map_references_only_vendored_files():
    html = _full_map().get_root().render()

    assert_offline(html)
    assert "cdn" not in html.lower() and "cloudflare" not in html and "jquery.com" not in html

    refs = _local_refs(html)
    for expected in (
        "vendor/leaflet/1.9.3/leaflet.js",
        "vendor/leaflet/1.9.3/leaflet.css",
        "vendor/jquery/3.7.1/jquery.min.js",
        "vendor/bootstrap/5.2.2/bootstrap.bundle.min.js",
        "vendor/fontawesome-free/6.2.0/css/all.min.css",
        "vendor/leaflet.markercluster/1.1.0/leaflet.markercluster.js",
        "vendor/leaflet.markercluster/1.1.0/MarkerCluster.Default.css",
        "vendor/leaflet-heat/0.2.0-folium-0.20.0/leaflet-heat.min.js",
        "vendor/d3/3.5.5/d3.min.js",
    ):
        assert expected in refs, expected
    missing = [ref for ref in refs if not (STATIC_ROOT / ref).is_file()]
    assert not missing, missing


def test_every_mapped_asset_and_its_css_urls_exist():
    for path in vendor_paths():
        file = STATIC_ROOT / "vendor" / path
        assert file.is_file(), path
        if file.suffix == ".css":
            for ref in re.findall(r"""url\(\s*['"]?([^'")]+)""", file.read_text(encoding="utf-8")):
                if ref.startswith(("data:", "#")):
                    continue
                assert not ref.startswith(("http:", "https:", "//")), (path, ref)
                assert (file.parent / ref.split("?")[0].split("#")[0]).resolve().is_file(), (path, ref)
    assert len(set(CDN_TO_VENDOR)) == len(CDN_TO_VENDOR)


def test_folium_defaults_are_all_mapped():
    """If folium/branca is upgraded and references new CDN URLs, this fails until they are vendored."""
    from folium.folium import _default_css, _default_js

    for _name, url in [
        *_default_js,
        *_default_css,
        *folium.plugins.MarkerCluster.default_js,
        *folium.plugins.MarkerCluster.default_css,
        *folium.plugins.HeatMap.default_js,
    ]:
        assert url in CDN_TO_VENDOR, url


def test_folium_class_defaults_are_not_mutated():
    from folium.folium import _default_js

    _full_map().get_root().render()
    assert folium.Map.default_js is _default_js
    assert all(url.startswith("https://") for _n, url in folium.plugins.MarkerCluster.default_js)
    assert all(url.startswith("https://") for _n, url in folium.Map().default_js)


def test_custom_static_url():
    html = _full_map().get_root().render()  # default
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in html
    html = offline_map(static_url="https://geosiac.example.cl/assets").get_root().render()
    assert 'src="https://geosiac.example.cl/assets/vendor/leaflet/1.9.3/leaflet.js"' in html


def test_the_scale_bar_is_metric_only_set_before_the_map_draws_it():
    html = offline_map(control_scale=True).get_root().render()
    metric = html.index("Object.assign(L.Control.Scale.prototype.options, {imperial: false});")
    assert metric < html.index("L.control.scale().addTo(")


def test_no_tiles_means_no_tile_layer():
    html = offline_map(tiles=None).get_root().render()
    assert "L.tileLayer" not in html
    assert_offline(html)


@pytest.mark.parametrize(
    ("tiles", "attr"),
    [
        ("/tiles/{z}/{x}/{y}.png", None),
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", None),
        ("https://tiles.example.cl/{z}/{x}/{y}.png", "Municipalidad"),
    ],
)
def test_tile_url_template(tiles, attr):
    kwargs = {"attr": attr} if attr else {}
    html = offline_map(tiles=tiles, **kwargs).get_root().render()
    assert "L.tileLayer" in html and tiles in html
    assert_offline(html)  # tile templates and attribution <a href> links are allowed


def test_localize_plain_map_and_notebook_repr():
    fmap = folium.Map(tiles=None)
    localize(fmap, "/static/")
    folium.plugins.MarkerCluster().add_to(fmap)  # added after localize()
    html = fmap.get_root().render()
    assert_offline(html)
    assert "/static/vendor/leaflet.markercluster/1.1.0/leaflet.markercluster.js" in html
    assert_offline(fmap._repr_html_())  # iframe srcdoc is checked as well


def test_unvendored_plugin_is_refused():
    fmap = offline_map()
    folium.plugins.Fullscreen().add_to(fmap)
    with pytest.raises(OfflineAssetError, match="leaflet.fullscreen"):
        fmap.get_root().render()


def test_assert_offline_catches_remote_references():
    with pytest.raises(AssertionError) as excinfo:
        assert_offline(
            '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
            '<link rel="stylesheet" href="//cdnjs.cloudflare.com/x.css"/>'
            "<style>@import 'https://fonts.example/x.css'; .a{background:url(http://img.example/a.png)}</style>"
        )
    message = str(excinfo.value)
    for url in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "fonts.example", "img.example"):
        assert url in message
    plain_map = folium.Map(tiles=None).get_root().render()
    with pytest.raises(AssertionError, match="code.jquery.com"):
        assert_offline(plain_map)
    assert_offline('<a href="https://www.openstreetmap.org/copyright">OSM</a> "https://t/{z}/{x}/{y}.png"')
