--- Searching and set routines: argwhere, nonzero, flatnonzero, where(c), unique (unknown result size); searchsorted, digitize, isin.
-- Their results have NaN block sizes (as Dask's) until computed or
-- `x:compute_chunk_sizes()`; positions count from 1, as every index of lask's API.
-- @module lask.array.searching
-- @alias I
local core = require "lask.array.core"

local fmt = string.format
local block_key = core.block_key
local need_known = core.need_known
local NAN = 0 / 0

local I = {}

local function fail(msg, level) error("lask.array: " .. msg, level + 1) end

local function is_ndarray(v) return require("lask.array.creation").is_ndarray(v) end

-- A lazy array made of x's blocks, each given by task(key of x's block, idx) on the
-- same grid, with out_chunks (same number of blocks per axis).
local function per_block(x, prefix, token_args, out_chunks, dtype, task)
  local name = prefix .. "-" .. core.tokenize(prefix, x, token_args)
  local in_name = x.name
  local layer = core.grid_layer(name, core.numblocks_of(out_chunks), function(dsk, idx)
    dsk[block_key(name, idx)] = task(block_key(in_name, idx), idx)
  end)
  return core.new(layer, { x }, out_chunks, dtype)
end

local function need_array(x, what, level)
  if core.is_array(x) then return x end
  if is_ndarray(x) or type(x) == "table" then return require("lask.array.creation").from_array(x, nil, level + 1) end
  fail(fmt("%s: expected an array, got %s", what, type(x)), level + 1)
end

