// The planners' "Imprimir" buttons (maps/heatmap.html, maps/coverage.html): shown only where script runs, as
// only script can print; the print stylesheet (site.css, @media print) leaves the navigation and forms out.
(function () {
  "use strict";

  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
