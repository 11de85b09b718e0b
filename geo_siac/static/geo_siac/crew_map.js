// The crew pages' maps: the queue's zones and open reports, coloured like the list's badges, and the report page's
// pin. One file for both, so the file the queue kept for offline use serves the report page too.
(function () {
  // Offline, without Leaflet (a file never kept) or without tiles (a pin on a blank square guides no one), the
  // report page keeps its place in words and its buttons. One finger scrolls the page on a phone, not the map.
  function reportMap(element) {
    if (!navigator.onLine || typeof L === "undefined" || !element.dataset.tiles) { return; }
    const point = [Number(element.dataset.lat), Number(element.dataset.lng)];
    element.hidden = false;
    const map = L.map(element, { scrollWheelZoom: false, dragging: !L.Browser.mobile }).setView(point, 17);
    L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
    L.marker(point, { title: element.dataset.label, alt: element.dataset.label }).addTo(map);
  }

  const pin = document.getElementById("crew-report-map");
  if (pin) { reportMap(pin); }
  if (!document.getElementById("crew-map")) { return; }

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
