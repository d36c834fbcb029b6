--- Functions over blocks, as Dask's: map_blocks, blockwise, overlap and map_overlap.
-- The function runs once per block (a Lua function or a kernel) on lask.ndarray
-- blocks; the result is a lazy array whose metadata (chunks, dtype) the caller
-- states or map_blocks infers from the inputs. Positions are 1-based: axes,
-- block_id, and the locations in block_info.
-- @module lask.array.blockwise
-- @alias BW
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type
local block_key, is_array = core.block_key, core.is_array
local quote = require("lask.core").quote

local BW = {}

local function callable(f)
  return type(f) == "function" or (getmetatable(f) or {}).__call ~= nil
end

-- Splits a trailing options table off (a plain table, not an array, not a list of
-- values: a table with a string key, or empty).
local function split_opts(args, n)
  local last = args[n]
  if n > 0 and type(last) == "table" and getmetatable(last) == nil and not is_array(last) and #last == 0 then
    return last, n - 1
  end
  return {}, n
end

-- The 0-based axes of a 1-based axis argument (integer or list) among nd.
local function axes0(v, nd, what, level)
  local out, set = {}, {}
  if v == nil then return out, set end
  for _, a in ipairs(type(v) == "table" and v or { v }) do
    if mtype(a) ~= "integer" then error(fmt("lask.array: map_blocks: %s must list integer axes", what), level + 1) end
    local a0 = a > 0 and a - 1 or nd + a
    if a == 0 or a0 < 0 or a0 >= nd then
      error(fmt("lask.array: map_blocks: %s axis %d is out of range for %d axes (axes count from 1)", what, a, nd),
        level + 1)
    end
    out[#out + 1], set[a0] = a0, true
  end
  return out, set
end

-- {first, last} per axis (1-based, inclusive) of block idx of chunks.
local function locations(chunks, idx)
  local loc = {}
  for d = 1, #chunks do
    local first = 1
    for i = 1, idx[d] do first = first + chunks[d][i] end
    loc[d] = { first, first + chunks[d][idx[d] + 1] - 1 }
  end
  return loc
end

local function plus1(idx)
  local out = {}
  for d = 1, #idx do out[d] = idx[d] + 1 end
  return out
end

-- The output chunks map_blocks gives: opts.chunks (a number or list per axis, or
-- the shape of every block), else the input's with drop_axis/new_axis applied.
local function output_chunks(in_chunks, drop, new_axis, opts, level)
  local base = {}
  for d = 1, #in_chunks do if not drop[d - 1] then base[#base + 1] = in_chunks[d] end end
  local nd = #base + #new_axis
  local is_new = {}
  for _, a in ipairs(new_axis) do is_new[a] = true end
  local out, j = {}, 0
  for d = 0, nd - 1 do
    if is_new[d] then out[d + 1] = { 1 } else
      j = j + 1
      out[d + 1] = base[j]
    end
  end
  if #new_axis > 0 and #base + #new_axis ~= nd then error("lask.array: map_blocks: bad new_axis", level + 1) end
  local c = opts.chunks
  if c == nil then return out end
  if type(c) ~= "table" then error("lask.array: map_blocks: chunks must be a list per axis", level + 1) end
  if #c ~= nd then
    error(fmt("lask.array: map_blocks: chunks must give the blocks of every axis of the result (%d)", nd), level + 1)
  end
  local res = {}
  for d = 1, nd do
    local v = c[d]
    if type(v) == "table" then
      res[d] = core.plain(v)
    elseif mtype(v) == "integer" and v >= 0 then -- every block of that size
      res[d] = {}
      for i = 1, #out[d] do res[d][i] = v end
    else
      error("lask.array: map_blocks: chunks entries must be block sizes or lists of them", level + 1)
    end
    if #res[d] ~= #out[d] then
      error(fmt("lask.array: map_blocks: chunks must have %d blocks along axis %d, got %d", #out[d], d, #res[d]),
        level + 1)
    end
  end
  return res
end

--- fn applied to the blocks of the array arguments, each call giving one block of the result (Dask's map_blocks).
-- Array arguments are broadcast and their blocks aligned as elementwise operands
-- are; other arguments are passed as they are. The last argument may be an options
-- table:
--
-- - `dtype`: the result's (default: the first array's);
-- - `chunks`: the result's blocks when fn changes their shape: per axis a block
--   size (every block) or the list of sizes;
-- - `drop_axis`: 1-based axes of the inputs fn removes (the inputs are put in one
--   block along them first);
-- - `new_axis`: 1-based positions of the axes fn adds in the result (extent 1
--   unless `chunks` says otherwise);
-- - `kwargs`: a table of keyword-style options; with it, or with `block_info` or
--   `block_id` true, fn receives one more argument, a table holding kwargs' fields
--   and `block_id` (the block's 1-based position in the grid) and/or `block_info`
--   (`block_info[i]` for the array that is argument i after fn, and `block_info.output`:
--   `shape`, `num_chunks`, `chunk_location` (1-based), `array_location` (a
--   {first, last} pair per axis, 1-based, inclusive), and for the output also
--   `chunk_shape` and `dtype`), as Dask passes its keywords;
-- - `name`: a prefix for the result's name.
-- @param fn function or kernel: called with the blocks (lask.ndarray)
-- @param ... the arguments, then the options
-- @return lask.array
-- @raise for inconsistent chunks, drop_axis or new_axis
-- @usage local x = da.arange(6, {chunks = 4})
-- local y = da.map_blocks(function(b, kw) return b + kw.block_id[1] end, x, {block_id = true})
-- assert(y:compute():get(5) == 6)
function BW.map_blocks(fn, ...)
  if not callable(fn) then error("lask.array: map_blocks: the first argument must be a function", 2) end
  local args = { ... }
  local opts, n = split_opts(args, select("#", ...))
  local arrays = {}
  for i = 1, n do
    if args[i] == nil then error(fmt("lask.array: map_blocks: argument %d is nil", i + 1), 2) end
    if is_array(args[i]) then arrays[#arrays + 1] = args[i] end
  end
  if #arrays == 0 then error("lask.array: map_blocks: needs at least one array argument", 2) end
  local E = require "lask.array.elementwise"
  local shape = E.broadcast_shape(arrays, "map_blocks", 2)
  local aligned, chunks = E.unify_chunks(arrays, shape)
  local drop = select(2, axes0(opts.drop_axis, #shape, "drop_axis", 2))
  if next(drop) then -- one block along the dropped axes
    for i, a in ipairs(aligned) do
      local want, change = core.plain(a.chunks), false
      for ad = 1, a.ndim do
        if drop[ad - 1 + #shape - a.ndim] and #want[ad] > 1 then want[ad], change = { a.shape[ad] }, true end
      end
      if change then aligned[i] = a:rechunk(want) end
    end
    for d = 0, #shape - 1 do if drop[d] then chunks[d + 1] = { shape[d + 1] } end end
  end
  local nd_out = #shape
  for _ in pairs(drop) do nd_out = nd_out - 1 end
  local nnew = opts.new_axis == nil and 0 or (type(opts.new_axis) == "table" and #opts.new_axis or 1)
  local new_axis = axes0(opts.new_axis, nd_out + nnew, "new_axis", 2)
  local out_chunks = output_chunks(chunks, drop, new_axis, opts, 2)
  local j = 0
  for i = 1, n do
    if is_array(args[i]) then
      j = j + 1
      args[i] = aligned[j]
    end
  end
  local dtype = opts.dtype and core.dtype(opts.dtype, 2) or arrays[1].dtype
  local kwargs = opts.kwargs
  if kwargs ~= nil and type(kwargs) ~= "table" then error("lask.array: map_blocks: kwargs must be a table", 2) end
  local want_kw = kwargs ~= nil or opts.block_info or opts.block_id
  local name = (opts.name or "map_blocks") .. "-" ..
      core.tokenize("map_blocks", fn, dtype, out_chunks, opts.drop_axis, opts.new_axis, kwargs, opts.block_info,
        opts.block_id, table.unpack(args, 1, n))
  -- output block index -> input grid index (dropped axes: 0; new axes: skipped)
  local is_new = {}
  for _, a in ipairs(new_axis) do is_new[a] = true end
  local in_axis_of = {} -- output axis (1-based) -> input grid axis (1-based)
  local d_in = 0
  for d = 0, #out_chunks - 1 do
    if not is_new[d] then
      d_in = d_in + 1
      while drop[d_in - 1] do d_in = d_in + 1 end
      in_axis_of[d + 1] = d_in
    end
  end
  local layer = core.grid_layer(name, core.numblocks_of(out_chunks), function(dsk, idx)
    local gidx = {}
    for d = 1, #shape do gidx[d] = 0 end
    for d = 1, #idx do if in_axis_of[d] then gidx[in_axis_of[d]] = idx[d] end end
    local task, info = { fn }, want_kw and opts.block_info and {} or nil
    for i = 1, n do
      local v = args[i]
      if is_array(v) then
        local iidx = core.input_index(gidx, v.numblocks)
        task[i + 1] = block_key(v.name, iidx)
        if info then -- by argument position, as Dask's block_info[i]
          info[i] = { shape = core.plain(v.shape), num_chunks = core.plain(v.numblocks), chunk_location = plus1(iidx),
            array_location = locations(v.chunks, iidx) }
        end
      elseif type(v) == "table" or type(v) == "string" then task[i + 1] = quote(v)
      else task[i + 1] = v end
    end
    if want_kw then
      local kw = {}
      for k, v in pairs(kwargs or {}) do kw[k] = v end
      if opts.block_id then kw.block_id = plus1(idx) end
      if info then
        local cs = {}
        for d = 1, #idx do cs[d] = out_chunks[d][idx[d] + 1] end
        local oshape = {}
        for d = 1, #out_chunks do
          oshape[d] = 0
          for _, c in ipairs(out_chunks[d]) do oshape[d] = oshape[d] + c end
        end
        info.output = { shape = oshape, num_chunks = core.numblocks_of(out_chunks), chunk_location = plus1(idx),
          array_location = locations(out_chunks, idx), chunk_shape = cs, dtype = dtype }
        kw.block_info = info
      end
      task[n + 2] = quote(kw)
    end
    dsk[block_key(name, idx)] = task
  end)
  return core.new(layer, aligned, out_chunks, dtype)
end

--- x:map_blocks(fn, ...): map_blocks(fn, x, ...), as Dask's method.
-- @function Array:map_blocks
-- @param x lask.array
-- @param fn function
-- @param ... more arguments, then options (see map_blocks)
-- @return lask.array
-- @usage local y = da.ones(4, {chunks = 2}):map_blocks(function(b) return b * 2 end)
-- assert(y:sum():compute():item() == 8)
function BW.map_blocks_method(x, fn, ...) return BW.map_blocks(fn, x, ...) end

-- -----------------------------------------------------------------------------
-- blockwise

local function letters(ind, what, level)
  if ind == nil then return nil end
  if type(ind) ~= "string" then error(fmt("lask.array: blockwise: %s must be a string of index letters", what), level + 1) end
  local out = {}
  for c in ind:gmatch(".") do out[#out + 1] = c end
  return out
end

--- fn over blocks matched by index letters (Dask's blockwise).
-- `da.blockwise(fn, "ij", x, "ij", y, "ji", c, nil, opts)`: each array argument
-- comes with its index string (nil for any other argument, passed as is). Every
-- block of the result (letters out_ind) calls fn with the blocks of each array at
-- the matching positions; letters of an input absent from out_ind are contracted:
-- fn gets the list of blocks along them (concatenated into one block with
-- opts.concatenate = true). Arrays sharing a letter are rechunked to common
-- blocks; an array with one block along a letter is broadcast over it.
-- opts: `dtype` (default the first array's), `new_axes` ({letter = extent}),
-- `adjust_chunks` ({letter = block size | function(size) -> size}),
-- `concatenate`, `name`.
-- @param fn function or kernel
-- @param out_ind string: the result's index letters
-- @param ... array, index string pairs; then opts
-- @return lask.array
-- @raise for letters whose extents disagree
-- @usage local x = da.ones({4, 6}, {chunks = 2})
-- local t = da.blockwise(function(b) return require("lask.core").array_kernels.transpose(b) end, "ji", x, "ij")
-- assert(t.shape[1] == 6)
function BW.blockwise(fn, out_ind, ...)
  if not callable(fn) then error("lask.array: blockwise: the first argument must be a function", 2) end
  local out_l = letters(out_ind, "out_ind", 2)
  local rest = { ... }
  local total = select("#", ...)
  local opts = {}
  if total % 2 == 1 then
    opts = rest[total]
    total = total - 1
    if type(opts) ~= "table" then error("lask.array: blockwise: give (argument, index) pairs, then options", 2) end
  end
  local pairs_ = {}
  for i = 1, total, 2 do pairs_[#pairs_ + 1] = { v = rest[i], ind = letters(rest[i + 1], "an index", 2) } end
  -- extents and block lists per letter
  local extent, lists = {}, {}
  for _, p in ipairs(pairs_) do
    if p.ind then
      if not is_array(p.v) then error("lask.array: blockwise: an argument with an index string must be an array", 2) end
      if #p.ind ~= p.v.ndim then
        error(fmt("lask.array: blockwise: index '%s' for an array of %d axes", table.concat(p.ind), p.v.ndim), 2)
      end
      for d, c in ipairs(p.ind) do
        local e = p.v.shape[d]
        if e ~= 1 or p.v.numblocks[d] ~= 1 then
          if extent[c] and extent[c] ~= e then
            error(fmt("lask.array: blockwise: index '%s' has extents %d and %d", c, extent[c], e), 2)
          end
          extent[c] = e
          lists[c] = lists[c] or {}
          lists[c][#lists[c] + 1] = p.v.chunks[d]
        end
      end
    end
  end
  local E = require "lask.array.elementwise"
  local common = {}
  for c, l in pairs(lists) do common[c] = E.refine(l) end
  for c, e in pairs(opts.new_axes or {}) do common[c], extent[c] = { e }, e end
  local arrays = {}
  for _, p in ipairs(pairs_) do
    if p.ind then
      local want, change = {}, false
      for d, c in ipairs(p.ind) do
        want[d] = (common[c] and p.v.shape[d] == extent[c]) and common[c] or p.v.chunks[d]
        if not core.same_list(want[d], p.v.chunks[d]) then change = true end
      end
      if change then p.v = p.v:rechunk(want) end
      arrays[#arrays + 1] = p.v
    end
  end
  local out_chunks = {}
  for d, c in ipairs(out_l) do
    local ch = common[c]
    if not ch then error(fmt("lask.array: blockwise: output index '%s' is in no input (give new_axes)", c), 2) end
    local adj = opts.adjust_chunks and opts.adjust_chunks[c]
    if adj then
      local nc = {}
      for i, s in ipairs(ch) do nc[i] = callable(adj) and adj(s) or adj end
      ch = nc
    end
    out_chunks[d] = ch
  end
  local contracted = {}
  for _, p in ipairs(pairs_) do
    for _, c in ipairs(p.ind or {}) do
      local found = false
      for _, o in ipairs(out_l) do if o == c then found = true end end
      if not found and not contracted[c] then contracted[c], contracted[#contracted + 1] = true, c end
    end
  end
  local dtype = opts.dtype and core.dtype(opts.dtype, 2) or (arrays[1] and arrays[1].dtype) or "float64"
  local name = (opts.name or "blockwise") .. "-" .. core.tokenize("blockwise", fn, out_ind, dtype, opts.concatenate,
    opts.new_axes, out_chunks, table.unpack(rest, 1, total))
  local kconcat = core.kernel("concatenate")
  local layer = core.grid_layer(name, core.numblocks_of(out_chunks), function(dsk, idx)
    local pos = {}
    for d, c in ipairs(out_l) do pos[c] = idx[d] end
    local task = { fn }
    for i, p in ipairs(pairs_) do
      local v = p.v
      if not p.ind then
        task[i + 1] = (type(v) == "table" or type(v) == "string") and quote(v) or v
      else
        -- the contracted letters of this argument, in order, and their block counts
        local mine = {}
        for d, c in ipairs(p.ind) do if contracted[c] then mine[#mine + 1] = d end end
        local function key_at(fixed)
          local bidx = {}
          for d, c in ipairs(p.ind) do
            if v.numblocks[d] == 1 then bidx[d] = 0 else bidx[d] = fixed[d] or pos[c] or 0 end
          end
          return block_key(v.name, bidx)
        end
        local function nest(k, fixed)
          if k > #mine then return key_at(fixed) end
          local d = mine[k]
          local list = {}
          for b = 0, v.numblocks[d] - 1 do
            fixed[d] = b
            list[b + 1] = nest(k + 1, fixed)
          end
          fixed[d] = nil
          if opts.concatenate then return { kconcat, list, d - 1 } end
          return list
        end
        task[i + 1] = nest(1, {})
      end
    end
    dsk[block_key(name, idx)] = task
  end)
  return core.new(layer, arrays, out_chunks, dtype)
end

-- -----------------------------------------------------------------------------
-- overlap and map_overlap

local BOUNDARIES = { reflect = true, periodic = true, nearest = true, none = true }

-- depth and boundary per axis (0-based lists) from Dask's forms: a number for
-- every axis, a list per axis, or a table {[axis] = value} (1-based axes).
local function per_axis(v, nd, dflt, what, level)
  local out = {}
  for d = 1, nd do out[d] = dflt end
  if v == nil then return out end
  if type(v) ~= "table" then
    for d = 1, nd do out[d] = v end
    return out
  end
  for k, x in pairs(v) do
    if mtype(k) ~= "integer" or k == 0 or k > nd or k < -nd then
      error(fmt("lask.array: map_overlap: %s: axis %s is out of range for %d axes", what, tostring(k), nd), level + 1)
    end
    out[k > 0 and k or nd + k + 1] = x
  end
  return out
end

local function check_boundary(b, level)
  if type(b) == "number" or type(b) == "boolean" then return end
  if not BOUNDARIES[b] then
    error(fmt("lask.array: map_overlap: boundary must be \"reflect\", \"periodic\", \"nearest\", \"none\" or a "
      .. "number, got %s", tostring(b)), level + 1)
  end
end

-- x extended by depth along axis d (1-based): each block gets the last depth
-- elements of the block before and the first depth of the block after, and the
-- array's ends get what boundary says ("none": nothing).
local function overlap_axis(x, d, depth, boundary)
  local nb, chunks = x.numblocks[d], x.chunks[d]
  local out = core.plain(x.chunks)
  local edge = boundary ~= "none"
  for i = 1, nb do
    out[d][i] = chunks[i] + ((i > 1 or edge) and depth or 0) + ((i < nb or edge) and depth or 0)
  end
  local kget, kcat, kflip, kbc, kfull = core.kernel("getitem"), core.kernel("concatenate"), core.kernel("reverse"),
      core.kernel("broadcast_to"), core.kernel("full")
  local name = "overlap-" .. core.tokenize("overlap", x, d, depth, boundary)
  local xname = x.name
  -- elements [lo, hi) along d of block i (0-based) at grid position idx
  local function part(idx, i, lo, hi)
    local bidx = table.move(idx, 1, #idx, 1, {})
    bidx[d] = i
    local starts, stops, bs = {}, {}, {}
    for e = 1, #idx do
      bs[e] = x.chunks[e][idx[e] + 1]
      starts[e], stops[e] = 0, bs[e]
    end
    starts[d], stops[d] = lo, hi
    bs[d] = hi - lo
    return { kget, block_key(xname, bidx), starts, stops }, bs
  end
  local function boundary_piece(idx, left)
    local last = nb - 1
    if boundary == "periodic" then
      if left then return (part(idx, last, chunks[nb] - depth, chunks[nb])) end
      return (part(idx, 0, 0, depth))
    end
    if boundary == "reflect" then -- Dask's reflect: the edge repeated in mirror (numpy's symmetric)
      if left then return { kflip, (part(idx, 0, 0, depth)), { d - 1 } } end
      return { kflip, (part(idx, last, chunks[nb] - depth, chunks[nb])), { d - 1 } }
    end
    local t, bs
    if left then t, bs = part(idx, 0, 0, 1) else t, bs = part(idx, last, chunks[nb] - 1, chunks[nb]) end
    bs[d] = depth
    if boundary == "nearest" then return { kbc, t, bs } end
    return { kfull, bs, boundary, x.dtype } -- a constant
  end
  local layer = core.grid_layer(name, core.numblocks_of(out), function(dsk, idx)
    local i = idx[d]
    local pieces = {}
    if i > 0 then pieces[#pieces + 1] = (part(idx, i - 1, chunks[i] - depth, chunks[i]))
    elseif edge then pieces[#pieces + 1] = boundary_piece(idx, true) end
    pieces[#pieces + 1] = block_key(xname, idx)
    if i < nb - 1 then pieces[#pieces + 1] = (part(idx, i + 1, 0, depth))
    elseif edge then pieces[#pieces + 1] = boundary_piece(idx, false) end
    dsk[block_key(name, idx)] = #pieces == 1 and pieces[1] or { kcat, pieces, d - 1 }
  end)
  return core.new(layer, { x }, out, x.dtype)
end

-- x rechunked so that no block along an axis is shallower than its depth.
local function deep_enough(x, depths)
  local want, change = core.plain(x.chunks), false
  for d = 1, x.ndim do
    local dp = depths[d]
    if dp > 0 then
      if dp > x.shape[d] then
        error(fmt("lask.array: map_overlap: depth %d is larger than axis %d (extent %d)", dp, d, x.shape[d]), 4)
      end
      local small = false
      for _, c in ipairs(want[d]) do if c < dp then small = true end end
      if small then
        local size = math.max(dp, x.chunksize[d])
        want[d] = core.regular_chunks(x.shape[d], size)
        local last = #want[d]
        if last > 1 and want[d][last] < dp then -- merge a short last block
          want[d][last - 1] = want[d][last - 1] + want[d][last]
          want[d][last] = nil
        end
        change = true
      end
    end
  end
  return change and x:rechunk(want) or x
end

local function overlap_options(x, depth, boundary, level)
  local depths = per_axis(depth, x.ndim, 0, "depth", level + 1)
  local bounds = per_axis(boundary, x.ndim, "none", "boundary", level + 1)
  for d = 1, x.ndim do
    if mtype(depths[d]) ~= "integer" or depths[d] < 0 then
      error("lask.array: map_overlap: depth must be integers >= 0", level + 1)
    end
    check_boundary(bounds[d], level + 1)
  end
  return depths, bounds
end

--- x with every block extended by its neighbours' edges (Dask's overlap).
-- @param x lask.array
-- @param depth integer or table: elements shared per side, per axis ({[axis] = n} or a list)
-- @param[opt="none"] boundary string, number or table: at the array's ends, "reflect"
-- (the edge mirrored, Dask's), "periodic", "nearest", "none" (no extension) or a constant
-- @return lask.array: blocks grown by 2 × depth (less at "none" ends)
-- @usage local y = da.overlap(da.arange(6, {chunks = 3}), 1, "periodic")
-- assert(y.chunks[1][1] == 5 and y:compute():get(1) == 5)
function BW.overlap(x, depth, boundary)
  if not is_array(x) then error("lask.array: overlap: expected an array", 2) end
  local depths, bounds = overlap_options(x, depth, boundary, 2)
  x = deep_enough(x, depths)
  for d = 1, x.ndim do
    if depths[d] > 0 then x = overlap_axis(x, d, depths[d], bounds[d]) end
  end
  return x
end

--- fn applied to overlapping blocks, for stencils (Dask's map_overlap).
-- Each block of x is extended by `depth` elements of its neighbours (and at the
-- array's ends by `boundary`), fn runs on the extended blocks as in map_blocks, and
-- with `trim` (the default) `depth` elements are cut from each side of fn's result
-- (none at "none" ends). With trim = false, fn must return the block's own shape
-- (or state `chunks`): a stencil that returns only the interior. Called
-- `da.map_overlap(fn, x, depth [, boundary] [, opts])` or
-- `da.map_overlap(fn, x, {depth = ..., boundary = ..., trim = ..., ...})`;
-- opts also takes map_blocks's (`dtype`, `chunks`, `kwargs`, `block_id`,
-- `block_info`, `name`). Several arrays: give them as a list in place of x.
-- @param fn function
-- @param x lask.array (or a list of arrays of one shape)
-- @param[opt] depth integer or table: per axis ({[axis] = n} or a list); default 0
-- @param[opt] boundary string, number or table: "reflect", "periodic", "nearest", "none" (default) or a constant
-- @param[opt] opts table
-- @return lask.array
-- @raise for a depth larger than an axis, or an unknown boundary
-- @usage local K = require("lask.core").array_kernels
-- local function mean3(b) -- the interior's 3-point mean
--   local n = b.shape[1]
--   return (K.getitem(b, {0}, {n - 2}) + K.getitem(b, {1}, {n - 1}) + K.getitem(b, {2}, {n})) / 3
-- end
-- local x = da.arange(10.0, {chunks = 4})
-- local y = da.map_overlap(mean3, x, 1, "nearest", {trim = false})
-- assert(y:compute():get(1) == 1 / 3 and y:compute():get(5) == 4)
function BW.map_overlap(fn, x, depth, boundary, opts)
  if not callable(fn) then error("lask.array: map_overlap: the first argument must be a function", 2) end
  if type(depth) == "table" and getmetatable(depth) == nil and #depth == 0 and
      (depth.depth ~= nil or depth.boundary ~= nil or depth.trim ~= nil or next(depth) == nil or
        type(next(depth)) == "string") then
    opts, depth, boundary = depth, depth.depth, depth.boundary
  elseif type(boundary) == "table" and getmetatable(boundary) == nil and type(next(boundary)) == "string" then
    opts, boundary = boundary, boundary.boundary
  end
  opts = opts or {}
  if depth == nil then depth = opts.depth end
  if boundary == nil then boundary = opts.boundary end
  local xs = is_array(x) and { x } or x
  if type(xs) ~= "table" or #xs == 0 then error("lask.array: map_overlap: expected an array or a list of arrays", 2) end
  local ref = xs[1]
  local depths, bounds = overlap_options(ref, depth, boundary, 2)
  local ext = {}
  for i, a in ipairs(xs) do
    if not is_array(a) then error("lask.array: map_overlap: expected arrays", 2) end
    if not core.same_list(a.shape, ref.shape) then error("lask.array: map_overlap: the arrays must have one shape", 2) end
    a = deep_enough(i == 1 and a or a:rechunk(xs[1].chunks), depths)
    if i == 1 then ref = a end
    ext[i] = BW.overlap(a:rechunk(ref.chunks), depths, bounds)
  end
  local trim = opts.trim
  if trim == nil then trim = true end
  local mb = {}
  for k, v in pairs(opts) do
    if k ~= "depth" and k ~= "boundary" and k ~= "trim" then mb[k] = v end
  end
  if not trim and not mb.chunks then mb.chunks = core.plain(ref.chunks) end
  local margs = table.move(ext, 1, #ext, 1, {})
  margs[#margs + 1] = mb
  local y = BW.map_blocks(fn, table.unpack(margs))
  if not trim then return y end
  -- cut depth from each side of every block (not at "none" ends)
  local nd = y.ndim
  if nd ~= ref.ndim then error("lask.array: map_overlap: trim needs fn to keep the number of axes", 2) end
  local out = core.plain(ref.chunks)
  local kget, yname = core.kernel("getitem"), y.name
  local name = "trim-" .. core.tokenize("trim", y, depths, bounds)
  local layer = core.grid_layer(name, core.numblocks_of(out), function(dsk, idx)
    local starts, stops = {}, {}
    for d = 1, nd do
      local nb, i = #out[d], idx[d]
      local lo = (i > 0 or bounds[d] ~= "none") and depths[d] or 0
      starts[d], stops[d] = lo, lo + out[d][i + 1]
    end
    dsk[block_key(name, idx)] = { kget, block_key(yname, idx), starts, stops }
  end)
  return core.new(layer, { y }, out, y.dtype)
end

--- x:map_overlap(fn, depth [, boundary] [, opts]): map_overlap(fn, x, ...), as Dask's method.
-- @function Array:map_overlap
-- @param x lask.array
-- @param fn function
-- @param ... depth, boundary, opts (see map_overlap)
-- @return lask.array
-- @usage local y = da.arange(6, {chunks = 3}):map_overlap(function(b) return b end, 1, "reflect")
-- assert(y:compute():get(4) == 3)
function BW.map_overlap_method(x, fn, ...) return BW.map_overlap(fn, x, ...) end

return BW
