(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var map = L.map("transparency-map").setView([-33.55, -70.56], 11);
  var countLabel = document.getElementById("transparency-map").dataset.countLabel;  // "11 solicitudes", not a bare "11"
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, {maxZoom: 18, attribution: "&copy; OpenStreetMap"}).addTo(map);
  }
  function colour(count, top) {
    var t = Math.sqrt(count / top);
    return t > 0.75 ? "#7a0177" : t > 0.5 ? "#c51b8a" : t > 0.25 ? "#f768a1" : "#fbb4b9";
  }
  fetch(config.cellsUrl).then(function (r) { return r.json(); }).then(function (data) {
    var top = Math.max.apply(null, data.features.map(function (f) { return f.properties.count; }).concat([1]));
    var layer = L.geoJSON(data, {
      style: function (f) { return {color: "#333", weight: 0.5, fillOpacity: 0.6, fillColor: colour(f.properties.count, top)}; },
      onEachFeature: function (f, l) { l.bindTooltip(countLabel.replace("%(count)s", String(f.properties.count))); }
    }).addTo(map);
    if (data.features.length) { map.fitBounds(layer.getBounds(), {maxZoom: 14}); }
    document.getElementById("transparency-map").dataset.cells = String(data.features.length);
  });
})();
