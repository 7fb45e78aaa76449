/* The duty console in the browser (command_center/collaboration.py):
   - a click on anything carrying data-case-id opens the case drawer (queue rows, case
     lists, tickers, department boards …): one delegated listener, no callback per row;
   - a click on an alarm (data-alarm) opens its card in the drawer, to make it a case;
   - a click on data-department filters the case queue by that department;
   - SLA countdowns (.cc-sla-clock) tick every second between server refreshes, counting
     only until data-runs-until (the end of the working period) for working-hour limits;
   - a case put on a wall: its maps fly there, and back home when the focus ends;
   - a case photo (data-photo-full) opens large over the page; a click or Esc closes it,
     the arrow keys step through the photos of the same case. */
(function () {
  "use strict";
  window.cc = window.cc || {};

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props(id, props);
    }
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-case-id]") : null;
    if (el && (!ev.target.closest(".cc-drawer") || el.classList.contains("cc-btn"))) {
      var id = parseInt(el.getAttribute("data-case-id"), 10);
      if (id) { setProps("cc-drawer-case", { data: { case_id: id, t: Date.now() } }); }
      return;
    }
    var dep = ev.target.closest ? ev.target.closest("[data-department]") : null;
    if (dep) {
      var q = document.querySelector("[data-queue-dept-id]");
      if (q) {
        setProps(JSON.parse(q.getAttribute("data-queue-dept-id")),
                 { value: dep.getAttribute("data-department") || null });
      }
    }
  });

  // An alarm (the alarm ticker's rows carry data-alarm) opens its card, to make it a case.
  // On pointerdown, not click: the ticker re-renders its rows live, and a click whose
  // mousedown and mouseup land on two renderings of the row is never fired.
  document.addEventListener("pointerdown", function (ev) {
    var alarm = ev.target.closest ? ev.target.closest("[data-alarm]") : null;
    if (!alarm || ev.button !== 0 || ev.target.closest(".cc-alarm-ack") ||
        ev.target.closest(".cc-drawer")) { return; }
    var aid = parseInt(alarm.getAttribute("data-alarm"), 10);
    if (aid) { setProps("cc-drawer-case", { data: { alarm_id: aid, t: Date.now() } }); }
  });

  function fmt(seconds) {
    var s = Math.floor(Math.abs(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h + ":" + (m < 10 ? "0" : "") + m;
  }

  function tick() {
    var now = Date.now();
    var clocks = document.querySelectorAll(".cc-sla-clock[data-remaining]");
    for (var i = 0; i < clocks.length; i++) {
      var el = clocks[i];
      var rem = +el.dataset.remaining, asof = +el.dataset.asof;
      var runs = el.dataset.runsUntil;
      var until = runs === "" || runs === undefined ? now : Math.min(now, +runs);
      var left = rem - Math.max(0, until - asof) / 1000;
      var text = (left < 0 ? el.dataset.overdueLabel : el.dataset.leftLabel) + " " + fmt(left);
      if (el.textContent !== text) { el.textContent = text; }
      if (left < 0 && !el.classList.contains("overdue")) {
        el.classList.remove("due-soon", "on-time");
        el.classList.add("overdue");
      }
    }
  }
  setInterval(tick, 1000);

  function maps() {
    var out = [];
    var els = document.querySelectorAll(".cc-map[id]");
    for (var i = 0; i < els.length; i++) {
      try { out.push(JSON.parse(els[i].id)); } catch (e) { out.push(els[i].id); }
    }
    return out;
  }

  var lastSeq = null;
  function flyTo(c) {
    maps().forEach(function (id) {
      setProps(id, { viewport: { center: c, zoom: 17, transition: "flyTo" } });
    });
  }
  function focus() {
    var target = document.querySelector("#cc-focus-card .cc-focus-target");
    if (target && target.dataset.seq !== lastSeq) {
      var seq = lastSeq = target.dataset.seq;
      var c = [+target.dataset.lat, +target.dataset.lon];
      flyTo(c);
      // A case that replaces a region in focus: the wall's region goes back at the same
      // time, and its map's answer may land after this flight; fly again once it has.
      setTimeout(function () { if (lastSeq === seq) { flyTo(c); } }, 2500);
    }
    var home = document.querySelector("#cc-focus-card .cc-focus-home");
    if (home && lastSeq !== null) {
      lastSeq = null;
      var b = JSON.parse(home.dataset.bounds || "null");
      if (b) {
        maps().forEach(function (id) {
          setProps(id, { viewport: { bounds: b, transition: "flyToBounds" } });
        });
      }
    }
  }
  setInterval(focus, 500);

  // ---- photos: large over the page, no server round trip (the browser cached them) ----
  var shown = null;
  function showPhoto(fig) {
    var box = document.getElementById("cc-lightbox");
    if (!box || !fig) { return; }
    shown = fig;
    document.getElementById("cc-lightbox-img").src = fig.getAttribute("data-photo-full");
    document.getElementById("cc-lightbox-caption").textContent = fig.getAttribute("data-caption") || "";
    box.classList.add("show");
  }
  function hidePhoto() {
    var box = document.getElementById("cc-lightbox");
    if (box) { box.classList.remove("show"); }
    shown = null;
  }
  document.addEventListener("click", function (ev) {
    var fig = ev.target.closest ? ev.target.closest("[data-photo-full]") : null;
    if (fig) { showPhoto(fig); return; }
    if (shown && ev.target.closest && ev.target.closest("#cc-lightbox")) { hidePhoto(); }
  });
  document.addEventListener("keydown", function (ev) {
    if (!shown) { return; }
    if (ev.key === "Escape") { hidePhoto(); return; }
    var step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
    if (!step) { return; }
    var all = Array.prototype.slice.call(
      shown.parentNode ? shown.parentNode.querySelectorAll("[data-photo-full]") : []);
    var next = all[all.indexOf(shown) + step];
    if (next) { showPhoto(next); }
  });
  window.cc.duty = { tick: tick };
})();
