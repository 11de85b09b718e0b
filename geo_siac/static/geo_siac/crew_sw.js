// The crew app's service worker, served at /cuadrilla/sw.js (docs/crews.md, "The offline app"). Crew pages: network
// first, the last copy when offline; static files and photos: cache first (their names change with their content);
// base-layer tiles the crew has seen: cache first, the newest MAX_TILES kept.
"use strict";
importScripts("OUTBOX_SCRIPT_URL");

var PAGES = "geo-siac-crew-pages-v1";
var FILES = "geo-siac-crew-files-v1";
var TILES = "geo-siac-crew-tiles-v1";
var KEPT = [PAGES, FILES, TILES];
var MAX_TILES = 2000;
var MEDIA = /(?:src|href)="(\/media\/[^"]+)"/g;

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf("geo-siac-crew-") === 0 && KEPT.indexOf(n) < 0; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function keep(cacheName, request, response) {
  // Only a page the server really gave: never a redirect to the login page or an error.
  if (response.ok || response.type === "opaque") {
    var copy = response.clone();
    caches.open(cacheName).then(function (cache) { return cache.put(request, copy); });
  }
  return response;
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    return response.type === "basic" ? keep(PAGES, request, response) : response;
  }, function () {
    return caches.match(request, { cacheName: PAGES, ignoreVary: true }).then(function (cached) {
      return cached || Response.error();
    });
  });
}

function cacheFirst(cacheName, request) {
  return caches.match(request, { cacheName: cacheName, ignoreVary: true }).then(function (cached) {
    return cached || fetch(request).then(function (response) { return keep(cacheName, request, response); });
  });
}

function trimTiles() {
  return caches.open(TILES).then(function (cache) {
    return cache.keys().then(function (keys) {
      return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_TILES)).map(function (k) { return cache.delete(k); }));
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin === self.location.origin) {
    if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/media/") === 0) {
      event.respondWith(cacheFirst(FILES, request));
    } else if (request.mode === "navigate" && url.pathname.indexOf("/cuadrilla/") === 0) {
      event.respondWith(networkFirst(request));
    }
  } else if (request.destination === "image") {
    event.respondWith(cacheFirst(TILES, request).then(function (response) { trimTiles(); return response; }));
  }
});

// A page asks for its own copy, its files, and its reports' pages (with their photos) to be kept for offline use.
function store(urls) {
  return caches.open(PAGES).then(function (pages) {
    return Promise.all(urls.pages.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok || response.redirected) { return; }
        return response.clone().text().then(function (html) {
          var media = [];
          var match;
          while ((match = MEDIA.exec(html)) !== null) { media.push(match[1]); }
          return Promise.all([pages.put(url, response), caches.open(FILES).then(function (files) {
            return files.addAll(media.filter(function (m, i) { return media.indexOf(m) === i; }));
          })]);
        });
      }).catch(function () { return undefined; });
    }));
  }).then(function () {
    return caches.open(FILES).then(function (files) {
      return Promise.all(urls.files.map(function (url) {
        return files.match(url).then(function (hit) { return hit || files.add(url).catch(function () { return undefined; }); });
      }));
    });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "store") {
    event.waitUntil(store(data).then(function () { event.ports[0].postMessage("stored"); }));
  } else if (data.type === "clear") {
    event.waitUntil(Promise.all(KEPT.map(function (n) { return caches.delete(n); }))
      .then(function () { event.ports[0].postMessage("cleared"); }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === "crew-outbox") {
    // The open crew pages are told, so they draw the report's new status (their own flush finds nothing left).
    event.waitUntil(self.GeoSiacOutbox.flush().then(function (answered) {
      if (!answered.applied && !answered.held) { return; }
      return self.clients.matchAll({ type: "window" }).then(function (clients) {
        clients.forEach(function (client) { client.postMessage({ type: "sent", count: answered.applied }); });
      });
    }));
  }
});
