// The drill page: send turns, show the customer's reply as it streams, end the call,
// count down the time limit. Everything the page needs comes from data-* attributes.
(function () {
  "use strict";

  var root = document.getElementById("drill");
  if (!root) { return; }
  var data = root.dataset;
  var transcript = document.getElementById("transcript");
  var statusLine = document.getElementById("drill-status");
  var form = document.getElementById("turn-form");
  var textBox = document.getElementById("turn-text");
  var sendButton = document.getElementById("send");
  var endForm = document.getElementById("end-form");
  var timer = document.getElementById("timer");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var busy = false;
  var ended = data.status !== "active";
  // Streaming needs a readable response body; older browsers get the plain JSON reply.
  var canStream = typeof ReadableStream !== "undefined" && typeof TextDecoder !== "undefined";

  // On a phone the briefing sits above the chat: start it folded, one tap opens it.
  if (window.matchMedia && window.matchMedia("(max-width: 800px)").matches) {
    Array.prototype.forEach.call(document.querySelectorAll("details.drill-fold"), function (d) { d.open = false; });
  }

  function lastPosition() {
    var items = transcript.querySelectorAll("li[data-position]");
    if (!items.length) { return -1; }  // an outbound call: nobody has spoken yet
    return parseInt(items[items.length - 1].dataset.position, 10);
  }

  function bubbleFor(position, speaker) {
    var li = transcript.querySelector('li[data-position="' + position + '"]');
    if (!li) {
      li = document.createElement("li");
      li.className = "turn turn-" + speaker;
      li.dataset.position = String(position);
      var who = document.createElement("span");
      who.className = "speaker";
      who.textContent = speaker === "agent" ? data.msgAgent : data.msgCustomer;
      var p = document.createElement("p");
      p.className = "bubble";
      li.appendChild(who);
      li.appendChild(p);
      transcript.appendChild(li);
    }
    return li.querySelector(".bubble");
  }

  function showTurn(turn) {
    // An outbound call's invitation to open goes once the agent has spoken.
    var opens = document.getElementById("agent-opens");
    if (opens) { opens.remove(); }
    var bubble = bubbleFor(turn.position, turn.speaker);
    bubble.textContent = turn.text;  // the stored text wins over streamed pieces
    bubble.parentNode.classList.remove("streaming");
    scrollDown();
  }

  // The reply being streamed has no position yet: it goes in a placeholder bubble.
  function streamingBubble() {
    var li = transcript.querySelector("li.streaming");
    if (!li) {
      li = document.createElement("li");
      li.className = "turn turn-customer streaming";
      var who = document.createElement("span");
      who.className = "speaker";
      who.textContent = data.msgCustomer;
      var p = document.createElement("p");
      p.className = "bubble";
      li.appendChild(who);
      li.appendChild(p);
      transcript.appendChild(li);
    }
    return li;
  }

  function dropStreamingBubble() {
    var li = transcript.querySelector("li.streaming");
    if (li) { li.parentNode.removeChild(li); }
  }

  function scrollDown() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function setStatus(text, isError, retry) {
    statusLine.textContent = text || "";
    statusLine.classList.toggle("error", !!isError);
    if (retry) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn";
      button.textContent = data.msgRetry;
      button.addEventListener("click", function () { send({ retry: true }); });
      statusLine.appendChild(document.createTextNode(" "));
      statusLine.appendChild(button);
    }
  }

  function setBusy(value) {
    busy = value;
    if (sendButton) { sendButton.disabled = value || ended; }
    if (textBox) { textBox.readOnly = value || ended; }
  }

  function finish(drill) {
    if (!drill || drill.status !== "ended") { return; }
    ended = true;
    setBusy(false);
    if (form) { form.classList.add("hidden"); }
    if (endForm) { endForm.classList.add("hidden"); }
    var outcome = root.getAttribute("data-outcome-" + drill.outcome) || drill.outcome;
    setStatus(data.msgEnded + " " + outcome + " ");
    statusLine.classList.add("ended");
    // The drill is scored when it ends: point the trainee at the report.
    var link = document.createElement("a");
    link.href = data.reportUrl;
    link.textContent = data.msgReport;
    statusLine.appendChild(link);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    });
  }

  function errorOf(response) {
    return response.json().then(function (body) { return body; }, function () { return {}; })
      .then(function (body) {
        var error = new Error(body.error || data.msgFailed);
        error.code = body.code;
        error.status = response.status;
        throw error;
      });
  }

  function handleEvent(event) {
    if (event.type === "agent") {
      showTurn(event.turn);
    } else if (event.type === "chunk") {
      var li = streamingBubble();
      li.querySelector(".bubble").textContent += event.text;
      scrollDown();
    } else if (event.type === "customer") {
      dropStreamingBubble();
      showTurn(event.turn);
      finish(event.drill);
    } else if (event.type === "drill") {
      finish(event.drill);
    } else if (event.type === "error") {
      dropStreamingBubble();
      var error = new Error(event.message);
      error.code = event.code;
      throw error;
    }
  }

  // Reads newline-delimited JSON as it arrives and hands each event on.
  function readStream(response) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (step) {
        buffer += decoder.decode(step.value || new Uint8Array(), { stream: !step.done });
        var lines = buffer.split("\n");
        buffer = lines.pop();
        lines.forEach(function (line) { if (line.trim()) { handleEvent(JSON.parse(line)); } });
        if (step.done) {
          if (buffer.trim()) { handleEvent(JSON.parse(buffer)); }
          return null;
        }
        return pump();
      });
    }
    return pump();
  }

  function send(body) {
    if (busy || ended) { return; }
    setBusy(true);
    setStatus(data.msgSending);
    body.stream = canStream;
    post(data.turnUrl, body).then(function (response) {
      if (!response.ok) { return errorOf(response); }
      if (canStream && response.body) { return readStream(response); }
      return response.json().then(function (result) {
        result.turns.forEach(showTurn);
        finish(result.drill);
      });
    }).then(function () {
      if (!ended) { setStatus(""); }
      if (body.text && textBox) { textBox.value = ""; }
      setBusy(false);
      if (textBox && !ended) { textBox.focus(); }
    }).catch(function (error) {
      setBusy(false);
      var retry = error.code === "customer_unavailable";
      // The agent turn was stored; what the trainee typed is no longer needed in the box.
      if (retry && body.text && textBox) { textBox.value = ""; }
      setStatus(error.message || data.msgFailed, true, retry);
      if (error.code === "ended" || error.code === "time_up") { ended = true; setBusy(false); }
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = textBox.value.trim();
      if (!text) { textBox.focus(); return; }
      send({ text: text, after: lastPosition() });
    });
    textBox.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
  }

  function endCall(confirmFirst) {
    if (ended) { return; }
    if (confirmFirst && !window.confirm(data.msgConfirmEnd)) { return; }
    post(data.endUrl, {}).then(function (response) {
      if (!response.ok) { return errorOf(response); }
      return response.json().then(function (result) {
        // An outbound call ended before a word was said is set aside: back to the list.
        if (result.drill && result.drill.status === "discarded" && result.home) {
          window.location.assign(result.home);
          return;
        }
        finish(result.drill);
      });
    }).catch(function (error) { setStatus(error.message || data.msgFailed, true); });
  }

  if (endForm) {
    endForm.addEventListener("submit", function (event) {
      event.preventDefault();
      endCall(true);
    });
  }

  // Countdown from what the server says is left; at zero a test ends, practice goes on.
  var secondsLeft = parseInt(data.secondsLeft, 10) || 0;
  var startedAt = Date.now();
  function tick() {
    var left = Math.max(0, secondsLeft - Math.floor((Date.now() - startedAt) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    timer.textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    timer.classList.toggle("low", left > 0 && left <= 60);
    if (left === 0) {
      timer.classList.add("over");
      timer.textContent = data.msgTimeUp;
      if (data.mode === "test") { endCall(false); }
      return false;
    }
    return true;
  }
  if (timer && !ended && tick()) {
    var interval = window.setInterval(function () {
      if (ended || !tick()) { window.clearInterval(interval); }
    }, 1000);
  }

  scrollDown();
  // A turn left without a reply (a failure, or a reload mid-answer) is answered now.
  if (!ended && data.pending === "1") { send({ retry: true }); }
}());

