/* Wall behaviour that must run in the browser: scale the design canvas to the viewport
   (same maths as command_center/screens/scaling.py), show one part of a split wall,
   rotate pages in step across kiosks (by wall-clock time), the header clock, and a click
   on a node of the grid tree (data-region-code), handed to its panel's store. */
(function () {
  "use strict";
  window.cc = window.cc || {};

  document.addEventListener("click", function (ev) {
    var node = ev.target.closest ? ev.target.closest("[data-region-code]") : null;
    var wrap = node ? node.closest("[data-tree-pick-id]") : null;
    if (!wrap || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    window.dash_clientside.set_props(JSON.parse(wrap.getAttribute("data-tree-pick-id")), {
      data: { code: node.getAttribute("data-region-code"), t: Date.now() }
    });
  });

  function transform(dw, dh, vw, vh, mode) {
    var sx, sy, ox = 0, oy = 0;
    if (mode === "stretch") { sx = vw / dw; sy = vh / dh; }
    else if (mode === "fit-width") { sx = sy = vw / dw; }
    else if (mode === "fit-height") { sx = sy = vh / dh; ox = (vw - dw * sx) / 2; }
    else { sx = sy = Math.min(vw / dw, vh / dh); ox = (vw - dw * sx) / 2; oy = (vh - dh * sy) / 2; }
    return { sx: sx, sy: sy, ox: ox, oy: oy };
  }

  function partRegion(dw, dh, part, of) {
    var p = part.split(",").map(Number), o = of.split("x").map(Number);
    var w = dw / o[0], h = dh / o[1];
    return { x: (p[0] - 1) * w, y: (p[1] - 1) * h, w: w, h: h };
  }

  var last = "";
  function apply() {
    var el = document.getElementById("cc-canvas");
    if (!el) { last = ""; return; }
    var dw = +el.dataset.width, dh = +el.dataset.height, mode = el.dataset.scale || "contain";
    var vw = window.innerWidth, vh = window.innerHeight;
    var key = [dw, dh, mode, vw, vh, el.dataset.part || "", el.dataset.of || ""].join("|");
    if (key === last && el.classList.contains("cc-scaled")) { return; }
    var css;
    if (el.dataset.part && el.dataset.of) {
      // One kiosk of a split wall: this part of the canvas fills the whole viewport.
      var r = partRegion(dw, dh, el.dataset.part, el.dataset.of);
      var t = transform(r.w, r.h, vw, vh, mode);
      css = "translate(" + (t.ox - r.x * t.sx) + "px," + (t.oy - r.y * t.sy) + "px) scale(" + t.sx + "," + t.sy + ")";
    } else {
      var t2 = transform(dw, dh, vw, vh, mode);
      css = "translate(" + t2.ox + "px," + t2.oy + "px) scale(" + t2.sx + "," + t2.sy + ")";
    }
    el.style.transform = css;
    el.classList.add("cc-scaled");
    last = key;
    window.dispatchEvent(new Event("cc-scaled"));
  }

  function rotate() {
    var el = document.getElementById("cc-canvas");
    if (!el) { return; }
    var pages = el.querySelectorAll(".cc-page");
    var dwell = +el.dataset.dwell || 0;
    var index = 0;
    if (pages.length > 1 && dwell > 0) {
      // By wall-clock time, so every kiosk of a split wall shows the same page.
      index = Math.floor(Date.now() / 1000 / dwell) % pages.length;
    }
    var title = document.getElementById("cc-page-title");
    pages.forEach(function (p, i) {
      var on = i === index;
      if (p.classList.contains("active") !== on) {
        p.classList.toggle("active", on);
        if (on) { window.dispatchEvent(new Event("resize")); }
      }
      if (on && title && pages.length > 1) { title.textContent = p.dataset.title || ""; }
    });
  }

  // The city's wall time (the header's data-timezone, Settings.city_timezone), never the
  // kiosk's own zone: a kiosk set to UTC must show the same clock as the data around it.
  var formats = {};
  function wallTime(ms, zone) {
    var f = formats[zone];
    if (!f) {
      f = formats[zone] = new Intl.DateTimeFormat("en-GB", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    }
    var p = {};
    f.formatToParts(new Date(ms)).forEach(function (part) { p[part.type] = part.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
  }
  window.cc.wall = {
    transform: transform,
    partRegion: partRegion,
    apply: apply,
    wallTime: wallTime,
    clock: function () {
      var el = document.getElementById("cc-clock");
      return wallTime(Date.now(), (el && el.dataset.timezone) || "Asia/Shanghai");
    }
  };
  window.addEventListener("resize", apply);
  setInterval(function () { apply(); rotate(); }, 250);
})();
