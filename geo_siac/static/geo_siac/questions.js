/* Shows the extra questions of the category chosen in the select named by #category-questions
   (reports/questions.html), on the citizen's page and in the operator console alike. */
(function () {
  "use strict";
  var container = document.getElementById("category-questions");
  var select = document.getElementById(container.dataset.categorySelect);
  function show() {
    container.querySelectorAll(".questions").forEach(function (block) {
      block.hidden = block.dataset.category !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
})();
