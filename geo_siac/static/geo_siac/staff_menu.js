// On a phone the staff pages' links fold behind "Menú", a <details> that opens and closes without this script (the
// open menu then pushes the page down). With it the menu opens over the page (site.css, .folds), so it closes once
// focus or a tap goes elsewhere, or on Escape: nothing it covers can be reached while it covers it.
(function () {
  "use strict";
  var nav = document.querySelector(".staff-nav");
  var menu = document.getElementById("staff-menu");
  if (!nav || !menu) { return; }
  var summary = menu.querySelector("summary");

  nav.classList.add("folds");
  nav.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      summary.focus();
    }
  });
  nav.addEventListener("focusout", function (event) {
    if (event.relatedTarget && !nav.contains(event.relatedTarget)) { menu.open = false; }
  });
  document.addEventListener("click", function (event) {
    if (!nav.contains(event.target)) { menu.open = false; }
  });
}());
