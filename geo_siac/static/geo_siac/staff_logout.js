// Logging out clears this device of the crew app's data (docs/crews.md, "Clearing it"): the service worker's caches
// and the outbox. Never a change not yet sent: while one is pending the logout waits and offers to send it first.
(function () {
  "use strict";
  var form = document.getElementById("logout-form");
  var outbox = window.GeoSiacOutbox;
  if (!form || !outbox || !("indexedDB" in window) || !("caches" in window)) { return; }
  var warning = document.getElementById("logout-warning");
  var msg = form.dataset;

  function pending() {
    return outbox.all().then(function (changes) {
      return changes.filter(function (c) { return c.state === "pending"; }).length;
    });
  }

  function clearPhone() {
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("geo-siac-crew-") === 0; })
        .map(function (n) { return caches.delete(n); }));
    }).then(outbox.clear);
  }

  function logOut() {
    form.dataset.cleared = "1";
    form.submit();
  }

  function warn(text) {
    warning.querySelector("p").textContent = text;
    warning.hidden = false;
  }

  // An outbox that cannot be read cannot be cleared either: the logout goes ahead and deletes nothing.
  function leave() {
    return pending().then(function (count) {
      if (count) { return warn(msg.msgPending.replace("%(count)s", String(count))); }
      form.dataset.leaving = "1";  // the crew page then neither reloads nor keeps copies again (crew_offline.js)
      return clearPhone().then(logOut, logOut);
    }, logOut);
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.cleared) { return; }
    event.preventDefault();
    leave();
  });

  document.getElementById("logout-send").addEventListener("click", function () {
    outbox.flush().then(pending).then(function (count) {
      return count ? warn(msg.msgUnsent) : leave();
    });
  });
})();
