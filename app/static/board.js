/* The supervisor board (CONTRACT /board): renders the snapshot from /board/state with textContent
   only, and refetches it on every live event and every reconnect. */
(function () {
  "use strict";
  var L = window.callguardLive;
  var root = document.getElementById("board");
  var known = {};

  function ringingCard(c) {
    var cls = "card" + (c.marker ? " marker-card marker-card-" + c.marker : c.flagged ? " flagged-card" : "");
    return L.el("li", { className: cls, "data-call": c.call_sid }, [
      L.el("p", { className: "caller-line" }, [
        L.el("strong", { text: L.callerText(c) }),
        L.el("span", { className: "tag", text: "ringing since " + L.time(c.started_at) })
      ]),
      L.el("ul", { className: "flags", "aria-label": "Flags" },
        c.flagged ? L.flagItems(c) : [L.el("li", { className: "flag none", text: "No flags" })])
    ]);
  }

  function callCard(c) {
    var cls = "card" + (c.serious ? " serious-card" : c.termination ? " ended-card" : c.marker ? " marker-card marker-card-" + c.marker : "");
    var state = c.termination
      ? (c.serious ? "Terminated: threat of violence" : "Terminated (" + c.termination.reason_label + ")") + " at " + L.time(c.termination.at)
      : c.warnings.length ? "Warned " + c.warnings.length + "×, last at " + L.time(c.warnings[c.warnings.length - 1].at)
      : "Connected";
    return L.el("li", { className: cls, "data-call": c.call_sid }, [
      L.el("p", { className: "caller-line" }, [
        L.el("strong", { text: L.callerText(c) }),
        L.el("span", { className: "tag", text: c.handler ? "with " + c.handler : "" }),
        L.el("span", { className: "tag", text: [c.team, c.site].filter(Boolean).join(", ") })
      ]),
      L.el("p", { className: "call-state", text: state }),
      c.flagged ? L.el("ul", { className: "flags", "aria-label": "Flags" }, L.flagItems(c)) : null
    ]);
  }

  function empty(text) { return L.el("li", { className: "empty", text: text }); }

  function render(snap) {
    var serious = snap.serious_incidents.map(function (i) {
      return L.el("li", { className: "card serious-card" }, [
        L.el("p", { text: "Threat of violence, " + L.time(i.opened_at) + ": caller " + (i.caller || "unknown") +
          ", handler " + (i.handler || "unknown") + (i.team ? ", " + i.team : "") }),
        i.case_reference ? L.el("p", { className: "hint", text: "Case " + i.case_reference }) : null
      ]);
    });
    document.getElementById("serious-section").hidden = serious.length === 0;
    L.replace(document.getElementById("serious"), serious);
    L.replace(document.getElementById("ringing"), snap.ringing.length ? snap.ringing.map(ringingCard) : [empty("No calls ringing.")]);
    L.replace(document.getElementById("calls"), snap.calls.length ? snap.calls.map(callCard) : [empty("No connected calls.")]);
    L.replace(document.getElementById("recovering"), snap.recovering.length ? snap.recovering.map(function (r) {
      return L.el("li", { className: "card recovering-card", text: (r.name || r.username) + (r.team ? " (" + r.team + ")" : "") +
        ": recovering until " + L.time(r.ends_at) });
    }) : [empty("Nobody is recovering.")]);
    document.getElementById("ringing-count").textContent = "(" + snap.ringing.length + ")";
    document.getElementById("calls-count").textContent = "(" + snap.calls.length + ")";
    var fresh = snap.ringing.filter(function (c) { return c.flagged && !known[c.call_sid]; });
    snap.ringing.forEach(function (c) { known[c.call_sid] = true; });
    if (fresh.length) {
      document.getElementById("announce").textContent = "Flagged caller ringing: " + fresh.map(function (c) {
        return L.callerText(c) + (c.marker ? ", " + L.MARKERS[c.marker] : "");
      }).join("; ");
    }
  }

  render(JSON.parse(document.getElementById("initial-state").textContent));
  L.connect({ stateUrl: root.dataset.state + window.location.search, eventsUrl: root.dataset.events, render: render });
  document.addEventListener("keydown", function (e) {
    if (L.typing(e)) { return; }
    if (e.key === "f" || e.key === "F") { e.preventDefault(); document.getElementById("team").focus(); }
  });
})();
