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

  var reserved = false;

  function reserveLegends() {
    // The legends' box keeps the height of the tallest one (it scrolls when two show), so that a legend shown or
    // hidden never resizes the map under the reader.
    var box = document.querySelector(".map-legends");
    if (reserved || !box) return;
    reserved = true;
    var sections = Array.prototype.slice.call(box.querySelectorAll(".map-legend"));
    var tallest = 0;
    sections.forEach(function (alone) {
      sections.forEach(function (section) { section.hidden = section !== alone; });
      tallest = Math.max(tallest, box.offsetHeight);
    });
    box.style.height = tallest + "px";
    sections.forEach(function (section) { if (!section.hasAttribute("data-legend")) section.hidden = false; });
    // Once, as the page opens: Leaflet measures the map again (and fits it anew, folium_text.py).
    window.dispatchEvent(new Event("resize"));
  }

  function showLegends() {
    reserveLegends();
    document.querySelectorAll(".map-legend[data-legend]").forEach(function (section) {
      section.hidden = !shown[section.getAttribute("data-legend")];
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