-- argwhere over x (level: the caller's).
local function argwhere(x, level)
  x = need_array(x, "argwhere", level + 1)
  local nd = x.ndim
  need_known(x, "argwhere", level + 1) -- the blocks' offsets give the positions
  if nd > 1 then -- only the first axis split: the blocks' positions follow C order
    local want = { x.chunks[1] }
    for d = 2, nd do want[d] = -1 end
    x = x:rechunk(want)
  end
  local flat = x
  local k = core.kernel("argwhere")
  local nblocks = nd == 0 and 1 or x.numblocks[1]
  local offs = nd > 0 and core.offsets(x.chunks[1]) or {}
  local chunks = { {}, { nd } }
  for i = 1, nblocks do chunks[1][i] = NAN end
  local name = "argwhere-" .. core.tokenize("argwhere", flat)
  local layer = core.grid_layer(name, { nblocks, 1 }, function(dsk, idx)
    local bidx, off = {}, {}
    for d = 1, nd do bidx[d], off[d] = 0, 0 end
    if nd > 0 then
      bidx[1] = idx[1]
      off[1] = offs[idx[1] + 1]
    end
    dsk[block_key(name, idx)] = { k, block_key(flat.name, bidx), off, 1 }
  end)
  return core.new(layer, { flat }, chunks, "int64")
end

--- The positions of the non-zero elements of x, one row per element: an int64
-- array of shape (count, ndim) with 1-based positions, in C order (numpy's argwhere,
-- plus one). The count is unknown (NaN) until computed.
-- @param x lask.array: the array (any dtype; NaN counts as non-zero)
-- @return lask.array: int64 (count, ndim)
-- @usage local x = da.from_array({{0, 2}, {3, 0}}, {chunks = 1})
-- local w = da.argwhere(x):compute()
-- assert(w:get(1, 1) == 1 and w:get(1, 2) == 2 and w:get(2, 1) == 2 and w:get(2, 2) == 1)
function I.argwhere(x) return argwhere(x, 2) end

--- The positions of the non-zero elements of x per axis: a list of ndim 1-D int64
-- arrays (1-based positions, C order), numpy's nonzero plus one; their length is
-- unknown (NaN) until computed. `da.where(x)` with one argument is the same.
-- @param x lask.array: the array
-- @return table: a list of lask.array, one per axis
-- @usage local x = da.from_array({0, 5, 0, 7}, {chunks = 2})
-- local nz = x:nonzero()
-- assert(#nz == 1 and nz[1]:compute():get(2) == 4)
function I.nonzero(x)
  local w = argwhere(x, 2)
  local out, compress, squeeze = {}, core.kernel("compress"), core.kernel("squeeze")
  local nd = w.chunks[2][1]
  local ndarray = require("lask.core").ndarray
  for d = 1, nd do -- column d of each block
    local column = {}
    for e = 1, nd do column[e] = e == d end
    column = ndarray.asarray(column)
    local name = "nonzero-" .. core.tokenize("nonzero", w, d)
    local layer = core.grid_layer(name, { #w.chunks[1] }, function(dsk, idx)
      dsk[block_key(name, idx)] = { squeeze, { compress, block_key(w.name, { idx[1], 0 }), column, 1 }, { 1 } }
    end)
    out[d] = core.new(layer, { w }, { w.chunks[1] }, "int64")
  end
  return out
end

--- The 1-based positions of the non-zero elements of x flattened in C order (numpy's
-- flatnonzero plus one); their count is unknown (NaN) until computed.
-- @param x lask.array: the array
-- @return lask.array: 1-D int64
-- @usage local x = da.from_array({{0, 2}, {3, 0}})
-- local f = da.flatnonzero(x):compute()
-- assert(f:get(1) == 2 and f:get(2) == 3)
function I.flatnonzero(x)
  x = need_array(x, "flatnonzero", 2)
  if x.ndim ~= 1 then
    need_known(x, "flatnonzero", 2)
    x = x:reshape({ x.size })
  end
  return I.nonzero(x)[1]
end

-- The 1-based flat (C order) position of every element of x, chunked like x: a
-- lazy int64 array, fused from one arange per axis.
local function flat_positions(x)
  local da = require "lask.array"
  local pos, stride = nil, 1
  for d = x.ndim, 1, -1 do
    local shape = {}
    for e = 1, x.ndim do shape[e] = e == d and x.shape[d] or 1 end
    local a = da.arange(0, x.shape[d] * stride, stride, { chunks = { x.chunks[d] } }):reshape(shape)
    pos = pos and pos + a or a
    stride = stride * x.shape[d]
  end
  pos = (pos or da.zeros({}, { dtype = "int64" })) + 1
  return da.broadcast_to(pos, x.shape, { chunks = x.chunks })
end

local UNIQUE_OPTIONS = { return_index = true, return_inverse = true, return_counts = true }

--- The sorted distinct values of x (numpy's unique; NaNs collapse into one, last).
-- The values are a 1-D array of unknown length (NaN, as Dask's). Options add, in
-- numpy's order: `return_index` the 1-based position (in x flattened, C order) of
-- each value's first occurrence; `return_inverse` for each element of x the 1-based
-- position of its value among the values, an int64 array of x's shape and chunks
-- (numpy 2's shape; Dask ravels x first: `x:ravel()` gives its 1-D); `return_counts`
-- the int64 number of occurrences. Every block is reduced on its own, then one task
-- merges them; the inverse is one task per block of x, against the merged values.
-- Every dtype (bool, int64, float32, float64).
-- @param x lask.array: the array (flattened)
-- @param[opt] opts table: `return_index`, `return_inverse`, `return_counts` (booleans)
-- @return lask.array: the values; then the index, inverse and counts asked for
-- @raise for an unknown option
-- @usage local x = da.from_array({3, 1, 3, 2, 1, 3}, {chunks = 4})
-- local u, c = da.unique(x, {return_counts = true})
-- assert(u:compute():get(3) == 3 and c:compute():get(3) == 3)
-- local v, first, inv = da.unique(x, {return_index = true, return_inverse = true})
-- assert(first:compute():get(1) == 2)                      -- 1 first at position 2
-- assert(inv:compute():get(1) == 3 and inv.shape[1] == 6)  -- x[1] is v[3]
function I.unique(x, opts)
  x = need_array(x, "unique", 2)
  opts = opts or {}
  if type(opts) ~= "table" then fail("unique: options must be a table like {return_counts = true}", 2) end
  for k in pairs(opts) do
    if not UNIQUE_OPTIONS[k] then
      fail(fmt("unique: unknown option '%s' (return_index, return_inverse, return_counts)", tostring(k)), 2)
    end
  end
  local want_index, want_inverse = opts.return_index and true or false, opts.return_inverse and true or false
  local counts = (opts.return_counts or want_index) and true or false
  if want_index then need_known(x, "unique's return_index", 2) end -- positions need the block offsets
  local k = core.kernel("unique")
  local pos = want_index and flat_positions(x) or nil
  local token = core.tokenize("unique", x, counts, want_index)
  local cname, aname = "unique-chunk-" .. token, "unique-agg-" .. token
  local x_name, p_name = x.name, pos and pos.name
  local chunk = core.grid_layer(cname, x.numblocks, function(dsk, idx)
    local part = block_key(x_name, idx)
    if p_name then part = { part, block_key(p_name, idx) } end
    dsk[block_key(cname, idx)] = { k, { part }, counts, want_index }
  end, pos and { x_name, p_name } or { x_name })
  local carr = core.new(chunk, pos and { x, pos } or { x }, x.chunks, x.dtype)
  local nb = x.numblocks
  local agg = core.grid_layer(aname, { 1 }, function(dsk)
    local keys = {}
    core.each_block(nb, function(idx) keys[#keys + 1] = block_key(cname, idx) end)
    dsk[block_key(aname, { 0 })] = { k, keys, counts, want_index }
  end)
  local merged = core.new(agg, { carr }, { { NAN } }, x.dtype)
  if not counts and not want_inverse then return merged end
  local item = core.kernel("item")
  local values = merged
  if counts then
    values = per_block(merged, "unique-values", {}, { { NAN } }, x.dtype, function(key) return { item, key, 0 } end)
  end
  local out = { values }
  if want_index then
    out[#out + 1] = per_block(merged, "unique-index", {}, { { NAN } }, "int64", function(key) return { item, key, 2 } end)
  end
  if want_inverse then
    local ks, v_name = core.kernel("searchsorted"), block_key(values.name, { 0 })
    local name = "unique-inverse-" .. core.tokenize("unique-inverse", x, values)
    local layer = core.grid_layer(name, x.numblocks, function(dsk, idx)
      dsk[block_key(name, idx)] = { ks, v_name, block_key(x_name, idx), false, 1 }
    end, { x_name, values.name })
    out[#out + 1] = core.new(layer, { x, values }, x.chunks, "int64")
  end
  if opts.return_counts then
    out[#out + 1] = per_block(merged, "unique-counts", {}, { { NAN } }, "int64", function(key) return { item, key, 1 } end)
  end
  return table.unpack(out)
end

-- The key (or task) of a 1-D array whole, for one task to read: its one block, or
-- its blocks concatenated.
local function whole_1d(a)
  local keys = {}
  for b = 0, a.numblocks[1] - 1 do keys[#keys + 1] = block_key(a.name, { b }) end
  if #keys == 1 then return keys[1] end
  return { core.kernel("concatenate"), keys, 0 }
end

-- f(key of a block of v) per block of v, with the sorted 1-D a (whole) a dependency.
local function against(prefix, a, v, dtype, task, token)
  local name = prefix .. "-" .. core.tokenize(prefix, a, v, token)
  local whole, v_name = whole_1d(a), v.name
  local layer = core.grid_layer(name, v.numblocks, function(dsk, idx)
    dsk[block_key(name, idx)] = task(whole, block_key(v_name, idx))
  end, { a.name, v_name })
  return core.new(layer, { a, v }, v.chunks, dtype)
end

--- Where the elements of v would be inserted into the sorted 1-d a to keep it sorted (numpy's searchsorted, Dask's).
-- Positions count from 1, as every lask position: lask's is numpy's + 1 (1 before
-- the first element, #a + 1 after the last). a is read whole by each task (one per
-- block of v); it must be sorted (not checked, as numpy); NaN sorts last.
-- @param a lask.array, lask.ndarray or list: 1-d, sorted ascending
-- @param v lask.array, lask.ndarray, list or number: the values
-- @param[opt] opts table: `side` ("left": the first suitable position, default; "right": the last)
-- @return lask.array: int64, v's shape and chunks
-- @raise when a is not 1-d, or side is unknown
-- @usage local a = da.from_array({1, 2, 2, 5}, {chunks = 2})
-- local p = da.searchsorted(a, da.from_array({2, 6, 0}))
-- assert(p:compute():get(1) == 2 and p:compute():get(2) == 5 and p:compute():get(3) == 1)
-- assert(da.searchsorted(a, 2, {side = "right"}):compute():item() == 4)
function I.searchsorted(a, v, opts)
  a = need_array(a, "searchsorted", 2)
  if type(v) == "number" then v = require("lask.array.creation").asarray(v) end
  v = need_array(v, "searchsorted", 2)
  opts = opts or {}
  local side = opts.side or "left"
  if side ~= "left" and side ~= "right" then fail("searchsorted: side must be \"left\" or \"right\", got " .. tostring(side), 2) end
  if a.ndim ~= 1 then fail("searchsorted: a must be 1-d (the sorted array), got " .. a.ndim .. "-d", 2) end
  need_known(a, "searchsorted", 2)
  local ks, right = core.kernel("searchsorted"), side == "right"
  return against("searchsorted", a, v, "int64", function(whole, vkey) return { ks, whole, vkey, right, 1 } end, side)
end

--- The bins of x's elements (numpy's digitize): i where bins[i] <= x < bins[i + 1].
-- With 1-based bins that is numpy's own number (0 below the first edge, #bins at
-- or above the last): digitize's values are bin numbers, not shifted. opts.right
-- takes bins[i] < x <= bins[i + 1]. bins increasing; decreasing ones too when given
-- in memory (a list or lask.ndarray), as numpy allows.
-- @param x lask.array
-- @param bins list, lask.ndarray or lask.array: 1-d, monotonic
-- @param[opt] opts table: `right` (boolean)
-- @return lask.array: int64, x's shape and chunks
-- @usage local d = da.digitize(da.from_array({0.5, 1, 3, 9}), {1, 2, 4})
-- assert(d:compute():get(1) == 0 and d:compute():get(2) == 1 and d:compute():get(4) == 3)
function I.digitize(x, bins, opts)
  x = need_array(x, "digitize", 2)
  opts = opts or {}
  local decreasing = false
  if type(bins) == "table" and getmetatable(bins) == nil or is_ndarray(bins) then
    local t = type(bins) == "table" and getmetatable(bins) == nil and bins or bins:totable()
    local up, down = true, true
    for i = 2, #t do
      if t[i] < t[i - 1] then up = false end
      if t[i] > t[i - 1] then down = false end
    end
    if not up and not down then fail("digitize: bins must be monotonic", 2) end
    if down and not up then
      decreasing = true
      local r = {}
      for i = #t, 1, -1 do r[#r + 1] = t[i] end
      bins = r
    end
  end
  bins = need_array(bins, "digitize", 2)
  if bins.ndim ~= 1 then fail("digitize: bins must be 1-d", 2) end
  need_known(bins, "digitize", 2)
  local ks, right = core.kernel("searchsorted"), not opts.right -- decreasing bins: the same side, reversed
  local d = against("digitize", bins, x, "int64", function(whole, vkey) return { ks, whole, vkey, right, 0 } end,
    { opts.right, decreasing })
  if decreasing then return bins.shape[1] - d end
  return d
end

--- Whether each element of element is among test_elements (numpy's isin, Dask's): a bool array of element's shape.
-- test_elements' distinct values are found first (as unique), then each block of
-- element is searched in them. NaN is in nothing, as in numpy.
-- @param element lask.array
-- @param test_elements lask.array, lask.ndarray or list (any shape)
-- @param[opt] opts table: `invert` (boolean: whether it is not among them)
-- @return lask.array: bool
-- @usage local m = da.isin(da.arange(6, {chunks = 4}), {1, 4, 9})
-- assert(m:compute():get(2) == true and m:compute():get(3) == false)
function I.isin(element, test_elements, opts)
  element = need_array(element, "isin", 2)
  local u = I.unique(need_array(test_elements, "isin", 2))
  local k, invert = core.kernel("isin"), opts and opts.invert and true or false
  local name = "isin-" .. core.tokenize("isin", element, u, invert)
  local u_key, e_name = block_key(u.name, { 0 }), element.name
  local layer = core.grid_layer(name, element.numblocks, function(dsk, idx)
    dsk[block_key(name, idx)] = { k, block_key(e_name, idx), u_key, invert }
  end, { e_name, u.name })
  return core.new(layer, { element, u }, element.chunks, "bool")
end

--- `da.where(c)` with one argument is `da.nonzero(c)`; with three, elementwise.
-- @param c lask.array: the condition
-- @param[opt] x the values where c holds
-- @param[opt] y the values elsewhere
-- @return lask.array, or a list of them (one argument)
-- @usage local nz = da.where(da.from_array({0, 1, 1}))
-- assert(nz[1]:compute():get(1) == 2)
function I.where(...)
  if select("#", ...) == 1 then return I.nonzero((...)) end
  return require("lask.array.elementwise").functions.where(...)
end

return I
