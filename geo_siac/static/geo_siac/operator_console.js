// The operator console map: place the pin by click or typed coordinates, and show open reports nearby.
(function () {
  const centre = JSON.parse(document.getElementById("map-centre").textContent);
  const tileUrl = JSON.parse(document.getElementById("tile-url").textContent);
  const mapElement = document.getElementById("operator-map");
  const map = L.map(mapElement).setView(centre, 14);
  if (tileUrl) { L.tileLayer(tileUrl, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map); }
  const lat = document.getElementById("id_latitude"), lng = document.getElementById("id_longitude");
  const category = document.getElementById("id_category"), nearby = document.getElementById("nearby");
  let marker = null;
  function place() {
    if (!lat.value || !lng.value) { return; }
    const at = [parseFloat(lat.value), parseFloat(lng.value)];
    marker = marker ? marker.setLatLng(at) : L.marker(at).addTo(map);
    if (!category.value) { return; }
    const params = new URLSearchParams({ lat: lat.value, lng: lng.value, category: category.value });
    fetch(mapElement.dataset.nearbyUrl + "?" + params).then(function (r) { return r.json(); }).then(function (data) {
      nearby.textContent = "";
      (data.reports || []).forEach(function (r) {
        const p = document.createElement("p");
        p.textContent = mapElement.dataset.duplicateLabel + ": " + r.tracking_code + " · " + r.status + " " + r.address;
        nearby.appendChild(p);
      });
    });
  }
  map.on("click", function (e) { lat.value = e.latlng.lat.toFixed(6); lng.value = e.latlng.lng.toFixed(6); place(); });
  [lat, lng, category].forEach(function (el) { el.addEventListener("change", place); });
  place();
})();
