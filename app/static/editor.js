// The scenario editor: live validation while the trainer types. After a pause in typing
// the draft's three texts go to the validation endpoint (nothing is stored) and the page
// lists each fault with its file, field and reason, as the server words them.
(function () {
  "use strict";
  var form = document.getElementById("draft-form");
  if (!form) { return; }
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var summary = document.getElementById("fault-summary");
  var table = document.getElementById("fault-table");
  var body = table.querySelector("tbody");
  var fields = ["yaml_text", "good_script", "bad_script"].map(function (id) { return document.getElementById(id); });
  var timer = null;
  var asked = 0;

  function cell(text, code) {
    var td = document.createElement("td");
    var el = code ? document.createElement("code") : td;
    el.textContent = text;
    if (code) { td.appendChild(el); }
    return td;
  }

  function show(faults) {
    body.textContent = "";
    faults.forEach(function (f) {
      var tr = document.createElement("tr");
      tr.className = "fault";
      tr.appendChild(cell(f.file, true));
      tr.appendChild(cell(f.field || "—", true));
      tr.appendChild(cell(f.reason, false));
      body.appendChild(tr);
    });
    table.hidden = faults.length === 0;
    summary.className = faults.length ? "lib-bad" : "lib-ok";
    summary.textContent = faults.length ? form.dataset.msgFaults.replace("__N__", faults.length) : form.dataset.msgValid;
  }

  function check() {
    var mine = ++asked;
    summary.textContent = form.dataset.msgChecking;
    fetch(form.dataset.validateUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ yaml_text: fields[0].value, good_script: fields[1].value, bad_script: fields[2].value })
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine !== asked) { return; }  // an older answer arriving late
      if (data && data.faults) { show(data.faults); } else { summary.textContent = form.dataset.msgFailed; }
    }).catch(function () { if (mine === asked) { summary.textContent = form.dataset.msgFailed; } });
  }

  fields.forEach(function (el) {
    el.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 600);
    });
  });
}());
