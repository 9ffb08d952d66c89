// listwatch UI: progressive enhancement only. Every page works without this script;
// with it, timeline marks and event links open their evidence in place, and selects
// marked data-autosubmit submit their form on change.
(function () {
  "use strict";

  function selectMark(eventId) {
    document.querySelectorAll("svg.timeline .mark.selected, table.events tr.selected").forEach(function (el) {
      el.classList.remove("selected");
    });
    document.querySelectorAll('svg.timeline .mark[data-event="' + eventId + '"]').forEach(function (el) {
      el.classList.add("selected");
    });
    var row = document.getElementById("event-" + eventId);
    if (row && row.tagName === "TR") row.classList.add("selected");
  }

  function showEvidence(eventId, link) {
    var panel = document.getElementById("evidence");
    if (!panel) return false;
    panel.classList.add("loading");
    return fetch("/ui/events/" + encodeURIComponent(eventId) + "/evidence", {
      headers: { "Accept": "text/html" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var body = doc.querySelector(".evidence-body, .evidence-empty");
      panel.replaceChildren();
      if (body) panel.appendChild(document.importNode(body, true));
      panel.classList.remove("loading");
      selectMark(eventId);
      var url = new URL(window.location.href);
      url.searchParams.set("event", eventId);
      url.hash = "evidence";
      window.history.replaceState(null, "", url.toString());
      if (link && link.closest("table")) panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
      panel.focus({ preventScroll: true });
    }).catch(function () {
      // Fall back to the plain link: the server renders the page with the evidence open.
      panel.classList.remove("loading");
      if (link) window.location.href = link.getAttribute("href");
    });
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var link = event.target.closest("a[data-event]");
    if (!link || !document.getElementById("evidence")) return;
    event.preventDefault();
    showEvidence(link.getAttribute("data-event"), link);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var link = event.target.closest && event.target.closest("svg a[data-event]");
    if (!link) return;
    event.preventDefault();
    showEvidence(link.getAttribute("data-event"), link);
  });

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // Forms that write: stop a second submission while the first is under way.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-busy", "true"); });
  });
})();
