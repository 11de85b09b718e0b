// On a phone the staff pages' links fold behind their "Menú" button, so the page's own content starts near the top.
// Without this script the button stays hidden and the links show as a wrapped list (site.css): nothing is out of reach.
(function () {
  "use strict";
  var nav = document.querySelector(".staff-nav");
  var button = document.getElementById("staff-menu-button");
  if (!nav || !button) { return; }

  function show(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("menu-open", open);
  }

  nav.classList.add("folds");
  show(false);
  button.addEventListener("click", function () { show(button.getAttribute("aria-expanded") !== "true"); });
  nav.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && nav.classList.contains("menu-open")) {
      show(false);
      button.focus();
    }
  });
}());
