/* The error summary (templates/_error_summary.html): focused as the page loads, so the next Tab or the screen reader
   starts from the problems; a link moves the focus to its field and shows the field's label above it. */
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.hash.slice(1));
    if (!field) { return; }
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']") || field.closest("fieldset") || field;
    label.scrollIntoView();
    field.focus({preventScroll: true});
    var box = field.getBoundingClientRect();
    // A tall label or a sticky header can leave the field itself partly out of view.
    if (box.top < 0 || box.bottom > window.innerHeight) { field.scrollIntoView({block: "nearest"}); }
  });
})();
