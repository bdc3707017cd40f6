/* Shared by the console and the board. Builds DOM with textContent only (never innerHTML: caller
   and note text is hostile until proven otherwise), and keeps a live connection that heals itself:
   EventSource reconnects on its own; on every (re)connect the page refetches its full snapshot, so
   nothing missed while offline stays missing, and on every event too unless the page's `apply`
   applied the event itself (the board applies a call's card in place). */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key === "className") { node.className = attrs[key]; }
      else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function replace(container, nodes) {
    while (container.firstChild) { container.removeChild(container.firstChild); }
    nodes.forEach(function (n) { container.appendChild(n); });
  }

  function time(iso) {
    if (!iso) { return ""; }
    return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  var SIGNALS = { repeat_warnings: "Repeat warnings", previous_termination: "Previously terminated",
                  many_calls_today: "Many calls today" };

  /* R2: the marker in the domain's words; the card carries its label (call_flows/labels.py MARKERS). */
  function markerText(card) {
    return "Marker " + card.marker + (card.marker_label ? ": " + card.marker_label : "");
  }

  function flagItems(card) {
    var items = [];
    if (card.marker) {
      items.push(el("li", { className: "flag marker-" + card.marker, text: markerText(card) }));
    }
    (card.signals || []).forEach(function (s) { items.push(el("li", { className: "flag signal", text: SIGNALS[s] || s })); });
    if (card.restricted) { items.push(el("li", { className: "flag restricted", text: "Contact restricted" })); }
    if (card.need_noted) { items.push(el("li", { className: "flag need", text: "Disability or need noted" })); }
    return items;
  }

  function connect(opts) {
    var status = document.getElementById("live-status");
    var timer = null;
    var source = null;

    function say(text) { if (status) { status.textContent = text; } }

    var failures = 0;

    function refresh() {
      if (timer) { return; }
      timer = setTimeout(function () {
        timer = null;
        fetch(opts.stateUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) {
            if (r.redirected || r.status === 401) { window.location.assign("/login"); return null; }
            if (!r.ok) { throw new Error("HTTP " + r.status); }
            return r.json();
          })
          .then(function (data) {
            if (!data) { return; }
            failures = 0;
            opts.render(data);
            if (source && source.readyState === EventSource.OPEN) { say("Live"); }
          })
          .catch(function () {
            // A failed refresh is retried (2 s, 4 s, ... up to 30 s) until one succeeds.
            failures += 1;
            say("Offline: retrying…");
            setTimeout(refresh, Math.min(30000, 1000 * Math.pow(2, failures)));
          });
      }, 30);
    }

    var refusals = 0;

    function open() {
      source = new EventSource(opts.eventsUrl);
      source.onopen = function () { refusals = 0; say("Live"); refresh(); };
      source.onmessage = function (m) {
        var event = null;
        try { event = JSON.parse(m.data); } catch (e) { event = null; }
        if (opts.onEvent && event) { opts.onEvent(event); }
        if (!(opts.apply && event && opts.apply(event))) { refresh(); }
      };
      source.onerror = function () {
        if (source.readyState !== EventSource.CLOSED) { say("Reconnecting…"); return; }
        // Closed for good: the server refused the stream (503 when too many are open, so ring time
        // is still answered) or is down. Retry later, backing off (3 s, 6 s, ... up to 60 s, with
        // jitter so refused pages do not all come back at once); the 30 s refresh goes on meanwhile.
        refusals += 1;
        say("Live updates paused: refreshing every 30 s");
        var wait = Math.min(60000, 3000 * Math.pow(2, refusals - 1));
        setTimeout(open, wait / 2 + Math.random() * wait / 2);
      };
    }

    open();
    window.addEventListener("online", function () {
      if (source && source.readyState === EventSource.CLOSED) { open(); }
      refresh();
    });
    setInterval(refresh, 30000);  // belt and braces: a full refresh every 30 s even when quiet
    return { refresh: refresh };
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
    });
  }

  function typing(event) {
    /* A shortcut never fires while the person types, holds a modifier or has a dialog open. */
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return true; }
    if (document.querySelector("dialog[open]")) { return true; }
    return !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  /* 14.8: the masked number with its area and a short call label, so two callers whose numbers end
     alike never look identical ("•••••••0123, Leeds · call 9F3A"). */
  function callerText(c) {
    return c.caller + (c.caller_area ? ", " + c.caller_area : "") + (c.call_label ? " · " + c.call_label : "");
  }

  window.callguardLive = { el: el, replace: replace, time: time, flagItems: flagItems, connect: connect, callerText: callerText,
                           post: post, typing: typing, SIGNALS: SIGNALS, markerText: markerText };
})();
