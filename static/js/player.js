/* CoursePlayer video: resume at the saved position, report the position every ~10 s and on
   pause/ended. The server turns position/duration into percent and decides completion; with
   htmx loaded it answers with the watched line plus the header, progress bar and outline out
   of band, so a completion shows everywhere at once (plain JSON otherwise). */
(function () {
  "use strict";

  var INTERVAL_MS = 10000;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) return meta.getAttribute("content");
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      return headers["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function swapStatus(html) {
    // htmx.swap applies the hx-swap-oob parts too (header, progress bar, outline).
    window.htmx.swap("#video-status", html, { swapStyle: "outerHTML" });
  }

  function showStatus(video, data) {
    var box = video.parentNode.querySelector("[data-video-status]");
    if (!box || !data) return;
    box.textContent = data.status === "completed" ? "\u2713 Watched." : "Watched so far: " + data.percent + "%.";
  }

  function bind(video) {
    if (video.getAttribute("data-bound")) return;
    video.setAttribute("data-bound", "1");
    var url = video.getAttribute("data-progress-url");
    var start = parseFloat(video.getAttribute("data-position") || "0") || 0;
    var lastSent = 0;
    var sending = false;
    var again = false;

    function resume() {
      if (start > 0 && isFinite(video.duration) && start < video.duration - 1) {
        video.currentTime = start;
      }
    }

    function send() {
      if (!url || !isFinite(video.duration) || video.duration <= 0) return;
      if (sending) { again = true; return; }
      sending = true;
      lastSent = Date.now();
      var body = new URLSearchParams();
      body.set("position", video.currentTime.toFixed(1));
      body.set("duration", video.duration.toFixed(1));
      var html = !!(window.htmx && window.htmx.swap);
      var headers = { "X-CSRFToken": csrfToken() };
      if (html) headers["HX-Request"] = "true";
      fetch(url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        keepalive: true,
        headers: headers
      })
        .then(function (resp) {
          if (!resp.ok) return null;
          return html ? resp.text().then(swapStatus) : resp.json().then(function (data) { showStatus(video, data); });
        })
        .catch(function () { /* offline: the next report catches up */ })
        .then(function () {
          sending = false;
          if (again) { again = false; send(); }
        });
    }

    if (video.readyState >= 1) resume();
    else video.addEventListener("loadedmetadata", resume, { once: true });
    video.addEventListener("timeupdate", function () {
      if (!video.paused && Date.now() - lastSent >= INTERVAL_MS) send();
    });
    video.addEventListener("pause", send);
    video.addEventListener("ended", send);
  }

  function init(root) {
    var videos = (root || document).querySelectorAll("video[data-progress-url]");
    for (var i = 0; i < videos.length; i++) bind(videos[i]);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (evt) { init(evt.target); });
})();
