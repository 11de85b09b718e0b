// The crew's zones and open reports, coloured like the list's badges.
(function () {
  const data = JSON.parse(document.getElementById("map-data").textContent);
  const tileUrl = JSON.parse(document.getElementById("tile-url").textContent);
  const colours = { on_time: "#2e7d32", due_soon: "#b26a00", overdue: "#c62828" };
  // Leaflet needs a view before vector layers are added; fitBounds below replaces it.
  const map = L.map("crew-map").setView([-33.6117, -70.5758], 13);
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  }
  const layers = [];
  data.zones.forEach(function (zone) {
    layers.push(L.geoJSON(zone.geometry, { style: { color: "#0b4f6c", weight: 2, fillOpacity: 0.05 } })
      .bindTooltip(zone.name).addTo(map));
  });
  data.reports.forEach(function (report) {
    const marker = L.circleMarker([report.lat, report.lng], {
      radius: 9, color: "#fff", weight: 2, fillColor: colours[report.state], fillOpacity: 0.95,
      className: "report-marker report-" + report.state,
    }).bindPopup('<a href="' + report.url + '">' + report.label + "</a>").addTo(map);
    layers.push(marker);
  });
  const group = L.featureGroup(layers);
  if (layers.length) {
    map.fitBounds(group.getBounds(), { padding: [20, 20] });
  }
})();
