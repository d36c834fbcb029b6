-- lask.diagnostics.page: the profile page, one self-contained HTML file.
--
-- The data goes in as columnar JSON inside <script type="application/json">
-- (times as integer nanoseconds from the page's origin), and the page's script
-- draws it on <canvas>: a page of 100k or 1M tasks stays small and responsive.
-- Bars narrower than a pixel are aggregated per pixel column, coloured by the
-- function with the most time there, and shaded by how busy the column is.
--
-- After each drawing the script records what it drew in hidden elements, so tests
-- (and anyone curious) can read it from the DOM:
--   #lask-render   data-renders, data-rows, data-tasks, data-bars (tasks drawn in
--                  view), data-wide, data-aggregated, data-resource-samples,
--                  data-cache-samples, data-render-ms (the last drawing's time),
--                  data-error (if the script failed)
--   #lask-rows     one <li data-worker data-bars> per worker row drawn
--   #lask-bars     after the first (full) view, one <li data-key data-worker
--                  data-fn> per task bar drawn (pages of at most 20,000 tasks)
local funcname = require "lask.funcname"

local M = {}

local concat = table.concat

local function json_string(s)
  return '"' .. s:gsub('[%c"\\<>&\127]', function(c)
    return ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function json_numbers(list) return "[" .. concat(list, ",") .. "]" end

-- Keys rarely need escaping: test with find (cheap) before paying for gsub.
local function json_strings(list)
  local out = {}
  for i = 1, #list do
    local v = list[i]
    if v:find('[%c"\\<>&\127]') then out[i] = json_string(v) else out[i] = '"' .. v .. '"' end
  end
  return "[" .. concat(out, ",") .. "]"
end

-- Nanoseconds from origin, as an integer (JSON stays compact and exact).
local function ns(t, origin) return math.floor((t - origin) * 1e9 + 0.5) end

-- The tasks part: columns over every task, the functions sorted by total time,
-- the workers seen, and each get's span (first start to last finish, data keys
-- included). One pass over the traces, no table per task: pages of a million
-- tasks are written in a few seconds.
local function task_columns(prof, origin)
  local namer = funcname.namer()
  local fn_of, fns, fn_time = {}, {}, {} -- head -> function index; names; seconds
  local fn_by_name = {}
  local W, S, Dur, F, K = {}, {}, {}, {}, {}
  local n, spans, nworkers, seen_workers = 0, {}, 1, {}
  local floor, tostring, type = math.floor, tostring, type
  for _, run in ipairs(prof._runs) do
    local trace, t0 = run.trace, run.t0
    nworkers = math.max(nworkers, run.nworkers or 1)
    local lo, hi = math.huge, -math.huge
    for i = 1, #trace do
      local key, s, e, w, head = trace:event(i)
      if s < lo then lo = s end
      if e > hi then hi = e end
      if head ~= nil then
        local fi = fn_of[head]
        if not fi then
          local name = namer(head)
          fi = fn_by_name[name]
          if not fi then
            fi = #fns + 1
            fns[fi], fn_time[fi], fn_by_name[name] = name, 0, fi
          end
          fn_of[head] = fi
        end
        n = n + 1
        fn_time[fi] = fn_time[fi] + (e - s)
        local start = floor((t0 + s - origin) * 1e9 + 0.5)
        W[n], S[n], Dur[n], F[n] = w, start, floor((t0 + e - origin) * 1e9 + 0.5) - start, fi
        K[n] = type(key) == "string" and key or tostring(key)
        seen_workers[w] = true
      end
    end
    if lo <= hi then
      spans[#spans + 1] = ("[%d,%d]"):format(floor((t0 + lo - origin) * 1e9 + 0.5), floor((t0 + hi - origin) * 1e9 + 0.5))
    end
  end
  -- functions by total time, most first: the big ones get the first colours
  local order = {}
  for i = 1, #fns do order[i] = i end
  table.sort(order, function(a, b)
    if fn_time[a] ~= fn_time[b] then return fn_time[a] > fn_time[b] end
    return fns[a] < fns[b]
  end)
  local rank, sorted = {}, {}
  for r, i in ipairs(order) do rank[i], sorted[r] = r - 1, fns[i] end
  for i = 1, n do F[i] = rank[F[i]] end
  local workers = {}
  for w = 0, nworkers - 1 do workers[#workers + 1] = w end
  for w in pairs(seen_workers) do
    if w >= nworkers then workers[#workers + 1] = w end
  end
  table.sort(workers)
  return {
    '{"n":', n, ',"w":', json_numbers(W), ',"s":', json_numbers(S), ',"d":', json_numbers(Dur),
    ',"f":', json_numbers(F), ',"k":', json_strings(K), ',"fns":', json_strings(sorted),
    ',"workers":', json_numbers(workers), "}", ',"runs":[', concat(spans, ","), "]",
  }
end

local function sample_columns(results, origin, fields)
  local cols = {}
  for j, f in ipairs(fields) do cols[j] = {} end
  for i, r in ipairs(results) do
    cols[1][i] = ns(r.time, origin)
    for j = 2, #fields do cols[j][i] = ("%.6g"):format(r[fields[j]]) end
  end
  local out = {}
  for j, f in ipairs(fields) do out[#out + 1] = json_string(f) .. ":" .. json_numbers(cols[j]) end
  return "{" .. concat(out, ",") .. "}"
end

-- The earliest time any part shows: the page's zero.
local function origin_of(parts)
  local origin = math.huge
  if parts.tasks then
    for _, run in ipairs(parts.tasks._runs) do origin = math.min(origin, run.t0) end
  end
  for _, kind in ipairs { "resources", "cache" } do
    local p = parts[kind]
    if p and p.results[1] then origin = math.min(origin, p.results[1].time) end
  end
  return origin < math.huge and origin or 0
end

local function data_json(parts, opts)
  local origin = origin_of(parts)
  local out = { '{"title":', json_string(opts.title or "lask profile"), ',"ncpu":', opts.ncpu or 0 }
  if parts.tasks then
    out[#out + 1] = ',"tasks":'
    for _, piece in ipairs(task_columns(parts.tasks, origin)) do out[#out + 1] = piece end
  end
  if parts.resources then
    out[#out + 1] = ',"resources":' .. sample_columns(parts.resources.results, origin, { "t", "cpu", "mem" })
  end
  if parts.cache then
    out[#out + 1] = ',"cache":' .. sample_columns(parts.cache.results, origin, { "t", "held" })
  end
  out[#out + 1] = "}"
  return concat(out)
end

local STYLE = [[
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:18px;margin:0 0 6px}
#summary{margin:4px 0 10px;color:#333}
#summary b{font-weight:600}
#controls{margin:0 0 6px;color:#555}
#controls button{font:inherit;margin-left:8px}
.chart{position:relative;margin:0 0 10px}
.chart h2{font-size:13px;font-weight:600;margin:8px 0 2px}
canvas{display:block;width:100%;cursor:grab;border:1px solid #ddd;border-radius:3px}
canvas.dragging{cursor:grabbing}
#tip{position:fixed;pointer-events:none;background:rgba(255,255,255,.97);border:1px solid #999;border-radius:4px;
padding:5px 8px;box-shadow:0 2px 6px rgba(0,0,0,.2);font-size:12px;max-width:420px;white-space:nowrap;z-index:10}
#tip .k{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
table{border-collapse:collapse;margin:4px 16px 8px 0;display:inline-table;vertical-align:top}
th,td{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:6px;vertical-align:-1px}
]]

local SCRIPT = [==[
(function () {
"use strict";
var stats = document.getElementById("lask-render");
window.addEventListener("error", function (e) { stats.setAttribute("data-error", String(e.message)); });
var D = JSON.parse(document.getElementById("lask-data").textContent);
var NS = 1e-9, GUTTER = 118, RIGHT = 56, ROW_H = 24, AXIS_H = 22, LIST_LIMIT = 20000;
var PALETTE = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22",
  "#17becf","#aec7e8","#ffbb78","#98df8a","#ff9896","#c5b0d5","#c49c94","#f7b6d2","#c7c7c7","#dbdb8d","#9edae5"];
function colour(f) { return PALETTE[f % PALETTE.length]; }
function fmt(t) {
  var a = Math.abs(t);
  if (a === 0) return "0 s";
  if (a < 1e-6) return (t * 1e9).toPrecision(3) + " ns";
  if (a < 1e-3) return (t * 1e6).toPrecision(3) + " \u00b5s";
  if (a < 1) return (t * 1e3).toPrecision(3) + " ms";
  return t.toPrecision(4) + " s";
}
function esc(s) {
  return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; });
}

/* --- the data, as typed arrays; per worker row, task indices sorted by start --- */
var T = D.tasks, n = T ? T.n : 0;
var start = new Float64Array(n), end = new Float64Array(n), wk = new Int32Array(n), fn = new Int32Array(n);
var tmax = 0, i, k;
for (i = 0; i < n; i++) {
  start[i] = T.s[i] * NS; end[i] = (T.s[i] + T.d[i]) * NS; wk[i] = T.w[i]; fn[i] = T.f[i];
  if (end[i] > tmax) tmax = end[i];
}
var workers = T ? T.workers : [], rowOf = {};
workers.forEach(function (w, r) { rowOf[w] = r; });
var rows = workers.map(function () { return []; });
for (i = 0; i < n; i++) rows[rowOf[wk[i]]].push(i);
var maxEnd = [];   /* maxEnd[r][k]: the latest end among the first k+1 tasks of row r (non-decreasing) */
rows = rows.map(function (list, r) {
  list.sort(function (a, b) { return start[a] - start[b] || a - b; });
  var idx = Int32Array.from(list), m = new Float64Array(idx.length), hi = -Infinity;
  for (var j = 0; j < idx.length; j++) { hi = Math.max(hi, end[idx[j]]); m[j] = hi; }
  maxEnd[r] = m;
  return idx;
});
var R = D.resources, C = D.cache;
function scaleCol(col) { return col.map(function (v) { return v * NS; }); }
if (R) { R.t = scaleCol(R.t); R.t.forEach(function (t) { if (t > tmax) tmax = t; }); }
if (C) { C.t = scaleCol(C.t); C.t.forEach(function (t) { if (t > tmax) tmax = t; }); }
if (!(tmax > 0)) tmax = 1e-6;
var full = {t0: 0, t1: tmax}, view = {t0: 0, t1: tmax};

/* --- summary and legend (once) --- */
(function summary() {
  var wall = 0, busy = workers.map(function () { return 0; }), count = workers.map(function () { return 0; });
  (D.runs || []).forEach(function (r) { wall += (r[1] - r[0]) * NS; });
  var fnCount = (T ? T.fns : []).map(function () { return 0; }), fnTime = fnCount.slice();
  for (i = 0; i < n; i++) {
    var r = rowOf[wk[i]]; busy[r] += end[i] - start[i]; count[r]++;
    fnCount[fn[i]]++; fnTime[fn[i]] += end[i] - start[i];
  }
  var total = fnTime.reduce(function (a, b) { return a + b; }, 0) || 1;
  var h = [];
  if (T) {
    h.push("<b>" + n + "</b> tasks in <b>" + (D.runs || []).length + "</b> get(s), wall time <b>" + fmt(wall) +
      "</b>, <b>" + workers.length + "</b> worker(s), busy " +
      (wall > 0 ? (100 * total / (wall * workers.length)).toFixed(1) : "0") + "% overall");
  }
  if (R && R.t.length) {
    var cpuMax = Math.max.apply(null, R.cpu.concat([0])), memMax = Math.max.apply(null, R.mem.concat([0]));
    h.push(R.t.length + " resource samples: CPU up to " + cpuMax.toFixed(0) + "%, memory up to " + memMax.toFixed(1) + " MB");
  }
  if (C && C.t.length) h.push("results held in memory: up to " + Math.max.apply(null, C.held.concat([0])));
  document.getElementById("summary").innerHTML = h.join("<br>");
  if (!T) return;
  var wt = ["<tr><th>worker</th><th>tasks</th><th>busy</th><th>busy %</th></tr>"];
  workers.forEach(function (w, r) {
    wt.push("<tr><td>" + (w === 0 ? "0 (calling thread)" : w) + "</td><td>" + count[r] + "</td><td>" + fmt(busy[r]) +
      "</td><td>" + (wall > 0 ? (100 * busy[r] / wall).toFixed(1) : "0") + "</td></tr>");
  });
  document.getElementById("workers").innerHTML = wt.join("");
  var lt = ["<tr><th>function</th><th>tasks</th><th>time</th><th>share</th></tr>"];
  T.fns.forEach(function (name, f) {
    lt.push("<tr><td><span class=sw style='background:" + colour(f) + "'></span>" + esc(name) + "</td><td>" +
      fnCount[f] + "</td><td>" + fmt(fnTime[f]) + "</td><td>" + (100 * fnTime[f] / total).toFixed(1) + "%</td></tr>");
  });
  document.getElementById("legend").innerHTML = lt.join("");
})();

/* --- drawing --- */
var charts = [];
function setup(id, height) {
  var cv = document.getElementById(id);
  cv.parentNode.hidden = false;
  var c = {cv: cv, height: height, ctx: cv.getContext("2d")};
  charts.push(c);
  return c;
}
function layout(c) {
  var dpr = window.devicePixelRatio || 1, w = Math.max(cv0Width(c), 300);
  c.width = w; c.plotW = w - GUTTER - RIGHT;
  c.cv.width = Math.round(w * dpr); c.cv.height = Math.round(c.height * dpr);
  c.cv.style.height = c.height + "px";
  c.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.ctx.clearRect(0, 0, w, c.height);
  c.scale = c.plotW / (view.t1 - view.t0);
}
function cv0Width(c) { return c.cv.clientWidth || c.cv.parentNode.clientWidth || 800; }
function xOf(c, t) { return GUTTER + (t - view.t0) * c.scale; }
function niceStep(span, ticks) {
  var raw = span / Math.max(ticks, 1), p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}
function axis(c, y) {
  var ctx = c.ctx, step = niceStep(view.t1 - view.t0, c.plotW / 110);
  ctx.strokeStyle = "#bbb"; ctx.fillStyle = "#555"; ctx.font = "11px sans-serif"; ctx.textAlign = "center";
  ctx.beginPath(); ctx.moveTo(GUTTER, y + 0.5); ctx.lineTo(GUTTER + c.plotW, y + 0.5); ctx.stroke();
  for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1 + step * 1e-9; t += step) {
    var x = Math.round(xOf(c, t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x, y + 4); ctx.stroke();
    ctx.fillText(fmt(Math.abs(t) < step * 1e-6 ? 0 : t), x, y + 15);
  }
}
function grid(c, bottom) {
  var ctx = c.ctx, step = niceStep(view.t1 - view.t0, c.plotW / 110);
  ctx.strokeStyle = "rgba(0,0,0,0.06)";
  for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
    var x = Math.round(xOf(c, t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, bottom); ctx.stroke();
  }
}
/* First index k of a row whose task may end at or after t (maxEnd is non-decreasing). */
function firstEndingAfter(r, t) {
  var m = maxEnd[r], lo = 0, hi = m.length;
  while (lo < hi) { var mid = (lo + hi) >> 1; if (m[mid] < t) lo = mid + 1; else hi = mid; }
  return lo;
}

var renders = 0, listed = false, fcov = new Float64Array(T ? T.fns.length : 1);
function drawTasks(c) {
  var ctx = c.ctx, drawn = 0, wide = 0, agg = 0, perRow = [], list = (!listed && n <= LIST_LIMIT) ? [] : null;
  var x0lim = GUTTER, x1lim = GUTTER + c.plotW;
  ctx.font = "12px sans-serif"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
  workers.forEach(function (w, r) {
    var y = r * ROW_H, idx = rows[r], col = -1, cov = 0, touched = [], rowDrawn = 0;
    ctx.fillStyle = r % 2 ? "#fafafa" : "#f2f4f7"; ctx.fillRect(GUTTER, y, c.plotW, ROW_H);
    ctx.fillStyle = "#333"; ctx.fillText(w === 0 ? "worker 0 (main)" : "worker " + w, GUTTER - 8, y + ROW_H / 2);
    function flush() {
      if (col < 0) return;
      var best = touched[0];
      for (var j = 1; j < touched.length; j++) if (fcov[touched[j]] > fcov[best]) best = touched[j];
      ctx.globalAlpha = Math.min(1, 0.35 + 0.65 * cov);
      ctx.fillStyle = colour(best); ctx.fillRect(col, y + 3, 1, ROW_H - 6);
      ctx.globalAlpha = 1;
      for (j = 0; j < touched.length; j++) fcov[touched[j]] = 0;
      touched.length = 0; col = -1; cov = 0;
    }
    for (var kk = firstEndingAfter(r, view.t0); kk < idx.length; kk++) {
      var t = idx[kk], s = start[t];
      if (s > view.t1) break;
      if (end[t] < view.t0) continue;
      drawn++; rowDrawn++;
      if (list) list.push(t);
      var x0 = Math.max(xOf(c, s), x0lim), x1 = Math.min(xOf(c, end[t]), x1lim);
      if (x1 - x0 >= 1) {
        flush(); wide++;
        ctx.fillStyle = colour(fn[t]);
        ctx.fillRect(x0, y + 3, x1 - x0 > 3 ? x1 - x0 - 0.5 : x1 - x0, ROW_H - 6);
      } else {
        var cx = Math.min(Math.floor(x0), x1lim - 1);
        if (cx !== col) { flush(); col = cx; }
        agg++; cov += x1 - x0;
        if (fcov[fn[t]] === 0) touched.push(fn[t]);
        fcov[fn[t]] += Math.max(x1 - x0, 1e-9);
      }
    }
    flush();
    perRow.push([w, rowDrawn]);
  });
  axis(c, workers.length * ROW_H);
  return {drawn: drawn, wide: wide, agg: agg, perRow: perRow, list: list};
}
function polyline(c, ts, vs, lo, hi, top, height, stroke, step) {
  var ctx = c.ctx, first = true;
  ctx.strokeStyle = stroke; ctx.lineWidth = 1.5; ctx.beginPath();
  var prevY = 0;
  for (var j = 0; j < ts.length; j++) {
    if (j + 1 < ts.length && ts[j + 1] < view.t0) continue;
    var x = xOf(c, ts[j]), y = top + height - (vs[j] - lo) / (hi - lo || 1) * height;
    if (first) { ctx.moveTo(x, y); first = false; }
    else { if (step) ctx.lineTo(x, prevY); ctx.lineTo(x, y); }
    prevY = y;
    if (ts[j] > view.t1) break;
  }
  ctx.stroke(); ctx.lineWidth = 1;
}
function yLabels(c, top, height, lo, hi, unit, right, colourText) {
  var ctx = c.ctx;
  ctx.font = "11px sans-serif"; ctx.fillStyle = colourText; ctx.textBaseline = "middle";
  ctx.textAlign = right ? "left" : "right";
  var x = right ? GUTTER + c.plotW + 6 : GUTTER - 6;
  [0, 0.5, 1].forEach(function (f) {
    var v = lo + (hi - lo) * f;
    ctx.fillText((v >= 100 ? v.toFixed(0) : v.toPrecision(3)) + unit, x, top + height - f * height);
  });
}
function plotFrame(c, top, height) {
  c.ctx.fillStyle = "#f7f8fa"; c.ctx.fillRect(GUTTER, top, c.plotW, height);
  grid(c, top + height);
}
function drawResources(c) {
  var top = 8, h = c.height - AXIS_H - top;
  plotFrame(c, top, h);
  var cpuHi = Math.max(100, Math.ceil(Math.max.apply(null, R.cpu.concat([0])) / 100) * 100);
  var memHi = Math.max(1, Math.max.apply(null, R.mem.concat([0])) * 1.1);
  c.ctx.save(); c.ctx.beginPath(); c.ctx.rect(GUTTER, 0, c.plotW, c.height); c.ctx.clip();
  polyline(c, R.t, R.cpu, 0, cpuHi, top, h, "#1f77b4", false);
  polyline(c, R.t, R.mem, 0, memHi, top, h, "#ff7f0e", false);
  c.ctx.restore();
  yLabels(c, top, h, 0, cpuHi, "%", false, "#1f77b4");
  yLabels(c, top, h, 0, memHi, " MB", true, "#ff7f0e");
  axis(c, c.height - AXIS_H);
}
function drawCache(c) {
  var top = 8, h = c.height - AXIS_H - top;
  plotFrame(c, top, h);
  var hi = Math.max(1, Math.max.apply(null, C.held.concat([0])));
  c.ctx.save(); c.ctx.beginPath(); c.ctx.rect(GUTTER, 0, c.plotW, c.height); c.ctx.clip();
  polyline(c, C.t, C.held, 0, hi, top, h, "#2ca02c", true);
  c.ctx.restore();
  yLabels(c, top, h, 0, hi, "", false, "#2ca02c");
  axis(c, c.height - AXIS_H);
}

var taskChart = T ? setup("lask-tasks", workers.length * ROW_H + AXIS_H) : null;
var resChart = R ? setup("lask-resources", 150) : null;
var cacheChart = C ? setup("lask-cache", 120) : null;

function render() {
  var got = null, t0 = performance.now();
  charts.forEach(layout);
  if (taskChart) got = drawTasks(taskChart);
  if (resChart) drawResources(resChart);
  if (cacheChart) drawCache(cacheChart);
  renders++;
  document.getElementById("view").textContent = "view: " + fmt(view.t0) + " \u2013 " + fmt(view.t1);
  stats.setAttribute("data-renders", renders);
  stats.setAttribute("data-rows", got ? got.perRow.length : 0);
  stats.setAttribute("data-tasks", n);
  stats.setAttribute("data-bars", got ? got.drawn : 0);
  stats.setAttribute("data-wide", got ? got.wide : 0);
  stats.setAttribute("data-aggregated", got ? got.agg : 0);
  stats.setAttribute("data-resource-samples", R ? R.t.length : 0);
  stats.setAttribute("data-cache-samples", C ? C.t.length : 0);
  stats.setAttribute("data-render-ms", (performance.now() - t0).toFixed(1));
  if (!got) return;
  var rowsEl = document.getElementById("lask-rows");
  rowsEl.innerHTML = got.perRow.map(function (p) {
    return "<li data-worker='" + p[0] + "' data-bars='" + p[1] + "'></li>";
  }).join("");
  if (got.list) {
    listed = true;
    document.getElementById("lask-bars").innerHTML = got.list.map(function (t) {
      return "<li data-key=\"" + esc(T.k[t]) + "\" data-worker='" + wk[t] + "' data-fn=\"" + esc(T.fns[fn[t]]) + "\"></li>";
    }).join("");
  }
}

/* --- interaction: wheel zooms about the pointer, drag pans, double-click resets --- */
var tip = document.getElementById("tip"), drag = null;
function tAt(c, x) { return view.t0 + (x - GUTTER) / c.scale; }
function clampView() {
  var span = Math.max(view.t1 - view.t0, 1e-9), fs = full.t1 - full.t0;
  if (span > fs * 1.05) { view.t0 = full.t0; view.t1 = full.t1; return; }
  if (view.t0 < full.t0 - fs * 0.05) { view.t0 = full.t0 - fs * 0.05; view.t1 = view.t0 + span; }
  if (view.t1 > full.t1 + fs * 0.05) { view.t1 = full.t1 + fs * 0.05; view.t0 = view.t1 - span; }
}
function localX(c, e) { return e.clientX - c.cv.getBoundingClientRect().left; }
charts.forEach(function (c) {
  c.cv.addEventListener("wheel", function (e) {
    e.preventDefault();
    var x = Math.min(Math.max(localX(c, e), GUTTER), GUTTER + c.plotW), t = tAt(c, x);
    var f = Math.pow(1.0018, e.deltaY * (e.deltaMode === 1 ? 20 : 1));
    view.t0 = t - (t - view.t0) * f; view.t1 = t + (view.t1 - t) * f;
    clampView(); render(); hover(c, e);
  }, {passive: false});
  c.cv.addEventListener("mousedown", function (e) {
    drag = {c: c, x: e.clientX, t0: view.t0, t1: view.t1}; c.cv.classList.add("dragging"); tip.hidden = true;
  });
  c.cv.addEventListener("dblclick", function () { view.t0 = full.t0; view.t1 = full.t1; render(); });
  c.cv.addEventListener("mousemove", function (e) { if (!drag) hover(c, e); });
  c.cv.addEventListener("mouseleave", function () { tip.hidden = true; });
});
window.addEventListener("mousemove", function (e) {
  if (!drag) return;
  var dt = (e.clientX - drag.x) / drag.c.scale;
  view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt; clampView(); render();
});
window.addEventListener("mouseup", function () {
  if (drag) drag.c.cv.classList.remove("dragging");
  drag = null;
});
document.getElementById("reset").addEventListener("click", function () { view.t0 = full.t0; view.t1 = full.t1; render(); });
window.addEventListener("resize", render);

function showTip(e, html) {
  tip.innerHTML = html; tip.hidden = false;
  var x = e.clientX + 14, y = e.clientY + 14;
  if (x + tip.offsetWidth > window.innerWidth - 4) x = e.clientX - tip.offsetWidth - 10;
  if (y + tip.offsetHeight > window.innerHeight - 4) y = e.clientY - tip.offsetHeight - 10;
  tip.style.left = x + "px"; tip.style.top = y + "px";
}
function nearest(ts, t) {
  var lo = 0, hi = ts.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) { var mid = (lo + hi) >> 1; if (ts[mid] < t) lo = mid + 1; else hi = mid; }
  return lo > 0 && Math.abs(ts[lo - 1] - t) < Math.abs(ts[lo] - t) ? lo - 1 : lo;
}
function hover(c, e) {
  var rect = c.cv.getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top;
  if (x < GUTTER || x > GUTTER + c.plotW) { tip.hidden = true; return; }
  var t = tAt(c, x);
  if (c === taskChart) {
    var r = Math.floor(y / ROW_H);
    if (r < 0 || r >= workers.length) { tip.hidden = true; return; }
    var tol = 2 / c.scale, idx = rows[r], hits = [], exact = -1;
    for (var kk = firstEndingAfter(r, t - tol); kk < idx.length && start[idx[kk]] <= t + tol; kk++) {
      var q = idx[kk];
      if (end[q] < t - tol) continue;
      hits.push(q);
      if (start[q] <= t && end[q] >= t && (end[q] - start[q]) * c.scale >= 1) exact = q;
    }
    if (!hits.length) { tip.hidden = true; return; }
    if (exact < 0 && hits.length === 1) exact = hits[0];
    if (exact >= 0) {
      showTip(e, "<div class=k>" + esc(T.k[exact]) + "</div>function: <b>" + esc(T.fns[fn[exact]]) + "</b><br>duration: " +
        fmt(end[exact] - start[exact]) + "<br>start: " + fmt(start[exact]) + ", worker " + wk[exact]);
      return;
    }
    var byFn = {}, busy = 0;
    hits.forEach(function (q) { byFn[fn[q]] = (byFn[fn[q]] || 0) + 1; busy += end[q] - start[q]; });
    var top = Object.keys(byFn).sort(function (a, b) { return byFn[b] - byFn[a]; }).slice(0, 4);
    showTip(e, "<b>" + hits.length + " tasks</b> here (" + fmt(busy) + " busy)<br>" + top.map(function (f) {
      return "<span class=sw style='background:" + colour(+f) + "'></span>" + esc(T.fns[f]) + ": " + byFn[f];
    }).join("<br>") + "<br><i>zoom in (wheel) to see each</i>");
  } else if (c === resChart) {
    var j = nearest(R.t, t);
    if (j < 0) { tip.hidden = true; return; }
    showTip(e, "time " + fmt(R.t[j]) + "<br>CPU: <b>" + R.cpu[j].toFixed(1) + "%</b><br>memory: <b>" +
      R.mem[j].toFixed(1) + " MB</b>");
  } else {
    var m = nearest(C.t, t);
    if (m < 0) { tip.hidden = true; return; }
    showTip(e, "time " + fmt(C.t[m]) + "<br>results held: <b>" + C.held[m] + "</b>");
  }
}

render();
})();
]==]

-- html(parts, opts): the page for parts.tasks (a Profiler), parts.resources (a
-- ResourceProfiler) and parts.cache (a CacheProfiler), any of them optional.
function M.html(parts, opts)
  local title = opts.title or "lask profile"
  local safe_title = title:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" })
  return concat {
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    "<meta name=\"generator\" content=\"lask.diagnostics\">\n",
    "<title>", safe_title, "</title>\n<style>\n", STYLE, "</style>\n</head>\n<body>\n",
    "<h1>", safe_title, "</h1>\n<div id=\"summary\"></div>\n",
    "<div id=\"controls\">zoom: mouse wheel \194\183 pan: drag \194\183 reset: double-click",
    "<button id=\"reset\" type=\"button\">reset view</button> <span id=\"view\"></span></div>\n",
    "<div class=\"chart\" hidden><h2>tasks by worker</h2><canvas id=\"lask-tasks\"></canvas></div>\n",
    "<div class=\"chart\" hidden><h2>resources: CPU (blue, %) and memory (orange, MB)</h2>",
    "<canvas id=\"lask-resources\"></canvas></div>\n",
    "<div class=\"chart\" hidden><h2>results held in memory</h2><canvas id=\"lask-cache\"></canvas></div>\n",
    "<table id=\"legend\"></table><table id=\"workers\"></table>\n",
    "<div id=\"tip\" hidden></div>\n",
    "<div id=\"lask-render\" hidden></div><ul id=\"lask-rows\" hidden></ul><ol id=\"lask-bars\" hidden></ol>\n",
    "<script type=\"application/json\" id=\"lask-data\">", data_json(parts, opts), "</script>\n",
    "<script>\n", SCRIPT, "</script>\n</body>\n</html>\n",
  }
end

return M
