// The crew app's outbox: changes recorded on the phone (IndexedDB), sent one at a time in the order they were made
// to /cuadrilla/api/acciones/. Loaded by the pages and by the service worker (Background Sync); both may send the
// same change at once, which is harmless: the server applies each key once and answers a replay with the first result.
(function (scope) {
  "use strict";
  var DB_NAME = "geo-siac-crew";
  var STORE = "outbox";
  var ENDPOINT = "/cuadrilla/api/acciones/";

  function database() {
    return new Promise(function (resolve, reject) {
      var request = scope.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function add(change) {
    change.state = "pending";
    change.recordedAt = new Date().toISOString();
    return run("readwrite", function (store) { return store.add(change); });
  }

  function all() {
    return run("readonly", function (store) { return store.getAll(); });
  }

  function put(change) {
    return run("readwrite", function (store) { return store.put(change); });
  }

  function remove(id) {
    return run("readwrite", function (store) { return store.delete(id); });
  }

  function clear() {
    return run("readwrite", function (store) { return store.clear(); });
  }

  function body(change) {
    var form = new FormData();
    Object.keys(change.fields).forEach(function (name) { form.append(name, change.fields[name]); });
    (change.photos || []).forEach(function (photo) { form.append("photos", photo.blob, photo.name); });
    form.append("complete", "1");  // last: the server refuses a body cut before it
    return form;
  }

  // One change sent: "applied", "held" (a conflict or refused; kept to explain), or "" when it must wait for the network.
  function send(change) {
    return fetch(ENDPOINT, {
      method: "POST", body: body(change), credentials: "same-origin",
      headers: { "X-CSRFToken": change.csrf, "Accept": "application/json" },
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json || [200, 400, 409].indexOf(response.status) < 0) {
        return "";  // the login page, a server error: try again later, with the same key
      }
      return response.json().then(function (answer) {
        if (response.status === 200) {
          return remove(change.id).then(function () { return "applied"; });
        }
        change.state = response.status === 409 ? "conflict" : "error";
        change.answer = answer;
        return put(change).then(function () { return "held"; });
      });
    }, function () { return ""; });
  }

  var flushing = null;

  // Every pending change, oldest first; stops at the first that cannot reach the server, so the order holds. Answers
  // how many the server applied and how many it held ({applied, held}): only the first are "Cambios enviados".
  function flush() {
    if (flushing) { return flushing; }
    flushing = all().then(function (changes) {
      var pending = changes.filter(function (c) { return c.state === "pending"; });
      var counts = { applied: 0, held: 0 };
      function next(index) {
        if (index >= pending.length) { return counts; }
        return send(pending[index]).then(function (answer) {
          if (!answer) { return counts; }
          counts[answer] += 1;
          return next(index + 1);
        });
      }
      return next(0);
    }).finally(function () { flushing = null; });
    return flushing;
  }

  scope.GeoSiacOutbox = { add: add, all: all, remove: remove, clear: clear, flush: flush };
})(self);
