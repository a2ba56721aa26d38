// The certification exam page: a countdown from the server's seconds left, autosave of
// the page's answers (on each change and every 20 seconds), and submission at 0.
// Without this script the page still works: changing page or submitting saves by form post.
(function () {
  "use strict";
  var form = document.getElementById("exam-form");
  if (!form) { return; }
  var clock = document.getElementById("exam-clock");
  var status = document.getElementById("exam-saved");
  var answered = document.getElementById("exam-answered");
  var submitButton = document.getElementById("exam-submit");
  var dirty = false;
  var leaving = false;

  function save() {
    if (!dirty || leaving) { return Promise.resolve(); }
    dirty = false;
    return fetch(form.dataset.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(form))
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) {
          status.textContent = status.dataset.msgSaved;
          if (answered && typeof body.answered === "number") {
            answered.textContent = answered.textContent.replace(/\d+/, String(body.answered));
          }
        } else if (body.results) {
          leaving = true;
          window.location.assign(body.results);
        } else {
          dirty = true;
          status.textContent = body.error || status.dataset.msgFailed;
        }
      });
    }).catch(function () {
      dirty = true;
      status.textContent = status.dataset.msgFailed;
    });
  }

  form.addEventListener("change", function () { dirty = true; save(); });
  window.setInterval(save, 20000);

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.id === "exam-submit" && !leaving &&
        !window.confirm(submitter.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    leaving = true;
  });

  if (clock) {
    var left = parseInt(clock.dataset.secondsLeft, 10);
    var end = Date.now() + left * 1000;
    var tick = function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      clock.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
      if (s <= 300) { clock.classList.add("exam-timer-low"); }
      if (s === 0 && !leaving) {
        leaving = true;
        // Time is up: send this page's answers with the submission (the server accepts
        // them within a short grace, and marks the saved ones after it).
        var go = document.createElement("input");
        go.type = "hidden"; go.name = "go"; go.value = "submit";
        form.appendChild(go);
        form.submit();
      }
    };
    tick();
    window.setInterval(tick, 1000);
  }
})();
