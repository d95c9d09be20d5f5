// Keyboard navigation for the queue and the case page: j/k move, Enter opens, a approves,
// r rejects (focuses the reason field), g goes to the queue. Forms still work without it.
// `a` presses the row's own Approve button: for an ERP posting that button opens the
// confirmation page (and the server refuses an unconfirmed posting), so `a` never posts one.
(function () {
  "use strict";
  var current = null;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-nav-row]")); }

  function select(row) {
    if (current) current.classList.remove("current");
    current = row;
    if (!row) return;
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
    try { sessionStorage.setItem("triage-nav", row.getAttribute("data-id") || ""); } catch (e) { /* private mode */ }
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var i = all.indexOf(current);
    select(all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))]);
  }

  function restore() {
    var all = rows(), id = null;
    try { id = sessionStorage.getItem("triage-nav"); } catch (e) { /* private mode */ }
    var found = all.filter(function (r) { return id && r.getAttribute("data-id") === id; })[0];
    var pending = all.filter(function (r) { return r.querySelector("[data-key-approve]"); })[0];
    current = null;
    if (found || pending || all.length) select(found || pending || all[0]);
  }

  function focusReject() {
    var hash = decodeURIComponent(location.hash.slice(1));
    if (hash.indexOf("reject-") !== 0) return;
    var form = document.getElementById(hash);
    var input = form && form.querySelector("[data-key-reason]");
    if (input) { select(form.closest("[data-nav-row]")); input.focus(); }
  }

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (key === "j") { move(1); }
    else if (key === "k") { move(-1); }
    else if (key === "g") { location.href = "/ui/queue"; }
    else if (key === "Enter" && current && current.getAttribute("data-href")) { location.href = current.getAttribute("data-href"); }
    else if (key === "a" && current) {
      var approve = current.querySelector("[data-key-approve]");
      if (approve) approve.click(); else return;
    } else if (key === "r" && current) {
      var reason = current.querySelector("[data-key-reason]");
      var link = current.querySelector("[data-key-reject]");
      if (reason) reason.focus(); else if (link) location.href = link.getAttribute("href"); else return;
    } else { return; }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", restore);
  // After load: the browser's own scroll to the #fragment would otherwise take the focus back.
  window.addEventListener("load", function () { setTimeout(focusReject, 0); });
  document.addEventListener("htmx:afterSettle", function () { restore(); focusReject(); });
})();
