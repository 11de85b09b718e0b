(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var element = document.getElementById("transparency-map");
  var map = L.map(element).setView([-33.55, -70.56], 11);
  var countLabel = element.dataset.countLabel;  // "11 solicitudes", not a bare "11"
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, {maxZoom: 18, attribution: "&copy; OpenStreetMap"}).addTo(map);
  }
  function colour(count, top) {
    var t = Math.sqrt(count / top);
    return t > 0.75 ? "#7a0177" : t > 0.5 ? "#c51b8a" : t > 0.25 ? "#f768a1" : "#fbb4b9";
  }
  // What each colour counts: the bounds of colour()'s four bands (t = sqrt(count / top) past .25, .5, .75).
  function legend(least, top) {
    var control = L.control({position: "topright"});  // the embed's caption covers the bottom
    control.onAdd = function () {
      var box = L.DomUtil.create("div", "map-legend");
      var title = L.DomUtil.create("strong", "", box);
      title.textContent = element.dataset.legendTitle;
      var bounds = [least - 1, Math.floor(top / 16), Math.floor(top / 4), Math.floor(top * 9 / 16), top];
      for (var band = 3; band >= 0; band -= 1) {
        if (bounds[band + 1] <= Math.max(bounds[band], least - 1)) { continue; }  // a band no count falls in
        var row = L.DomUtil.create("div", "", box);
        var swatch = L.DomUtil.create("span", "map-legend-swatch", row);
        swatch.style.background = colour(bounds[band + 1], top);  // CSSOM, which the policy allows
        var low = Math.max(bounds[band] + 1, least), high = bounds[band + 1];
        row.appendChild(document.createTextNode(low === high ? String(high) : low + "–" + high));
      }
      return box;
    };
    return control;
  }
  fetch(config.cellsUrl).then(function (r) { return r.json(); }).then(function (data) {
    var counts = data.features.map(function (f) { return f.properties.count; });
    var top = Math.max.apply(null, counts.concat([1]));
    var layer = L.geoJSON(data, {
      style: function (f) { return {color: "#333", weight: 0.5, fillOpacity: 0.6, fillColor: colour(f.properties.count, top)}; },
      onEachFeature: function (f, l) { l.bindTooltip(countLabel.replace("%(count)s", String(f.properties.count))); }
    }).addTo(map);
    if (data.features.length) {
      map.fitBounds(layer.getBounds(), {maxZoom: 14});
      legend(Math.min.apply(null, counts), top).addTo(map);
    }
    element.dataset.cells = String(data.features.length);
  });
})();
