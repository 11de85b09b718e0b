// The crew's zones and open reports, coloured like the list's badges.
(function () {
  const data = JSON.parse(document.getElementById("map-data").textContent);
  const tileUrl = JSON.parse(document.getElementById("tile-url").textContent);
  const colours = { on_time: "#2e7d32", due_soon: "#b26a00", overdue: "#c62828" };
  const layers = [];
  // Leaflet sets a string tooltip or popup as HTML; zone names come from imported GIS files and labels hold
  // category names, so they go in as text nodes, never as markup.
  function text(tag, value) {
    const element = document.createElement(tag);
    element.textContent = value;
    return element;
  }
  data.zones.forEach(function (zone) {
    layers.push(L.geoJSON(zone.geometry, { style: { color: "#0b4f6c", weight: 2, fillOpacity: 0.05 } })
      .bindTooltip(text("span", zone.name)));
  });
  data.reports.forEach(function (report) {
    layers.push(L.circleMarker([report.lat, report.lng], {
      radius: 9, color: "#fff", weight: 2, fillColor: colours[report.state], fillOpacity: 0.95,
      className: "report-marker report-" + report.state,
    }).bindPopup(function () {
      const link = text("a", report.label);
      link.href = report.url;
      return link;
    }));
  });
  // Leaflet needs a view before vector layers are added to the map.
  const map = L.map("crew-map").setView(data.centre, 13);
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  }
  if (layers.length) {
    const group = L.featureGroup(layers).addTo(map);
    map.fitBounds(group.getBounds(), { padding: [20, 20] });
  }
})();
