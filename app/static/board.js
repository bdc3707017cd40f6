/* The supervisor board (CONTRACT /board): renders the snapshot from /board/state with textContent
   only, and refetches it on every (re)connect. A call event carrying its card (`card`, `place`) is
   applied to the snapshot held here, in place, without a refetch (issue 13 item 4); any other event
   still refetches the snapshot. */
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
        return L.callerText(c) + (c.marker ? ", " + L.markerText(c) : "");
      }).join("; ");
    }
  }

  var current = null;

  function show(snap) { current = snap; render(snap); }

  function watched(card) {
    /* The snapshot's filters: ringing calls are everyone's; a team's call shows when its team is
       one this board lists and matches the team/site chosen. */
    var f = current.filters;
    return current.teams.some(function (t) { return t.id === card.team_id; }) &&
      (f.team_id == null || f.team_id === card.team_id) && (!f.site || f.site === card.site);
  }

  function ringingOrder(a, b) {
    return ((a.marker || 9) - (b.marker || 9)) || ((a.signals.length ? 0 : 1) - (b.signals.length ? 0 : 1)) ||
      (a.started_at < b.started_at ? -1 : a.started_at > b.started_at ? 1 : 0);
  }

  function callsOrder(a, b) {
    var rank = function (c) { return (c.serious ? 0 : 2) + (c.termination === null && !c.warnings.length ? 1 : 0); };
    return (rank(a) - rank(b)) || ((b.answered_at || "") < (a.answered_at || "") ? -1 : (b.answered_at || "") > (a.answered_at || "") ? 1 : 0);
  }

  function apply(event) {
    /* True when the event's card was applied (no refetch needed). */
    if (!event.card || current === null) { return false; }
    var card = event.card;
    var others = function (c) { return c.call_sid !== card.call_sid; };
    current.ringing = current.ringing.filter(others);
    current.calls = current.calls.filter(others);
    if (event.place === "ringing") { current.ringing.push(card); current.ringing.sort(ringingOrder); }
    else if (event.place === "calls" && watched(card)) { current.calls.push(card); current.calls.sort(callsOrder); }
    render(current);
    return true;
  }

  show(JSON.parse(document.getElementById("initial-state").textContent));
  L.connect({ stateUrl: root.dataset.state + window.location.search, eventsUrl: root.dataset.events, render: show,
              apply: apply });
  document.addEventListener("keydown", function (e) {
    if (L.typing(e)) { return; }
    if (e.key === "f" || e.key === "F") { e.preventDefault(); document.getElementById("team").focus(); }
  });
})();
