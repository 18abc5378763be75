// bonafide pages: upload with progress, live analysis progress, confirm
// dialogs, print. Plain JavaScript, no build step.
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function pct(v) { return Math.round(v * 100) + "%"; }

  // Forms that ask before submitting (delete buttons).
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  var printButton = document.getElementById("print-button");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }

  // Poll an interview until it is done or failed; onUpdate gets the JSON.
  function poll(id, onUpdate, onEnd) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", "/api/v1/interviews/" + encodeURIComponent(id));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) { onEnd(null, "status " + xhr.status); return; }
      var iv = JSON.parse(xhr.responseText);
      onUpdate(iv);
      if (iv.status === "done" || iv.status === "failed") { onEnd(iv); return; }
      setTimeout(function () { poll(id, onUpdate, onEnd); }, 1000);
    };
    xhr.onerror = function () { setTimeout(function () { poll(id, onUpdate, onEnd); }, 3000); };
    xhr.send();
  }

  // The report page of an interview still queued or processing.
  var live = document.getElementById("live-status");
  if (live && live.getAttribute("data-status") !== "failed") {
    var bar = document.getElementById("analysis-progress");
    var label = document.getElementById("analysis-pct");
    var state = document.getElementById("live-state");
    poll(live.getAttribute("data-id"), function (iv) {
      bar.value = iv.progress; label.textContent = pct(iv.progress); state.textContent = iv.status;
    }, function () { window.location.reload(); });
  }

  // The list refreshes itself while rows are pending.
  var list = document.querySelector("table[data-refresh]");
  if (list) { setTimeout(function () { window.location.reload(); }, 1000 * Number(list.getAttribute("data-refresh"))); }

  // Upload: a file chosen or dropped, sent by the form's button with
  // XMLHttpRequest and upload progress, then the analysis progress, then
  // the report.
  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = document.getElementById("file-input");
  var zone = document.getElementById("drop-zone");
  var errorBox = document.getElementById("upload-error");
  var statusBox = document.getElementById("upload-status");
  var upBar = document.getElementById("upload-progress");
  var upPct = document.getElementById("upload-pct");
  var anBar = document.getElementById("analysis-progress");
  var anPct = document.getElementById("analysis-pct");
  var button = document.getElementById("upload-button");
  var max = Number(form.getAttribute("data-max"));
  var busy = false;

  // humanBytes is the server's humanBytes: 11.3 MiB.
  function humanBytes(n) {
    if (n < 1024) { return n + " B"; }
    var units = "KMGTPE", exp = 0, div = 1024;
    while (n / div >= 1024 && exp < units.length - 1) { div *= 1024; exp++; }
    return (n / div).toFixed(1) + " " + units.charAt(exp) + "iB";
  }

  // resetProgress hides the progress bars and sets them back to zero.
  function resetProgress() {
    statusBox.hidden = true;
    upBar.value = 0; upPct.textContent = "0%";
    anBar.value = 0; anPct.textContent = "waiting";
  }

  function fail(msg) {
    resetProgress();
    errorBox.textContent = msg; errorBox.hidden = false; busy = false; button.disabled = false;
  }

  function send(file) {
    if (busy) { return; }
    if (!file) { fail("Choose a file first."); return; }
    if (max && file.size > max) {
      var got = humanBytes(file.size), lim = humanBytes(max);
      fail(got === lim ? "This file is larger than the limit of " + lim + "." : "This file is " + got + "; the limit is " + lim + ".");
      return;
    }
    resetProgress();
    busy = true; button.disabled = true; errorBox.hidden = true; statusBox.hidden = false;
    var data = new FormData();
    data.append("candidate", form.elements.candidate.value);
    data.append("title", form.elements.title.value);
    if (form.elements.region) { data.append("region", form.elements.region.value); }
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/interviews");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { upBar.value = e.loaded / e.total; upPct.textContent = pct(e.loaded / e.total); }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status !== 202) { fail(body.message || ("Upload failed (status " + xhr.status + ").")); return; }
      upBar.value = 1; upPct.textContent = "done";
      anPct.textContent = "queued";
      poll(body.id, function (iv) {
        anBar.value = iv.progress;
        anPct.textContent = iv.status === "processing" ? pct(iv.progress) : iv.status;
      }, function () { window.location.href = "/interviews/" + encodeURIComponent(body.id); });
    };
    xhr.onerror = function () { fail("The upload was interrupted."); };
    xhr.send(data);
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.files[0]); });
  input.addEventListener("change", function () { errorBox.hidden = true; });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  // A drop only chooses the file (the input then shows its name); the
  // upload starts with the form's button, after the names are typed.
  zone.addEventListener("drop", function (e) {
    if (busy || !e.dataTransfer || !e.dataTransfer.files.length) { return; }
    var files = e.dataTransfer.files;
    try { // keep only the first file
      var one = new DataTransfer();
      one.items.add(files[0]);
      files = one.files;
    } catch (err) { /* an older browser: all of them; the first is sent */ }
    input.files = files;
    errorBox.hidden = true;
  });
})();
