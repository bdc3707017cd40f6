/* The handler's console (CONTRACT /console; T1-T4). State comes from /console/state; actions go to
   the staff API with the session's CSRF token. Text is only ever set with textContent. */
(function () {
  "use strict";
  var L = window.callguardLive;
  var root = document.getElementById("console");
  var $ = function (id) { return document.getElementById(id); };
  var state = null;
  var live = null;

  function feedback(text, kind) {
    var f = $("feedback");
    f.textContent = text;
    f.className = "feedback" + (kind ? " " + kind : "");
  }

  function apiError(res) {
    var e = res.data && res.data.error;
    return e ? e.message : "The request failed (" + res.status + ").";
  }

  // What became of a warning or the final notice on the caller's leg (CONTRACT platform_status).
  var HEARD = {
    warning: { played: ", the caller heard it", caller_left: ", the caller had already gone: nothing was played",
               failed: ", the platform could not play it", pending: ", waiting for the platform" },
    termination: { played: ": the caller heard the final notice and the call ended.",
                   caller_left: ": the caller had already gone, so nothing was played.",
                   failed: ": the platform could not play the final notice.", pending: ": waiting for the platform." }
  };
  function heard(kind, status) { return HEARD[kind][status] || HEARD[kind].pending; }

  function renderCall(c) {
    $("no-call").hidden = !!c;
    $("call-detail").hidden = !c;
    if (!c) { return; }
    $("call-caller").textContent = c.caller_full || c.caller;
    $("call-status").textContent = c.termination ? "ended" : c.status.replace("-", " ");
    var flags = L.flagItems(c);
    if (c.precautions) { flags.push(L.el("li", { className: "flag precautions", text: "Precautions: " + c.precautions })); }
    if (c.restriction) {
      flags.push(L.el("li", { className: "flag restricted", text: "Restriction: " + c.restriction.kind_label +
        (c.restriction.detail ? " (" + c.restriction.detail + ")" : "") }));
    }
    L.replace($("call-flags"), flags.length ? flags : [L.el("li", { className: "flag none", text: "No flags" })]);
    $("call-need").hidden = !c.needs_note;
    $("call-need").textContent = c.needs_note ? "A disability or need may be involved: " + c.needs_note : "";
    L.replace($("call-warnings"), c.warnings.length ? c.warnings.map(function (w) {
      return L.el("li", { text: L.time(w.at) + ": " + w.reason_label + (w.detail ? " (" + w.detail + ")" : "") +
        heard("warning", w.platform_status) });
    }) : [L.el("li", { text: "None yet." })]);
    var ended = !!c.termination;
    $("call-ended").hidden = !ended;
    if (ended) {
      $("call-ended").textContent = "Ended for behaviour at " + L.time(c.termination.at) +
        heard("termination", c.termination.platform_status);
    }
    $("warn").disabled = ended;
    $("terminate").disabled = ended || c.warnings.length === 0;  // T3: terminate only after a warning
    $("immediate").disabled = ended;
    $("need").disabled = ended;
  }

  function renderRinging(list) {
    L.replace($("ringing"), list.length ? list.map(function (c, i) {
      var button = L.el("button", { type: "button", className: "accept", text: "Accept" + (i === 0 ? " (A)" : "") });
      button.addEventListener("click", function () { accept(c.call_sid); });
      return L.el("li", { className: "card" + (c.marker ? " marker-card marker-card-" + c.marker : c.flagged ? " flagged-card" : "") }, [
        L.el("p", { className: "caller-line" }, [L.el("strong", { text: L.callerText(c) }),
          L.el("span", { className: "tag", text: "ringing since " + L.time(c.started_at) })]),
        L.el("ul", { className: "flags", "aria-label": "Flags" }, c.flagged ? L.flagItems(c) : [L.el("li", { className: "flag none", text: "No flags" })]),
        button
      ]);
    }) : [L.el("li", { className: "empty", text: "No calls ringing." })]);
  }

  function render(data) {
    state = data;
    $("recovery").hidden = !data.recovery;
    if (data.recovery) { $("recovery-until").textContent = L.time(data.recovery.ends_at); }
    renderCall(data.call);
    renderRinging(data.ringing);
  }

  function accept(sid) {
    L.post("/api/v1/calls/" + encodeURIComponent(sid) + "/accept").then(function (res) {
      feedback(res.ok ? "Call accepted. Its flags are shown above." : apiError(res), res.ok ? "ok" : "bad");
      live.refresh();
    });
  }

  /* A form never silently drops what the handler typed: its fields belong to one call (reset when
     the call changes), pre-filled text never overwrites the handler's own, hidden parts are also
     disabled (nothing can be typed there), and a refusal keeps the dialog open with the reason. */
  function forCall(form, sid) {
    if (form.dataset.call !== sid) {
      form.reset();
      Array.prototype.forEach.call(form.elements, function (el) { delete el.dataset.prefill; });
      form.dataset.call = sid;
    }
    showError(form, "");
  }

  function prefill(el, value) {
    if (el.value === "" || el.value === el.dataset.prefill) { el.value = value; }
    el.dataset.prefill = value;
  }

  function showError(form, message) {
    var p = form.querySelector("[data-error]");
    p.textContent = message;
    p.hidden = !message;
  }

  function open(id) {
    var d = $(id);
    if (typeof d.showModal === "function") { d.showModal(); } else { d.setAttribute("open", ""); }
    var first = Array.prototype.find.call(d.querySelectorAll("select, textarea, input"), function (el) {
      return !el.disabled && el.getClientRects().length > 0;  // the first control the handler can see
    });
    if (first) { first.focus(); }
  }

  function close(id) { var d = $(id); if (d.open) { d.close(); } }

  function openEnd(immediate) {
    var c = state && state.call;
    if (!c || c.termination) { return; }
    if (!immediate && c.warnings.length === 0) {
      feedback("Warn the caller first (T3), or use Immediate termination for a threat of violence.", "bad");
      return;
    }
    forCall($("end-form"), c.call_sid);
    $("immediate-fields").hidden = !immediate;
    $("immediate-fields").disabled = !immediate;  // hidden and disabled: nothing typed there is lost
    $("end-immediate").required = !!immediate;
    $("end-title").textContent = immediate ? "Immediate termination" : "End the call";
    var notice = c.final_notice;  // T3: the words the caller will really hear
    $("end-notice-intro").textContent = notice.recording
      ? "The caller will hear the recorded notice your administrator set up (its wording may differ from this text):"
      : "The caller will hear:";
    $("end-notice").textContent = notice.text;
    var n = c.note;
    $("note-known").textContent = "caller " + n.known.caller + ", call started " + L.time(n.known.call_started_at) +
      ", handler " + n.known.handler + ", warnings " + n.known.warnings + ", and the end time.";
    prefill($("end-ref"), n.case_reference);
    prefill($("end-told"), n.told_customer);
    prefill($("end-said"), n.customer_said_or_did);
    if (c.warnings.length) { prefill($("end-reason"), c.warnings[c.warnings.length - 1].reason); }
    open("end-dialog");
  }

  $("warn").addEventListener("click", function () {
    if (state && state.call && !state.call.termination) { forCall($("warn-form"), state.call.call_sid); open("warn-dialog"); }
  });
  $("terminate").addEventListener("click", function () { openEnd(false); });
  $("immediate").addEventListener("click", function () { openEnd(true); });
  $("need").addEventListener("click", function () {
    if (state && state.call) { forCall($("need-form"), state.call.call_sid); open("need-dialog"); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("dialog .cancel"), function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });

  $("warn-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var sid = state.call.call_sid;
    feedback("Sending the warning…");
    L.post("/api/v1/calls/" + encodeURIComponent(sid) + "/warnings",
           { reason: $("warn-reason").value, detail: $("warn-detail").value || null }).then(function (res) {
      if (!res.ok) { showError($("warn-form"), apiError(res)); feedback(apiError(res), "bad"); live.refresh(); return; }
      close("warn-dialog");
      $("warn-detail").value = "";
      var said = { played: "Warning given: the caller has heard it. The conversation continues.",
                   caller_left: "Warning recorded, but the caller had already gone: nothing was played.",
                   failed: "Warning recorded, but the platform could not play it." };
      feedback(said[res.data.platform_status] || "Warning recorded: waiting for the platform to play it…",
               res.data.platform_status === "failed" ? "bad" : "ok");
      live.refresh();
      $("terminate").focus();
    });
  });

  $("end-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var sid = state.call.call_sid;
    var immediate = !$("immediate-fields").disabled;  // what the handler can see is what is sent
    var body = {
      reason: $("end-reason").value, case_reference: $("end-ref").value || null,
      immediate_reason: immediate ? $("end-immediate").value : null,
      immediate_detail: immediate ? ($("end-immediate-detail").value || null) : null,
      note: { spoke_to: $("end-spoke").value || null, query: $("end-query").value || null,
              told_customer: $("end-told").value || null, customer_said_or_did: $("end-said").value || null }
    };
    feedback("Ending the call…");
    L.post("/api/v1/calls/" + encodeURIComponent(sid) + "/termination", body).then(function (res) {
      if (!res.ok) { showError($("end-form"), apiError(res)); feedback(apiError(res), "bad"); live.refresh(); return; }
      close("end-dialog");
      var said = { played: "Call ended: the caller heard the final notice.",
                   caller_left: "Termination recorded: the caller had already gone, so nothing was played.",
                   failed: "Termination recorded, but the platform could not play the final notice." };
      feedback((said[res.data.platform_status] || "Termination recorded: waiting for the platform to end the call…") +
        " Case note, incident record and a callback task for your line manager were created.", "ok");
      live.refresh();
    });
  });

  $("need-form").addEventListener("submit", function (e) {
    e.preventDefault();
    L.post("/api/v1/calls/" + encodeURIComponent(state.call.call_sid) + "/need", { need: $("need-text").value }).then(function (res) {
      if (!res.ok) { showError($("need-form"), apiError(res)); feedback(apiError(res), "bad"); live.refresh(); return; }
      close("need-dialog");
      feedback("Noted: your manager will see it.", "ok");
      live.refresh();
    });
  });

  $("ready").addEventListener("click", function () {
    L.post(root.dataset.recoveryEnd).then(function () { feedback("Recovery time ended. Ready for the next call.", "ok"); live.refresh(); });
  });

  function onEvent(event) {
    var c = state && state.call;
    if (!c || event.call_sid !== c.call_sid) { return; }
    if (event.kind === "warning_played") { feedback("The caller has heard the warning. The conversation continues.", "ok"); }
    if (event.kind === "termination_played") { feedback("The caller heard the final notice and the call ended.", "ok"); }
    if (event.kind === "warning_caller_left" || event.kind === "termination_caller_left") {
      feedback("The caller had already gone: nothing was played to them.", "ok");
    }
    if (event.kind === "warning_failed" || event.kind === "termination_failed") {
      feedback("The platform could not play it to the caller.", "bad");
    }
  }

  document.addEventListener("keydown", function (e) {
    if (L.typing(e)) { return; }
    var key = e.key.toLowerCase();
    var actions = {
      a: function () { if (state && state.ringing.length) { accept(state.ringing[0].call_sid); } },
      w: function () { if (!$("warn").disabled && state && state.call) { $("warn").click(); } },
      t: function () { openEnd(false); },
      i: function () { if (!$("immediate").disabled) { openEnd(true); } },
      n: function () { if (!$("need").disabled) { $("need").click(); } },
      r: function () { if (!$("recovery").hidden) { $("ready").click(); } }
    };
    if (actions[key]) { e.preventDefault(); actions[key](); }
  });

  live = L.connect({ stateUrl: root.dataset.state, eventsUrl: root.dataset.events, render: render, onEvent: onEvent });
  live.refresh();
})();
