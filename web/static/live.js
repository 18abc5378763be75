// bonafide companion page: publish the interview over WHIP (the meeting's
// tab or window with its audio, or a camera and microphone), follow the
// live score, signals and alerts by Server-Sent Events, end the interview.
// Plain JavaScript, no build step, no inline script (strict CSP).
(function () {
  "use strict";
  var root = document.getElementById("companion");
  if (!root) { return; }
  var sessionID = root.getAttribute("data-session");
  var eventsURL = root.getAttribute("data-events");
  var whipURL = root.getAttribute("data-whip");
  var token = root.getAttribute("data-token") || "";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  var pc = null, stream = null, resource = null, events = null;
  var scores = 0, alerts = Number((document.getElementById("alert-count") || {}).textContent || 0);
  var ended = root.getAttribute("data-state") === "ended";

  function el(id) { return document.getElementById(id); }
  function setText(id, v) { var e = el(id); if (e) { e.textContent = v; } }
  function secs(v) { return (Math.round(v * 10) / 10).toFixed(1) + " s"; }
  function clock(v) {
    var s = Math.max(0, Math.floor(v));
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }
  function lvl(v) {
    if (v >= 0.75) { return "lvl-high"; }
    if (v >= 0.55) { return "lvl-mid"; }
    if (v >= 0.3) { return "lvl-low"; }
    return "lvl-ok";
  }
  // tallyText is live.TallyText: verdict counts so far, worst first.
  function tallyText(t) {
    if (!t) { return ""; }
    var total = 0, parts = [];
    ["manipulated", "suspicious", "inconclusive", "genuine"].forEach(function (v) {
      if (t[v] > 0) { total += t[v]; parts.push(t[v] + " " + v); }
    });
    if (total === 0) { return ""; }
    return total + (total === 1 ? " segment: " : " segments: ") + parts.join(", ");
  }
  function verdictClass(v) {
    return ["genuine", "inconclusive", "suspicious", "manipulated"].indexOf(v) >= 0 ? v : "none";
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    if (text !== null && text !== undefined) { td.textContent = text; }
    tr.appendChild(td);
    return td;
  }
  function showError(msg) {
    var e = el("publish-error");
    if (e) { e.textContent = msg; e.hidden = false; }
  }

  // ---- live events ----

  var lastSignals = {};

  function onScore(ev) {
    scores++;
    setText("score-count", String(scores));
    root.setAttribute("data-scores", String(scores));
    setText("live-score", ev.authenticity === undefined || ev.authenticity === null ? "n/a" : String(ev.authenticity));
    var badge = el("live-verdict");
    if (badge) {
      badge.className = "badge v-" + verdictClass(ev.verdict);
      badge.textContent = ev.verdict || "no verdict";
    }
    var win = "Seconds " + Math.round(ev.start) + "–" + Math.round(ev.end) + ": face " + secs(ev.face_seconds) +
      ", speech " + secs(ev.speech_seconds) + "; scored " + secs(ev.lag_seconds) + " after the segment ended.";
    if (ev.verdict_reason) { win += " " + ev.verdict_reason; }
    if (ev.notes && ev.notes.length) {
      // What the analysis worked around (e.g. a voice in opposite phase).
      win += " Note: " + ev.notes.join("; ") + ".";
    }
    if (ev.missing && ev.missing.length) {
      // A muted, replaced or stalled track: say so before anything else.
      win = "No " + ev.missing.join(" and ") + " reached the analysis in this segment (a muted or stopped track?). " + win;
    }
    setText("live-window", win);
    if (ev.tally) { setText("live-tally", tallyText(ev.tally)); }

    var body = el("signal-rows");
    if (body) {
      while (body.firstChild) { body.removeChild(body.firstChild); }
      lastSignals = {};
      (ev.signals || []).forEach(function (s) {
        lastSignals[s.name] = s;
        var tr = document.createElement("tr");
        tr.setAttribute("data-signal", s.name);
        if (s.alerting) { tr.className = "alerting"; }
        var name = document.createElement("code");
        name.textContent = s.name;
        cell(tr, null).appendChild(name);
        cell(tr, s.measured ? "measured" : "not measured");
        var sc = cell(tr, null, "num");
        if (s.measured) {
          var span = document.createElement("span");
          span.className = "score " + lvl(s.score);
          span.textContent = s.score.toFixed(2);
          sc.appendChild(span);
        }
        cell(tr, s.measured ? s.confidence.toFixed(2) : "", "num");
        var ex = cell(tr, s.measured ? (s.explanation || "") : (s.reason || ""));
        if (!s.measured) { ex.className = "hint"; }
        body.appendChild(tr);
      });
    }
    updateChallenges();
  }

  // Each suggested challenge names the signals that check it.
  function updateChallenges() {
    document.querySelectorAll("#challenges li[data-signals]").forEach(function (li) {
      var parts = [];
      li.getAttribute("data-signals").split(" ").forEach(function (name) {
        var s = lastSignals[name];
        if (!s) { return; }
        parts.push(name + ": " + (s.measured ? "score " + s.score.toFixed(2) : "not measured"));
      });
      var out = li.querySelector(".challenge-state");
      if (out) { out.textContent = parts.length ? "Last segment — " + parts.join("; ") : "Not measured in the last segment."; }
    });
  }

  function onAlert(ev) {
    if (!ev.alert) { return; }
    alerts++;
    var count = el("alert-count");
    if (count) { count.textContent = String(alerts); count.className = "badge v-manipulated"; }
    var none = el("no-alerts");
    if (none) { none.hidden = true; }
    var li = document.createElement("li");
    li.textContent = clock(ev.alert.since) + " " + ev.alert.message;
    var list = el("alerts");
    if (list) { list.insertBefore(li, list.firstChild); }
  }

  function showStats(s) {
    setText("stat-segments", String(s.segments));
    setText("stat-frames", String(s.frames_analyzed));
    setText("stat-lag", secs(s.max_lag_seconds));
    setText("stat-first", s.first_score_after_seconds ? secs(s.first_score_after_seconds) : "–");
    setText("stat-events", String(s.events_dropped || 0));
    var tracks = el("stat-tracks");
    if (tracks && s.tracks) {
      tracks.textContent = s.tracks.map(function (t) {
        return t.kind + ": " + t.packets + " packets, " + t.frames + (t.kind === "video" ? " frames" : " audio packets") +
          " recorded, " + t.dropped + " not analysed live, " + t.plis_sent + " PLIs";
      }).join(" · ");
    }
  }

  function onState(st) {
    var label = el("session-state");
    if (label) { label.textContent = st.state; label.className = "live-state st-" + st.state; }
    root.setAttribute("data-state", st.state);
    if (st.stats) { showStats(st.stats); }
    if (st.state === "ending" || st.state === "ended") {
      stopMedia();
      var start = el("start-button");
      if (start) { start.disabled = true; }
    }
    if (st.state !== "ended") { return; }
    ended = true;
    var box = el("session-end");
    if (box) {
      while (box.firstChild) { box.removeChild(box.firstChild); }
      box.appendChild(document.createTextNode("Ended" + (st.reason ? ": " + st.reason : "") + ". "));
      if (st.error) {
        var err = document.createElement("span");
        err.className = "error";
        err.textContent = st.error;
        box.appendChild(err);
      }
      if (st.interview_url) {
        var a = document.createElement("a");
        a.id = "report-link";
        a.className = "button";
        a.href = st.interview_url;
        a.textContent = "Full report of the recording";
        box.appendChild(a);
      }
      box.hidden = false;
    }
    var form = el("end-form");
    if (form) { form.hidden = true; }
    var del = el("delete-form");
    if (del) { del.hidden = false; }
    // Nothing can be published any more (a reload shows no such card).
    var publishCard = el("publish-card");
    if (publishCard) { publishCard.hidden = true; }
    if (events) { events.close(); events = null; }
  }

  function connectEvents() {
    if (!window.EventSource || !eventsURL || ended) { return; }
    events = new EventSource(eventsURL);
    function on(name, fn) {
      events.addEventListener(name, function (e) {
        var data;
        try { data = JSON.parse(e.data); } catch (err) { return; }
        fn(data);
      });
    }
    on("score", onScore);
    on("alert", onAlert);
    on("stats", showStats);
    on("state", onState);
    // The server ends the stream when this login ends: go to the login page.
    on("logged-out", function () {
      if (events) { events.close(); events = null; }
      window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
    });
  }

  // ---- publishing (WHIP) ----

  function setConn(s) {
    setText("conn-state", s);
    root.setAttribute("data-conn", s);
  }

  function stopMedia() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    if (pc) { pc.close(); pc = null; setConn("closed"); }
    var v = el("preview");
    if (v) { v.srcObject = null; v.hidden = true; }
  }

  // Resolves when ICE gathering is complete (the offer then carries every
  // candidate: this server does not take trickle ICE), or after 3 s.
  function gathered(conn) {
    return new Promise(function (resolve) {
      if (conn.iceGatheringState === "complete") { resolve(); return; }
      var timer = setTimeout(resolve, 3000);
      conn.addEventListener("icegatheringstatechange", function () {
        if (conn.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  // Prefer VP8 (cheapest to decode), then H.264 and VP9: all three are
  // accepted; other codecs are not.
  function preferCodecs(tr) {
    if (!tr.setCodecPreferences || !window.RTCRtpSender || !RTCRtpSender.getCapabilities) { return; }
    var caps = RTCRtpSender.getCapabilities("video");
    if (!caps) { return; }
    var rank = function (c) {
      var m = c.mimeType.toLowerCase();
      if (m === "video/vp8") { return 0; }
      if (m === "video/h264") { return 1; }
      if (m === "video/vp9") { return 2; }
      return 3;
    };
    var codecs = caps.codecs.slice().sort(function (a, b) { return rank(a) - rank(b); });
    try { tr.setCodecPreferences(codecs); } catch (err) { /* keep the browser's order */ }
  }

  function publish(s) {
    pc = new RTCPeerConnection();
    pc.addEventListener("connectionstatechange", function () {
      if (!pc) { return; }
      setConn(pc.connectionState);
      if (pc.connectionState === "failed") { showError("The connection to the server failed."); }
    });
    s.getTracks().forEach(function (t) {
      var tr = pc.addTransceiver(t, { direction: "sendonly", streams: [s] });
      if (t.kind === "video") { preferCodecs(tr); }
    });
    setConn("connecting");
    return pc.createOffer().then(function (offer) {
      return pc.setLocalDescription(offer);
    }).then(function () {
      return gathered(pc);
    }).then(function () {
      return fetch(whipURL, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", "Authorization": "Bearer " + token },
        body: pc.localDescription.sdp
      });
    }).then(function (resp) {
      if (resp.status !== 201) {
        return resp.text().then(function (t) {
          var msg = "The server refused the stream (status " + resp.status + ")";
          try { msg = JSON.parse(t).message || msg; } catch (err) { /* not JSON */ }
          throw new Error(msg);
        });
      }
      resource = resp.headers.get("Location");
      return resp.text();
    }).then(function (answer) {
      return pc.setRemoteDescription({ type: "answer", sdp: answer });
    });
  }

  function start() {
    var button = el("start-button");
    var picked = document.querySelector('input[name="source"]:checked');
    var source = picked ? picked.value : "display";
    var md = navigator.mediaDevices;
    if (!md || !window.RTCPeerConnection) { showError("This browser cannot capture and send media (WebRTC)."); return; }
    button.disabled = true;
    el("publish-error").hidden = true;
    var capture = source === "display" ?
      md.getDisplayMedia({ video: true, audio: true }) :
      md.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: true });
    capture.then(function (s) {
      stream = s;
      if (s.getAudioTracks().length === 0) {
        showError("No audio is shared: the voice and lip-sync signals cannot run. Share the tab again with \"share audio\" ticked.");
      }
      var v = el("preview");
      if (v) { v.srcObject = s; v.hidden = false; }
      // Stopping the share from the browser's own bar ends the interview.
      s.getVideoTracks().forEach(function (t) { t.addEventListener("ended", endCall); });
      return publish(s);
    }).catch(function (err) {
      stopMedia();
      showError((err && err.message) ? err.message : String(err));
      button.disabled = false;
    });
  }

  // Ends the interview: DELETE of our WHIP resource when this page
  // publishes, else the API's DELETE (the recruiter's session, CSRF).
  function endCall() {
    if (ended) { return; }
    var req = resource ?
      fetch(resource, { method: "DELETE", headers: { "Authorization": "Bearer " + token } }) :
      fetch("/api/v1/sessions/" + encodeURIComponent(sessionID), {
        method: "DELETE", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }, credentials: "same-origin"
      });
    req.then(function (resp) {
      if (resp.status >= 300) { showError("Ending the interview failed (status " + resp.status + ")."); }
      stopMedia();
      setText("session-state", "ending");
    }).catch(function () { showError("Ending the interview failed: the server is unreachable."); });
  }

  var startButton = el("start-button");
  if (startButton) { startButton.addEventListener("click", start); }
  var endForm = el("end-form");
  if (endForm) {
    endForm.addEventListener("submit", function (e) {
      if (e.defaultPrevented) { return; } // the confirmation was declined
      e.preventDefault();
      endCall();
    });
  }
  // Leaving the page while publishing ends the screening: ask first.
  window.addEventListener("beforeunload", function (e) {
    if (pc && !ended) { e.preventDefault(); e.returnValue = ""; }
  });
  window.addEventListener("pagehide", function () {
    // Closing the tab drops the connection; the server notices within
    // its disconnect timeout and still keeps what arrived.
    if (pc) { pc.close(); }
  });
  connectEvents();
})();
