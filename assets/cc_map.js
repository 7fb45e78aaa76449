/* Functional props of the city map (dash-leaflet resolves {"variable": "cc.map.*"}). */
(function () {
  "use strict";
  window.cc = window.cc || {};
  window.cc.map = {
    regionStyle: function (feature) {
      var p = feature.properties || {};
      return {
        color: p.level === "street" ? "#7fc8ff" : "#4f8fc9",
        weight: p.level === "street" ? 2 : 1,
        fillColor: p.fill || "#16314f",
        fillOpacity: 0.55
      };
    },
    casePoint: function (feature, latlng) {
      var p = feature.properties || {};
      return L.circleMarker(latlng, {
        radius: p.state === "overdue" ? 7 : 5, color: "#ffffff", weight: 1,
        fillColor: p.colour || "#3fa9ff", fillOpacity: 0.95
      });
    },
    clusterIcon: function (feature, latlng, index) {
      var count = feature.properties.point_count;
      var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
      var overdue = leaves.some(function (l) { return l.properties.state === "overdue"; });
      var size = 26 + Math.min(30, Math.round(Math.log(count + 1) * 6));
      var icon = L.divIcon({
        html: "<div class='cc-cluster" + (overdue ? " has-overdue" : "") + "' style='width:" + size +
          "px;height:" + size + "px;font-size:" + Math.round(size / 2.6) + "px'>" + count + "</div>",
        className: "", iconSize: L.point(size, size)
      });
      return L.marker(latlng, { icon: icon });
    }
  };
})();
