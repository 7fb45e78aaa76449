/* Alarms on the wall (command_center/realtime.py protocol): the page's cc-socket hands its
   Socket.IO events ("alarm", "ack", "sync") to cc_alarms.on_event; this script keeps the open
   alarms of the page, draws every alarm ticker (.cc-alarm-list) at most ten times a second
   (a burst of 1,000 alarms is one redraw, not a thousand), flashes new rows, plays the
   alarm sound for configured levels unless the wall is muted, and sends 确认 clicks to the
   server through the ticker's store. */
(function () {
  "use strict";
  window.cc = window.cc || {};
  var RANK = { info: 1, warn: 2, critical: 3, emergency: 4 };
  var FLASH_MS = 4000;

  var state = {
    byId: {},          // open alarms by id
    arrived: {},       // id -> time it arrived here (for the flash)
    pending: {},       // id -> true while our acknowledgement is on its way
    lastSeen: 0,
    openTotal: 0,      // open alarms in this screen's scope (byId holds the newest of them)
    soundLevels: ["critical", "emergency"],
    timer: null,
    lastSound: 0,
    audio: null,
  };
  window.cc.alarms = state;

  function el(type, props, children) {
    var p = props || {};
    if (children !== undefined) { p.children = children; }
    return { type: type, namespace: "dash_html_components", props: p };
  }

  function tickers() {
    return Array.prototype.map.call(document.querySelectorAll(".cc-alarm-list"), function (node) {
      var config = {};
      try { config = JSON.parse(node.dataset.config || "{}"); } catch (e) { config = {}; }
      return config;
    });
  }

  function listId(pid, role) { return { role: role, kind: "alarm_ticker", pid: pid }; }

  function hhmmss(iso) { return (iso || "").slice(11, 19); }

  function row(alarm, config, now) {
    var texts = config.texts || {};
    var fresh = now - (state.arrived[alarm.id] || 0) < FLASH_MS;
    var cls = "cc-alarm-row lvl-" + alarm.level + (fresh ? " cc-alarm-new" : "") +
      (state.pending[alarm.id] ? " cc-alarm-pending" : "");
    var cells = [
      el("Span", { className: "cc-alarm-time" }, hhmmss(alarm.last_at || alarm.at)),
      el("Span", { className: "cc-alarm-level" }, (texts.levels || {})[alarm.level] || alarm.level),
      el("Span", { className: "cc-alarm-title", title: alarm.title }, alarm.title),
      el("Span", { className: "cc-alarm-place" }, alarm.grid_code || ""),
      el("Span", { className: "cc-alarm-times" },
        alarm.count > 1 ? (texts.count || "×{n}").replace("{n}", alarm.count) : ""),
    ];
    if (config.ackable) {
      cells.push(el("Button", {
        className: "cc-alarm-ack", "data-alarm": String(alarm.id), disabled: !!state.pending[alarm.id],
      }, state.pending[alarm.id] ? texts.acking : texts.ack));
    }
    return el("Div", { className: cls, "data-alarm": String(alarm.id) }, cells);
  }

  function render() {
    state.timer = null;
    if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var now = Date.now();
    var all = Object.keys(state.byId).map(function (k) { return state.byId[k]; });
    all.sort(function (a, b) { return b.id - a.id; });
    tickers().forEach(function (config) {
      if (!config.pid) { return; }
      var min = RANK[config.minLevel] || 1;
      var shown = all.filter(function (a) { return (RANK[a.level] || 1) >= min; });
      var texts = config.texts || {};
      var rows = shown.slice(0, config.limit || 12).map(function (a) { return row(a, config, now); });
      var children = rows.length ? el("Div", { className: "cc-alarm-rows" }, rows)
        : el("Div", { className: "cc-message" }, texts.none || "");
      window.dash_clientside.set_props(listId(config.pid, "alarm-list"), { children: children });
      var total = min > 1 ? shown.length : Math.max(state.openTotal, shown.length);
      window.dash_clientside.set_props(listId(config.pid, "alarm-count"), {
        children: total ? (texts.open || "{n}").replace("{n}", total) : "",
      });
    });
    // take the flash off once it has played
    var flashing = Object.keys(state.arrived).some(function (id) {
      return now - state.arrived[id] < FLASH_MS;
    });
    if (flashing) { schedule(FLASH_MS); }
  }

  function schedule(delay) {
    if (state.timer === null) { state.timer = setTimeout(render, delay === undefined ? 100 : delay); }
  }

  function sound(alarms) {
    var configs = tickers();
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

  function upsert(alarm, isNew) {
    if (alarm.status !== "open") { delete state.byId[alarm.id]; return; }
    var known = state.byId[alarm.id];
    state.byId[alarm.id] = alarm;
    if (isNew && (!known || known.count !== alarm.count)) { state.arrived[alarm.id] = Date.now(); }
    if (alarm.id > state.lastSeen) { state.lastSeen = alarm.id; }
    trim();
  }

  // keep the newest open alarms only: a storm must not grow the page without bound
  function trim() {
    var ids = Object.keys(state.byId);
    if (ids.length <= 500) { return; }
    ids.map(Number).sort(function (a, b) { return a - b; }).slice(0, ids.length - 400)
      .forEach(function (id) { delete state.byId[id]; delete state.arrived[id]; });
  }

  // Dash hands us the socket's latest event; two arriving before a callback runs would
  // hide the first. A gap in the ids (or the half-minute timer) fetches the open alarms.
  function reconcile() {
    var now = Date.now();
    if (now - (state.lastReconcile || 0) < 1000) {
      if (!state.reconcileTimer) {
        state.reconcileTimer = setTimeout(function () { state.reconcileTimer = null; reconcile(); }, 1000);
      }
      return;
    }
    state.lastReconcile = now;
    if (!document.querySelector(".cc-alarm-list") || !window.fetch) { return; }
    window.fetch("/alarms/open.json", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (sync) { if (sync) { onSync(sync); schedule(); } })
      .catch(function () { /* offline: the socket's reconnect brings a sync */ });
  }
  setInterval(reconcile, 30000);

  function onAlarm(alarm) {
    var brandNew = !state.byId[alarm.id] && alarm.id > state.lastSeen;
    if (brandNew && alarm.status === "open") { state.openTotal += 1; }
    if (state.lastSeen && alarm.id > state.lastSeen + 1) { reconcile(); }
    upsert(alarm, true);
    if (brandNew) { sound([alarm]); }
  }

  function onAck(ack) {
    if (state.openTotal > 0) { state.openTotal -= 1; }
    delete state.byId[ack.id];
    delete state.pending[ack.id];
    delete state.arrived[ack.id];
  }

  function onSync(sync) {
    // a (re)connect: the server's open alarms replace ours; ids after the last one we saw
    // are what we missed, and they flash like new ones
    var before = state.lastSeen;
    var fresh = [];
    var next = {};
    (sync.open || []).forEach(function (a) {
      next[a.id] = a;
      if (before && a.id > before) { fresh.push(a); state.arrived[a.id] = Date.now(); }
    });
    state.byId = next;
    state.openTotal = sync.open_total || (sync.open || []).length;
    if (sync.sound_levels) { state.soundLevels = sync.sound_levels; }
    state.lastSeen = Math.max(before, sync.last_id || 0);
    if (fresh.length) { sound(fresh); }
  }

  // 确认: hand the id to the ticker's store; the server callback acknowledges it
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".cc-alarm-ack") : null;
    if (!button || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var list = button.closest(".cc-alarm-list");
    var config = {};
    try { config = JSON.parse(list.dataset.config || "{}"); } catch (e) { return; }
    var id = +button.dataset.alarm;
    state.pending[id] = true;
    window.dash_clientside.set_props(listId(config.pid, "alarm-ack"), { data: { id: id, t: Date.now() } });
    schedule(0);
  });

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.cc_alarms = {
    on_event: function (alarm, ack, sync, alarms, acks) {
      var ctx = window.dash_clientside.callback_context;
      (ctx.triggered || []).forEach(function (t) {
        var prop = t.prop_id.split(".").slice(1).join(".");
        if (prop === "data-alarm" && alarm) { onAlarm(alarm); }
        else if (prop === "data-ack" && ack) { onAck(ack); }
        else if (prop === "data-sync" && sync) { onSync(sync); }
        else if (prop === "data-alarms" && alarms) { alarms.forEach(onAlarm); }
        else if (prop === "data-acks" && acks) { acks.forEach(onAck); }
      });
      schedule();
      return state.lastSeen;
    },
    connection: function (connected, texts) {
      texts = texts || {};
      if (connected === false) { return [texts.lost || "", "cc-conn cc-conn-lost"]; }
      return ["", "cc-conn"];
    },
  };
})();
