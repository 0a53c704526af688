// The logging page: this week's chart, the optional timer and its break reminders.
// No inline scripts (the CSP forbids them): the figure's numbers arrive as JSON in #week-data.
(function () {
  "use strict";

  var POLL_MS = 30000;
  var SNOOZE_SECONDS = 10 * 60;
  var timerRoot = document.getElementById("timer");
  var API = (timerRoot && timerRoot.getAttribute("data-api")) || "/api/v1/exposure/";

  // Helpers -----------------------------------------------------------------------------------------

  function byId(id) { return document.getElementById(id); }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
  }

  function api(method, path, body, background) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["X-CSRFToken"] = csrfToken(); }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (background) { headers["X-Keel-Background"] = "1"; }
    return fetch(API + path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
        if (!response.ok) { throw new ApiError(response.status, data); }
        return data;
      });
    }, function () {
      throw new ApiError(0, { detail: "Keel could not be reached. Check your connection and try again." });
    });
  }

  // Plain words for a problem response, plus where to go next when there is somewhere to go.
  function problemOf(error) {
    var body = (error && error.body) || {};
    var words = [];
    if (body.errors) {
      Object.keys(body.errors).forEach(function (name) { words = words.concat(body.errors[name]); });
    }
    if (!words.length) { words.push(body.detail || "Something went wrong. Nothing was changed."); }
    var link = null;
    if (error.status === 403) { link = { href: "/choices/", text: "Go to My choices" }; }
    if (error.status === 401) {
      words = ["Your session has ended, so you were signed out. The timer keeps running on the server."];
      link = { href: "/login/?next=/log/", text: "Sign in again" };
    }
    return { text: words.join(" "), link: link };
  }

  function say(element, text, link, isProblem) {
    if (!element) { return; }
    element.textContent = text;
    element.classList.toggle("problem", Boolean(isProblem));
    if (link) {
      element.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      element.appendChild(a);
    }
  }

  function formatMinutes(value) {
    var rounded = Math.round(Number(value) * 10) / 10;
    return Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1);
  }

  function minutesInWords(value) {
    var text = formatMinutes(value);
    if (Number(value) < 1) { return "less than a minute"; }
    return text + (text === "1" ? " minute" : " minutes");
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var r = s % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }

  // The error summary of a rejected form takes the focus, so keyboard and screen reader users land on it.
  var summary = byId("error-summary");
  if (summary) { summary.focus(); }

  // This week's chart ----------------------------------------------------------------------------------

  var chartElement = byId("week-chart");
  var dataElement = byId("week-data");
  var week = dataElement ? JSON.parse(dataElement.textContent) : null;

  function drawChart() {
    if (!week || !chartElement || !window.Plotly) { return; }
    var trace = {
      type: "bar",
      x: week.media_types.map(function (m) { return m.label; }),
      y: week.minutes.slice(),
      marker: { color: "#24566e" },
      hovertemplate: "%{x}: %{y} minutes<extra></extra>"
    };
    var layout = {
      height: 260,
      margin: { l: 56, r: 8, t: 12, b: 48 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", color: "#1d2a33", size: 13 },
      xaxis: { fixedrange: true, automargin: true },
      yaxis: { fixedrange: true, rangemode: "tozero", title: { text: "Minutes" }, gridcolor: "#d5d9dc" },
      bargap: 0.35
    };
    window.Plotly.newPlot(chartElement, [trace], layout, { displayModeBar: false, responsive: true });
  }

  function showWeek(summaryBody) {
    if (!week) { return; }
    week.minutes = week.media_types.map(function (m) {
      var row = summaryBody.by_media_type[m.code] || { minutes: 0, records: 0 };
      var tr = document.querySelector('#week-table tr[data-media="' + m.code + '"]');
      if (tr) {
        tr.querySelector("[data-minutes]").textContent = formatMinutes(row.minutes);
        tr.querySelector("[data-records]").textContent = String(row.records);
      }
      return row.minutes;
    });
    week.total = summaryBody.minutes;
    byId("week-total").textContent = formatMinutes(summaryBody.minutes);
    drawChart();
  }

  drawChart();

  if (!timerRoot) { return; }

  // The timer ------------------------------------------------------------------------------------------

  var startForm = byId("timer-start");
  var startButton = byId("timer-start-button");
  var actions = byId("timer-actions");
  var pauseButton = byId("timer-pause");
  var resumeButton = byId("timer-resume");
  var stopButton = byId("timer-stop");
  var stateText = byId("timer-state");
  var elapsed = byId("timer-elapsed");
  var status = byId("timer-status");
  var reminder = byId("break-reminder");
  var remindersBox = byId("p-reminders");
  var afterInput = byId("p-after");
  var prefsStatus = byId("prefs-status");

  var state = { running: false, paused: false, active_seconds: 0, started_at: null };
  var base = { seconds: 0, at: Date.now() };
  var busy = false;
  var stopped = false; // the session ended: stop polling until the person signs in again
  var pollHandle = null;
  // Break reminders count active time since the last start or resume; `from` is that point, `next` when to remind.
  var breaks = { from: 0, next: null };

  function labelOf(selectId, code) {
    var option = Array.prototype.find.call(byId(selectId).options, function (o) { return o.value === code; });
    return option ? option.textContent : String(code || "");
  }

  function activeNow() {
    if (!state.running) { return 0; }
    if (state.paused) { return base.seconds; }
    return base.seconds + (Date.now() - base.at) / 1000;
  }

  function breakKey() { return "keel.break." + state.started_at; }

  function saveBreaks() {
    try { window.localStorage.setItem(breakKey(), JSON.stringify(breaks)); } catch (ignored) { /* private mode */ }
  }

  function afterSeconds() { return Math.max(10, Number(afterInput.value) || 50) * 60; }

  function loadBreaks() {
    var stored = null;
    try { stored = JSON.parse(window.localStorage.getItem(breakKey()) || "null"); } catch (ignored) { stored = null; }
    if (stored && typeof stored.from === "number") {
      breaks = { from: stored.from, next: stored.next === null ? null : Number(stored.next) };
      return;
    }
    // Never paused (active time equals wall time since the start): the whole run is continuous.
    // Otherwise the last resume happened elsewhere, so count from now rather than nag straight away.
    var wall = (Date.now() - Date.parse(state.started_at)) / 1000;
    var from = Math.abs(wall - state.active_seconds) < 10 ? 0 : state.active_seconds;
    breaks = { from: from, next: from + afterSeconds() };
    saveBreaks();
  }

  function restartBreaks(fromSeconds) {
    breaks = { from: fromSeconds, next: fromSeconds + afterSeconds() };
    saveBreaks();
    hideReminder(false);
  }

  function apply(body) {
    var before = state;
    state = body;
    base = { seconds: body.active_seconds, at: Date.now() };
    var sameRun = before.running && state.running && before.started_at === state.started_at;
    if (state.running && !sameRun) { loadBreaks(); }
    // A pause is a break: after a resume (here or in another tab) continuous time counts afresh.
    if (sameRun && before.paused && !state.paused) { restartBreaks(state.active_seconds); }
    if (state.paused || !state.running) { hideReminder(false); }
    if (before.running && !state.running) {
      try { window.localStorage.removeItem("keel.break." + before.started_at); } catch (ignored) { /* private mode */ }
    }
    render();
  }

  function render() {
    startForm.hidden = state.running;
    actions.hidden = !state.running;
    pauseButton.hidden = !state.running || state.paused;
    resumeButton.hidden = !state.running || !state.paused;
    stateText.textContent = !state.running ? "Not running" : state.paused ? "Paused" : "Running";
    byId("timer-what").textContent = state.running
      ? labelOf("t-media", state.media_type) + ", " + labelOf("t-severity", state.severity) : "";
    tick();
  }

  function tick() {
    var seconds = activeNow();
    var text = clock(seconds);
    if (elapsed.textContent !== text) { elapsed.textContent = text; }
    if (state.running && !state.paused && remindersBox.checked && breaks.next !== null &&
        seconds >= breaks.next && !reminder.hasChildNodes()) {
      showReminder(Math.floor((seconds - breaks.from) / 60));
    }
  }

  function button(text, handler, extraClass) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button" + (extraClass ? " " + extraClass : "");
    b.textContent = text;
    b.addEventListener("click", handler);
    return b;
  }

  function showReminder(minutes) {
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = "Time for a break? ";
    p.appendChild(strong);
    p.appendChild(document.createTextNode(
      "The timer has run for " + minutes + " minutes without a pause. A few minutes away from the screen helps."));
    var row = document.createElement("p");
    row.className = "reminder-actions";
    row.appendChild(button("Pause the timer", function () { hideReminder(true); act("pause"); }));
    row.appendChild(button("Snooze 10 minutes", function () {
      breaks.next = activeNow() + SNOOZE_SECONDS;
      saveBreaks();
      hideReminder(true);
    }, "secondary"));
    row.appendChild(button("Dismiss", function () {
      breaks.next = null;
      saveBreaks();
      hideReminder(true);
    }, "secondary"));
    reminder.appendChild(p);
    reminder.appendChild(row);
  }

  function hideReminder(returnFocus) {
    var hadFocus = reminder.contains(document.activeElement);
    while (reminder.firstChild) { reminder.removeChild(reminder.firstChild); }
    if (returnFocus || hadFocus) { (pauseButton.hidden ? resumeButton : pauseButton).focus(); }
  }

  function problem(error) {
    var p = problemOf(error);
    say(status, p.text, p.link, true);
    if (error.status === 401) { stopped = true; }
  }

  function refresh(background) {
    if (stopped) { return Promise.resolve(); }
    return api("GET", "timer/", undefined, background).then(apply, problem);
  }

  function refreshRecords() {
    var url = timerRoot.getAttribute("data-records-url");
    var section = byId("recent");
    if (!url || !section) { return Promise.resolve(); }
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
      if (response.ok && !response.redirected) {
        return response.text().then(function (html) { section.innerHTML = html; });
      }
      return null;
    }, function () { return null; });
  }

  function refreshWeek() {
    return api("GET", "summary/?period=week").then(showWeek, problem);
  }

  var FOCUS_AFTER = { start: function () { return pauseButton; }, pause: function () { return resumeButton; },
    resume: function () { return pauseButton; }, stop: function () { return startButton; } };

  function act(action, body) {
    if (busy) { return Promise.resolve(); }
    busy = true;
    return api("POST", "timer/" + action + "/", body).then(function (result) {
      if (action === "stop") {
        say(status, "Saved " + minutesInWords(result.minutes) + " as a timed session.");
        apply({ running: false, paused: false, active_seconds: 0, started_at: null, media_type: null, severity: null });
        return Promise.all([refreshWeek(), refreshRecords()]);
      }
      apply(result);
      if (action === "start") { restartBreaks(0); say(status, "Timer started."); }
      if (action === "resume") { say(status, "Timer running again."); }
      if (action === "pause") { say(status, "Timer paused."); }
      return null;
    }, function (error) {
      problem(error);
      if (error.status === 409) { return refresh(false); }
      return null;
    }).then(function () {
      busy = false;
      // The button just pressed may have been hidden by the new state: keep the keyboard focus in the timer.
      var next = FOCUS_AFTER[action]();
      var focused = document.activeElement;
      var lost = !focused || focused === document.body || Boolean(focused.closest("[hidden]"));
      if (next && !next.hidden && lost) { next.focus(); }
    });
  }

  startForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var form = new FormData(startForm);
    act("start", {
      media_type: form.get("media_type"),
      severity: form.get("severity"),
      audio: form.get("audio") === "on",
      unexpected: form.get("unexpected") === "on"
    });
  });
  pauseButton.addEventListener("click", function () { act("pause"); });
  resumeButton.addEventListener("click", function () { act("resume"); });
  stopButton.addEventListener("click", function () { act("stop"); });

  // Break reminder preferences: saved on the server as they change, one request after another so that
  // the last change made is the one kept.
  var saving = Promise.resolve();
  function savePreferences() { saving = saving.then(putPreferences); }
  function putPreferences() {
    var minutes = Math.round(Number(afterInput.value));
    var body = { break_reminders: remindersBox.checked, break_after_minutes: minutes };
    return api("PUT", "preferences/", body).then(function (saved) {
      afterInput.value = saved.break_after_minutes;
      afterInput.removeAttribute("aria-invalid");
      if (state.running) {
        breaks.next = breaks.from + afterSeconds();
        if (breaks.next < activeNow()) { breaks.next = activeNow(); }
        saveBreaks();
      }
      if (!saved.break_reminders) { hideReminder(false); }
      say(prefsStatus, saved.break_reminders
        ? "Saved: a reminder after " + saved.break_after_minutes + " minutes of running without a pause."
        : "Saved: no break reminders.");
    }, function (error) {
      if (error.status === 400) { afterInput.setAttribute("aria-invalid", "true"); }
      var p = problemOf(error);
      say(prefsStatus, p.text, p.link, true);
    });
  }
  remindersBox.addEventListener("change", savePreferences);
  afterInput.addEventListener("change", savePreferences);

  timerRoot.hidden = false;
  refresh(true);
  window.setInterval(tick, 1000);

  // Polling is marked as background, so it never keeps an idle session alive.
  function schedulePoll() {
    if (pollHandle) { window.clearInterval(pollHandle); }
    pollHandle = window.setInterval(function () {
      if (!document.hidden && !busy) { refresh(true); }
    }, POLL_MS);
  }
  schedulePoll();
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !busy) { refresh(true); }
  });
})();
