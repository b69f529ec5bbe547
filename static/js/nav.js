// The menu groups are <details> and work without this; it only closes a group when another
// opens, on a click elsewhere and on Escape, as people expect of a menu.
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
})();
