/* The report page's map: the served comunas named, the place search (place_search.js), a draggable pin synced with
   the latitude/longitude fields and described ("cerca de ..."), "use my location", the open reports already made
   around the pin (clustered) and those of the same category nearby. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var communes = JSON.parse(document.getElementById("communes-geojson").textContent);
  var places = window.GeoSiacPlaceSearch;
  var latInput = document.getElementById("id_lat");
  var lngInput = document.getElementById("id_long");
  var categorySelect = document.getElementById("id_service_code");
  var locationError = document.getElementById("error-location");
  var placeInput = document.getElementById("place-search-input");
  var near = document.getElementById("place-near");
  var nearbySummary = document.getElementById("nearby-summary");
  // A missing place opens the coordinates for a browser without scripts; here the search and the map work instead.
  var coordsForNoScript = document.querySelector(".coords-details[data-fold-with-script]");
  if (coordsForNoScript) { coordsForNoScript.open = false; }

  var map = L.map("map", {maxZoom: 19});  // the clusters need it when there is no tile layer to give it
  window.geoSiacMap = map;  // lets browser tests and the console turn coordinates into clicks
  var tiles = null;
  if (config.tileUrl) {
    tiles = L.tileLayer(config.tileUrl, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
  }
  var boundary = places.communes(map, communes, {style: {color: "#0b4f6c", weight: 2, fillOpacity: 0.05}});
  var shown = boundary.getLayers().filter(function (layer) { return layer.feature.properties.cut === config.commune; });
  map.fitBounds((shown.length ? shown[0] : boundary).getBounds());
  places.names(map, tiles);
  // Clusters drawn like the reports they hold, so a group reads as "already reported" too.
  var reported = L.markerClusterGroup({
    showCoverageOnHover: false, maxClusterRadius: 40,
    iconCreateFunction: function (cluster) {
      var count = document.createElement("span");
      count.textContent = cluster.getChildCount();
      var name = document.createElement("span");
      name.className = "visually-hidden";
      name.textContent = " " + config.reportedHere;  // what a screen reader says of the group, not just its number
      var icon = document.createElement("span");
      icon.append(count, name);
      return L.divIcon({className: "reported-icon reported-cluster", iconSize: [30, 30], html: icon});
    },
  }).addTo(map);
  var marker = null;
  // The server's refusal of the pin sent ("... La más cercana es Peñalolén, a 8,9 km.") stays beside the field as
  // in the error summary, until the pin moves; only that refusal: "Falta el lugar" is no message for a pin outside.
  var opened = fieldsLatLng();
  var refusedOutside = opened && !inside(opened) ? locationError.textContent.trim() : "";

  function inside(latlng) {
    var point = [latlng.lng, latlng.lat];
    return communes.features.some(function (feature) {
      var g = feature.geometry;
      var polygons = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
      return polygons.some(function (rings) {
        return ringContains(rings[0], point) && !rings.slice(1).some(function (hole) { return ringContains(hole, point); });
      });
    });
  }

  function ringContains(ring, p) {
    var hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) hit = !hit;
    }
    return hit;
  }

  // The place's message and its search box's invalid state change together ("" clears both).
  function setLocationError(message) {
    locationError.textContent = message;
    if (message) {
      placeInput.setAttribute("aria-invalid", "true");
    } else {
      placeInput.removeAttribute("aria-invalid");
    }
  }

  function place(latlng, fromFields) {
    if (!marker) {
      marker = L.marker(latlng, {draggable: true, keyboard: true, zIndexOffset: 1000}).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), false); });
    } else {
      marker.setLatLng(latlng);
    }
    if (!fromFields) {
      latInput.value = latlng.lat.toFixed(6);
      lngInput.value = latlng.lng.toFixed(6);
    }
    var served = inside(latlng);
    setLocationError(served ? "" : refusedOutside || config.outsideMessage);
    if (served) {
      places.describe(latlng, near);
    } else {
      near.textContent = "";
    }
    showReported(latlng);
    checkDuplicates();
  }

  places.attach(function (found) {
    var latlng = L.latLng(found.lat, found.lng);
    place(latlng, false);
    map.setView(latlng, 17);
  });

  function reportedPopup(properties) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = config.alreadyReported;
    box.appendChild(title);
    var what = document.createElement("p");
    what.textContent = properties.category + " · " + properties.status + " · " + properties.created_at;
    box.appendChild(what);
    if (properties.url) {
      var link = document.createElement("a");
      link.href = properties.url;
      link.textContent = config.followThisOne;
      box.appendChild(link);
    } else {
      var note = document.createElement("p");
      note.textContent = config.approximate;
      box.appendChild(note);
    }
    return box;
  }

  var reportedAsked = 0;
  function showReported(latlng) {
    var ask = ++reportedAsked;
    var query = new URLSearchParams({lat: latlng.lat.toFixed(6), lon: latlng.lng.toFixed(6)});
    fetch(config.nearbyUrl + "?" + query).then(function (response) { return response.json(); }).then(function (data) {
      if (ask !== reportedAsked) { return; }
      reported.clearLayers();
      (data.features || []).forEach(function (feature) {
        var at = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
        var icon = L.divIcon({className: "reported-icon" + (feature.properties.exact ? "" : " approximate"),
                              iconSize: [22, 22], html: "!"});
        reported.addLayer(L.marker(at, {icon: icon, keyboard: true,
                                        title: config.alreadyReported + ": " + feature.properties.category})
          // Clear of the zoom buttons, and narrow enough for a phone's map.
          .bindPopup(reportedPopup(feature.properties), {maxWidth: 210, autoPanPaddingTopLeft: L.point(50, 20), autoPanPaddingBottomRight: L.point(20, 10)}));
      });
      var count = (data.features || []).length;
      nearbySummary.textContent = !count ? "" : count === 1 ? config.nearbyOne
        : config.nearbyMany.replace("%(n)s", count);
    });
  }

  function fieldsLatLng() {
    var lat = parseFloat(latInput.value.replace(",", "."));
    var lng = parseFloat(lngInput.value.replace(",", "."));
    return isFinite(lat) && isFinite(lng) ? L.latLng(lat, lng) : null;
  }

  map.on("click", function (event) { place(event.latlng, false); });
  [latInput, lngInput].forEach(function (input) {
    input.addEventListener("change", function () {
      var latlng = fieldsLatLng();
      if (latlng) { place(latlng, true); map.panTo(latlng); }
    });
  });
  if (fieldsLatLng()) place(fieldsLatLng(), true);
  refusedOutside = "";  // said once, for the pin the page opened with

  document.getElementById("use-location").addEventListener("click", function () {
    if (!navigator.geolocation) { setLocationError(config.locationError); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      var latlng = L.latLng(position.coords.latitude, position.coords.longitude);
      place(latlng, false);
      map.setView(latlng, 17);
    }, function () { setLocationError(config.locationError); });
  });

  categorySelect.addEventListener("change", checkDuplicates);

  function checkDuplicates() {
    var latlng = fieldsLatLng();
    var section = document.getElementById("duplicates");
    if (!latlng || !categorySelect.value) { section.hidden = true; return; }
    var query = new URLSearchParams({category: categorySelect.value, latitude: latlng.lat, longitude: latlng.lng});
    fetch(config.duplicatesUrl + "?" + query).then(function (response) { return response.json(); }).then(function (data) {
      var list = document.getElementById("duplicates-list");
      list.replaceChildren();
      (data.results || []).forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.category + " · " + item.status + " · " + item.created_at + " · " +
          config.distanceLabel.replace("%(m)s", item.distance_m) + " ";
        var link = document.createElement("a");
        link.href = item.url + "#seguir";
        link.textContent = config.followLabel;
        li.appendChild(link);
        list.appendChild(li);
      });
      section.hidden = !(data.results && data.results.length);
    });
  }
})();
