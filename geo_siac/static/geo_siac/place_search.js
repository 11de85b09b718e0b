/* Finding the place by its name, shared by the report page and the operator console (templates/_place_search.html):
   the search box (an ARIA combobox over /api/geocode/), "cerca de ..." for the pin (/api/geocode/reverse/), the
   comunas named on the map, and, when there are no tiles, the gazetteer's places and streets named in the view. */
window.GeoSiacPlaceSearch = (function () {
  "use strict";
  var root = document.getElementById("place-search");
  var text = root.dataset;
  var DEBOUNCE_MS = 250;
  var MIN_CHARACTERS = 3;
  // Names only once a few streets fill the view: zoomed out they would cover the map (and the API refuses wide boxes).
  var NAMES_MIN_ZOOM = 15;
  var NAMES_MAX_DEGREES = 0.08;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_all, name) { return values[name]; });
  }

  function label(content, className) {
    // Names come from imported files: text, never markup (Leaflet sets a string tooltip as HTML).
    var span = document.createElement("span");
    span.textContent = content;
    if (className) { span.className = className; }
    return span;
  }

  /* The search box: suggestions while typing (one request per pause), up/down to move, Enter or a tap to pick;
     onPick receives {lat, lng, label}. The pick's label (with the typed house number) fills the page's address field
     (#id_address) unless one was typed there, and how far the pin may be from it is said under the box. */
  function attach(onPick) {
    var input = document.getElementById("place-search-input");
    var list = document.getElementById("place-search-list");
    var status = document.getElementById("place-search-status");
    var none = document.getElementById("place-search-none");
    var toMap = document.getElementById("place-search-to-map");
    var note = document.getElementById("place-search-note");
    var address = document.getElementById("id_address");
    var places = [], shownFor = null, active = -1, timer = null, pending = null;

    // A whole street or a house number the gazetteer does not hold is never shown as a precise match.
    function approximation(properties) {
      if (properties.precision === "number_approximate") { return text.numberApproximate; }
      if (properties.precision === "number_unknown") { return text.numberUnknown; }
      return properties.kind === "street" ? text.wholeStreet : "";
    }

    // A name the search does not know: said in view, with the map offered instead (a list of unlike names is not).
    function notFound(query) {
      none.hidden = query === null;
      document.getElementById("place-search-none-text").textContent = query === null ? ""
        : format(text.noResults, {q: query});
    }
    toMap.addEventListener("click", function () {
      var map = document.getElementById(toMap.dataset.map);
      map.scrollIntoView({block: "center"});
      map.focus({preventScroll: true});
    });

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index < 0) { input.removeAttribute("aria-activedescendant"); return; }
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({block: "nearest"});
    }

    // A street offered for a house number it has no known number near: what was typed is the citizen's address.
    function numberUnknown(properties) { return properties.precision === "number_unknown"; }

    function pick(index) {
      var place = places[index];
      var typed = numberUnknown(place.properties) ? shownFor : null;
      input.value = typed || place.properties.label;
      close();
      note.textContent = approximation(place.properties);
      // Typed, the address stays; filled by an earlier pick, it follows the pin (a wrong pick's label would stay). A
      // whole street is no address: the pin goes to the block, and the report keeps what is near it.
      if (address && (!address.value.trim() || address.value === address.dataset.filled)) {
        var filled = typed || (place.properties.kind === "street" ? "" : place.properties.label);
        address.value = filled;
        address.dataset.filled = filled;
      }
      onPick({lat: place.geometry.coordinates[1], lng: place.geometry.coordinates[0], label: place.properties.label});
    }

    function show(features, query) {
      places = features;
      shownFor = query;
      list.replaceChildren();
      features.forEach(function (feature, i) {
        var option = document.createElement("li");
        option.id = "place-option-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(label(numberUnknown(feature.properties)
          ? format(text.streetNoNumber, {street: feature.properties.label}) : feature.properties.label,
          "place-label-text"));
        option.appendChild(label((text["kind" + feature.properties.kind.charAt(0).toUpperCase() +
          feature.properties.kind.slice(1)] || "") + " · " + feature.properties.comuna, "place-detail"));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keeps the focus
        option.addEventListener("click", function () { pick(i); });
        list.appendChild(option);
      });
      list.hidden = !features.length;
      input.setAttribute("aria-expanded", features.length ? "true" : "false");
      active = -1;
      notFound(features.length ? null : query);
      status.textContent = !features.length ? format(text.noResults, {q: query})
        : features.length === 1 ? text.oneResult : format(text.results, {n: features.length});
    }

    // pickFirst: Enter was pressed before the answer to what is in the box had come; it picks its first answer.
    function search(pickFirst) {
      var query = input.value.trim();
      if (pending) { pending.abort(); }
      if (query.length < MIN_CHARACTERS) { close(); notFound(null); status.textContent = ""; return; }
      pending = new AbortController();
      fetch(text.searchUrl + "?" + new URLSearchParams({q: query, limit: 8}), {signal: pending.signal})
        .then(function (response) {
          if (response.status === 429) { throw new Error(text.tooMany); }
          if (!response.ok) { throw new Error(text.failed); }
          return response.json();
        })
        .then(function (data) {
          show(data.features, query);
          // Keys typed while the answer came make it an answer to an earlier text.
          if (pickFirst && data.features.length && query === input.value.trim()) { pick(0); }
        })
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          close();
          notFound(null);
          status.textContent = error.message;
        });
    }

    input.addEventListener("input", function () {
      note.textContent = "";
      // A suggestion highlighted for the text before this key is no answer to it.
      highlight(-1);
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!places.length) { return; }
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + places.length) % places.length);
      } else if (event.key === "Enter") {
        event.preventDefault();  // Enter in the box searches or picks; it never sends the report form
        // Suggestions for what was typed before the last keys ("Avenida Grecia" while "8000" waits for the pause)
        // are not picked: the typed number would be lost.
        var current = shownFor === input.value.trim();
        if (open && current && active >= 0) {
          pick(active);
        } else if (open && current && places.length) {
          pick(0);
        } else {
          clearTimeout(timer);
          search(true);
        }
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  /* "cerca de Av. X / Esq. Y" for the pin, in `element`; only the answer for the latest point is shown. */
  var asked = 0, described = "";
  function describe(latlng, element) {
    var point = {lat: latlng.lat.toFixed(6), lon: latlng.lng.toFixed(6)};
    if (point.lat + "," + point.lon === described) { return; }
    described = point.lat + "," + point.lon;
    var ask = ++asked;
    fetch(text.reverseUrl + "?" + new URLSearchParams(point))
      .then(function (response) { return response.ok ? response.json() : {features: []}; })
      .then(function (data) {
        if (ask !== asked) { return; }
        element.textContent = data.features.length ? data.features[0].properties.description : text.nowhere;
      })
      .catch(function () { if (ask === asked) { element.textContent = ""; } });
  }

  /* The served comunas, outlined and named; `options` are L.geoJSON's (style, interactive). */
  function communes(map, geojson, options) {
    return L.geoJSON(geojson, Object.assign({}, options, {
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(label(feature.properties.name), {permanent: true, direction: "center",
                                                           className: "commune-label"});
      },
    })).addTo(map);
  }

  /* The gazetteer's places and streets named in the view, when the map has no tiles or its tile server cannot be
     reached (no tile has loaded and one has failed). */
  function names(map, tiles) {
    var layer = L.layerGroup().addTo(map);
    var wanted = !tiles, tileLoaded = false, timer = null, asked = 0;
    if (tiles) {
      tiles.on("tileload", function () { tileLoaded = true; });
      tiles.on("tileerror", function () {
        if (!tileLoaded && !wanted) { wanted = true; refresh(); }
      });
    }
    function draw(features) {
      layer.clearLayers();
      features.forEach(function (feature) {
        var at = [feature.geometry.coordinates[1], feature.geometry.coordinates[0]];
        var place = feature.properties.kind === "place";
        L.circleMarker(at, {radius: place ? 4 : 0, weight: 1, color: "#5a4a00", fillColor: "#f2a900",
                            fillOpacity: 1, opacity: place ? 1 : 0, interactive: false})
          .bindTooltip(label(feature.properties.label), {permanent: true, direction: place ? "auto" : "center",
                                                         className: place ? "map-place-label" : "map-street-label"})
          .addTo(layer);
      });
      declutter();
    }
    // Two streets of one corner share a point: a label that would overlap one already shown (places come first)
    // is hidden, as a tiled map would drop it.
    function declutter() {
      var shown = [];
      layer.eachLayer(function (marker) {
        var element = marker.getTooltip().getElement();
        var box = element.getBoundingClientRect();
        var overlaps = shown.some(function (other) {
          return box.left < other.right && other.left < box.right && box.top < other.bottom && other.top < box.bottom;
        });
        element.style.visibility = overlaps ? "hidden" : "";
        if (!overlaps) { shown.push(box); }
      });
    }
    function refresh() {
      var box = map.getBounds(), ask = ++asked;
      if (!wanted || map.getZoom() < NAMES_MIN_ZOOM || box.getEast() - box.getWest() > NAMES_MAX_DEGREES ||
          box.getNorth() - box.getSouth() > NAMES_MAX_DEGREES) {
        layer.clearLayers();
        return;
      }
      var bbox = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map(function (v) {
        return v.toFixed(5);
      }).join(",");
      fetch(text.placesUrl + "?" + new URLSearchParams({bbox: bbox}))
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && ask === asked) { draw(data.features); } })
        .catch(function () {});
    }
    map.on("moveend", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, DEBOUNCE_MS);
    });
    refresh();
    return layer;
  }

  return {attach: attach, describe: describe, communes: communes, names: names};
})();
