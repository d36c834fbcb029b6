--- Profilers and a progress bar, as callback objects (see `lask.callbacks`), and the
-- profile page.
--
--   Profiler()              every task's key, start, finish and worker, from the
--                           engine's own trace (the timeline callback: recorded in C,
--                           two clock reads per task, no Lua per task)
--   ResourceProfiler{dt=}   CPU % and resident memory, sampled by a C thread
--   CacheProfiler()         how many results are held in memory over time
--   ProgressBar{...}        a progress bar (plain lines when not on a terminal)
--   visualize(profilers [, "profile.html"])   one self-contained page for them all
--
-- Making one activates nothing, as in Dask: it is active while a `<close>` variable
-- in scope holds it, or after `:register()` (until `:unregister()`), by the rule of
-- `lask.callbacks.active`. It accumulates over every get it sees. Times are seconds
-- on lask.clock(), so the results of successive gets and of different profilers
-- share one time axis. Only callbacks are used (start, pretask, posttask, finish,
-- timeline), so any scheduler that delivers them works with these.
-- @module lask.diagnostics
local core = require "lask.core"
local callbacks = require "lask.callbacks"

local M = {}

local clock = core.clock

local class = callbacks.class
local Callback = getmetatable(callbacks.Callback {})

-- A stack of the gets in progress (nested gets happen: a Lua task may call get),
-- each {dsk =, t0 =}. start pushes; finish pops the get of its graph.
local function push_run(runs, dsk) runs[#runs + 1] = { dsk = dsk, t0 = clock() } end

local function pop_run(runs, dsk)
  for i = #runs, 1, -1 do
    if runs[i].dsk == dsk then return table.remove(runs, i) end
  end
  return nil
end

-- The engine's trace clock starts after every start callback has returned, and
-- those can take a while (CacheProfiler's walks the graph). Each start callback of
-- this module notes when it ended, per graph, so the Profiler knows a later lower
-- bound for the trace's zero than its own start.
local start_ended = setmetatable({}, { __mode = "k" })

local function note_start_end(dsk) start_ended[dsk] = clock() end

-- A table that fills itself on first use (indexing, #, pairs): fill(t) puts the
-- entries in t. Results of a million tasks are then built only if someone looks.
local function lazy_list(fill)
  local t = {}
  local function materialise()
    setmetatable(t, nil)
    fill(t)
  end
  return setmetatable(t, {
    __index = function(self, k)
      materialise()
      return rawget(self, k)
    end,
    __len = function(self)
      materialise()
      return rawlen(self)
    end,
    __pairs = function(self)
      materialise()
      return next, self, nil
    end,
  })
end

---------------------------------------------------------------------------------
-- Profiler

local Profiler = class "lask.Profiler"

-- Each get it saw is kept as {trace =, t0 =}: the engine's trace (a lask.trace
-- userdata, times relative to the get's start) and the clock at that start. The
-- rows of results are made from them on first access and cached.
local function profiler_fill(self)
  return function(list)
    local rows = self._rows
    for r = self._nrows_runs + 1, #self._runs do
      local run = self._runs[r]
      local trace, t0 = run.trace, run.t0
      for i = 1, #trace do
        local key, s, f, w, head = trace:event(i)
        if head ~= nil then
          rows[#rows + 1] = { key = key, start = t0 + s, finish = t0 + f, worker = w, func = head,
            on_caller = run.on_caller and run.on_caller[key] or nil }
        end
      end
      self._nrows_runs = r
    end
    table.move(rows, 1, #rows, 1, list)
  end
end

-- The latest finish in a trace (seconds from its zero). Events come by worker, each
-- worker's in the order they ended, so the last event of each worker is found by
-- bisection: O(workers * log(tasks)), not a pass over a million events.
local function trace_last_finish(trace)
  local n, last = #trace, 0
  local lo = 1
  for w = 0, trace.nworkers - 1 do
    local a, b = lo, n + 1 -- first index whose worker is > w
    while a < b do
      local mid = (a + b) // 2
      local _, _, _, mw = trace:event(mid)
      if mw <= w then a = mid + 1 else b = mid end
    end
    if a > lo then
      local _, _, f = trace:event(a - 1)
      if f > last then last = f end
    end
    lo = a
  end
  if lo <= n then -- workers beyond nworkers (should not happen): scan them
    for i = lo, n do
      local _, _, f = trace:event(i)
      if f > last then last = f end
    end
  end
  return last
end

-- When the trace of the get described by run began, on lask.clock(): after the
-- start callbacks (lower bound) and no later than now minus its last finish.
local function trace_zero(run, trace)
  local now = clock()
  local low = run and run.t0 or now
  local ended = run and start_ended[run.dsk]
  if ended and ended > low then low = ended end
  return math.min(low, now - trace_last_finish(trace))
end

--- A profiler of every task the gets run while it is active.
-- `prof.results`: list of `{key=, start=, finish=, worker=, func=, on_caller=}` (func:
-- the task's function; on_caller: true for a Lua task of a `lua = "parallel"` get
-- that ran on the calling state because it could not be copied), in order of get,
-- then worker, then finish. Only tasks are listed: keys holding data or naming
-- another key run no function (and schedulers differ in whether they trace them).
-- Making one activates nothing: hold it in a `<close>` variable or `:register()` it.
-- @return lask.Profiler
-- @usage local diag = require "lask.diagnostics"
-- local d = { x = 1, y = { lask.kernels.inc, "x" } }
-- local prof = diag.Profiler()
-- lask.get(d, "y")
-- assert(#prof.results == 0) -- not active
-- do
--   local p <close> = prof
--   lask.get(d, "y")
-- end
-- assert(#prof.results == 1 and prof.results[1].key == "y")
function M.Profiler()
  local self = setmetatable({ _runs = {}, _active = {}, _rows = {}, _nrows_runs = 0 }, Profiler)
  self.start = function(dsk)
    push_run(self._active, dsk)
    note_start_end(dsk)
  end
  self.timeline = function(trace)
    local run = self._active[#self._active]
    self._runs[#self._runs + 1] = { trace = trace, t0 = trace_zero(run, trace), nworkers = trace.nworkers,
      dsk = run and run.dsk }
    self.results = lazy_list(profiler_fill(self))
  end
  self.finish = function(dsk, state)
    pop_run(self._active, dsk)
    local last = self._runs[#self._runs]
    if last and last.dsk == dsk and state and state.on_caller and next(state.on_caller) then
      last.on_caller = state.on_caller
    end
  end
  self.results = lazy_list(profiler_fill(self))
  return self
end

-- prof:clear(): forgets the gets recorded so far.
function Profiler:clear()
  self._runs, self._rows, self._nrows_runs = {}, {}, 0
  self.results = lazy_list(profiler_fill(self))
  return self
end

-- prof:visualize(filename [, opts]): the profile page (see M.visualize).
function Profiler:visualize(filename, opts) return M.visualize({ self }, filename, opts) end

-- Calls f(key, start, finish, worker, head, on_caller) for every task, times on
-- lask.clock(), straight from the traces (no row tables). For the page of a million tasks.
function Profiler:each_task(f)
  for _, run in ipairs(self._runs) do
    local trace, t0, oc = run.trace, run.t0, run.on_caller
    for i = 1, #trace do
      local key, s, e, w, head = trace:event(i)
      if head ~= nil then f(key, t0 + s, t0 + e, w, head, oc and oc[key] or nil) end
    end
  end
end

-- The number of tasks recorded, without building results.
function Profiler:count()
  local n = 0
  self:each_task(function() n = n + 1 end)
  return n
end

---------------------------------------------------------------------------------
-- ResourceProfiler

local ResourceProfiler = class "lask.ResourceProfiler"

local function resource_stop(self)
  local sampler = self._sampler
  if not sampler then return end
  self._sampler = nil
  for _, s in ipairs(sampler:samples()) do
    self.results[#self.results + 1] = { time = s.time, cpu = s.cpu, mem = s.mem / 1e6 }
  end
  self.incomplete = self.incomplete or sampler.incomplete
end

--- A profiler of the CPU use and memory of this process during the gets it sees.
-- Samples the CPU use (percent of one core: 200 is two cores busy) and the resident
-- memory (MB, 1e6 bytes) every dt seconds during the gets, on a C thread of its own
-- (no Lua involved, so a long native task does not delay samples).
-- `rprof.results`: list of `{time=, cpu=, mem=}`. Inactive until held by a `<close>`
-- variable or registered.
-- @param[opt] opts table: `dt` (seconds between samples, default 0.1)
-- @return lask.ResourceProfiler
-- @raise when dt is not a positive number
-- @usage local rprof = require("lask.diagnostics").ResourceProfiler { dt = 0.01 }
-- assert(#rprof.results == 0)
function M.ResourceProfiler(opts)
  opts = opts or {}
  local dt = opts.dt or 0.1
  if type(dt) ~= "number" or dt <= 0 then error("ResourceProfiler: dt must be a positive number", 2) end
  local self = setmetatable({ dt = dt, results = {}, _depth = 0 }, ResourceProfiler)
  self.start = function(dsk)
    self._depth = self._depth + 1
    if self._depth == 1 then self._sampler = core.sampler(dt) end
    note_start_end(dsk)
  end
  self.finish = function()
    self._depth = math.max(self._depth - 1, 0)
    if self._depth == 0 then resource_stop(self) end
  end
  return self
end

function ResourceProfiler:unregister()
  resource_stop(self)
  self._depth = 0
  return Callback.unregister(self)
end
ResourceProfiler.__close = ResourceProfiler.unregister

function ResourceProfiler:clear()
  self.results = {}
  return self
end

function ResourceProfiler:visualize(filename, opts) return M.visualize({ self }, filename, opts) end

---------------------------------------------------------------------------------
-- CacheProfiler

local CacheProfiler = class "lask.CacheProfiler"

-- Per get: for each key, the number of its dependents still to run. A result is
-- counted as held from its posttask until the posttask of its last dependent (as
-- the engine releases it); results nothing depends on are held until the get ends.
local function cache_start(self, dsk)
  local lask = require "lask"
  local deps, dependents = lask.get_deps(dsk)
  local waiting = {}
  for k, set in pairs(dependents) do
    local n = 0
    for _ in pairs(set) do n = n + 1 end
    waiting[k] = n
  end
  self._gets[#self._gets + 1] = { dsk = dsk, deps = deps, waiting = waiting }
  self.results[#self.results + 1] = { time = clock(), held = self._held }
  note_start_end(dsk)
end

local function cache_get_of(self, dsk)
  for i = #self._gets, 1, -1 do
    if self._gets[i].dsk == dsk then return self._gets[i], i end
  end
  return nil
end

local function cache_posttask(self, key, dsk)
  local get = cache_get_of(self, dsk)
  if not get then return end
  local held = self._held + 1
  local deps = get.deps[key]
  if deps then
    local waiting = get.waiting
    for d in pairs(deps) do
      local left = (waiting[d] or 1) - 1
      waiting[d] = left
      if left == 0 then held = held - 1 end
    end
  end
  get.held = (get.held or 0) + (held - self._held)
  self._held = held
  self.results[#self.results + 1] = { time = clock(), held = held }
end

local function cache_finish(self, dsk)
  local get, i = cache_get_of(self, dsk)
  if not get then return end
  table.remove(self._gets, i)
  self._held = self._held - (get.held or 0)
  self.results[#self.results + 1] = { time = clock(), held = self._held }
end

--- A profiler of how many task results are held in memory over time.
-- From posttask and the graph's dependents (so it costs a Lua call per task and a
-- pass over the graph per get, while active). `cprof.results`: list of
-- `{time=, held=}`. Inactive until held by a `<close>` variable or registered.
-- @return lask.CacheProfiler
-- @usage local diag = require "lask.diagnostics"
-- local d = { x = 1, y = { lask.kernels.inc, "x" } }
-- for _ = 1, 200 do diag.CacheProfiler() end -- stray: inert
-- local cprof <close> = diag.CacheProfiler()
-- lask.get(d, "y")
-- assert(#cprof.results > 0)
function M.CacheProfiler()
  local self = setmetatable({ results = {}, _gets = {}, _held = 0 }, CacheProfiler)
  self.start = function(dsk) cache_start(self, dsk) end
  self.posttask = function(key, _, dsk) cache_posttask(self, key, dsk) end
  self.finish = function(dsk) cache_finish(self, dsk) end
  return self
end

function CacheProfiler:clear()
  self.results = {}
  return self
end

function CacheProfiler:visualize(filename, opts) return M.visualize({ self }, filename, opts) end

---------------------------------------------------------------------------------
-- ProgressBar

local ProgressBar = class "lask.ProgressBar"

local function bar_line(width, frac, elapsed)
  local filled = math.floor(width * frac + 1e-9)
  return ("[%s%s] | %d%% Completed | %.1f s"):format(("#"):rep(filled), (" "):rep(width - filled),
    math.floor(100 * frac + 1e-9), elapsed)
end

-- On a terminal the bar is redrawn in place ("\r"); elsewhere (a pipe, a log file)
-- each drawing is a line of its own.
local function bar_draw(self, frac, elapsed)
  if self._tty then
    self.out:write("\r", bar_line(self.width, frac, elapsed))
  else
    self.out:write(bar_line(self.width, frac, elapsed), "\n")
  end
  self.out:flush()
  self._shown = true
end

-- Ends the bar's line (on a terminal the bar has none of its own).
local function bar_end(self)
  if self._tty then self.out:write("\n") end
end

--- A progress bar for the gets it sees.
-- On a terminal it draws `[#####     ] | 52% Completed | 3.1 s`, redrawn in place at
-- most every `dt` seconds once the get has run for `minimum` seconds. When `out` is
-- not a terminal it prints plain lines instead (no "\r" animation): one each time
-- the get passes another tenth of its tasks (once it has run for `minimum`
-- seconds), and the final one. Callbacks arrive between tasks on the calling thread,
-- so it draws from posttask. At the end of the get it draws its final state (100%,
-- or where an error or Ctrl-C stopped it), then, for a `lua = "parallel"` get, how
-- many Lua tasks ran on the calling state (they could not be copied to worker
-- states). Only the outermost get is drawn when gets nest. Nothing is drawn for a get
-- shorter than `minimum`. Inactive until held by a `<close>` variable or registered.
-- @param[opt] opts table: `minimum` (seconds, default 0.1), `dt` (seconds between
-- redraws on a terminal, default 0.1), `width` (characters, default 40), `out` (a file,
-- default io.stdout)
-- @return lask.ProgressBar
-- @usage local f = io.tmpfile()
-- do
--   local bar <close> = require("lask.diagnostics").ProgressBar { minimum = 0, out = f }
--   lask.get({ x = 1, y = { lask.kernels.inc, "x" } }, "y")
-- end
-- f:seek("set")
-- assert(f:read("a"):find("| 100% Completed |", 1, true))
function M.ProgressBar(opts)
  opts = opts or {}
  local self = setmetatable({
    minimum = opts.minimum or 0.1,
    dt = opts.dt or 0.1,
    width = opts.width or 40,
    out = opts.out or io.stdout,
  }, ProgressBar)
  self.start = function(dsk)
    if self._dsk then return end -- a nested get
    self._dsk, self._t0, self._shown = dsk, clock(), false
    self._last, self._tenth = self._t0, 0
    self._tty = select(2, pcall(core.isatty, self.out)) == true
    note_start_end(dsk)
  end
  local function redraw(state)
    local now = clock()
    if now - self._t0 < self.minimum then return end
    local frac = state.done / math.max(state.ntasks, 1)
    if self._tty then
      if now - self._last < self.dt then return end
    else
      local tenth = math.floor(10 * frac + 1e-9)
      if tenth <= self._tenth or frac >= 1 then return end -- 100% is drawn by finish
      self._tenth = tenth
    end
    self._last = now
    bar_draw(self, frac, now - self._t0)
  end
  self.posttask = function(_, _, dsk, state)
    if dsk == self._dsk then
      self._state = state
      redraw(state)
    end
  end
  self.finish = function(dsk, state, errored)
    if dsk ~= self._dsk then return end
    self._dsk, self._state = nil, nil
    local elapsed = clock() - self._t0
    if not self._shown and elapsed < self.minimum then return end
    bar_draw(self, errored and (state.done or 0) / math.max(state.ntasks, 1) or 1, elapsed)
    bar_end(self)
    local n = 0
    for _ in pairs(state.on_caller or {}) do n = n + 1 end
    if n > 0 then
      self.out:write(("%d Lua task%s ran on the calling state: %s not be copied to worker states\n"):format(
        n, n == 1 and "" or "s", n == 1 and "it could" or "they could"))
    end
    self.out:flush()
  end
  return self
end

-- Deactivating the bar ends the line of a get that never called finish: when a
-- callback fails, finish is skipped, and a Ctrl-C that lands in a callback (they
-- run between tasks, so it usually does) counts as that callback failing. With
-- the bar in a <close> variable, its last line is then drawn as the error leaves.
function ProgressBar:unregister()
  if self._dsk ~= nil and self._shown then
    local state = self._state or {}
    bar_draw(self, (state.done or 0) / math.max(state.ntasks or 1, 1), clock() - self._t0)
    bar_end(self)
    self.out:flush()
  end
  self._dsk, self._state = nil, nil
  return Callback.unregister(self)
end
ProgressBar.__close = ProgressBar.unregister

M.format_bar = bar_line

---------------------------------------------------------------------------------
-- The profile page

local page = require "lask.diagnostics.page"

local function kind_of(p)
  local mt = getmetatable(p)
  if mt == Profiler then return "tasks" end
  if mt == ResourceProfiler then return "resources" end
  if mt == CacheProfiler then return "cache" end
  return nil
end

-- True when p is one of this module's profilers.
function M.is_profiler(p) return kind_of(p) ~= nil end

-- The profilers as parts of the page ({tasks =, resources =, cache =}).
local function page_parts(profilers, level)
  if kind_of(profilers) then profilers = { profilers } end
  if type(profilers) ~= "table" or #profilers == 0 then
    error("visualize: expected a profiler or a list of profilers", level + 1)
  end
  local parts = {}
  for i, p in ipairs(profilers) do
    local kind = kind_of(p)
    if not kind then error(("visualize: item %d is not a lask profiler"):format(i), level + 1) end
    if parts[kind] then error(("visualize: two profilers of kind %s"):format(kind), level + 1) end
    parts[kind] = p
  end
  return parts
end

--- The profile page of the profilers, as a string (what `visualize` writes).
-- @param profilers a profiler or a list of them (at most one of each kind)
-- @param[opt] opts table: `title`
-- @return string: the HTML page
-- @raise when an item is not a profiler, or two are of one kind
-- @usage local diag = require "lask.diagnostics"
-- local prof = diag.Profiler()
-- assert(diag.html(prof):find("<!DOCTYPE html>", 1, true))
function M.html(profilers, opts)
  return page.html(page_parts(profilers, 2), opts or {})
end

-- A new file name for a page: os.tmpname's, with .html.
local function temp_page_name()
  local base = os.tmpname()
  os.remove(base)
  return base .. ".html"
end

--- Writes the profile page of the profilers and returns its path; opens nothing.
-- One self-contained HTML page (no network: inline script and style) showing the
-- profilers on one time axis: tasks (one row per worker, one bar per task coloured
-- by function, tooltips, zoom with the wheel, pan by dragging), resources (CPU and
-- memory) and cache (results held). Without profilers (`diag.visualize()`), the
-- profilers active at the call (by the rule of `lask.callbacks.active`). Without a
-- filename, a new file in the temporary directory (os.tmpname's, ending in .html).
-- `prof:visualize([filename [, opts]])` is `visualize({prof}, filename, opts)`.
-- @param[opt] profilers a profiler or a list of them (at most one of each kind)
-- @param[opt] filename string: where to write the page
-- @param[opt] opts table: `title`
-- @return string: the path of the page written
-- @raise when an item is not a profiler, two are of one kind, none is given or
-- active, or the file cannot be written
-- @usage local diag = require "lask.diagnostics"
-- local path
-- do
--   local prof <close> = diag.Profiler()
--   lask.get({ x = 1, y = { lask.kernels.inc, "x" } }, "y")
--   path = diag.visualize()
-- end
-- assert(io.open(path)):close()
-- os.remove(path)
function M.visualize(profilers, filename, opts)
  opts = opts or {}
  if profilers == nil then
    profilers = {}
    local seen = {}
    for _, cb in ipairs(callbacks.active() or {}) do
      local kind = kind_of(cb)
      if kind and not seen[kind] then -- the first active of each kind
        seen[kind] = true
        profilers[#profilers + 1] = cb
      end
    end
    if #profilers == 0 then
      error("visualize: no profiler given and none is active (hold one in a <close> variable or register it)", 2)
    end
  end
  local html = page.html(page_parts(profilers, 2), opts)
  filename = filename or temp_page_name()
  local f, err = io.open(filename, "wb")
  if not f then error("visualize: " .. err, 2) end
  f:write(html)
  f:close()
  return filename
end

return M
