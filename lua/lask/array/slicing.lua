--- Functions of lask.array: `slice` (`x:slice(...)`), ranges, steps and single indices per axis.
--
-- One argument per axis (missing trailing ones mean the whole axis):
--   {}              the whole axis
--   {a, b}          elements a..b, 1-based and inclusive; negative counts from the
--                   end (-1 is the last); {a} is a..the end; out-of-range ends are
--                   clamped, as Python's slices are
--   {a, b, step}    every step-th element (step > 0)
--   i               the single element i (the axis is dropped)
-- The result keeps the input's block boundaries: each of its blocks is a view
-- (getitem) of exactly one input block, and blocks the selection misses are gone.
-- @module lask.array.slicing
-- @alias S
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type

local S = {}

local function index_error(msg, level) error("lask.array: slice: " .. msg, level + 1) end

local function int_arg(v, what, level)
  if mtype(v) ~= "integer" then index_error(fmt("%s must be an integer, got %s", what, tostring(v)), level + 1) end
  return v
end

-- The 0-based half-open range [start, stop) with step selected on an axis of
-- extent n, and whether the axis is dropped.
local function parse(spec, n, d, level)
  level = level + 1
  if spec == nil then return 0, n, 1, false end
  if type(spec) == "number" then
    local i = int_arg(spec, "an index", level)
    local i0 = i > 0 and i - 1 or n + i
    if i == 0 or i0 < 0 or i0 >= n then
      index_error(fmt("index %d is out of bounds for axis %d with extent %d (indices count from 1)", i, d, n), level)
    end
    return i0, i0 + 1, 1, true
  end
  if type(spec) ~= "table" or getmetatable(spec) ~= nil then
    index_error(fmt("axis %d: expected {first, last[, step]}, {} or an index, got %s", d, type(spec)), level)
  end
  local a, b, step = spec[1], spec[2], spec[3] or 1
  step = int_arg(step, "the step", level)
  if step < 1 then index_error("the step must be positive", level) end
  local start, stop = 0, n
  if a ~= nil then
    a = int_arg(a, "a range's first element", level)
    start = a > 0 and a - 1 or n + a
  end
  if b ~= nil then
    b = int_arg(b, "a range's last element", level)
    stop = b >= 0 and b or n + b + 1
  end
  start = math.min(math.max(start, 0), n)
  stop = math.min(math.max(stop, start), n)
  return start, stop, step, false
end

S.parse = parse -- (spec, n, d, level): x[k] = v's regions (lask.array.indexing) read ranges the same way

-- The pieces of one axis: for each output block {input block, lo, hi, count}
-- (local to the input block), and the output's block sizes.
local function axis_pieces(sizes, start, stop, step)
  local pieces, chunks, pos = {}, {}, 0
  for i, size in ipairs(sizes) do
    local bs, be = pos, pos + size
    pos = be
    local first = start
    if bs > start then first = start + ((bs - start + step - 1) // step) * step end
    local last = math.min(be, stop)
    if first < last then
      local count = (last - 1 - first) // step + 1
      local lo = first - bs
      pieces[#pieces + 1] = { i - 1, lo, lo + (count - 1) * step + 1, count }
      chunks[#chunks + 1] = count
    end
  end
  if #pieces == 0 then
    pieces[1], chunks[1] = { 0, 0, 0, 0 }, 0
  end
  return pieces, chunks
end

--- A part of an array: one argument per axis (see above); also `x:slice(...)`.
-- `x[i]` is not indexing on a lazy array (it raises): use `x:slice(i)`.
-- @param x lask.array
-- @param ... per axis: `{}`, `{a, b}`, `{a}`, `{a, b, step}` or an integer
-- @return lask.array
-- @raise on a step that is not positive or an index out of range
-- @usage local x = da.arange(10, {chunks = 4})
-- local y = x:slice({2, 8, 3})
-- assert(y.shape[1] == 3 and y:compute():get(2) == 4)
-- local m = da.arange(12):reshape{3, 4}
-- assert(m:slice(2, {-2}):compute():get(2) == 7)
function S.slice(x, ...)
  local nargs = select("#", ...)
  if nargs > x.ndim then index_error(fmt("too many indices (%d) for a %d-d array", nargs, x.ndim), 2) end
  local specs = { ... }
  local per_axis, out_chunks, drop, steps_needed, identity = {}, {}, {}, false, true
  for d = 1, x.ndim do
    local start, stop, step, dropped = parse(specs[d], x.shape[d], d, 2)
    local pieces, chunks = axis_pieces(x.chunks[d], start, stop, step)
    per_axis[d] = pieces
    if step ~= 1 then steps_needed = true end
    if dropped then drop[#drop + 1] = d - 1 else out_chunks[#out_chunks + 1] = chunks end
    if dropped or start ~= 0 or stop ~= x.shape[d] or step ~= 1 then identity = false end
    per_axis[d].step = step
  end
  if identity then return x end
  local name = "getitem-" .. core.tokenize("getitem", x, specs)
  local in_name, in_chunks = x.name, x.chunks
  local getitem, squeeze = core.kernel("getitem"), core.kernel("squeeze")
  local grid, dropset = {}, {}
  for d = 1, x.ndim do grid[d] = #per_axis[d] end
  for _, a in ipairs(drop) do dropset[a + 1] = true end
  local layer = core.grid_layer(name, grid, function(dsk, idx)
    local iidx, starts, stops, steps, oidx, whole = {}, {}, {}, {}, {}, true
    for d = 1, #idx do
      local p = per_axis[d][idx[d] + 1]
      iidx[d], starts[d], stops[d], steps[d] = p[1], p[2], p[3], per_axis[d].step
      if p[2] ~= 0 or p[3] ~= in_chunks[d][p[1] + 1] or steps[d] ~= 1 then whole = false end
    end
    local j = 0
    for d = 1, #idx do
      if not dropset[d] then
        j = j + 1
        oidx[j] = idx[d]
      end
    end
    local task = core.block_key(in_name, iidx)
    if not whole then task = { getitem, task, starts, stops, steps_needed and steps or nil } end
    if #drop > 0 then task = { squeeze, task, drop } end
    dsk[core.block_key(name, oidx)] = task
  end)
  return core.new(layer, { x }, out_chunks, x.dtype)
end

return S
