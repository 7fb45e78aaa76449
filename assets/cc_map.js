/* Functional props of the city map (dash-leaflet resolves {"variable": "cc.map.*"}), and the
   camera snapshot refresher. Owned by the city map module (layouts/city_map.py). */
(function () {
  "use strict";
  window.cc = window.cc || {};

  function hideoutOf(context) {
    if (!context) { return {}; }
    return context.hideout || (context.props && context.props.hideout) || {};
  }

  // choropleth classes (command_center.geo.shade): 0 = nothing, the top two warm
  var SHADES = {
    dark: ["#16314f", "#1d4e7a", "#2a6fa8", "#3b8fd0", "#f0a030", "#e0492f"],
    light: ["#e9eff7", "#c9dcf2", "#9fc2ea", "#6fa3dc", "#f2b45a", "#e2604a"]
  };
  var LINES = { district: "#9fd6ff", street: "#7fc8ff", community: "#4f8fc9", grid: "#3d6f9e" };
  var WEIGHTS = { district: 3, street: 2, community: 1.2, grid: 0.8 };
  // open cases by SLA state (command_center.geo.case_state; the legend's dots in the theme CSS)
  var CASE_COLOURS = {
    overdue: "#ff4d4f", due_soon: "#ffb020", on_time: "#3fa9ff", waiting: "#b38cff"
  };
  function caseColour(p) { return CASE_COLOURS[p.state] || "#3fa9ff"; }

  // Data reaches a map as text, never as markup: a tooltip's lines (an alarm's title, a
  // region's or a worker's name; command_center.geo.tooltip_lines) become text nodes, and
  // what goes into a marker's class comes through token(). Leaflet would parse a string.
  function shownLines(lines) {
    return (Array.isArray(lines) ? lines : [lines]).filter(function (line) {
      return line !== null && line !== undefined && line !== "";
    });
  }
  function textLines(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line, i) {
      if (i) { box.appendChild(document.createElement("br")); }
      box.appendChild(document.createTextNode(String(line)));
    });
    return box;
  }
  function token(value) { return String(value === undefined || value === null ? "" : value)
    .replace(/[^A-Za-z0-9_-]/g, ""); }
  function count(value) { return Number(value) || 0; }

  window.cc.map = {
    regionStyle: function (feature, context) {
      var p = feature.properties || {};
      var h = hideoutOf(context);
      var fills = h.fills || {};
      var light = h.theme === "light";
      var selected = h.selected && p.code === h.selected;
      var touring = h.touring && p.code && p.code.indexOf(h.touring) === 0;
      var unpatrolled = h.unpatrolled && h.unpatrolled[p.code];
      return {
        color: selected ? (light ? "#1f6fd1" : "#ffe066") : (unpatrolled ? "#e03131" :
          (touring ? "#ffffff" : (light ? "#5b7fae" : (LINES[p.level] || "#4f8fc9")))),
        weight: selected ? 4 : (unpatrolled ? 2 : (touring ? 2.5 : (WEIGHTS[p.level] || 1))),
        dashArray: unpatrolled ? "4 3" : null,
        fillColor: (SHADES[h.theme] || SHADES.dark)[fills[p.code] || 0],
        fillOpacity: selected || touring ? 0.75 : 0.55
      };
    },
    // the finer outlines of a view zoomed in by hand: lines only, clickable (a click drills)
    detailStyle: function (feature, context) {
      var p = feature.properties || {};
      var light = hideoutOf(context).theme === "light";
      return {
        color: light ? "#5b7fae" : (LINES[p.level] || "#4f8fc9"), weight: WEIGHTS[p.level] || 1,
        opacity: 0.9, fillColor: "#000000", fillOpacity: 0
      };
    },
    // moveend (every frame of a flight, too): once the view has stood still for a moment at
    // a whole zoom level, report its zoom and bounds to the server (finer outlines)
    viewSettled: function (e, context) {
      var map = e.target;
      window.clearTimeout(map._ccSettled);
      map._ccSettled = window.setTimeout(function () {
        var zoom = map.getZoom();
        if (zoom !== Math.round(zoom)) { return; }
        var b = map.getBounds();
        context.setProps({
          zoom: zoom, bounds: [[b.getSouth(), b.getWest()], [b.getNorth(), b.getEast()]]
        });
      }, 300);
    },
    trackStyle: function () {
      return { color: "#35e0b0", weight: 2.5, opacity: 0.85, dashArray: "6 4" };
    },
    bindTooltip: function (feature, layer) {
      var p = feature.properties || {};
      if (p.cluster) { return; }
      var lines = p.tooltip || (p.name ? [p.name] : (p.number ? [p.number, p.class_name] : []));
      var shown = shownLines(lines);
      if (!shown.length) { return; }
      // built when the tooltip opens: a district's map binds thousands and opens few
      layer.bindTooltip(function () { return textLines(shown); },
        { sticky: true, className: "cc-map-tooltip" });
    },
    caseStyle: function (feature) {
      var p = feature.properties || {};
      return { color: "#ffffff", weight: 1, fillColor: caseColour(p), fillOpacity: 0.95 };
    },
    casePoint: function (feature, latlng) {
      var p = feature.properties || {};
      if (p.kind === "component") {
        var size = p.state === "overdue" ? 13 : 11;
        return L.marker(latlng, {
          icon: L.divIcon({
            html: "<div class='cc-case-component' style='background:" + caseColour(p) +
              "'></div>",
            className: "", iconSize: L.point(size, size)
          })
        });
      }
      return L.circleMarker(latlng, {
        radius: p.state === "overdue" ? 7 : 5, color: "#ffffff", weight: 1,
        fillColor: caseColour(p), fillOpacity: 0.95
      });
    },
    alarmPoint: function (feature, latlng) {
      var p = feature.properties || {};
      return L.marker(latlng, {
        icon: L.divIcon({ html: "<div class='cc-alarm-pt cc-alarm-" + token(p.level) + "'>!</div>",
          className: "", iconSize: L.point(22, 22) }),
        zIndexOffset: 1000
      });
    },
    devicePoint: function (feature, latlng, context) {
      var p = feature.properties || {};
      // the marks come from the catalogue, in the page's language (layouts/city_map.py)
      var letters = hideoutOf(context).letters || {};
      var cls = "cc-pt cc-pt-" + token(p.layer) + " cc-st-" + token(p.status);
      var text = "";
      if (p.layer === "key_place") { text = letters[p.kind] || "·"; }
      if (p.layer === "camera") { text = "◉"; }
      if (p.layer === "sensor") { text = "◆"; }
      if (p.layer === "worker") { text = letters.worker || "·"; }
      return L.marker(latlng, {
        icon: L.divIcon({ html: "<div class='" + cls + "'>" + text + "</div>", className: "",
          iconSize: L.point(18, 18) }),
        zIndexOffset: p.layer === "worker" ? 500 : 0
      });
    },
    pointCluster: function (feature, latlng, index) {
      var n = count(feature.properties.point_count);
      var leaves = index.getLeaves(feature.properties.cluster_id, 1);
      var layer = leaves.length ? token(leaves[0].properties.layer) : "";
      var size = 22 + Math.min(20, Math.round(Math.log(n + 1) * 4));
      return L.marker(latlng, { icon: L.divIcon({
        html: "<div class='cc-pt-cluster cc-pt-" + layer + "' style='width:" + size + "px;height:" +
          size + "px;font-size:" + Math.round(size / 2.4) + "px'>" + n + "</div>",
        className: "", iconSize: L.point(size, size) }) });
    },
    clusterIcon: function (feature, latlng, index) {
      var n = count(feature.properties.point_count);
      var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      var overdue = leaves.some(function (l) { return l.properties.state === "overdue"; });
      var size = 26 + Math.min(30, Math.round(Math.log(n + 1) * 6));
      var icon = L.divIcon({
        html: "<div class='cc-cluster" + (overdue ? " has-overdue" : "") + "' style='width:" + size +
          "px;height:" + size + "px;font-size:" + Math.round(size / 2.6) + "px'>" + n + "</div>",
        className: "", iconSize: L.point(size, size)
      });
      return L.marker(latlng, { icon: icon });
    }
  };

  // A click on a region flies there at once; the server's scope update (boundaries of the
  // level below, breadcrumb, the other panels) follows.
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.cc_map = {
    flyToClicked: function (click) {
      var nu = window.dash_clientside.no_update;
      if (!click || !click.bounds || (click.properties && click.properties.cluster)) { return nu; }
      return { bounds: click.bounds, transition: "flyToBounds" };
    }
  };

  // A camera card shows a live view: its snapshot, reloaded every few seconds.
  window.setInterval(function () {
    var imgs = document.querySelectorAll("img.cc-cam-live");
    for (var i = 0; i < imgs.length; i++) {
      var src = imgs[i].getAttribute("data-src");
      if (src) { imgs[i].src = src + "?t=" + Date.now(); }
    }
  }, 3000);
})();
