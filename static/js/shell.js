// Small helps for the page shell; every page works without them.
// 1. The menu groups are <details>: close a group when another opens, on a click elsewhere and
//    on Escape, as people expect of a menu.
// 2. A table wider than the screen scrolls inside its .table-wrap: make that region reachable
//    by keyboard and name it, and mark it so the CSS can hint that more columns follow.
(function () {
  "use strict";
  function groups() { return document.querySelectorAll("details[data-nav-group]"); }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details[data-nav-group]") || !opened.open) return;
    groups().forEach(function (g) { if (g !== opened) g.open = false; });
  }, true);
  document.addEventListener("click", function (event) {
    groups().forEach(function (g) { if (g.open && !g.contains(event.target)) g.open = false; });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    groups().forEach(function (g) {
      if (g.open) { g.open = false; g.querySelector("summary").focus(); }
    });
  });
  function markScrollers(root) {
    (root || document).querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("is-scrollable", scrolls);
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        var heading = wrap.closest("section") && wrap.closest("section").querySelector("h2, h3");
        wrap.setAttribute("aria-label", (heading ? heading.textContent.trim() + ": " : "") + "table, scrolls sideways");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { markScrollers(); });
  document.addEventListener("htmx:afterSettle", function (event) { markScrollers(event.target.parentNode || document); });
  window.addEventListener("resize", function () { markScrollers(); });
})();
