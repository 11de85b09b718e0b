#!/usr/bin/env bash
# Re-fetch every third-party browser asset into geo_siac/static/vendor/ so that the app never needs a CDN.
#
# Reproducible: every package is fetched with `npm pack <name>@<exact version>` (the registry tarball,
# checked by npm against its integrity hash) and only the dist files the pages use are copied. The folium
# heat-map script is taken from the folium wheel (pip download folium==<exact version>) because folium
# ships its own patched copy of Leaflet.heat. See geo_siac/static/vendor/README.md for the list.
#
# Usage: scripts/vendor_static.sh            (needs node + npm, and python3 with pip for the folium wheel)
#        PYTHON=/path/to/python scripts/vendor_static.sh
#
# Transformations applied (all documented in the README):
#   * `sourceMappingURL` comments are removed from copied .js/.css files (the .map files are not vendored;
#     a dangling reference makes browsers 404 and ManifestStaticFilesStorage fail in collectstatic).
#   * bootstrap-glyphicons.css is extracted from Bootstrap 3.4.1's bootstrap.css (the @font-face and the
#     `.glyphicon*` rules only, fonts limited to woff2/woff); folium's CDN file is Bootstrap 3.0.0's, which
#     is not on npm.
#   * leaflet.awesome.rotate.min.css is generated (folium's file only lives on GitHub/jsDelivr).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/geo_siac/static/vendor"
PYTHON="${PYTHON:-python3}"

# Exact versions. The first block is what folium 0.20.0 (folium.folium._default_js/_default_css and
# folium.plugins.MarkerCluster / HeatMap, branca.colormap) references on CDNs.
LEAFLET=1.9.3
JQUERY=3.7.1
BOOTSTRAP=5.2.2
BOOTSTRAP3=3.4.1          # source of the glyphicons-only stylesheet
FONTAWESOME=6.2.0
AWESOME_MARKERS=2.0.2     # npm shim "drmonty-leaflet-awesome-markers" of lvoogdt/Leaflet.awesome-markers
MARKERCLUSTER=1.1.0
LEAFLET_HEAT=0.2.0        # licence file; the script itself comes from the folium wheel
FOLIUM=0.20.0
D3=3.5.5                  # branca colormap legends
SWAGGER_UI=5.35.0
H3_JS=4.5.0               # the heat map draws its cells from their H3 ids (the H3 core the Python h3 4.5.0 wraps)

command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
command -v node >/dev/null || { echo "node is required" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log() { printf '[vendor] %s\n' "$*"; }

# fetch <npm-spec> <dir-name>: npm pack the exact version into $WORK and unpack it into $WORK/<dir-name>
fetch() {
  local spec="$1" name="$2" tgz
  log "npm pack $spec"
  tgz="$(cd "$WORK" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$tgz" -C "$WORK/$name" --strip-components=1
}

# put <src> <dest-dir> [dest-name]: copy one file, stripping sourceMappingURL comments from js/css
put() {
  local src="$1" dir="$2" name="${3:-$(basename "$1")}"
  mkdir -p "$dir"
  case "$name" in
    *.js|*.css)
      sed -E -e 's#/\*[#@] sourceMappingURL=[^*]*\*/##g' -e '/^\/\/[#@] sourceMappingURL=/d' "$src" >"$dir/$name" ;;
    *) cp "$src" "$dir/$name" ;;
  esac
}

# Start clean, but keep folders this script does not manage (e.g. vendor/ol used by the GeoDjango admin).
for lib in leaflet jquery bootstrap bootstrap-glyphicons fontawesome-free leaflet-awesome-markers \
           leaflet-awesome-rotate leaflet.markercluster leaflet-heat d3 swagger-ui-dist h3-js; do
  rm -rf "${DEST:?}/$lib"
done
mkdir -p "$DEST"

# --- Leaflet -------------------------------------------------------------------------------------------
fetch "leaflet@$LEAFLET" leaflet
D="$DEST/leaflet/$LEAFLET"
put "$WORK/leaflet/dist/leaflet.js" "$D"
put "$WORK/leaflet/dist/leaflet.css" "$D"
for img in layers.png layers-2x.png marker-icon.png marker-icon-2x.png marker-shadow.png; do
  put "$WORK/leaflet/dist/images/$img" "$D/images"
done
put "$WORK/leaflet/LICENSE" "$D"

# --- jQuery --------------------------------------------------------------------------------------------
fetch "jquery@$JQUERY" jquery
D="$DEST/jquery/$JQUERY"
put "$WORK/jquery/dist/jquery.min.js" "$D"
put "$WORK/jquery/LICENSE.txt" "$D"

