// Register import run page: follow the run's progress until it finishes, then show its outcome.
(function () {
  "use strict";
  var run = document.getElementById("import-run");
  if (!run || run.dataset.finished === "yes") { return; }
  var bar = document.getElementById("import-progress");
  var percent = document.getElementById("import-percent");
  var status = document.getElementById("import-status");
  var words = { queued: "Waiting to start…", checking: "Checking the rows…", storing: "Storing the entries…" };

  function poll() {
    fetch(run.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        bar.value = state.percent;
        bar.textContent = percent.textContent = state.percent + "%";
        if (state.finished) {
          status.textContent = "Finished.";
          window.location.reload();
          return;
        }
        if (words[state.status] && status.textContent.trim() !== words[state.status]) {
          status.textContent = words[state.status];
        }
        window.setTimeout(poll, 500);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
})();
