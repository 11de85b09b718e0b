// The crew pages as an offline app (docs/crews.md, "The offline app"): registers the service worker and asks it to
// keep this page, its files and its reports' pages; records the status and hand-back forms in the outbox when there is
// no network; lists the changes on this device; sends them when the network returns.
(function () {
  "use strict";
  // The reply to the citizen (docs/crews.md, "The reply to the citizen"): required for the statuses of
  // states.PUBLIC_TEXT_REQUIRED, so an offline change is not queued without it. A resolution starts with the category's
  // template and a closing status with nothing (a resolution's text would tell the wrong thing); "Respuesta tipo"
  // copies a template's text (filled on the server, carried by its option) into the box. What the box shows is sent.
  var publicBox = document.querySelector("#status-form textarea[name=public_note]");
  if (publicBox) {
    var statusForm = publicBox.form;
    var templates = statusForm.querySelector("#id_response");
    var needs = publicBox.dataset.requiredFor.split(" ");
    var filled = "";  // what this script last put in the box; a box the crew edited is never overwritten
    var fill = function (text) { publicBox.value = text; filled = text; };
    var checkPublic = function () {
      var needed = needs.indexOf(statusForm.elements.status.value) !== -1;
      publicBox.setCustomValidity(needed && !publicBox.value.trim() ? publicBox.dataset.requiredMessage : "");
    };
    statusForm.elements.status.addEventListener("change", function () {
      if (publicBox.value === filled) {
        var resolving = statusForm.elements.status.value === publicBox.dataset.prefillFor;
        var start = resolving && templates ? templates.querySelector("option[data-default]") : null;
        fill(start ? start.dataset.text : "");
        if (templates) { templates.value = start ? start.value : ""; }
      }
      checkPublic();
    });
    if (templates) {
      templates.addEventListener("change", function () {
        var option = templates.options[templates.selectedIndex];
        if (option.dataset.text !== undefined) { fill(option.dataset.text); }
        checkPublic();
      });
    }
    publicBox.addEventListener("input", checkPublic);
    statusForm.addEventListener("reset", function () { filled = ""; setTimeout(checkPublic); });
    checkPublic();
  }
  var app = document.getElementById("offline-app");
  if (!app || !("serviceWorker" in navigator) || !("indexedDB" in window)) { return; }
  var outbox = window.GeoSiacOutbox;
  var msg = app.dataset;
  var list = document.getElementById("pending-changes");
  var notice = document.getElementById("offline-notice");
  var MAX_SIDE = 1600;  // the server re-encodes anyway; a phone's 12 MP photo would take minutes on a weak signal

  // Read out by its aria-live; brought into view only right after a tap (record), never while someone may be typing.
  function say(text) {
    notice.textContent = text;
  }

  function showAge() {
    var generated = new Date(msg.generatedAt);
    var minutes = Math.max(0, Math.round((Date.now() - generated.getTime()) / 60000));
    var time = generated.toLocaleString(document.documentElement.lang || "es-CL",
      { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });  // 00-23 as the history
    var text = msg.msgAge.replace("%(time)s", time).replace("%(minutes)s", String(minutes));
    document.getElementById("data-age").textContent = (navigator.onLine ? "" : msg.msgOffline + " ") + text;
  }

  function describe(change) {
    var item = document.createElement("li");
    item.className = "pending-" + change.state;
    var text = change.report + " · " + change.label;
    if (change.state === "pending") {
      text += " · " + msg.msgPending;
    } else if (change.state === "conflict") {
      text += " · " + msg.msgConflict + ": " + change.answer.happened + " " + change.answer.kept;
    } else {
      text += " · " + msg.msgError + ": " + Object.keys(change.answer.errors).map(function (field) {
        return change.answer.errors[field].join(" ");
      }).join(" ");
    }
    item.appendChild(document.createTextNode(text));
    if (change.state !== "pending") {
      var dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "secondary";
      dismiss.textContent = msg.msgDismiss;
      dismiss.addEventListener("click", function () { outbox.remove(change.id).then(render); });
      item.appendChild(document.createTextNode(" "));
      item.appendChild(dismiss);
    }
    return item;
  }

  function render() {
    return outbox.all().then(function (changes) {
      list.replaceChildren.apply(list, changes.map(describe));
      document.getElementById("pending-section").hidden = changes.length === 0;
      showAge();
    });
  }

  function flush() {
    if (!navigator.onLine) { return render(); }
    return outbox.flush().then(function (sent) {
      // A report's page still shows the status it had before: say so, rather than let it pass for the current one.
      if (sent) {
        say(msg.msgSent.replace("%(count)s", String(sent)) + (app.dataset.report ? " " + msg.msgStale : ""));
      }
      return render();
    });
  }

  function resized(file) {
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); });
    }).then(function (blob) {
      return { blob: blob, name: file.name.replace(/\.[^.]*$/, "") + ".jpg" };
    }, function () {
      return { blob: file, name: file.name };  // not an image the phone can read: the server says why
    });
  }

  function position() {
    var wanted = document.getElementById("record-location");
    if (!wanted || !wanted.checked || !navigator.geolocation) { return Promise.resolve({}); }
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ latitude: p.coords.latitude.toFixed(6), longitude: p.coords.longitude.toFixed(6),
                  accuracy: p.coords.accuracy.toFixed(1) });
      }, function () { resolve({}); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  function record(form) {
    var data = new FormData(form);
    var kind = form.dataset.offline;
    var fields = { key: crypto.randomUUID(), kind: kind, seen: app.dataset.seen,
                   note: String(data.get(kind === "return" ? "reason" : "note") || "") };
    var label = msg.msgReturn;
    if (kind === "status") {
      fields.status = String(data.get("status") || "");
      fields.public_note = String(data.get("public_note") || "");
      var select = form.querySelector("[name=status]");
      label = select.options[select.selectedIndex].text;
    }
    var files = data.getAll("photos").filter(function (f) { return f && f.size; });
    return Promise.all([Promise.all(files.map(resized)), position()]).then(function (results) {
      Object.assign(fields, results[1]);
      return outbox.add({ report: app.dataset.report, label: label, fields: fields, photos: results[0],
                          csrf: String(data.get("csrfmiddlewaretoken")) });
    }).then(function () {
      form.reset();
      say(msg.msgRecorded);
      notice.scrollIntoView({ block: "center" });  // at the foot of the page, far below the button just tapped
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.sync ? registration.sync.register("crew-outbox").catch(function () {}) : undefined;
      });
    }).then(render);
  }

  // Online, the form posts as usual and the server answers on the page; with "Registrar dónde trabajé" ticked, once
  // the phone has given its position (or refused to).
  function postLocated(form) {
    return position().then(function (where) {
      ["latitude", "longitude", "accuracy"].forEach(function (name) { form.elements[name].value = where[name] || ""; });
      form.dataset.located = "1";
      form.submit();
    });
  }

  document.querySelectorAll("form[data-offline]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) {
        var wanted = document.getElementById("record-location");
        if (wanted && wanted.checked && form.elements.latitude && !form.dataset.located) {
          event.preventDefault();
          postLocated(form);
        }
        return;
      }
      event.preventDefault();
      record(form);
    });
  });

  function keepForOffline(registration) {
    var here = location.pathname + location.search;
    var pages = [here].concat(Array.prototype.map.call(document.querySelectorAll("#report-list a[href]"),
      function (a) { return a.getAttribute("href"); }));
    var files = performance.getEntriesByType("resource").map(function (e) { return e.name; })
      .filter(function (url) { return url.indexOf(location.origin + "/static/") === 0; });
    var channel = new MessageChannel();
    channel.port1.onmessage = function () { document.documentElement.dataset.offlineReady = "1"; };
    registration.active.postMessage({ type: "store", pages: pages, files: files }, [channel.port2]);
  }

  document.getElementById("clear-offline").addEventListener("click", function () {
    outbox.all().then(function (changes) {
      if (changes.some(function (c) { return c.state === "pending"; }) && !window.confirm(msg.msgClearConfirm)) { return; }
      return outbox.clear().then(function () { return navigator.serviceWorker.ready; }).then(function (registration) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { say(msg.msgCleared); render(); };
        registration.active.postMessage({ type: "clear" }, [channel.port2]);
      });
    });
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", showAge);
  navigator.serviceWorker.register(msg.sw, { scope: msg.scope });
  if (navigator.onLine) { navigator.serviceWorker.ready.then(keepForOffline); }
  flush();
})();
