--- Shape and construction functions of lask.array (numpy's, lazily and block by block).
-- ravel, broadcast_to, expand_dims, squeeze, moveaxis, swapaxes, flip, roll,
-- vstack/hstack/dstack, block, tile, repeat, pad, tri/tril/triu, diag, diagonal,
-- indices, meshgrid, the *_like creators, fromfunction (histogram and bincount:
-- lask.array.counting; tensordot and einsum: lask.array.einsum). Axes and index values are 1-based, as everywhere in
-- lask.array (negative axes count from the end); everything else follows numpy.
-- Each function builds a graph over existing block kernels (getitem, reshape,
-- concatenate, flip, broadcast_to, ...) or the fused elementwise machinery: blocks
-- are views where they can be.
-- @module lask.array.shape
-- @alias SH
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type
local block_key, is_array = core.block_key, core.is_array

local SH = {}

local function A() return require "lask.array" end

local function need_array(x, what, level)
  if is_array(x) then return x end
  if type(x) == "table" or type(x) == "userdata" or type(x) == "number" or type(x) == "boolean" then
    if type(x) == "number" or type(x) == "boolean" then x = require("lask.core").ndarray.asarray(x) end
    return require("lask.array.creation").from_array(x, nil, level + 1)
  end
  error(fmt("lask.array: %s: expected an array, got %s", what, type(x)), level + 1)
end

-- One 1-based axis (negative from the end) of n as 0-based.
local function axis0(axis, n, what, level)
  if type(axis) == "table" then error(fmt("lask.array: %s: axis must be an integer", what), level + 1) end
  return core.normalize_axes(axis, n, what, level + 1)[1]
end

-- A layer of one task per output block: task(idx) gives it (idx is 0-based, reused).
local function per_block(prefix, token, deps, chunks, dtype, task)
  local name = prefix .. "-" .. core.tokenize(prefix, token)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    dsk[block_key(name, idx)] = task(idx)
  end)
  return core.new(layer, deps, chunks, dtype)
end

local function block_shape(chunks, idx)
  local s = {}
  for d = 1, #chunks do s[d] = chunks[d][idx[d] + 1] end
  return s
end

-- -----------------------------------------------------------------------------
-- Axes added, removed, moved

