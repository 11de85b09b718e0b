// The planners' "Imprimir" buttons (maps/heatmap.html, maps/coverage.html): shown only where script runs, as
// only script can print; the print stylesheet (site.css, @media print, .map-print) leaves the navigation and forms out.
(function () {
  "use strict";

  // What the print stylesheet keys on (site.css, @media print).
  if (document.querySelector("button[data-print]")) document.documentElement.classList.add("map-print");

  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
