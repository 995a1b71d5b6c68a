// reconciler dashboard: fetch server-rendered fragments with the API key kept in sessionStorage,
// navigate by location.hash, and approve through the API. No framework, nothing from a CDN.
(function () {
  "use strict";
  var STORE = "reconciler.apiKey";
  var app = document.getElementById("app");
  var flash = document.getElementById("flash");
  var keyStatus = document.getElementById("key-status");

  function key() { return sessionStorage.getItem(STORE) || ""; }
  function say(text, bad) {
    flash.innerHTML = "";
    var p = document.createElement("p");
    p.textContent = text;
    if (bad) { p.className = "bad"; }
    flash.appendChild(p);
  }
  function request(method, url, body) {
    var init = { method: method, headers: { "Authorization": "Bearer " + key() } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init);
  }
  function errorOf(response) {
    return response.json().then(function (b) { return (b.error && b.error.message) || response.statusText; },
                                function () { return response.statusText; });
  }
  function route() {
    if (!key()) { keyStatus.textContent = "no key"; return Promise.resolve(); }
    var path = (location.hash || "#/overview").slice(1);
    return request("GET", "/ui" + path).then(function (response) {
      if (!response.ok) {
        return errorOf(response).then(function (message) { say(message, true); });
      }
      keyStatus.textContent = "key " + (response.headers.get("X-Key-Name") || "") + " (" +
        (response.headers.get("X-Key-Scope") || "?") + ")";
      return response.text().then(function (html) { app.innerHTML = html; app.setAttribute("data-loaded", path); });
    });
  }
  function approve(button) {
    var release = button.getAttribute("data-approve");
    button.disabled = true;
    request("POST", "/api/v1/releases/" + encodeURIComponent(release) + "/approve",
            { reason: "approved in the dashboard" }).then(function (response) {
      if (!response.ok) {
        return errorOf(response).then(function (message) { say("Not approved: " + message, true); button.disabled = false; });
      }
      return response.json().then(function (b) {
        var a = b.approval;
        say("Approved " + a.deployment + " " + a.version + " in " + a.environment + " as " + a.actor +
            "; the next apply deploys it.");
        return route();
      });
    });
  }
  document.getElementById("key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("key-input");
    if (input.value) { sessionStorage.setItem(STORE, input.value.trim()); input.value = ""; }
    flash.innerHTML = "";
    route();
  });
  document.getElementById("forget-key").addEventListener("click", function () {
    sessionStorage.removeItem(STORE);
    location.reload();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-approve]");
    if (button) { event.preventDefault(); approve(button); }
  });
  window.addEventListener("hashchange", route);
  route();
}());
