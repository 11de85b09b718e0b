/* A citizen form's photo (reports/_photo_field.html): one larger than the server's limit is said at once and taken
   off the form, so it is never sent (an 11 MB photo took a phone's upload before the server refused it). */
(function () {
  "use strict";
  var input = document.getElementById("id_photo");
  var error = document.getElementById("error-photo");
  var again = document.getElementById("photo-again");
  var MB = 1024 * 1024;
  var decimals = new Intl.NumberFormat(document.documentElement.lang || undefined, {maximumFractionDigits: 1});

  input.addEventListener("change", function () {
    var file = input.files[0];
    var tooLarge = Boolean(file) && file.size > Number(input.dataset.maxBytes);
    // Rounded up: a photo 1 KB over a 10 MB limit must not read "pesa 10 MB y el máximo es 10 MB".
    error.textContent = !tooLarge ? "" : input.dataset.tooLarge
      .replace("%(size)s", decimals.format(Math.ceil(file.size / MB * 10) / 10))
      .replace("%(max)s", input.dataset.maxMb);
    if (tooLarge) {
      input.value = "";
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
    if (file && !tooLarge && again) {  // chosen again: the request to do so is done
      again.hidden = true;
      input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "")
        .split(" ").filter(function (id) { return id && id !== "photo-again"; }).join(" "));
    }
  });
})();