# --- Bootstrap 5 ---------------------------------------------------------------------------------------
fetch "bootstrap@$BOOTSTRAP" bootstrap
D="$DEST/bootstrap/$BOOTSTRAP"
put "$WORK/bootstrap/dist/css/bootstrap.min.css" "$D"
put "$WORK/bootstrap/dist/js/bootstrap.bundle.min.js" "$D"
put "$WORK/bootstrap/LICENSE" "$D"

# --- Bootstrap 3 glyphicons (stand-in for netdna's bootstrap/3.0.0/css/bootstrap-glyphicons.css) ------
fetch "bootstrap@$BOOTSTRAP3" bootstrap3
D="$DEST/bootstrap-glyphicons/$BOOTSTRAP3"
mkdir -p "$D/fonts"
put "$WORK/bootstrap3/dist/fonts/glyphicons-halflings-regular.woff2" "$D/fonts"
put "$WORK/bootstrap3/dist/fonts/glyphicons-halflings-regular.woff" "$D/fonts"
put "$WORK/bootstrap3/LICENSE" "$D"
node - "$WORK/bootstrap3/dist/css/bootstrap.css" "$D/bootstrap-glyphicons.css" "$BOOTSTRAP3" <<'NODE'
const fs = require("fs");
const [src, out, version] = process.argv.slice(2);
const css = fs.readFileSync(src, "utf8");
const parts = [
  `/*!\n * Glyphicons Halflings only, extracted from Bootstrap v${version} dist/css/bootstrap.css by\n` +
  ` * scripts/vendor_static.sh (stand-in for bootstrap/3.0.0/css/bootstrap-glyphicons.css that folium loads\n` +
  ` * from a CDN). Copyright 2011-2019 Twitter, Inc. Licensed under MIT (see LICENSE).\n */`,
  `@font-face {\n  font-family: "Glyphicons Halflings";\n` +
  `  src: url("fonts/glyphicons-halflings-regular.woff2") format("woff2"), ` +
  `url("fonts/glyphicons-halflings-regular.woff") format("woff");\n}`,
];
const rule = /([^{}]+)\{([^{}]*)\}/g;
let m, n = 0;
while ((m = rule.exec(css))) {
  const selector = m[1].replace(/\/\*[\s\S]*?\*\//g, "").trim();
  const all = selector.split(",").map((s) => s.trim());
  if (all.length && all.every((s) => /^\.glyphicon[\w-]*(:before)?$/.test(s))) {
    parts.push(`${all.join(",\n")} {${m[2].replace(/\s+$/, "")}\n}`);
    n += 1;
  }
}
if (n < 200) { console.error(`only ${n} glyphicon rules found`); process.exit(1); }
fs.writeFileSync(out, parts.join("\n") + "\n");
NODE

# --- Font Awesome Free (css + the woff2/ttf webfonts all.min.css references) ---------------------------
fetch "@fortawesome/fontawesome-free@$FONTAWESOME" fontawesome
D="$DEST/fontawesome-free/$FONTAWESOME"
put "$WORK/fontawesome/css/all.min.css" "$D/css"
for font in fa-brands-400 fa-regular-400 fa-solid-900 fa-v4compatibility; do
  put "$WORK/fontawesome/webfonts/$font.woff2" "$D/webfonts"
  put "$WORK/fontawesome/webfonts/$font.ttf" "$D/webfonts"
done
put "$WORK/fontawesome/LICENSE.txt" "$D"

# --- Leaflet.awesome-markers ---------------------------------------------------------------------------
fetch "drmonty-leaflet-awesome-markers@$AWESOME_MARKERS" awesome
D="$DEST/leaflet-awesome-markers/$AWESOME_MARKERS"
put "$WORK/awesome/js/leaflet.awesome-markers.min.js" "$D" leaflet.awesome-markers.js
put "$WORK/awesome/css/leaflet.awesome-markers.css" "$D"
for img in markers-soft.png markers-soft@2x.png markers-shadow.png markers-shadow@2x.png; do
  put "$WORK/awesome/css/images/$img" "$D/images"
done
# The npm shim does not ship the upstream LICENSE file; this is upstream's MIT licence text.
cat >"$D/LICENSE" <<'EOF'
Leaflet.awesome-markers (https://github.com/lvoogdt/Leaflet.awesome-markers), version 2.0.2.
Packaged on npm as "drmonty-leaflet-awesome-markers", which declares the licence as MIT but does not
include the licence file; the upstream MIT licence follows.

Copyright (C) 2013 L. Voogdt

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR
THE USE OR OTHER DEALINGS IN THE SOFTWARE.
EOF

# --- leaflet.awesome.rotate (folium's own tiny stylesheet; GitHub/jsDelivr only, not on npm) -----------
D="$DEST/leaflet-awesome-rotate/folium-$FOLIUM"
mkdir -p "$D"
node - "$D/leaflet.awesome.rotate.min.css" "$FOLIUM" <<'NODE'
const fs = require("fs");
const [out, folium] = process.argv.slice(2);
let css = `/* Minimal equivalent of folium ${folium}'s leaflet.awesome.rotate.min.css, which folium only serves\n` +
  ` from GitHub through jsDelivr (not published on npm). folium.Icon(angle=N) adds the class fa-rotate-N to\n` +
  ` the awesome-marker icon; these rules rotate it. Generated by scripts/vendor_static.sh. */\n`;
for (let a = 0; a < 360; a++) {
  css += `.fa-rotate-${a}{transform:rotate(${a}deg)}\n`;
}
fs.writeFileSync(out, css);
NODE
cat >"$D/LICENSE" <<'EOF'
leaflet.awesome.rotate.min.css in this folder is not a copy of folium's file: it is a minimal equivalent
generated by scripts/vendor_static.sh for GeoSIAC (folium publishes the original only on GitHub, under the
MIT licence). The generated file is trivial and is dedicated to the public domain (CC0-1.0).
EOF

# --- Leaflet.markercluster -----------------------------------------------------------------------------
fetch "leaflet.markercluster@$MARKERCLUSTER" markercluster
D="$DEST/leaflet.markercluster/$MARKERCLUSTER"
put "$WORK/markercluster/dist/leaflet.markercluster.js" "$D"
put "$WORK/markercluster/dist/MarkerCluster.css" "$D"
put "$WORK/markercluster/dist/MarkerCluster.Default.css" "$D"
put "$WORK/markercluster/MIT-LICENCE.txt" "$D"

# --- Leaflet.heat (folium's patched build, from the folium wheel) --------------------------------------
fetch "leaflet.heat@$LEAFLET_HEAT" leafletheat
D="$DEST/leaflet-heat/$LEAFLET_HEAT-folium-$FOLIUM"
log "pip download folium==$FOLIUM"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: "folium==$FOLIUM" -d "$WORK/folium"
mkdir -p "$D"
"$PYTHON" - "$WORK/folium" "$D" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/folium-*.whl")[0]
with zipfile.ZipFile(wheel) as zf:
    open(f"{sys.argv[2]}/leaflet-heat.min.js", "wb").write(zf.read("folium/templates/leaflet_heat.min.js"))
    licence = [n for n in zf.namelist() if n.endswith(".dist-info/licenses/LICENSE.txt") or n.endswith(".dist-info/LICENSE.txt")]
    open(f"{sys.argv[2]}/LICENSE.folium.txt", "wb").write(zf.read(licence[0]))
PY
put "$WORK/leafletheat/LICENSE" "$D"

# --- d3 v3 (branca colormap legends, e.g. Choropleth / LinearColormap) ---------------------------------
fetch "d3@$D3" d3
D="$DEST/d3/$D3"
put "$WORK/d3/d3.min.js" "$D"
put "$WORK/d3/LICENSE" "$D"

# --- h3-js (the planners' heat map draws each cell's hexagon from its id in the browser) ----------------
fetch "h3-js@$H3_JS" h3js
D="$DEST/h3-js/$H3_JS"
put "$WORK/h3js/dist/h3-js.umd.js" "$D"
put "$WORK/h3js/LICENSE" "$D"
put "$WORK/h3js/NOTICE" "$D"

# --- Swagger UI (API docs page) ------------------------------------------------------------------------
fetch "swagger-ui-dist@$SWAGGER_UI" swagger
D="$DEST/swagger-ui-dist/$SWAGGER_UI"
for f in swagger-ui.css swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui-standalone-preset.js \
         swagger-ui-standalone-preset.js.LICENSE.txt favicon-32x32.png favicon-16x16.png LICENSE NOTICE; do
  put "$WORK/swagger/$f" "$D"
done

# --- Check that every url(...) in the vendored CSS resolves to a vendored file -------------------------
node - "$DEST" <<'NODE'
const fs = require("fs"), path = require("path");
const root = process.argv[2];
const walk = (d) => fs.readdirSync(d, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
let bad = 0;
for (const file of walk(root).filter((f) => f.endsWith(".css"))) {
  const css = fs.readFileSync(file, "utf8");
  for (const m of css.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)) {
    const ref = m[2].trim();
    if (/^(data:|#|about:)/.test(ref)) continue;
    if (/^[a-z]+:\/\//i.test(ref)) { console.error(`${file}: remote url(${ref})`); bad++; continue; }
    const target = path.resolve(path.dirname(file), ref.split(/[?#]/)[0]);
    if (!fs.existsSync(target)) { console.error(`${file}: missing ${ref}`); bad++; }
  }
}
if (bad) process.exit(1);
NODE

log "done: $(du -sh "$DEST" | cut -f1) in $DEST"