--- x flattened to one axis, in C order (numpy's ravel; reshape(x, {-1})).
-- @param x lask.array
-- @return lask.array: 1-D
-- @usage local y = da.ravel(da.ones({2, 3}, {chunks = 1}))
-- assert(y.shape[1] == 6)
function SH.ravel(x)
  x = need_array(x, "ravel", 2)
  if x.ndim == 1 then return x end
  return x:reshape { x.size }
end

--- x broadcast to shape by numpy's rules (a copy per block, never a zero-stride view).
-- The axes x has keep its blocks; new axes (and those of extent 1 in x) are one
-- block unless opts.chunks says otherwise.
-- @param x lask.array (or a number)
-- @param shape table: the target shape
-- @param[opt] opts table: `chunks` of the result
-- @return lask.array
-- @raise when x's shape does not broadcast to shape
-- @usage local y = da.broadcast_to(da.arange(3), {2, 3})
-- assert(y:compute():get(2, 3) == 2)
function SH.broadcast_to(x, shape, opts)
  x = need_array(x, "broadcast_to", 2)
  shape = core.normalize_shape(shape, 2)
  local nd, off = #shape, #shape - x.ndim
  if off < 0 then
    error(fmt("lask.array: broadcast_to: cannot broadcast shape %s to the fewer axes of %s", core.tuple(x.shape),
      core.tuple(shape)), 2)
  end
  local chunks = {}
  for d = 1, nd do
    local xd = d - off
    if xd >= 1 and x.shape[xd] == shape[d] then
      chunks[d] = x.chunks[xd]
    elseif xd >= 1 and x.shape[xd] ~= 1 then
      error(fmt("lask.array: broadcast_to: cannot broadcast shape %s to %s", core.tuple(x.shape), core.tuple(shape)), 2)
    else
      chunks[d] = { shape[d] }
    end
  end
  if opts and opts.chunks then
    local want = core.normalize_chunks(opts.chunks, shape, x.dtype, 2)
    -- x's axes first take the wanted blocks, then the new ones are cut as wanted
    local xc = {}
    for xd = 1, x.ndim do xc[xd] = x.shape[xd] == shape[xd + off] and want[xd + off] or x.chunks[xd] end
    x = x:rechunk(xc)
    chunks = want
  end
  if core.same_list(shape, x.shape) and core.same_chunks(chunks, x.chunks) then return x end
  local k, xname, xnb = core.kernel("broadcast_to"), x.name, x.numblocks
  return per_block("broadcast_to", { x, shape, chunks }, { x }, chunks, x.dtype, function(idx)
    local iidx = {}
    for xd = 1, x.ndim do iidx[xd] = xnb[xd] == 1 and 0 or idx[xd + off] end
    return { k, block_key(xname, iidx), block_shape(chunks, idx) }
  end)
end

--- x with new axes of extent 1 at the given positions of the result (numpy's expand_dims).
-- @param x lask.array
-- @param axis integer or table: 1-based positions in the result (negative from its end)
-- @return lask.array
-- @usage assert(da.expand_dims(da.ones(4), 1).shape[1] == 1)
function SH.expand_dims(x, axis)
  x = need_array(x, "expand_dims", 2)
  local list = type(axis) == "table" and axis or { axis }
  local n = x.ndim + #list
  local new = {}
  for _, a in ipairs(list) do
    local a0 = axis0(a, n, "expand_dims", 2)
    if new[a0] then error(fmt("lask.array: expand_dims: axis %d is repeated", a), 2) end
    new[a0] = true
  end
  local chunks, src, positions = {}, {}, {}
  local j = 0
  for d = 0, n - 1 do
    if new[d] then
      chunks[d + 1] = { 1 }
      positions[#positions + 1] = d
    else
      j = j + 1
      chunks[d + 1], src[d + 1] = x.chunks[j], j
    end
  end
  local k, xname = core.kernel("insert_axes"), x.name
  return per_block("expand_dims", { x, positions }, { x }, chunks, x.dtype, function(idx)
    local iidx = {}
    for d = 1, n do if src[d] then iidx[src[d]] = idx[d] end end
    return { k, block_key(xname, iidx), positions }
  end)
end

--- x without axes of extent 1 (all of them, or those given; numpy's squeeze).
-- @param x lask.array
-- @param[opt] axis integer or table: 1-based axes, each of extent 1
-- @return lask.array
-- @raise when a given axis does not have extent 1
-- @usage assert(da.squeeze(da.ones({1, 3, 1})).ndim == 1)
function SH.squeeze(x, axis)
  x = need_array(x, "squeeze", 2)
  local drop = {}
  if axis == nil then
    for d = 1, x.ndim do if x.shape[d] == 1 then drop[d] = true end end
  else
    for _, a in ipairs(core.normalize_axes(axis, x.ndim, "squeeze", 2)) do
      if x.shape[a + 1] ~= 1 then
        error(fmt("lask.array: squeeze: axis %d has extent %d, not 1", a + 1, x.shape[a + 1]), 2)
      end
      drop[a + 1] = true
    end
  end
  local chunks, keep, axes = {}, {}, {}
  for d = 1, x.ndim do
    if drop[d] then axes[#axes + 1] = d - 1 else
      chunks[#chunks + 1] = x.chunks[d]
      keep[#keep + 1] = d
    end
  end
  if #axes == 0 then return x end
  local k, xname = core.kernel("squeeze"), x.name
  return per_block("squeeze", { x, axes }, { x }, chunks, x.dtype, function(idx)
    local iidx = {}
    for d = 1, x.ndim do iidx[d] = 0 end
    for j, d in ipairs(keep) do iidx[d] = idx[j] end
    return { k, block_key(xname, iidx), axes }
  end)
end

--- x with axis source moved to position destination (numpy's moveaxis; lists too).
-- @param x lask.array
-- @param source integer or table: 1-based axes
-- @param destination integer or table: their 1-based positions in the result
-- @return lask.array: a transpose (views)
-- @usage assert(da.moveaxis(da.ones({2, 3, 4}), 1, -1).shape[3] == 2)
function SH.moveaxis(x, source, destination)
  x = need_array(x, "moveaxis", 2)
  local src = type(source) == "table" and source or { source }
  local dst = type(destination) == "table" and destination or { destination }
  if #src ~= #dst then error("lask.array: moveaxis: source and destination must list as many axes", 2) end
  local order, taken, placed = {}, {}, {}
  for i = 1, #src do
    local s, t = axis0(src[i], x.ndim, "moveaxis", 2), axis0(dst[i], x.ndim, "moveaxis", 2)
    if taken[s] or placed[t] then error("lask.array: moveaxis: repeated axes", 2) end
    taken[s], placed[t] = true, s
  end
  local rest = {}
  for d = 0, x.ndim - 1 do if not taken[d] then rest[#rest + 1] = d end end
  local r = 0
  for d = 0, x.ndim - 1 do
    if placed[d] then order[d + 1] = placed[d] + 1 else
      r = r + 1
      order[d + 1] = rest[r] + 1
    end
  end
  return x:transpose(order)
end

--- x with two axes exchanged (numpy's swapaxes).
-- @param x lask.array
-- @param a integer: 1-based axis
-- @param b integer: 1-based axis
-- @return lask.array
-- @usage assert(da.swapaxes(da.ones({2, 3}), 1, 2).shape[1] == 3)
function SH.swapaxes(x, a, b)
  x = need_array(x, "swapaxes", 2)
  local a0, b0 = axis0(a, x.ndim, "swapaxes", 2), axis0(b, x.ndim, "swapaxes", 2)
  local order = {}
  for d = 1, x.ndim do order[d] = d end
  order[a0 + 1], order[b0 + 1] = b0 + 1, a0 + 1
  return x:transpose(order)
end

--- x with the order of its elements reversed along axis (all axes by default; numpy's flip).
-- Each block is a view of one input block (negative strides).
-- @param x lask.array
-- @param[opt] axis integer or table: 1-based axes
-- @return lask.array
-- @usage assert(da.flip(da.arange(5, {chunks = 2})):compute():get(1) == 4)
function SH.flip(x, axis)
  x = need_array(x, "flip", 2)
  local axes = core.normalize_axes(axis, x.ndim, "flip", 2)
  if #axes == 0 then return x end
  local flipped, chunks = {}, core.plain(x.chunks)
  for _, a in ipairs(axes) do
    flipped[a + 1] = true
    local c, n = chunks[a + 1], #chunks[a + 1]
    for i = 1, n // 2 do c[i], c[n + 1 - i] = c[n + 1 - i], c[i] end
  end
  local k, xname, nb = core.kernel("reverse"), x.name, x.numblocks
  return per_block("flip", { x, axes }, { x }, chunks, x.dtype, function(idx)
    local iidx = {}
    for d = 1, x.ndim do iidx[d] = flipped[d] and nb[d] - 1 - idx[d] or idx[d] end
    return { k, block_key(xname, iidx), axes }
  end)
end

--- x upside down: flip along axis 1.
-- @param x lask.array
-- @return lask.array
-- @usage assert(da.flipud(da.arange(3)):compute():get(1) == 2)
function SH.flipud(x) return SH.flip(x, 1) end

--- x left to right: flip along axis 2.
-- @param x lask.array: at least 2-D
-- @return lask.array
-- @usage assert(da.fliplr(da.ones({2, 3})).shape[2] == 3)
function SH.fliplr(x)
  x = need_array(x, "fliplr", 2)
  if x.ndim < 2 then error("lask.array: fliplr: needs an array of at least 2 dimensions", 2) end
  return SH.flip(x, 2)
end

--- x's elements rolled by shift positions along axis (numpy's roll; flat without an axis).
-- @param x lask.array
-- @param shift integer or table of integers
-- @param[opt] axis integer or table: 1-based axes, one per shift
-- @return lask.array
-- @usage assert(da.roll(da.arange(5, {chunks = 2}), 2):compute():get(1) == 3)
function SH.roll(x, shift, axis)
  x = need_array(x, "roll", 2)
  if axis == nil then
    if type(shift) == "table" then error("lask.array: roll: several shifts need as many axes", 2) end
    return SH.roll(SH.ravel(x), shift, 1):reshape(core.plain(x.shape))
  end
  local shifts = type(shift) == "table" and shift or { shift }
  local axes = type(axis) == "table" and axis or { axis }
  if #shifts == 1 and #axes > 1 then for i = 2, #axes do shifts[i] = shifts[1] end end
  if #shifts ~= #axes then error("lask.array: roll: give one shift per axis", 2) end
  for i, a in ipairs(axes) do
    local d = axis0(a, x.ndim, "roll", 2) + 1
    if mtype(shifts[i]) ~= "integer" then error("lask.array: roll: shifts must be integers", 2) end
    local n = x.shape[d]
    local s = n > 0 and shifts[i] % n or 0
    if s ~= 0 then
      local head, tail = {}, {}
      for e = 1, x.ndim do head[e], tail[e] = {}, {} end
      head[d], tail[d] = { n - s + 1, n }, { 1, n - s }
      x = A().concatenate({ x:slice(table.unpack(head, 1, x.ndim)), x:slice(table.unpack(tail, 1, x.ndim)) }, d)
    end
  end
  return x
end

-- -----------------------------------------------------------------------------
-- Joining

-- x with leading axes of extent 1 up to n axes (numpy's atleast_Nd, which for
-- dstack puts 1-D and 2-D arrays differently: see dstack).
local function at_least(x, n)
  if x.ndim >= n then return x end
  local shape = {}
  for d = 1, n - x.ndim do shape[d] = 1 end
  for d = 1, x.ndim do shape[#shape + 1] = x.shape[d] end
  return x:reshape(shape)
end

local function arrays_of(seq, what, level)
  if type(seq) ~= "table" or is_array(seq) or #seq == 0 then
    error(fmt("lask.array: %s: expected a non-empty list of arrays", what), level + 1)
  end
  local out = {}
  for i, v in ipairs(seq) do out[i] = need_array(v, what, level + 1) end
  return out
end

--- Arrays joined by rows: 1-D ones as rows of a 2-D result (numpy's vstack).
-- @param seq table: a list of arrays
-- @return lask.array
-- @usage assert(da.vstack{da.ones(3), da.zeros(3)}.shape[1] == 2)
function SH.vstack(seq)
  local xs = arrays_of(seq, "vstack", 2)
  for i, x in ipairs(xs) do xs[i] = at_least(x, 2) end
  return A().concatenate(xs, 1)
end

--- Arrays joined by columns (1-D ones end to end; numpy's hstack).
-- @param seq table: a list of arrays
-- @return lask.array
-- @usage assert(da.hstack{da.ones(3), da.zeros(2)}.shape[1] == 5)
function SH.hstack(seq)
  local xs = arrays_of(seq, "hstack", 2)
  for i, x in ipairs(xs) do xs[i] = at_least(x, 1) end
  return A().concatenate(xs, xs[1].ndim == 1 and 1 or 2)
end

--- Arrays joined along a third axis (numpy's dstack: (n) is (1, n, 1), (m, n) is (m, n, 1)).
-- @param seq table: a list of arrays
-- @return lask.array
-- @usage assert(da.dstack{da.ones({2, 2}), da.zeros({2, 2})}.shape[3] == 2)
function SH.dstack(seq)
  local xs = arrays_of(seq, "dstack", 2)
  for i, x in ipairs(xs) do
    if x.ndim == 0 then x = x:reshape { 1, 1, 1 }
    elseif x.ndim == 1 then x = x:reshape { 1, x.shape[1], 1 }
    elseif x.ndim == 2 then x = x:reshape { x.shape[1], x.shape[2], 1 } end
    xs[i] = x
  end
  return A().concatenate(xs, 3)
end

--- An array assembled from nested lists of blocks (numpy's block).
-- The innermost lists are joined along the last axis, the next along the one
-- before, and so on; arrays get leading axes of extent 1 up to the nesting depth.
-- @param nested table: nested lists of arrays
-- @return lask.array
-- @usage local b = da.block{{da.ones({2, 2}), da.zeros({2, 1})}, {da.zeros({1, 3})}}
-- assert(b.shape[1] == 3 and b.shape[2] == 3)
function SH.block(nested)
  if is_array(nested) then return nested end
  if type(nested) ~= "table" or #nested == 0 then error("lask.array: block: expected nested lists of arrays", 2) end
  local depth, nd = nil, 0
  local function walk(t, d)
    if is_array(t) or type(t) ~= "table" or getmetatable(t) ~= nil then
      if depth and depth ~= d then error("lask.array: block: the lists are nested to different depths", 4) end
      depth = d
      nd = math.max(nd, is_array(t) and t.ndim or 0)
      return
    end
    if #t == 0 then error("lask.array: block: empty list", 4) end
    for _, v in ipairs(t) do walk(v, d + 1) end
  end
  walk(nested, 0)
  nd = math.max(nd, depth)
  local function join(t, d)
    if d == depth then return at_least(need_array(t, "block", 3), nd) end
    local parts = {}
    for i, v in ipairs(t) do parts[i] = join(v, d + 1) end
    return #parts == 1 and parts[1] or A().concatenate(parts, nd - depth + d + 1)
  end
  return join(nested, 0)
end

--- x repeated reps times along each axis (numpy's tile).
-- @param x lask.array
-- @param reps integer or table: repetitions per axis (aligned to the last axes)
-- @return lask.array
-- @usage assert(da.tile(da.arange(3), 2):compute():get(4) == 0)
function SH.tile(x, reps)
  x = need_array(x, "tile", 2)
  reps = type(reps) == "table" and core.plain(reps) or { reps }
  for _, r in ipairs(reps) do
    if mtype(r) ~= "integer" or r < 0 then error("lask.array: tile: reps must be integers >= 0", 2) end
  end
  x = at_least(x, #reps)
  while #reps < x.ndim do table.insert(reps, 1, 1) end
  for d = 1, x.ndim do
    local r = reps[d]
    if r == 0 then
      local s = {}
      for e = 1, x.ndim do s[e] = {} end
      s[d] = { 1, 0 }
      x = x:slice(table.unpack(s, 1, x.ndim))
    elseif r > 1 then
      local parts = {}
      for i = 1, r do parts[i] = x end
      x = A().concatenate(parts, d)
    end
  end
  return x
end

--- Each element of x repeated repeats times along axis (numpy's repeat; flat without an axis).
-- repeats is one integer (a list of per-element counts is not supported).
-- @param x lask.array
-- @param repeats integer >= 0
-- @param[opt] axis integer: 1-based
-- @return lask.array
-- `repeat` is a Lua keyword: call it `da["repeat"](x, n)` or `da.repeat_(x, n)` / `x:repeat_(n)`.
-- @usage assert(da.repeat_(da.arange(3), 2):compute():get(2) == 0)
-- assert(da["repeat"](da.arange(3), 2).shape[1] == 6)
function SH.repeat_(x, repeats, axis)
  x = need_array(x, "repeat", 2)
  if mtype(repeats) ~= "integer" or repeats < 0 then
    error("lask.array: repeat: repeats must be an integer >= 0 (lists of counts are not supported)", 2)
  end
  if axis == nil then x, axis = SH.ravel(x), 1 end
  local a = axis0(axis, x.ndim, "repeat", 2) + 1
  if repeats == 1 then return x end
  local chunks = core.plain(x.chunks)
  for i, c in ipairs(chunks[a]) do chunks[a][i] = c * repeats end
  local kr, kb, xname = core.kernel("reshape"), core.kernel("broadcast_to"), x.name
  return per_block("repeat", { x, repeats, a }, { x }, chunks, x.dtype, function(idx)
    local ishape = block_shape(x.chunks, idx)
    local s1, s2 = {}, {}
    for d = 1, x.ndim do
      s1[#s1 + 1], s2[#s2 + 1] = ishape[d], ishape[d]
      if d == a then s1[#s1 + 1], s2[#s2 + 1] = 1, repeats end
    end
    return { kr, { kb, { kr, block_key(xname, idx), s1 }, s2 }, block_shape(chunks, idx) }
  end)
end
--- Each element of x repeated n times: `da["repeat"](x, n [, axis])` (`repeat` is a Lua keyword; see repeat_).
-- @function repeat
-- @param x lask.array
-- @param repeats integer >= 0
-- @param[opt] axis integer: 1-based
-- @return lask.array
-- @usage assert(da["repeat"](da.arange(2), 3).shape[1] == 6)
SH["repeat"] = SH.repeat_

-- -----------------------------------------------------------------------------
-- pad

local PAD_MODES = { constant = true, edge = true, reflect = true, symmetric = true, wrap = true, empty = true,
  mean = true, minimum = true, maximum = true, median = true, linear_ramp = true }
local PAD_STATS = { mean = "mean", minimum = "min", maximum = "max", median = "median" }
local PAD_OPTIONS = { constant_values = "constant", end_values = "linear_ramp", stat_length = "mean, minimum, "
  .. "maximum or median" }

-- A pad parameter as {before, after} per axis: one value, {before, after}, or a
-- pair (or one value) per axis. ok(v) checks a value; name and want are for errors.
local function pad_pairs(pw, nd, name, want, ok, level)
  local function bad() error(fmt("lask.array: pad: %s must be %s, {before, after}, or one such pair per axis (%d)",
    name, want, nd), level + 2) end
  local function pair(p)
    if type(p) ~= "table" then return { p, p } end
    if #p == 1 then return { p[1], p[1] } end
    if #p == 2 then return { p[1], p[2] } end
    bad()
  end
  local out = {}
  if type(pw) ~= "table" or (type(pw[1]) ~= "table" and #pw <= 2) then
    local p = pair(pw)
    for d = 1, nd do out[d] = p end
  elseif #pw == nd then
    for d = 1, nd do out[d] = pair(pw[d]) end
  else
    bad()
  end
  for d = 1, nd do
    for j = 1, 2 do if not ok(out[d][j]) then bad() end end
  end
  return out
end

local function nonneg_int(v) return mtype(v) == "integer" and v >= 0 end
local function is_number(v) return type(v) == "number" end

--- x padded along every axis (numpy's pad, every mode).
-- Modes: "constant" (opts.constant_values, default 0), "edge", "reflect",
-- "symmetric", "wrap", "linear_ramp" (from opts.end_values, default 0, to the
-- edge: numpy's linspace, floored for integer dtypes), "mean", "median",
-- "minimum", "maximum" (the statistic of the opts.stat_length elements nearest the
-- edge, default the whole axis; rounded half to even for integer dtypes, as
-- numpy), "empty" (lask fills with zeros where numpy leaves memory as it is).
-- Options are one value, a {before, after} pair, or a pair per axis. Axes are
-- padded in order, each from the previous ones' result, as numpy does; the
-- reflecting modes take pads of any width (longer than the axis too: the pattern
-- repeats, as numpy's). The result's blocks are x's, its slices and copies.
-- @param x lask.array
-- @param pad_width integer, {before, after}, or a {before, after} per axis
-- @param[opt="constant"] mode string
-- @param[opt] opts table: `constant_values`, `end_values` (numbers), `stat_length` (integers >= 1)
-- @return lask.array
-- @raise for an unknown mode or option, an option the mode does not take, a mode
-- other than constant or empty on an empty axis, a stat_length of 0
-- @usage local y = da.pad(da.arange(3), 2, "reflect")
-- assert(y:compute():get(1) == 2 and y.shape[1] == 7)
-- local m = da.pad(da.from_array({1, 2, 6}), {1, 2}, "mean", {stat_length = {2, 3}})
-- assert(m:compute():get(1) == 2 and m:compute():get(5) == 3)  -- round(1.5), mean(1, 2, 6)
-- local r = da.pad(da.from_array({4.0}), {2, 0}, "linear_ramp", {end_values = 0})
-- assert(r:compute():get(2) == 2)                                  -- 0, 2, then 4
function SH.pad(x, pad_width, mode, opts)
  x = need_array(x, "pad", 2)
  mode = mode or "constant"
  if not PAD_MODES[mode] then
    error(fmt("lask.array: pad: unknown mode %s (constant, edge, linear_ramp, maximum, mean, median, minimum, "
      .. "reflect, symmetric, wrap, empty)", tostring(mode)), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error("lask.array: pad: options are a table", 2) end
  for key in pairs(opts) do
    local for_modes = PAD_OPTIONS[key]
    if not for_modes then
      error(fmt("lask.array: pad: unknown option '%s' (constant_values, end_values, stat_length)", tostring(key)), 2)
    end
    if not for_modes:find(mode, 1, true) then
      error(fmt("lask.array: pad: option '%s' is for mode %s, not %s", key, for_modes, mode), 2)
    end
  end
  local nd = x.ndim
  local widths = pad_pairs(pad_width, nd, "pad_width", "an integer >= 0", nonneg_int, 2)
  local values = pad_pairs(opts.constant_values or 0, nd, "constant_values", "a number", is_number, 2)
  local ends = pad_pairs(opts.end_values or 0, nd, "end_values", "a number", is_number, 2)
  local stats = opts.stat_length and pad_pairs(opts.stat_length, nd, "stat_length", "an integer >= 0", nonneg_int, 2)
  if mode == "empty" then mode, values = "constant", pad_pairs(0, nd, "", "", is_number, 2) end
  local da = A()
  local int_like = x.dtype == "int64" or x.dtype == "bool"
  for d = 1, nd do
    local b, a = widths[d][1], widths[d][2]
    local n = x.shape[d]
    if b + a > 0 and mode ~= "constant" and n == 0 then
      error(fmt("lask.array: pad: cannot extend the empty axis %d in mode %s (only constant can)", d, mode), 2)
    end
    local function part(lo, hi) -- elements lo..hi (1-based) along d
      local sl = {}
      for e = 1, nd do sl[e] = {} end
      sl[d] = { lo, hi }
      return x:slice(table.unpack(sl, 1, nd))
    end
    local function block_of(w, src, value) -- w elements along d: a constant, or src broadcast
      local shape, chunks = core.plain(x.shape), core.plain(x.chunks)
      shape[d], chunks[d] = w, { w }
      if src then
        if src.dtype ~= x.dtype then src = src:astype(x.dtype) end
        return SH.broadcast_to(src, shape, { chunks = chunks })
      end
      return da.full(shape, value, { dtype = x.dtype, chunks = chunks })
    end
    local function stat(j, lo, hi) -- the statistic over lo..hi, extent 1 along d
      local len = stats and stats[d][j]
      if len == 0 then
        error(fmt("lask.array: pad: a stat_length of 0 (axis %d) gives no value to pad with", d), 3)
      end
      if len and len < n then
        if j == 1 then hi = lo + len - 1 else lo = hi - len + 1 end
      end
      local src = part(lo, hi)
      local r = da[PAD_STATS[mode]](src, { axis = d, keepdims = true })
      if int_like and (mode == "mean" or mode == "median") then r = da.rint(r) end
      return r
    end
    local function ramp(j, w) -- linear_ramp: w elements from end_values to the edge
      local edge = j == 1 and part(1, 1) or part(n, n)
      local e = ends[d][j]
      local shape = {}
      for k = 1, nd do shape[k] = k == d and w or 1 end
      local i = da.arange(w, { chunks = { w } }):astype("float64")
      if j == 2 then i = (w - 1) - i end
      local r = i:reshape(shape) * ((edge:astype("float64") - e) / w) + e
      if int_like then r = da.floor(r) end
      return r
    end
    if b + a == 0 then -- nothing along this axis
    elseif mode == "constant" or mode == "edge" or PAD_STATS[mode] or mode == "linear_ramp"
      or (mode == "reflect" and n == 1) then
      local function pad_part(j, w)
        if mode == "constant" then return block_of(w, nil, values[d][j]) end
        if PAD_STATS[mode] then return block_of(w, stat(j, 1, n)) end
        if mode == "linear_ramp" then return block_of(w, ramp(j, w)) end
        return block_of(w, j == 1 and part(1, 1) or part(n, n))
      end
      local parts = {}
      if b > 0 then parts[#parts + 1] = pad_part(1, b) end
      parts[#parts + 1] = x
      if a > 0 then parts[#parts + 1] = pad_part(2, a) end
      x = da.concatenate(parts, d)
    else
      -- reflect, symmetric, wrap: the axis continues periodically with period p:
      -- x itself (wrap), x then x reversed (symmetric), or x then x reversed without
      -- its ends (reflect); the result is a window of enough copies of p, starting
      -- with x at a copy's start, so x's blocks stay as they are
      local p = x
      if mode == "symmetric" then p = da.concatenate({ x, SH.flip(x, d) }, d)
      elseif mode == "reflect" and n > 2 then p = da.concatenate({ x, SH.flip(part(2, n - 1), d) }, d) end
      local L = p.shape[d]
      local before = -(-b // L) -- copies of p before x's
      local start = before * L - b
      local copies = -(-(start + b + n + a) // L)
      local parts = {}
      for c = 1, copies do parts[c] = p end
      local sl = {}
      for e = 1, nd do sl[e] = {} end
      sl[d] = { start + 1, start + b + n + a }
      x = da.concatenate(parts, d):slice(table.unpack(sl, 1, nd))
    end
  end
  return x
end

-- -----------------------------------------------------------------------------
-- Triangles and diagonals

-- The column index minus the row index over a (rows, cols) grid chunked like
-- chunks (two lists): a lazy int64 array, fused into what uses it.
local function col_minus_row(rows, cols, chunks)
  local da = A()
  local i = da.arange(rows, { chunks = { chunks[1] } }):reshape { rows, 1 }
  local j = da.arange(cols, { chunks = { chunks[2] } })
  return j - i
end

--- A matrix with ones at and below diagonal k, zeros elsewhere (numpy's tri).
-- @param N integer: rows
-- @param[opt=N] M integer: columns
-- @param[opt=0] k integer: the diagonal (above the main one when > 0)
-- @param[opt] opts table: `dtype` (float64), `chunks`
-- @return lask.array
-- @usage assert(da.tri(3):compute():get(1, 2) == 0)
function SH.tri(N, M, k, opts)
  if type(M) == "table" then M, k, opts = nil, nil, M end
  if type(k) == "table" then k, opts = nil, k end
  M, k, opts = M or N, k or 0, opts or {}
  local chunks = core.normalize_chunks(opts.chunks, { N, M }, opts.dtype or "float64", 2)
  return A().less_equal(col_minus_row(N, M, chunks), k):astype(opts.dtype or "float64")
end

local function triangle(x, k, keep_lower, what)
  x = need_array(x, what, 3)
  if x.ndim < 2 then error(fmt("lask.array: %s: needs an array of at least 2 dimensions", what), 3) end
  k = k or 0
  if mtype(k) ~= "integer" then error(fmt("lask.array: %s: k must be an integer", what), 3) end
  local da = A()
  local r, c = x.shape[x.ndim - 1], x.shape[x.ndim]
  local diff = col_minus_row(r, c, { x.chunks[x.ndim - 1], x.chunks[x.ndim] })
  local mask = keep_lower and da.less_equal(diff, k) or da.greater_equal(diff, k)
  return da.where(mask, x, x.dtype == "bool" and false or 0):astype(x.dtype)
end

--- The lower triangle of x: elements above diagonal k set to zero (numpy's tril).
-- @param x lask.array: at least 2-D (the last two axes)
-- @param[opt=0] k integer
-- @return lask.array
-- @usage assert(da.tril(da.ones({3, 3})):compute():get(1, 3) == 0)
function SH.tril(x, k) return triangle(x, k, true, "tril") end

--- The upper triangle of x: elements below diagonal k set to zero (numpy's triu).
-- @param x lask.array: at least 2-D (the last two axes)
-- @param[opt=0] k integer
-- @return lask.array
-- @usage assert(da.triu(da.ones({3, 3})):compute():get(3, 1) == 0)
function SH.triu(x, k) return triangle(x, k, false, "triu") end

--- Diagonal k of x over axis1 and axis2 (numpy's diagonal).
-- The result has x's other axes, in order, then the diagonal as the last axis;
-- each of its blocks is a strided view of one input block (reshaped).
-- @param x lask.array: at least 2-D
-- @param[opt=0] k integer: above the main diagonal when > 0
-- @param[opt=1] axis1 integer: 1-based
-- @param[opt=2] axis2 integer: 1-based, not axis1
-- @return lask.array
-- @usage assert(da.diagonal(da.eye(3, {chunks = 2})):compute():get(3) == 1)
-- assert(da.diagonal(da.ones({2, 3, 4}), 0, 2, 3).shape[2] == 3)
function SH.diagonal(x, k, axis1, axis2)
  x = need_array(x, "diagonal", 2)
  if x.ndim < 2 then error("lask.array: diagonal: needs an array of at least 2 dimensions", 2) end
  k = k or 0
  if mtype(k) ~= "integer" then error("lask.array: diagonal: k must be an integer", 2) end
  local a1, a2 = axis0(axis1 or 1, x.ndim, "diagonal", 2), axis0(axis2 or 2, x.ndim, "diagonal", 2)
  if a1 == a2 then error("lask.array: diagonal: axis1 and axis2 must differ", 2) end
  local perm = {}
  for d = 0, x.ndim - 1 do if d ~= a1 and d ~= a2 then perm[#perm + 1] = d + 1 end end
  perm[#perm + 1], perm[#perm + 2] = a1 + 1, a2 + 1
  x = x:transpose(perm)
  local nd = x.ndim
  local rows, cols = x.chunks[nd - 1], x.chunks[nd]
  local r0, c0 = math.max(-k, 0), math.max(k, 0)
  local len = math.max(0, math.min(x.shape[nd - 1] - r0, x.shape[nd] - c0))
  local ro, co = core.offsets(rows), core.offsets(cols)
  -- pieces: runs of the diagonal inside one block of the last two axes
  local pieces, diag = {}, {}
  local p, bi, bj = 0, 1, 1
  while p < len do
    local r, c = r0 + p, c0 + p
    while ro[bi] + rows[bi] <= r do bi = bi + 1 end
    while co[bj] + cols[bj] <= c do bj = bj + 1 end
    local n = math.min(ro[bi] + rows[bi] - r, co[bj] + cols[bj] - c, len - p)
    pieces[#pieces + 1] = { bi - 1, bj - 1, r - ro[bi], c - co[bj], n, cols[bj] }
    diag[#diag + 1] = n
    p = p + n
  end
  local chunks = {}
  for d = 1, nd - 2 do chunks[d] = x.chunks[d] end
  chunks[nd - 1] = len > 0 and diag or { 0 }
  local kr, kg, xname = core.kernel("reshape"), core.kernel("getitem"), x.name
  if len == 0 then
    local zero = false
    if x.dtype ~= "bool" then zero = 0 end
    return per_block("diagonal", { x, k }, {}, chunks, x.dtype, function(idx)
      return { core.kernel("full"), block_shape(chunks, idx), zero, x.dtype }
    end)
  end
  return per_block("diagonal", { x, k }, { x }, chunks, x.dtype, function(idx)
    local q = pieces[idx[nd - 1] + 1]
    local iidx, flat, starts, stops, steps = {}, {}, {}, {}, {}
    for d = 1, nd - 2 do
      iidx[d], flat[d] = idx[d], x.chunks[d][idx[d] + 1]
      starts[d], stops[d], steps[d] = 0, flat[d], 1
    end
    iidx[nd - 1], iidx[nd] = q[1], q[2]
    flat[nd - 1] = -1
    local start = q[3] * q[6] + q[4]
    starts[nd - 1], stops[nd - 1], steps[nd - 1] = start, start + (q[5] - 1) * (q[6] + 1) + 1, q[6] + 1
    return { kg, { kr, block_key(xname, iidx), flat }, starts, stops, steps }
  end)
end

--- A 2-D array with v on diagonal k (v 1-D), or diagonal k of v (v 2-D): numpy's diag.
-- @param v lask.array: 1-D or 2-D
-- @param[opt=0] k integer
-- @return lask.array
-- @usage assert(da.diag(da.arange(1, 4)):compute():get(2, 2) == 2)
function SH.diag(v, k)
  v = need_array(v, "diag", 2)
  k = k or 0
  if mtype(k) ~= "integer" then error("lask.array: diag: k must be an integer", 2) end
  if v.ndim == 2 then return SH.diagonal(v, k) end
  if v.ndim ~= 1 then error("lask.array: diag: v must be 1-D or 2-D", 2) end
  local n = v.shape[1] + math.abs(k)
  local da = A()
  -- v's element for row i (k >= 0) or column j (k < 0), padded to n
  local vp = math.abs(k) > 0 and SH.pad(v, { 0, math.abs(k) }) or v
  local col = k >= 0 and vp:reshape { n, 1 } or vp
  local chunks = { vp.chunks[1], vp.chunks[1] }
  local mask = da.equal(col_minus_row(n, n, chunks), k)
  return da.where(mask, col, v.dtype == "bool" and false or 0):astype(v.dtype)
end

-- -----------------------------------------------------------------------------
-- Grids and the *_like creators

--- The index grids of an array of shape dimensions (numpy's indices, 1-based values).
-- Result: shape {n, d1, ..., dn}, int64 by default; entry {a, i1, ..., in} is i_a,
-- counted from 1 as lask.array's indices are.
-- @param dimensions table: the shape
-- @param[opt] opts table: `dtype` (int64), `chunks` (of the grid's shape)
-- @return lask.array
-- @usage assert(da.indices({2, 3}):compute():get(2, 1, 3) == 3)
function SH.indices(dimensions, opts)
  dimensions = core.normalize_shape(dimensions, 2)
  opts = opts or {}
  local dtype = core.dtype(opts.dtype or "int64", 2)
  local chunks = core.normalize_chunks(opts.chunks, dimensions, dtype, 2)
  local da, grids = A(), {}
  if #dimensions == 0 then return da.zeros({ 0 }, { dtype = dtype }) end
  for a = 1, #dimensions do
    local shape = {}
    for d = 1, #dimensions do shape[d] = d == a and dimensions[d] or 1 end
    local r = da.arange(1, dimensions[a] + 1, { chunks = { chunks[a] }, dtype = dtype }):reshape(shape)
    grids[a] = SH.broadcast_to(r, dimensions, { chunks = chunks })
  end
  return da.stack(grids, 1)
end

--- Coordinate arrays from 1-D coordinate vectors (numpy's meshgrid).
-- @param ... lask.array: 1-D arrays, then optionally opts
-- @param[opt] opts table: `indexing` ("xy", the default, or "ij")
-- @return lask.array...: one array per input, each of the full grid's shape
-- @usage local X, Y = da.meshgrid(da.arange(3), da.arange(2))
-- assert(X.shape[1] == 2 and X:compute():get(2, 3) == 2 and Y:compute():get(2, 3) == 1)
function SH.meshgrid(...)
  local args, n = { ... }, select("#", ...)
  local opts = {}
  if n > 0 and type(args[n]) == "table" and not is_array(args[n]) and getmetatable(args[n]) == nil
      and args[n].indexing ~= nil then
    opts = args[n]
    n = n - 1
  end
  local indexing = opts.indexing or "xy"
  if indexing ~= "xy" and indexing ~= "ij" then
    error("lask.array: meshgrid: indexing must be \"xy\" or \"ij\", got " .. tostring(indexing), 2)
  end
  local xs, shape = {}, {}
  for i = 1, n do
    xs[i] = SH.ravel(need_array(args[i], "meshgrid", 2))
    shape[i] = xs[i].shape[1]
  end
  local swap = indexing == "xy" and n >= 2
  if swap then shape[1], shape[2] = shape[2], shape[1] end
  local out = {}
  for i = 1, n do
    local pos = i
    if swap and i <= 2 then pos = 3 - i end
    local s, c = {}, {}
    for d = 1, n do s[d], c[d] = d == pos and shape[d] or 1, d == pos and xs[i].chunks[1] or { 1 } end
    local chunks = {}
    for d = 1, n do
      local src = d
      if swap and d <= 2 then src = 3 - d end
      chunks[d] = xs[src].chunks[1]
    end
    out[i] = SH.broadcast_to(xs[i]:reshape(s), shape, { chunks = chunks })
  end
  return table.unpack(out, 1, n)
end

-- An array full of value with x's shape, chunks and dtype (opts override them).
local function like(x, value, opts, what)
  x = need_array(x, what, 2) -- the callers tail-call: level 2 is the user's code
  opts = opts or {}
  local dtype = core.dtype(opts.dtype or x.dtype, 2)
  local shape = opts.shape and core.normalize_shape(opts.shape, 2) or core.plain(x.shape)
  local chunks = opts.chunks or (opts.shape and "auto") or core.plain(x.chunks)
  return A().full(shape, value, { dtype = dtype, chunks = chunks })
end

--- An array of zeros with x's shape, chunks and dtype (numpy's zeros_like).
-- @param x lask.array
-- @param[opt] opts table: `dtype`, `shape`, `chunks` overriding x's
-- @return lask.array
-- @usage assert(da.zeros_like(da.arange(3)):compute():get(3) == 0)
function SH.zeros_like(x, opts) return like(x, 0, opts, "zeros_like") end

--- An array of ones with x's shape, chunks and dtype (numpy's ones_like).
-- @param x lask.array
-- @param[opt] opts table: `dtype`, `shape`, `chunks`
-- @return lask.array
-- @usage assert(da.ones_like(da.arange(3)).dtype == "int64")
function SH.ones_like(x, opts) return like(x, 1, opts, "ones_like") end

--- An array of value with x's shape, chunks and dtype (numpy's full_like: value cast to the dtype).
-- @param x lask.array
-- @param value number or boolean
-- @param[opt] opts table: `dtype`, `shape`, `chunks`
-- @return lask.array
-- @usage assert(da.full_like(da.arange(3), 2.7):compute():get(1) == 2)
function SH.full_like(x, value, opts) return like(x, value, opts, "full_like") end

--- An array with x's shape, chunks and dtype (numpy's empty_like; lask fills it with zeros).
-- @param x lask.array
-- @param[opt] opts table: `dtype`, `shape`, `chunks`
-- @return lask.array
-- @usage assert(da.empty_like(da.ones(2)).shape[1] == 2)
function SH.empty_like(x, opts) return like(x, 0, opts, "empty_like") end

-- fromfunction's options.
local FROMFUNCTION_OPTIONS = { dtype = true, chunks = true, lazy = true }

--- An array whose element at index (i, j, ...) is f(i, j, ...) (numpy's fromfunction, Dask's per block).
-- As Dask's, f is called once per block, with one coordinate array per axis: a
-- `lask.ndarray` of the block's shape and of dtype opts.dtype (float64 by default),
-- holding each element's index along that axis, counted from 1 as every lask index
-- (numpy and Dask count from 0: `i - 1` gives theirs). f returns a `lask.ndarray`
-- of the block's shape (the ndarray operators, `+ - * / ...`, do). The result's
-- dtype is that of f's result on one-element coordinates (f is called once more,
-- at once, as Dask calls it on empty ones), or opts.dtype when that fails; a
-- number from that call is taken as f's value everywhere (da.full). Lua
-- tasks: `lua = "parallel"` runs the blocks on every core.
-- With opts.lazy = true, f is instead called once, at once, with lazy coordinate
-- arrays (extent 1 along the other axes, so that they broadcast) and builds one
-- lask.array expression, fused per block into native kernels, no coordinate array
-- made: faster, for f written with lask.array's operations.
-- @param f function
-- @param shape table
-- @param[opt] opts table: `dtype` (of the coordinates; float64), `chunks`, `lazy` (boolean)
-- @return lask.array
-- @raise for an unknown option, a shape or chunks that do not fit
-- @usage local y = da.fromfunction(function(i, j) return 10 * i + j end, {2, 3}, {chunks = 2})
-- assert(y:compute():get(2, 3) == 23 and y.dtype == "float64")
-- local q = da.fromfunction(function(i, j) return i / j end, {3, 3}, {dtype = "int64"})
-- assert(q.dtype == "float64" and q:compute():get(3, 2) == 1.5)   -- int64 / int64
-- local z = da.fromfunction(function(i) return i * i end, {4}, {lazy = true})
-- assert(z:compute():get(3) == 9)
function SH.fromfunction(f, shape, opts)
  if type(f) ~= "function" and not (getmetatable(f) or {}).__call then
    error("lask.array: fromfunction: the first argument must be a function", 2)
  end
  shape = core.normalize_shape(shape, 2)
  opts = opts or {}
  for key in pairs(opts) do
    if not FROMFUNCTION_OPTIONS[key] then
      error(fmt("lask.array: fromfunction: unknown option '%s' (dtype, chunks, lazy)", tostring(key)), 2)
    end
  end
  local dtype = core.dtype(opts.dtype or "float64", 2)
  local chunks = core.normalize_chunks(opts.chunks, shape, dtype, 2)
  local coords, da = {}, A()
  for a = 1, #shape do -- each coordinate along its own axis, extent 1 along the others
    local s = {}
    for d = 1, #shape do s[d] = d == a and shape[d] or 1 end
    coords[a] = da.arange(1, shape[a] + 1, { chunks = { chunks[a] } }):astype(dtype):reshape(s)
  end
  if opts.lazy then
    -- the coordinates broadcast in f's arithmetic, fused per block: none is made whole
    local r = f(table.unpack(coords, 1, #shape))
    if not is_array(r) then return da.full(shape, r, { chunks = chunks }) end
    if not core.same_list(r.shape, shape) or not core.same_chunks(r.chunks, chunks) then
      r = SH.broadcast_to(r, shape, { chunks = chunks })
    end
    return r
  end
  if #shape == 0 then error("lask.array: fromfunction: give a shape of at least one axis", 2) end
  -- the result's dtype: f on one-element coordinates
  local nd = require("lask.core").ndarray
  local one = 1
  for _ = 1, #shape do one = { one } end
  local probe = {}
  for a = 1, #shape do probe[a] = nd.asarray(one, dtype) end
  local ok, r = pcall(f, table.unpack(probe, 1, #shape))
  if ok and type(r) == "number" then return da.full(shape, r, { chunks = chunks }) end -- f ignores its coordinates
  local out_dtype = ok and require("lask.array.creation").is_ndarray(r) and r.dtype or dtype
  for a = 1, #shape do coords[a] = SH.broadcast_to(coords[a], shape, { chunks = chunks }) end
  coords[#coords + 1] = { dtype = out_dtype, name = "fromfunction" }
  return require("lask.array.blockwise").map_blocks(f, table.unpack(coords))
end

-- The helpers lask.array.counting and lask.array.einsum share (not lask.array functions).
SH.util = { need_array = need_array, axis0 = axis0, per_block = per_block, A = A }

return SH
