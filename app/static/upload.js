// Trainer upload: send the chosen transcript files one per request and show progress.
// Without JavaScript the form posts all files at once and the server lists the results.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var input = form.querySelector("input[type=file]");
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var count = document.getElementById("upload-count");
  var list = document.getElementById("upload-results");
  var msg = form.dataset;

  function item(cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    li.appendChild(document.createTextNode(text));
    list.appendChild(li);
    return li;
  }

  function show(file, status, data) {
    if (data && data.ok) {
      var li = item("up-ok", file.name + ": " + msg.msgScored + " " + data.total + " / " + data.max +
                    (data.flags && data.flags.length ? " \u2691" : "") + " \u00b7 ");
      var a = document.createElement("a");
      a.href = data.report_url;
      a.textContent = msg.msgReport;
      li.appendChild(a);
      return true;
    }
    var bad = item("up-bad", file.name + ": " + msg.msgFailed);
    // The faults in plain words when the server gives them, else as they are.
    var faults = (data && (data.explained || data.faults)) || [];
    if (data && data.errors) {
      Object.keys(data.errors).forEach(function (k) { faults = faults.concat(data.errors[k]); });
    }
    if (!faults.length) { faults = [msg.msgError + " (HTTP " + status + ")"]; }
    var ul = document.createElement("ul");
    faults.forEach(function (f) {
      var li = document.createElement("li");
      li.textContent = f;
      ul.appendChild(li);
    });
    bad.appendChild(ul);
    return false;
  }

  function sendOne(file) {
    var data = new FormData(form);
    data.delete("files");
    data.append("files", file, file.name);
    var token = form.querySelector("input[name=csrf_token]");
    return fetch(msg.fileUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
    }).then(function (r) {
      return r.json().then(function (j) { return show(file, r.status, j); },
                           function () { return show(file, r.status, null); });
    }, function () { return show(file, 0, null); });
  }

  form.addEventListener("submit", function (ev) {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) { return; }  // let the server say a file is required
    ev.preventDefault();
    var button = form.querySelector("[type=submit]");
    button.disabled = true;
    list.textContent = "";
    box.hidden = false;
    bar.max = files.length;
    bar.value = 0;
    var ok = 0;
    var done = 0;
    count.textContent = "0 / " + files.length;
    files.reduce(function (chain, file) {
      return chain.then(function () { return sendOne(file); }).then(function (good) {
        done += 1;
        if (good) { ok += 1; }
        bar.value = done;
        count.textContent = done + " / " + files.length;
      });
    }, Promise.resolve()).then(function () {
      count.textContent = msg.msgDone.replace("{ok}", ok).replace("{n}", files.length);
      button.disabled = false;
    });
  });
})();
