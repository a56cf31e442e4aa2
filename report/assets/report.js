// The space-time diagram's controls: a time window (zoom) and filters by
// node and message kind. The SVG is drawn by the server; this script lays it
// out again with the same formulas from each element's data-* attributes
// (a, b: times in ns; f, t: from and to node; n: node; k: message kind).
// When done it writes data-rendered (the number of messages drawn) on <body>,
// which the CI check reads with headless Chromium.
(function () {
  "use strict";
  var svg = document.getElementById("st");
  if (!svg) { return; }
  var T0 = Number(svg.dataset.t0), T1 = Number(svg.dataset.t1);
  var X0 = Number(svg.dataset.x0), W = Number(svg.dataset.w);
  var TOP = Number(svg.dataset.top), GAP = Number(svg.dataset.gap);
  var lo = T0, hi = T1;
  var $ = function (sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); };
  var r1 = function (v) { return String(Math.round(v * 10) / 10); };

  function x(t) { return hi > lo ? X0 + (t - lo) / (hi - lo) * W : X0; }
  function checked(cls) {
    var set = {};
    $("input." + cls).forEach(function (c) { if (c.checked) { set[c.value] = true; } });
    return set;
  }
  function fmt(ns) {
    var units = [[1e9, "s"], [1e6, "ms"], [1e3, "µs"]];
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(ns) >= units[i][0]) { return String(Math.round(ns / units[i][0] * 1000) / 1000) + units[i][1]; }
    }
    return String(ns) + "ns";
  }
  function step(span) {
    for (var s = 1; ; s *= 10) {
      var ms = [1, 2, 5];
      for (var i = 0; i < ms.length; i++) { if (ms[i] * s * 8 >= span) { return ms[i] * s; } }
    }
  }
  function axis(height) {
    var g = document.getElementById("st-axis"), ns = "http://www.w3.org/2000/svg";
    while (g.firstChild) { g.removeChild(g.firstChild); }
    var s = step(hi - lo), ax = document.createElementNS(ns, "g");
    ax.setAttribute("class", "axis");
    for (var t = Math.ceil(lo / s) * s; t <= hi; t += s) {
      var l = document.createElementNS(ns, "line"), tx = document.createElementNS(ns, "text");
      l.setAttribute("x1", r1(x(t))); l.setAttribute("x2", r1(x(t)));
      l.setAttribute("y1", r1(TOP - 22)); l.setAttribute("y2", r1(height));
      tx.setAttribute("x", r1(x(t))); tx.setAttribute("y", r1(TOP - 26)); tx.textContent = fmt(t);
      ax.appendChild(l); ax.appendChild(tx);
    }
    g.appendChild(ax);
  }

  function layout() {
    var nodes = checked("f-node"), kinds = checked("f-kind"), y = {}, row = 0, drawn = 0;
    $("#st-lanes .lane").forEach(function (g) {
      var show = !!nodes[g.dataset.n];
      g.style.display = show ? "" : "none";
      if (!show) { return; }
      y[g.dataset.n] = TOP + row * GAP;
      var yy = r1(y[g.dataset.n]);
      g.querySelector("line").setAttribute("y1", yy); g.querySelector("line").setAttribute("y2", yy);
      g.querySelector("text").setAttribute("y", r1(y[g.dataset.n] + 4));
      row++;
    });
    var height = TOP + Math.max(row - 1, 0) * GAP + GAP;
    svg.setAttribute("height", r1(height));
    $("#st-bands rect").forEach(function (r) {
      var a = Math.max(Number(r.dataset.a), lo), b = Math.min(Number(r.dataset.b), hi);
      var show = (r.dataset.n in y) && b >= a;
      r.style.display = show ? "" : "none";
      if (!show) { return; }
      r.setAttribute("x", r1(x(a))); r.setAttribute("width", r1(Math.max(x(b) - x(a), 2)));
      r.setAttribute("y", r1(y[r.dataset.n] - 9));
    });
    $("#st-msgs line").forEach(function (l) {
      var a = Number(l.dataset.a), b = Number(l.dataset.b);
      var show = (l.dataset.f in y) && (l.dataset.t in y) && kinds[l.dataset.k] && b >= lo && a <= hi;
      l.style.display = show ? "" : "none";
      if (!show) { return; }
      var x1 = x(a), y1 = y[l.dataset.f], x2 = x(b), y2 = y[l.dataset.t];
      if (l.dataset.stub) { x2 = x1 + 8; y2 = y1 + (y2 - y1) * 0.3; }
      l.setAttribute("x1", r1(x1)); l.setAttribute("y1", r1(y1));
      l.setAttribute("x2", r1(x2)); l.setAttribute("y2", r1(y2));
      drawn++;
    });
    $("#st-points > *, #st-anchor > *").forEach(function (p) {
      var a = Number(p.dataset.a), global = !("n" in p.dataset);
      var show = a >= lo && a <= hi && (global || (p.dataset.n in y));
      p.style.display = show ? "" : "none";
      if (!show) { return; }
      if (global) {
        p.setAttribute("x1", r1(x(a))); p.setAttribute("x2", r1(x(a))); p.setAttribute("y2", r1(height));
      } else {
        p.setAttribute("transform", "translate(" + r1(x(a)) + "," + r1(y[p.dataset.n]) + ")");
      }
    });
    svg.querySelector("#plot rect").setAttribute("height", r1(height));
    axis(height);
    document.getElementById("win-label").textContent = fmt(lo) + " – " + fmt(hi);
    document.getElementById("render-status").textContent = drawn + " messages drawn";
    document.body.setAttribute("data-rendered", String(drawn));
  }

  function fromSliders() {
    var a = Number(document.getElementById("win-lo").value), b = Number(document.getElementById("win-hi").value);
    if (b <= a) { b = Math.min(a + 1, 1000); }
    lo = T0 + (T1 - T0) * a / 1000; hi = T0 + (T1 - T0) * b / 1000;
    layout();
  }
  function setWindow(a, b) {
    document.getElementById("win-lo").value = String(Math.round((a - T0) / (T1 - T0) * 1000));
    document.getElementById("win-hi").value = String(Math.round((b - T0) / (T1 - T0) * 1000));
    fromSliders();
  }
  document.getElementById("win-lo").addEventListener("input", fromSliders);
  document.getElementById("win-hi").addEventListener("input", fromSliders);
  document.getElementById("zoom-reset").addEventListener("click", function () { setWindow(T0, T1); });
  document.getElementById("zoom-anchor").addEventListener("click", function () {
    var v = document.querySelector("#st-anchor .violation");
    if (!v) { return; }
    var t = Number(v.dataset.a), span = (T1 - T0) / 10;
    setWindow(Math.max(T0, t - span * 0.8), Math.min(T1, t + span * 0.2));
  });
  $("input.f-node, input.f-kind").forEach(function (c) { c.addEventListener("change", layout); });
  layout();
})();
