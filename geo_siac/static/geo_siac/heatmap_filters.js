// The heat map's lists of checkboxes (maps/heatmap.html): "Marcar todas" / "Desmarcar todas" for each list, and
// its line of ticked boxes kept current as boxes change. The texts come from the template's data attributes; a
// screen reader hears only the count (a list of 18 names read at every tick would drown the page).
(function () {
  "use strict";

  document.querySelectorAll(".choice-list").forEach(function (list) {
    var boxes = Array.prototype.slice.call(list.querySelectorAll("input[type=checkbox]"));
    var line = list.querySelector(".ticked");
    var count = list.querySelector(".ticked-count");

    function update() {
      var ticked = boxes.filter(function (box) { return box.checked; });
      if (!ticked.length) line.textContent = count.textContent = line.dataset.none;
      else if (ticked.length === boxes.length) line.textContent = count.textContent = line.dataset.all;
      else {
        line.textContent = line.dataset.some + " " + ticked.map(function (box) {
          return box.parentNode.textContent.trim();
        }).join(", ");
        count.textContent = count.dataset.count
          .replace("%(n)s", ticked.length).replace("%(total)s", boxes.length);
      }
    }

    list.querySelectorAll("button[data-tick]").forEach(function (button) {
      button.addEventListener("click", function () {
        boxes.forEach(function (box) { box.checked = button.dataset.tick === "all"; });
        update();
      });
    });
    list.querySelector(".choice-actions").hidden = false;
    list.addEventListener("change", update);
  });
})();
