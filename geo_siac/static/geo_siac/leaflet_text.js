/* Leaflet's control titles in the page's language (Leaflet only has English): the template that loads this script,
   right after leaflet.js, gives the text in its data attributes. */
(function () {
  "use strict";
  var text = document.currentScript.dataset;
  L.Control.Zoom.prototype.options.zoomInTitle = text.zoomIn;
  L.Control.Zoom.prototype.options.zoomOutTitle = text.zoomOut;
}());
