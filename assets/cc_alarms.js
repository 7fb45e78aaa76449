/* Alarms on the wall (protocol: command_center/realtime.py). This script opens the page's
   Socket.IO connection (assets/vendor/socket.io.min.js) for the screen and scope written on
   the canvas (data-screen, data-region), keeps the open alarms of that scope, and draws
   every alarm ticker (.cc-alarm-list) itself, straight into the DOM:

   - no alarm goes through Dash: a Dash property update costs a big wall tens of
     milliseconds, so a burst of 1,000 alarms through Dash froze the main wall for seconds;
   - the server sends a burst as lists; whatever arrives is drawn at most once per
     animation frame and at most every RENDER_MS, and only the rows a ticker shows
     (its `limit`) exist in the DOM, updated in place by alarm id;
   - new rows flash, configured levels play the alarm sound unless the wall is muted;
   - the header says when the connection is lost; socket.io reconnects by itself and the
     server replays what was missed after the last alarm seen (auth.last_seen);
   - 确认 hands the alarm id to the ticker's store (Dash), whose callback acknowledges it. */
(function () {
  "use strict";
  window.cc = window.cc || {};
  var RANK = { info: 1, warn: 2, critical: 3, emergency: 4 };
  var FLASH_MS = 4000;
  var RENDER_MS = 100;
  var RESYNC_MS = 5 * 60 * 1000;
  var KEEP = 500;          // open alarms kept in memory (the newest); the count stays exact

  var state = {
    byId: {},              // open alarms of this scope by id
    arrived: {},           // id -> time it arrived here (for the flash)
    counted: {},           // ids counted in openTotal since the last sync (requests of
                           // several server threads may broadcast out of id order)
    pending: {},           // id -> true while our acknowledgement is on its way
    lastSeen: 0,
    syncedThrough: 0,      // the last sync's last_id
    openTotal: 0,          // open alarms in this screen's scope (byId holds the newest)
    soundLevels: ["critical", "emergency"],
    lastSound: 0,
    audio: null,
    socket: null,
    scope: null,           // "screen|region" the socket was opened for
    connected: null,       // null until the first answer, then true / false
    timer: null,
    due: 0,
    lastRender: 0,
    received: 0,           // alarm and ack events handled (bench and tests read it)
    renders: 0,
  };
  window.cc.alarms = state;

  // --- the connection -----------------------------------------------------------------
  function canvas() { return document.querySelector(".cc-canvas[data-screen]"); }

  function ensureSocket() {
    var c = canvas();
    var scope = c ? c.dataset.screen + "|" + (c.dataset.region || "") : null;
    if (scope === state.scope) { return; }
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    if (scope !== null && state.scope !== null) { forget(); }   // another screen or scope
    state.scope = scope;
    if (scope === null || !window.io) { return; }
    var screen = c.dataset.screen;
    var region = c.dataset.region || "";
    var socket = window.io({
      // asked again on every reconnect: the server replays what came after lastSeen
      auth: function (cb) {
        cb({ screen: screen, region: region, last_seen: state.lastSeen || null });
      },
    });
    socket.on("connect", function () { setConnected(true); });
    socket.on("disconnect", function () { setConnected(false); });
    socket.on("connect_error", function () { setConnected(false); });
    socket.on("sync", function (sync) { onSync(sync); schedule(); });
    socket.on("alarm", function (alarm) { onAlarm(alarm); schedule(); });
    socket.on("alarms", function (list) { list.forEach(onAlarm); schedule(); });
    socket.on("ack", function (ack) { onAck(ack); schedule(); });
    socket.on("acks", function (list) { list.forEach(onAck); schedule(); });
    state.socket = socket;
  }

  function forget() {
    state.byId = {}; state.arrived = {}; state.pending = {}; state.counted = {};
    state.lastSeen = 0; state.openTotal = 0; state.syncedThrough = 0;
  }

  function setConnected(on) {
    state.connected = on;
    showConnection();
  }

  function showConnection() {
    var node = document.getElementById("cc-conn");
    var c = canvas();
    if (!node) { return; }
    var lost = state.connected === false;
    var text = lost && c ? c.dataset.connLost || "" : "";
    if (node.textContent !== text) { node.textContent = text; }
    node.className = lost ? "cc-conn cc-conn-lost" : "cc-conn";
  }

  // --- the alarms of this page --------------------------------------------------------
  function onAlarm(alarm) {
    state.received += 1;
    // the last sync counted everything up to its last_id
    var brandNew = alarm.id > state.syncedThrough && !state.counted[alarm.id];
    state.counted[alarm.id] = true;
    if (brandNew && alarm.status === "open") { state.openTotal += 1; }
    upsert(alarm, true);
    if (brandNew) { sound([alarm]); }
  }

  function onAck(ack) {
    state.received += 1;
    if (state.byId[ack.id] || state.openTotal > Object.keys(state.byId).length) {
      state.openTotal = Math.max(0, state.openTotal - 1);
    }
    delete state.byId[ack.id];
    delete state.pending[ack.id];
    delete state.arrived[ack.id];
  }

  function onSync(sync) {
    // a (re)connect: the server's open alarms replace ours; ids after the last one we saw
    // are what we missed, and they flash like new ones. The server counted what was open up
    // to its last_id; alarms after that one may have reached us before the sync: they stay,
    // counted, and those still to come are counted as they arrive.
    var before = state.lastSeen;
    var last = sync.last_id || 0;
    var fresh = [];
    var next = {};
    var counted = {};
    var extra = 0;
    Object.keys(state.counted).forEach(function (id) {
      if (+id > last) {
        counted[id] = true;
        if (state.byId[id]) { next[id] = state.byId[id]; extra += 1; }
      }
    });
    (sync.open || []).forEach(function (a) {
      if (before && a.id > before && !state.byId[a.id]) {
        fresh.push(a);
        state.arrived[a.id] = Date.now();
      }
      next[a.id] = a;
    });
    state.byId = next;
    state.counted = counted;
    state.syncedThrough = last;
    state.openTotal = (typeof sync.open_total === "number" ? sync.open_total
      : (sync.open || []).length) + extra;
    if (sync.sound_levels) { state.soundLevels = sync.sound_levels; }
    state.lastSeen = Math.max(before, last);
    if (fresh.length) { sound(fresh); }
  }

  function upsert(alarm, isNew) {
    if (alarm.status !== "open") { delete state.byId[alarm.id]; return; }
    var known = state.byId[alarm.id];
    state.byId[alarm.id] = alarm;
    if (isNew && (!known || known.count !== alarm.count)) { state.arrived[alarm.id] = Date.now(); }
    if (alarm.id > state.lastSeen) { state.lastSeen = alarm.id; }
  }

  // keep the newest open alarms only: a storm must not grow the page without bound
  function trim() {
    var counted = Object.keys(state.counted);
    if (counted.length > 20 * KEEP) {
      counted.map(Number).sort(function (a, b) { return a - b; }).slice(0, counted.length - 10 * KEEP)
        .forEach(function (id) { delete state.counted[id]; });
    }
    var ids = Object.keys(state.byId);
    if (ids.length <= KEEP) { return; }
    ids.map(Number).sort(function (a, b) { return a - b; }).slice(0, ids.length - KEEP)
      .forEach(function (id) { delete state.byId[id]; delete state.arrived[id]; });
  }

  function sound(alarms) {
    var configs = tickers().map(function (t) { return t.config; });
    if (!configs.length || configs.every(function (c) { return c.mute; })) { return; }
    var levels = state.soundLevels;
    configs.forEach(function (c) { if (c.soundLevels && !c.mute) { levels = c.soundLevels; } });
    var loud = alarms.some(function (a) { return levels.indexOf(a.level) >= 0; });
    var now = Date.now();
    if (!loud || now - state.lastSound < 2000) { return; }
    state.lastSound = now;
    try {
      state.audio = state.audio || new Audio("/assets/cc_alarm.wav");
      state.audio.currentTime = 0;
      var played = state.audio.play();
      // kiosks start Chromium with --autoplay-policy=no-user-gesture-required; elsewhere the
      // browser may refuse until someone clicks: that is not an error of the wall
      if (played && played.catch) { played.catch(function () {}); }
    } catch (e) { /* no audio device */ }
  }

  // --- drawing ------------------------------------------------------------------------
  // one pending draw at a time; an earlier need (new alarms) replaces a later one (the end
  // of a flash)
  function schedule(delay) {
    var wait = delay !== undefined ? delay
      : Math.max(0, state.lastRender + RENDER_MS - Date.now());
    var due = Date.now() + wait;
    if (state.timer !== null) {
      if (state.due <= due) { return; }
      clearTimeout(state.timer);
    }
    state.due = due;
    state.timer = setTimeout(function () {
      // the next frame: several bursts queued meanwhile are drawn once; a page that gets
      // no frames (a console in a background tab) is drawn all the same
      var drawn = false;
      var draw = function () { if (!drawn) { drawn = true; render(); } };
      window.requestAnimationFrame(draw);
      setTimeout(draw, 250);
    }, wait);
  }

  function tickers() {
    return Array.prototype.map.call(document.querySelectorAll(".cc-alarm-list"), function (node) {
      if (!node._cc) {
        var config = {};
        try { config = JSON.parse(node.dataset.config || "{}"); } catch (e) { config = {}; }
        var host = document.createElement("div");
        host.className = "cc-alarm-rows";
        // Dash drew a "connecting" message here; hide it, never remove what React owns
        Array.prototype.forEach.call(node.children, function (child) { child.style.display = "none"; });
        node.appendChild(host);
        var panel = node.closest(".cc-panel");
        node._cc = {
          config: config, host: host, rows: {}, empty: null,
          count: panel ? panel.querySelector(".cc-alarm-count") : null,
        };
      }
      return node._cc;
    });
  }

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function hhmmss(iso) { return (iso || "").slice(11, 19); }

  function newRow(alarm, config) {
    var texts = config.texts || {};
    var row = document.createElement("div");
    row.dataset.alarm = String(alarm.id);
    row.appendChild(span("cc-alarm-time", ""));
    row.appendChild(span("cc-alarm-level", ""));
    row.appendChild(span("cc-alarm-title", ""));
    row.appendChild(span("cc-alarm-place", ""));
    row.appendChild(span("cc-alarm-times", ""));
    if (config.ackable) {
      var button = document.createElement("button");
      button.className = "cc-alarm-ack";
      button.dataset.alarm = String(alarm.id);
      button.textContent = texts.ack || "";
      row.appendChild(button);
    }
    return row;
  }

  function fillRow(row, alarm, config, fresh) {
    var texts = config.texts || {};
    var pending = !!state.pending[alarm.id];
    var sig = [alarm.level, alarm.count, alarm.last_at, alarm.title, pending, fresh].join("|");
    if (row._sig === sig) { return; }
    row._sig = sig;
    row.className = "cc-alarm-row lvl-" + alarm.level + (fresh ? " cc-alarm-new" : "") +
      (pending ? " cc-alarm-pending" : "");
    var cells = row.children;
    cells[0].textContent = hhmmss(alarm.last_at || alarm.at);
    cells[1].textContent = (texts.levels || {})[alarm.level] || alarm.level;
    cells[2].textContent = alarm.title;
    cells[2].title = alarm.title;
    cells[3].textContent = alarm.grid_code || "";
    cells[4].textContent = alarm.count > 1 ? (texts.count || "×{n}").replace("{n}", alarm.count) : "";
    if (cells[5]) {
      cells[5].disabled = pending;
      cells[5].textContent = pending ? texts.acking : texts.ack;
    }
  }

  function drawTicker(ticker, newest, now) {
    var config = ticker.config;
    var texts = config.texts || {};
    var min = RANK[config.minLevel] || 1;
    var limit = config.limit || 12;
    var shown = [];
    var matching = 0;
    for (var i = 0; i < newest.length; i++) {
      if ((RANK[newest[i].level] || 1) < min) { continue; }
      matching += 1;
      if (shown.length < limit) { shown.push(newest[i]); }
    }
    var keep = {};
    var previous = ticker.host.firstChild;
    shown.forEach(function (alarm) {
      keep[alarm.id] = true;
      var row = ticker.rows[alarm.id];
      if (!row) { row = ticker.rows[alarm.id] = newRow(alarm, config); }
      fillRow(row, alarm, config, now - (state.arrived[alarm.id] || 0) < FLASH_MS);
      if (row !== previous) { ticker.host.insertBefore(row, previous); } else { previous = row.nextSibling; }
    });
    Object.keys(ticker.rows).forEach(function (id) {
      if (!keep[id]) { ticker.host.removeChild(ticker.rows[id]); delete ticker.rows[id]; }
    });
    if (!shown.length && !ticker.empty) {
      ticker.empty = document.createElement("div");
      ticker.empty.className = "cc-message";
      ticker.empty.textContent = state.connected === null ? texts.connecting || "" : texts.none || "";
      ticker.host.appendChild(ticker.empty);
    } else if (shown.length && ticker.empty) {
      ticker.host.removeChild(ticker.empty);
      ticker.empty = null;
    } else if (ticker.empty && state.connected !== null) {
      ticker.empty.textContent = texts.none || "";
    }
    if (ticker.count) {
      var total = min > 1 ? matching : Math.max(state.openTotal, matching);
      var text = total ? (texts.open || "{n}").replace("{n}", total) : "";
      if (ticker.count.textContent !== text) { ticker.count.textContent = text; }
    }
  }

  function render() {
    state.timer = null;
    state.lastRender = Date.now();
    state.renders += 1;
    trim();
    ensureSocket();
    showConnection();
    var now = Date.now();
    var all = Object.keys(state.byId).map(function (k) { return state.byId[k]; });
    all.sort(function (a, b) { return b.id - a.id; });
    tickers().forEach(function (ticker) { drawTicker(ticker, all, now); });
    // take the flash off once it has played
    var flashing = Object.keys(state.arrived).some(function (id) {
      return now - state.arrived[id] < FLASH_MS;
    });
    if (flashing) { schedule(FLASH_MS); }
  }

  // an unattended wall re-syncs now and then: its count can never drift for long
  setInterval(function () {
    if (state.socket && state.connected) { state.socket.emit("replay", {}); }
  }, RESYNC_MS);

  // Dash renders (and re-renders, on a screens.yaml edit) the wall after this script ran:
  // look for the canvas and new tickers now and then, it costs nothing when all is drawn
  setInterval(function () {
    ensureSocket();
    var fresh = Array.prototype.some.call(document.querySelectorAll(".cc-alarm-list"),
      function (node) { return !node._cc; });
    if (fresh) { schedule(0); }
  }, 250);

  // 确认: hand the id to the ticker's store; the server callback acknowledges it
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".cc-alarm-ack") : null;
    if (!button || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var list = button.closest(".cc-alarm-list");
    var config = list && list._cc ? list._cc.config : {};
    var id = +button.dataset.alarm;
    state.pending[id] = true;
    // refused (a session that expired): the button comes back instead of waiting forever
    setTimeout(function () { if (state.pending[id]) { delete state.pending[id]; schedule(0); } }, 10000);
    window.dash_clientside.set_props(
      { role: "alarm-ack", kind: "alarm_ticker", pid: config.pid }, { data: { id: id, t: Date.now() } }
    );
    schedule(0);
  });
})();
