/* tests/browser/interaction.js — drives a lask profile page the way a person would,
 * inside headless chromium (appended to a copy of the page by
 * tests/spec/diagnostics_spec.lua, which reads the outcome with --dump-dom).
 *
 * It hovers the longest task bar (the tooltip must name its key, function and
 * duration), zooms in with the wheel around it (fewer bars in view, the view
 * narrower), drags to pan (the view moves, keeps its width), and double-clicks
 * to reset (every bar back). The outcome goes, as JSON, in a pre element with
 * id interaction-result; an exception goes there too, as {"error": ...}.
 */
(function () {
  "use strict";
  var out = document.createElement("pre");
  out.id = "interaction-result";
  document.body.appendChild(out);
  try {
    var GUTTER = 118, RIGHT = 56, ROW_H = 24; /* the page's layout constants */
    var data = JSON.parse(document.getElementById("lask-data").textContent);
    var T = data.tasks, stats = document.getElementById("lask-render");
    var cv = document.getElementById("lask-tasks"), rect = cv.getBoundingClientRect();
    var plotW = rect.width - GUTTER - RIGHT, tmax = 0, best = 0, i;
    for (i = 0; i < T.n; i++) {
      tmax = Math.max(tmax, (T.s[i] + T.d[i]) * 1e-9);
      if (T.d[i] > T.d[best]) best = i;
    }
    function bars() { return +stats.getAttribute("data-bars"); }
    function view() { return document.getElementById("view").textContent; }
    function at(type, x, y, extra) {
      var init = {bubbles: true, cancelable: true, clientX: x, clientY: y, view: window};
      for (var k in extra || {}) init[k] = extra[k];
      var e = type === "wheel" ? new WheelEvent(type, init) : new MouseEvent(type, init);
      (type === "mouseup" || (type === "mousemove" && extra && extra.window) ? window : cv).dispatchEvent(e);
    }
    var row = T.workers.indexOf(T.w[best]);
    var mid = (T.s[best] + T.d[best] / 2) * 1e-9;
    var x = rect.left + GUTTER + mid / tmax * plotW, y = rect.top + row * ROW_H + ROW_H / 2;
    var r = {tasks: T.n, bars_full: bars(), renders0: +stats.getAttribute("data-renders")};

    at("mousemove", x, y);
    var tip = document.getElementById("tip");
    r.tip_shown = !tip.hidden;
    r.tip_text = tip.textContent;
    r.tip_key = T.k[best];
    r.tip_fn = T.fns[T.f[best]];

    var v0 = view();
    for (i = 0; i < 12; i++) at("wheel", x, y, {deltaY: -120, deltaMode: 0});
    r.view_zoomed = view();
    r.bars_zoomed = bars();
    r.zoom_changed_view = r.view_zoomed !== v0;

    at("mousedown", x, y);
    at("mousemove", x + 200, y, {window: true});
    at("mouseup", x + 200, y);
    r.view_panned = view();
    r.pan_changed_view = r.view_panned !== r.view_zoomed;

    at("dblclick", x, y);
    r.view_reset = view();
    r.bars_reset = bars();
    r.renders = +stats.getAttribute("data-renders");
    r.render_ms = +stats.getAttribute("data-render-ms");
    out.textContent = JSON.stringify(r);
  } catch (e) {
    out.textContent = JSON.stringify({error: String(e && e.stack || e)});
  }
})();
