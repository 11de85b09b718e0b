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
  // The one place that says the connection and the outbox (docs/crews.md): at the top, read out once when it changes.
  var bar = document.getElementById("offline-bar");
  var SENT = "geo-siac-crew-sent";  // what a reload after sending says, for the page it reloads into
  var flashed = "";
  var flashTimer = null;
  var MAX_SIDE = 1600;  // the server re-encodes anyway; a phone's 12 MP photo would take minutes on a weak signal

  var shown = [];  // the report keys the page last showed as waiting: gone from the outbox, someone else sent them

  // Said in the bar for a few seconds ("Cambios enviados"), then faded out, before the bar goes back to the state.
  function say(text) {
    flashed = text;
    bar.classList.remove("fading");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () {
      bar.classList.add("fading");
      flashTimer = setTimeout(function () { flashed = ""; bar.classList.remove("fading"); render(); }, 400);
    }, Number(msg.flash));
    return render();
  }

  function showState(changes) {
    var pending = changes.filter(function (c) { return c.state === "pending"; }).length;
    var held = changes.length - pending;
    var parts = [flashed, navigator.onLine ? "" : msg.msgOffline,
      pending === 1 ? msg.msgPendingOne : pending ? msg.msgPendingMany.replace("%(count)s", String(pending)) : "",
      held ? msg.msgHeld.replace("%(count)s", String(held)) : ""];
    var text = parts.filter(Boolean).join(" ");
    if (held) { text += " (" + msg.msgHeldLink + ")."; }
    if (bar.textContent !== text) {  // the same words again are not read out again
      bar.textContent = parts.filter(Boolean).join(" ");
      if (held) {  // the list of what was not applied is at the foot of a long page: a link there
        var link = document.createElement("a");
        link.href = "#pending-section";
        link.textContent = msg.msgHeldLink;
        bar.append(" (", link, ").");
      }
    }
    bar.classList.toggle("warn", !navigator.onLine || changes.length > 0);  // amber while anything waits or was held
    // Only "Cambios enviados" to say: drawn over the page, so the page does not jump when it fades out.
    var over = text !== "" && text === flashed;
    bar.style.marginBottom = over ? -bar.getBoundingClientRect().height + "px" : "";
    // Beside a report's status, on its page and its queue row: the newest change it is waiting to send.
    document.querySelectorAll("[data-pending-for]").forEach(function (label) {
      var waiting = changes.filter(function (c) { return c.state === "pending" && c.report === label.dataset.pendingFor; });
      var last = waiting[waiting.length - 1];
      var said = !last ? "" : " · " + (last.fields.kind === "return" ? msg.msgPendingReturn
        : msg.msgPendingStatus.replace("%(status)s", last.label));
      if (label.textContent !== said) { label.textContent = said; }
    });
  }

  function showAge() {
    var generated = new Date(msg.generatedAt);
    var minutes = Math.max(0, Math.round((Date.now() - generated.getTime()) / 60000));
    var time = generated.toLocaleString(document.documentElement.lang || "es-CL",
      { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });  // 00-23 as the history
    document.getElementById("data-age").textContent = msg.msgAge.replace("%(time)s", time)
      .replace("%(minutes)s", String(minutes));
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
      var kept = changes.map(function (c) { return c.fields.key; });  // a held change stays, to be explained
      var gone = shown.filter(function (key) { return kept.indexOf(key) < 0; });
      shown = changes.filter(function (c) { return c.state === "pending"; }).map(function (c) { return c.fields.key; });
      if (gone.length && navigator.onLine && !flushing) { return refresh(gone.length); }  // sent by the worker
      list.replaceChildren.apply(list, changes.map(describe));
      document.getElementById("pending-section").hidden = changes.length === 0;
      showState(changes);
      showAge();
    });
  }

  // What the crew has put in the page's forms, to tell whether someone is typing (hidden fields are the page's own).
  function entered() {
    return JSON.stringify(Array.prototype.map.call(document.querySelectorAll("main form"), function (form) {
      return Array.prototype.filter.call(form.elements, function (f) { return f.name && f.type !== "hidden"; })
        .map(function (f) { return [f.checked, f.value, f.files ? f.files.length : 0]; });
    }));
  }
  var untouched = entered();

  // Logging out clears the phone and leaves (staff_logout.js): a reload or a kept copy then would undo it.
  function leaving() { return document.querySelector("#logout-form[data-leaving]") !== null; }

  // Sent: the page shows the report's status before the change, so it is drawn again. Reloaded when nothing is being
  // typed; otherwise the server's current status, history and version token are copied in and the forms are left be.
  function refresh(sent) {
    var text = msg.msgSent.replace("%(count)s", String(sent));
    if (leaving()) { return render(); }
    return fetch(location.href, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (!response.ok || response.redirected) { return false; }  // no longer this crew's (a conflict): the list says why
      var active = document.activeElement;
      var writing = active && active.matches("main form textarea, main form input:not([type=hidden]):not([type=checkbox])"
        + ":not([type=file]):not([type=submit])");
      if (leaving()) { return true; }
      if (entered() === untouched && !writing) {
        sessionStorage.setItem(SENT, text);
        location.reload();
        return true;
      }
      return response.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["report-status", "history", "state-counts", "report-list"].forEach(function (id) {
          var here = document.getElementById(id);
          var there = fresh.getElementById(id);
          if (here && there) { here.innerHTML = there.innerHTML; }
        });
        document.querySelectorAll("main form[id] input[name=seen]").forEach(function (seen) {
          var there = fresh.querySelector("#" + seen.form.id + " input[name=seen]");
          if (there) { seen.value = there.value; }
        });
        var freshApp = fresh.getElementById("offline-app");
        if (freshApp && freshApp.dataset.seen) { app.dataset.seen = freshApp.dataset.seen; }
        var select = document.querySelector("#status-form select[name=status]");
        var freshSelect = fresh.querySelector("#status-form select[name=status]");
        if (select && freshSelect) {  // the statuses the report can go to now; the chosen one kept if still offered
          var chosen = select.value;
          select.replaceChildren.apply(select, Array.prototype.map.call(freshSelect.options, function (o) {
            return document.importNode(o, true);
          }));
          select.value = Array.prototype.some.call(select.options, function (o) { return o.value === chosen; }) ? chosen : "";
        } else if (select) {
          text += " " + msg.msgNoStatus;  // closed, or no longer this crew's: the form on the page would be refused
        }
        navigator.serviceWorker.ready.then(function (registration) {  // the copy kept for offline is this one now
          registration.active.postMessage({ type: "store", pages: [location.pathname + location.search], files: [] });
        });
        return false;
      });
    }).catch(function () { return false; }).then(function (reloading) {
      return reloading ? undefined : say(text);
    });
  }

  var flushing = false;

  function flush() {
    if (!navigator.onLine) { return render(); }
    flushing = true;
    return outbox.flush().then(function (answered) {
      return outbox.all().then(function (changes) {
        shown = changes.filter(function (c) { return c.state === "pending"; }).map(function (c) { return c.fields.key; });
        flushing = false;
        return answered.applied ? refresh(answered.applied) : render();
      });
    }, function () { flushing = false; return render(); });
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
      shown = [];  // cleared, not sent
      return outbox.clear().then(function () { return navigator.serviceWorker.ready; }).then(function (registration) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { say(msg.msgCleared); render(); };
        registration.active.postMessage({ type: "clear" }, [channel.port2]);
      });
    });
  });

  // The worker's Background Sync sent the outbox first: the page's own flush finds nothing, so the worker says so.
  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type !== "sent") { return; }
    outbox.all().then(function (changes) {
      shown = changes.filter(function (c) { return c.state === "pending"; }).map(function (c) { return c.fields.key; });
      return data.count ? refresh(data.count) : render();
    });
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", render);
  var reloaded = sessionStorage.getItem(SENT);
  if (reloaded) {
    sessionStorage.removeItem(SENT);
    say(reloaded);
  }
  navigator.serviceWorker.register(msg.sw, { scope: msg.scope });
  if (navigator.onLine) { navigator.serviceWorker.ready.then(keepForOffline); }
  flush();
})();
