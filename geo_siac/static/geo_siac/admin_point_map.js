/* The admin's point map (zones.admin, gis/geo_siac_point_map.html): the served comunas outlined and named, so a pin
   can be placed with no tile server; the map fitted to the chosen comuna; the pin and the latitude/longitude fields
   kept in step, so typing coordinates moves the pin and a click fills them. */
(function () {
  "use strict";
  var DIGITS = 6;  // about 10 cm: more than a service point's door needs

  function outlineLayer(map, geojson) {
    var format = new ol.format.GeoJSON();
    var source = new ol.source.Vector({
      features: format.readFeatures(geojson, {featureProjection: map.getView().getProjection()}),
    });
    var layer = new ol.layer.Vector({
      source: source,
      style: function (feature) {
        return new ol.style.Style({
          stroke: new ol.style.Stroke({color: "#0b4f6c", width: 2}),
          fill: new ol.style.Fill({color: "rgba(11, 79, 108, 0.06)"}),
          text: new ol.style.Text({
            text: feature.get("name"), font: "bold 14px sans-serif", overflow: true,
            fill: new ol.style.Fill({color: "#0b4f6c"}), stroke: new ol.style.Stroke({color: "#fff", width: 3}),
          }),
        });
      },
    });
    map.getLayers().insertAt(1, layer);
    return source;
  }

  function setUp(entry) {
    var widget = entry.widget;
    var map = widget.map;
    var projection = map.getView().getProjection();
    var source = outlineLayer(map, JSON.parse(document.getElementById(entry.outlines).textContent));
    // OpenLayers' default dot is hard to find over the outlines at a comuna's zoom.
    widget.featureOverlay.setStyle(new ol.style.Style({
      image: new ol.style.Circle({
        radius: 9, fill: new ol.style.Fill({color: "#c0392b"}), stroke: new ol.style.Stroke({color: "#fff", width: 3}),
      }),
    }));
    var textarea = document.getElementById(widget.options.id);
    var lat = document.getElementById("id_latitude");
    var lng = document.getElementById("id_longitude");
    var commune = document.getElementById("id_commune");

    // The chosen comuna (every one before a choice) and the pin, if any: a pin saved or refused outside its comuna
    // is shown with the outline it missed.
    function fitTo(pk) {
      var shown = source.getFeatures().filter(function (f) { return String(f.get("id")) === String(pk); });
      var extent = ol.extent.clone(shown.length ? shown[0].getGeometry().getExtent() : source.getExtent());
      widget.featureCollection.getArray().forEach(function (feature) {
        ol.extent.extend(extent, feature.getGeometry().getExtent());
      });
      if (!ol.extent.isEmpty(extent)) { map.getView().fit(extent, {padding: [30, 30, 30, 30], maxZoom: 16}); }
    }
    fitTo(commune && commune.value);
    if (commune) {
      commune.addEventListener("change", function () { if (!textarea.value) { fitTo(commune.value); } });
    }
    if (!lat || !lng) { return; }

    function fillFields() {
      var features = widget.featureCollection.getArray();
      if (!features.length) { return; }
      var xy = ol.proj.toLonLat(features[0].getGeometry().getCoordinates(), projection);
      lng.value = xy[0].toFixed(DIGITS);
      lat.value = xy[1].toFixed(DIGITS);
    }
    function movePin() {
      var y = parseFloat(lat.value.replace(",", ".")), x = parseFloat(lng.value.replace(",", "."));
      if (!isFinite(x) || !isFinite(y) || Math.abs(y) > 90 || Math.abs(x) > 180) { return; }
      var at = ol.proj.fromLonLat([x, y], projection);
      var features = widget.featureCollection.getArray();
      if (features.length) {
        features[0].getGeometry().setCoordinates(at);
      } else {
        widget.featureCollection.push(new ol.Feature({geometry: new ol.geom.Point(at)}));
      }
      map.getView().setCenter(at);
    }
    widget.featureCollection.on("add", function (event) {
      event.element.on("change", fillFields);
      fillFields();
    });
    widget.featureCollection.on("remove", function () { lat.value = lng.value = ""; });
    widget.featureCollection.getArray().forEach(function (feature) { feature.on("change", fillFields); });
    lat.addEventListener("change", movePin);
    lng.addEventListener("change", movePin);
  }

  document.addEventListener("DOMContentLoaded", function () {
    (window.geoSiacPointMaps || []).forEach(setUp);
  });
})();
