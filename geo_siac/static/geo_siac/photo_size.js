/* A citizen form's photo (reports/_photo_field.html): one larger than the server's limit is said at once and taken
   off the form, so it is never sent (an 11 MB photo took a phone's upload before the server refused it). */
(function () {
  "use strict";
  var input = document.getElementById("id_photo");
  var error = document.getElementById("error-photo");
  var MB = 1024 * 1024;
  var decimals = new Intl.NumberFormat(document.documentElement.lang || undefined, {maximumFractionDigits: 1});

  input.addEventListener("change", function () {
    var file = input.files[0];
    var tooLarge = Boolean(file) && file.size > Number(input.dataset.maxBytes);
    error.textContent = !tooLarge ? "" : input.dataset.tooLarge
      .replace("%(size)s", decimals.format(file.size / MB)).replace("%(max)s", input.dataset.maxMb);
    if (tooLarge) {
      input.value = "";
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  });
})();
