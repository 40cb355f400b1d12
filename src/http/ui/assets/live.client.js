// A memory page's live update: on each change event of its agent or shared repository, fetch the page's memory
// section again and put it in place. Served as a file (the CSP allows no inline script).
"use strict";
(function () {
  var main = document.getElementById("content");
  var events = main && main.getAttribute("data-live-events");
  var refresh = main && main.getAttribute("data-live-refresh");
  if (!events || !refresh || typeof EventSource === "undefined") return;
  var status = document.getElementById("live-status");
  var loading = false;
  var again = false;

  function show(text, state) {
    if (!status) return;
    status.textContent = text;
    status.setAttribute("data-state", state);
  }

  function reload() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    fetch(refresh, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var section = new DOMParser().parseFromString(html, "text/html").getElementById("memory");
        var current = document.getElementById("memory");
        if (section && current) current.replaceWith(document.adoptNode(section));
        show("Live: updated at " + new Date().toLocaleTimeString() + ".", "up");
      })
      .catch(function () {
        show("Live: could not load the change; reload the page.", "down");
      })
      .finally(function () {
        loading = false;
        if (again) {
          again = false;
          reload();
        }
      });
  }

  var source = new EventSource(events);
  source.onmessage = reload;
  source.addEventListener("change", reload);
  source.addEventListener("resync", reload);
  source.onopen = function () {
    show("Live: changes appear here as they are pushed.", "up");
  };
  source.onerror = function () {
    show("Live: reconnecting…", "down");
  };
})();
