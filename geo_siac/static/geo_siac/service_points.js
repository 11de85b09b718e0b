(function () {
  "use strict";
  var script = document.currentScript;
  var points = JSON.parse(document.getElementById("points-data").textContent);
  var map = L.map("points-map").setView([-33.55, -70.56], 11);
  if (script.dataset.tileUrl) {
    L.tileLayer(script.dataset.tileUrl, {maxZoom: 18, attribution: "&copy; OpenStreetMap"}).addTo(map);
  }
  var markers = points.map(function (p) {
    var link = document.createElement("a");  // names are shown as text, never parsed as markup
    link.href = p.url;
    link.textContent = p.name;
    return L.marker([p.lat, p.lng], {title: p.name, alt: p.name}).bindPopup(link);
  });
  if (markers.length) {
    var group = L.featureGroup(markers).addTo(map);
    map.fitBounds(group.getBounds(), {maxZoom: 15, padding: [20, 20]});
  }
  var button = document.getElementById("near-me");
  button.addEventListener("click", function () {
    var status = document.getElementById("near-status");
    if (!navigator.geolocation) { status.textContent = script.dataset.noLocation; return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("id_lat").value = position.coords.latitude.toFixed(6);
      document.getElementById("id_lng").value = position.coords.longitude.toFixed(6);
      document.getElementById("near-form").submit();
    }, function () { status.textContent = script.dataset.noLocation; }, {timeout: 10000});
  });
})();