// --- Hint button (practice drills only; the server decides whether one is offered) ---
// Asks the server for the next step of the call; each hint is counted and costs points.
(function () {
  "use strict";

  var box = document.getElementById("hint-box");
  var button = document.getElementById("hint-button");
  var out = document.getElementById("hint-text");
  if (!box || !button || !out) { return; }
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function line(text, className) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    out.appendChild(p);
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    fetch(box.dataset.hintUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      // The count this page showed: the same click sent twice is charged once.
      body: JSON.stringify({ seen: parseInt(box.dataset.hintsUsed || "0", 10) })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; },
                                  function () { return { ok: false, body: {} }; });
    }).then(function (result) {
      out.textContent = "";
      if (!result.ok) {
        line(result.body.error || box.dataset.msgFailed, "error");
        if (result.body.status === 403 || result.body.status === 409) { return; }
      } else {
        box.dataset.hintsUsed = String(result.body.hint.hints_used);
        line(result.body.hint.text, "hint-step");
        if (result.body.hint.model) { line(box.dataset.msgModel + ": " + result.body.hint.model, "hint-model"); }
        line(result.body.message, "muted");
      }
      button.disabled = false;
    }).catch(function () {
      out.textContent = "";
      line(box.dataset.msgFailed, "error");
      button.disabled = false;
    });
  });
}());
