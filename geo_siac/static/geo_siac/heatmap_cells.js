// The planners' heat map carries its cells as H3 ids with their columns (geo_siac/maps/folium_text.py, cell_layer)
// and draws their hexagons here with h3-js: the page no longer writes every hexagon into every layer.
// A hidden layer builds its polygons the first time it is shown. Tooltip text is set as text, never as HTML.
(function () {
  "use strict";

  var rings = {};

  function ring(id) {
    // h3-js gives [lat, lng] pairs, Leaflet's order; a cell drawn in several layers is worked out once.
    if (!rings[id]) rings[id] = h3.cellToBoundary(id);
    return rings[id];
  }

  function tooltip(spec, id, i) {
    var table = document.createElement("table");
    spec.tooltip.forEach(function (row) {
      var line = table.insertRow();
      var label = document.createElement("th");
      label.textContent = row[1];
      line.appendChild(label);
      var value = row[0] === "hex_id" ? id : spec.columns[row[0]][i];
      line.insertCell().textContent = value === null ? "" : String(value);
    });
    return table;
  }

  function build(group, ids, spec) {
    spec.cells.forEach(function (index, i) {
      var id = ids[index];
      var style = Object.assign({}, spec.style);
      if (spec.fill) style.fillColor = spec.palette[spec.fill[i]];
      var polygon = L.polygon(ring(id), style);
      polygon.bindTooltip(function () { return tooltip(spec, id, i); }, { sticky: true, className: "cell-tooltip" });
      group.addLayer(polygon);
    });
  }

  // How many layers of each legend key are on the map: a key's legend shows while one is, so a reader never
  // reads the hotspots' colours against the counts' key (folium_text.py, map_page).
  var shown = {};

  var box;

  function sections() {
    return Array.prototype.slice.call(box.querySelectorAll(".map-legend"));
  }

  function foldable(section) {
    // On a phone's short frame the reader folds a key to read the other one whole; the box keeps its height.
    var heading = section.querySelector("h2");
    var button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-expanded", "true");
    while (heading.firstChild) button.appendChild(heading.firstChild);
    heading.appendChild(button);
    button.addEventListener("click", function () {
      button.setAttribute("aria-expanded", String(!section.classList.toggle("folded")));
    });
  }

  var reserved = -1;

  function reserve() {
    // The box keeps the height of every key shown and unfolded at once (side by side where the frame is wide), at
    // most 40 % of the frame (it scrolls past that), so that a key shown, hidden or folded never resizes the map.
    var all = sections();
    var before = all.map(function (section) { return [section.hidden, section.classList.contains("folded")]; });
    box.style.height = "";
    all.forEach(function (section) {
      section.hidden = false;
      section.classList.remove("folded");
    });
    var height = Math.min(box.offsetHeight, Math.round(window.innerHeight * 0.4));
    all.forEach(function (section, i) {
      section.hidden = before[i][0];
      section.classList.toggle("folded", before[i][1]);
    });
    box.style.height = height + "px";
    if (height !== reserved) {
      reserved = height;
      // Leaflet measures the map again (and fits it anew until the reader moves it, folium_text.py).
      window.dispatchEvent(new Event("resize"));
    }
  }

  function showLegends() {
    if (box === undefined) {
      box = document.querySelector(".map-legends");
      if (box) {
        sections().forEach(foldable);
        reserve();
        window.addEventListener("resize", reserve);
      }
    }
    if (!box) return;
    sections().forEach(function (section) {
      if (section.hasAttribute("data-legend")) section.hidden = !shown[section.getAttribute("data-legend")];
    });
  }

  window.GeoSiacCells = {
    layer: function (ids, spec) {
      var group = L.featureGroup();
      var built = false;
      group.on("add", function () {
        if (!built) {
          built = true;
          build(group, ids, spec);
        }
        shown[spec.legend] = (shown[spec.legend] || 0) + 1;
        showLegends();
      });
      group.on("remove", function () {
        shown[spec.legend] -= 1;
        showLegends();
      });
      return group;
    },
  };
})();
