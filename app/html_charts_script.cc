#include "app/html_charts_script.hh"

namespace horde::app {

// Kept generic on purpose: every figure is computed in C++ (where it is
// tested) and the script only draws. x_kind "percentile" puts 1/(1-q) on a
// log axis, so p90, p99 and p99.9 are evenly spaced, labelled at powers of
// ten. When every chart is drawn the body gets data-charts-drawn="N", which
// the Chromium test reads back from the DOM.
const char* const html_charts_script = R"js(
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("horde-charts").textContent);
  var palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#be185d",
                 "#4b5563"];
  function percentileLabel(v) {
    if (v == null || !isFinite(v)) return "";
    return "p" + String(Math.round(100000 * (1 - 1 / v)) / 1000);
  }
  function powerOfTen(v) {
    var e = Math.log10(v);
    return Math.abs(e - Math.round(e)) < 1e-9;
  }
  var drawn = 0;
  charts.forEach(function (c, i) {
    var el = document.getElementById("chart-" + i);
    if (!el) return;
    var pct = c.x_kind === "percentile";
    var series = [{label: pct ? "percentile" : "t (s)",
                   value: pct ? function (u, v) { return percentileLabel(v); } : undefined}];
    c.lines.forEach(function (l, k) {
      series.push({label: l.label, stroke: palette[k % palette.length], width: 1.5});
    });
    var xAxis = pct ? {values: function (u, vals) {
                        return vals.map(function (v) { return powerOfTen(v) ? percentileLabel(v) : ""; });
                      }}
                    : {label: "seconds since the start"};
    var opts = {
      width: Math.max(320, el.clientWidth || 1000),
      height: 260,
      series: series,
      scales: {x: pct ? {time: false, distr: 3} : {time: false}, y: c.y_log ? {distr: 3} : {}},
      axes: [xAxis, {label: c.y_label, size: 70}]
    };
    new uPlot(opts, [c.x].concat(c.lines.map(function (l) { return l.values; })), el);
    drawn++;
  });
  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
)js";

}  // namespace horde::app
