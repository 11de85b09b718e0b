/* Leaflet finds its default marker's images from the name of leaflet.css, which carries a hash in production
   (collectstatic): the page names them instead (templates/_leaflet.html). */
(function () {
  "use strict";
  var urls = document.currentScript.dataset;
  L.Icon.Default.imagePath = "";
  L.Icon.Default.mergeOptions({iconUrl: urls.icon, iconRetinaUrl: urls.retina, shadowUrl: urls.shadow});
})();
