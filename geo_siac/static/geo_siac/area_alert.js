/* The area alert form's map: the served comunas and a draggable pin, synced with the latitude/longitude fields,
   with the chosen radius drawn around it; the centre can be found by a street or place name (place_search.js). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var communes = JSON.parse(document.getElementById("communes-geojson").textContent);
  var latInput = document.getElementById("id_lat");
  var lngInput = document.getElementById("id_long");
  var radiusSelect = document.getElementById("id_radius");
  var circleChoice = document.querySelector("input[name=kind][value=circle]");
  var places = window.GeoSiacPlaceSearch;
  var near = document.getElementById("place-near");

  var map = L.map("map", {maxZoom: 19});
  window.geoSiacMap = map;  // lets browser tests turn coordinates into clicks
  var tiles = null;
  if (config.tileUrl) {
    tiles = L.tileLayer(config.tileUrl, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  }
  var boundary = places.communes(map, communes, {style: {color: "#0b4f6c", weight: 2, fillOpacity: 0.05}});
  map.fitBounds(boundary.getBounds());
  places.names(map, tiles);
  var marker = null;
  var circle = null;

  function place(latlng, fromFields) {
    if (!marker) {
      marker = L.marker(latlng, {draggable: true, keyboard: true}).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), false); });
      circle = L.circle(latlng, {radius: +radiusSelect.value, color: "#0b4f6c", weight: 1}).addTo(map);
    }
    marker.setLatLng(latlng);
    circle.setLatLng(latlng);
    if (!fromFields) {
      latInput.value = latlng.lat.toFixed(6);
      lngInput.value = latlng.lng.toFixed(6);
      if (circleChoice) circleChoice.checked = true;
    }
    places.describe(latlng, near);
  }

  function fieldsLatLng() {
    var lat = parseFloat(latInput.value.replace(",", "."));
    var lng = parseFloat(lngInput.value.replace(",", "."));
    return isFinite(lat) && isFinite(lng) ? L.latLng(lat, lng) : null;
  }

  map.on("click", function (event) { place(event.latlng, false); });
  places.attach(function (found) {
    var latlng = L.latLng(found.lat, found.lng);
    place(latlng, false);
    map.fitBounds(circle.getBounds(), {padding: [8, 8]});  // the whole area the alert will cover
  });
  [latInput, lngInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var latlng = fieldsLatLng();
      if (latlng) { place(latlng, true); map.panTo(latlng); }
    });
  });
  radiusSelect.addEventListener("change", function () { if (circle) circle.setRadius(+radiusSelect.value); });
  if (fieldsLatLng()) place(fieldsLatLng(), true);
})();
