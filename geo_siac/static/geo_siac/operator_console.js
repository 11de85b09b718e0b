// The operator console map: the served comunas outlined and named, the place search (place_search.js), the pin
// placed by a found place, a click or typed coordinates (the map pans to it) and described ("cerca de ..."), and the
// open reports of the category nearby.
(function () {
  const places = window.GeoSiacPlaceSearch;
  const centre = JSON.parse(document.getElementById("map-centre").textContent);
  const tileUrl = JSON.parse(document.getElementById("tile-url").textContent);
  const communes = JSON.parse(document.getElementById("communes-geojson").textContent);
  const mapElement = document.getElementById("operator-map");
  const map = L.map(mapElement).setView(centre, 14);
  const tiles = tileUrl ? L.tileLayer(tileUrl, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map) : null;
  places.communes(map, communes, { style: { color: "#0b4f6c", weight: 2, fillOpacity: 0.03 }, interactive: false });
  places.names(map, tiles);
  window.geoSiacOperatorMap = map;  // lets browser tests read where the map is
  const lat = document.getElementById("id_latitude"), lng = document.getElementById("id_longitude");
  const category = document.getElementById("id_category"), nearby = document.getElementById("nearby");
  const near = document.getElementById("place-near");
  let marker = null;
  function typedPoint() {
    const at = [parseFloat(lat.value.replace(",", ".")), parseFloat(lng.value.replace(",", "."))];
    return isFinite(at[0]) && isFinite(at[1]) ? at : null;
  }
  function place(pan) {
    const at = typedPoint();
    if (!at) { return; }
    marker = marker ? marker.setLatLng(at) : L.marker(at).addTo(map);
    if (pan) { map.panTo(at); }
    places.describe(L.latLng(at[0], at[1]), near);
    if (!category.value) { return; }
    const params = new URLSearchParams({ lat: at[0], lng: at[1], category: category.value });
    fetch(mapElement.dataset.nearbyUrl + "?" + params).then(function (r) { return r.json(); }).then(function (data) {
      nearby.textContent = "";
      (data.reports || []).forEach(function (r) {
        const p = document.createElement("p");
        p.textContent = mapElement.dataset.duplicateLabel + ": " + r.tracking_code + " · " + r.status + " " + r.address;
        nearby.appendChild(p);
      });
    });
  }
  map.on("click", function (e) { lat.value = e.latlng.lat.toFixed(6); lng.value = e.latlng.lng.toFixed(6); place(false); });
  [lat, lng].forEach(function (el) { el.addEventListener("change", function () { place(true); }); });
  category.addEventListener("change", function () { place(false); });
  // The pick's label fills the address the crew reads (place_search.js), unless the operator typed one.
  places.attach(function (found) {
    lat.value = found.lat.toFixed(6);
    lng.value = found.lng.toFixed(6);
    map.setView([found.lat, found.lng], 17);
    place(false);
  });
  place(true);
})();

// The request kind: a service request is placed on the map; any other kind hides the map step and offers only
// its own topics (report_create refuses a topic of another kind anyway).
(function () {
  const kind = document.getElementById("id_kind");
  if (!kind) { return; }
  const kinds = JSON.parse(document.getElementById("category-kinds").textContent);
  const category = document.getElementById("id_category");
  const placeParts = [document.getElementById("place-search"), document.getElementById("place-near"),
    document.getElementById("operator-map"), document.getElementById("map-step-help"),
    document.querySelector('[data-field="latitude"]'), document.querySelector('[data-field="longitude"]'),
    document.querySelector('[data-field="address"]'), document.getElementById("nearby")];
  function apply() {
    const withPlace = kind.value === "service_request";
    placeParts.forEach(function (el) { if (el) { el.hidden = !withPlace; } });
    document.querySelector('[data-field="commune"]').hidden = withPlace;
    Array.prototype.forEach.call(category.options, function (option) {
      option.hidden = option.value !== "" && kinds[option.value] !== kind.value;
    });
    if (category.selectedOptions.length && category.selectedOptions[0].hidden) { category.value = ""; }
    if (withPlace && window.geoSiacOperatorMap) { window.geoSiacOperatorMap.invalidateSize(); }
  }
  kind.addEventListener("change", apply);
  apply();
})();
