--- Functions of lask.array: reductions (sum, prod, min, max, mean, var, std, argmin, argmax).
-- Each is a function of lask.array (`da.sum(x, ...)`) and a method (`x:sum(...)`).
-- The second argument is nothing (reduce every axis), an axis (a 1-based integer,
-- negative from the end), a list of axes (`{1, 2}`), or a table of options: `axis`
-- (an axis or a list), `keepdims` (keep the reduced axes at extent 1), `split_every`
-- (the fan-in of the reduction tree, 16 by default), and for var and std `ddof`.
-- A reduction over every axis gives a 0-d array (`:compute():item()` is its value).
-- Reductions with no elements (min, max, argmin, argmax over an extent of 0) raise
-- when built.
--
-- How it works:
-- A reduction is a tree, as in Dask: a chunk step reduces every block to a partial
-- with the reduced axes kept at extent 1 ("<op>-<token>"); partial steps combine up
-- to split_every partials at a time ("<op>-partial-<token>"), level after level,
-- until one block is left along every reduced axis; the aggregate step combines the
-- last ones, finishes (mean, var, std, arg) and drops the reduced axes
-- ("<op>-aggregate-<token>": the result's blocks). split_every (default 16) is the
-- fan-in over all reduced axes together: k reduced axes get 16^(1/k) each.
--
-- mean, var and std carry (count, mean, M2) partials merged with Chan et al.'s
-- update, so they stay accurate whatever the chunking. Axes are 1-based here (as
-- Lua counts; negative from the end) and 0-based in the kernels.
-- @module lask.array.reductions
-- @alias RD
-- @usage local x = da.arange(6, {chunks = 2}):reshape{2, 3}
-- assert(x:sum():compute():item() == 15)
-- assert(x:sum(1):compute():get(3) == 7)
-- assert(x:max{axis = 2, keepdims = true}.shape[2] == 1)
local core = require "lask.array.core"

local fmt = string.format
local block_key = core.block_key

local RD = {}

local DEFAULT_SPLIT_EVERY = 16

-- Fan-in per reduced axis (0-based axis -> n).
local function split_factors(split_every, axes, level)
  local out = {}
  if type(split_every) == "table" then
    for _, a in ipairs(axes) do
      local s = split_every[a + 1] or DEFAULT_SPLIT_EVERY
      out[a] = math.max(2, math.tointeger(s) or 2)
    end
    return out
  end
  local total = split_every or DEFAULT_SPLIT_EVERY
  if math.type(total) ~= "integer" or total < 2 then
    error("lask.array: split_every must be an integer of at least 2", level + 1)
  end
  local each = math.max(2, math.floor(total ^ (1 / math.max(#axes, 1)) + 1e-9))
  for _, a in ipairs(axes) do out[a] = each end
  return out
end

local function axes_list(axes)
  if #axes == 0 then return nil end
  return axes
end

-- reduce(x, spec, opts): the tree for one reduction. spec: prefix (name), chunk(key,
-- idx) -> task, combine(list) -> task (the tree's nodes), finish(task) -> task or
-- nil, dtype, by_parts (chunk does not use idx: a block may be reduced as the
-- combination of its parts). opts: axes (0-based list), keepdims, split_every.
local function reduce(x, spec, axes, opts, level)
  level = level + 1
  local split = split_factors(opts.split_every, axes, level)
  local fan_in = {} -- the token names the fan-in per axis: split_every = 2 and {2} are one graph
  for i, a in ipairs(axes) do fan_in[i] = split[a] end
  local token = core.tokenize(spec.prefix, x, axes, opts.keepdims or false, fan_in, spec.extra)
  local reduced = {}
  for _, a in ipairs(axes) do reduced[a] = true end
  -- the chunk step
  local cname = spec.prefix .. "-" .. token
  local nb = core.numblocks_of(x.chunks)
  -- blockwise, so that fusion may nest the input's task in this step
  local chunk = core.blockwise_layer(cname, x.chunks, { x }, function(idx, args) return spec.chunk(args[1], idx) end)
  if spec.by_parts and reduced[0] then
    -- a block made part by part (runs of rows, lask.array.expression): the parts'
    -- partials combined, as the tree combines blocks'
    chunk.by_parts = function(parts)
      local list = {}
      for i, part in ipairs(parts) do list[i] = spec.chunk(part) end
      return spec.combine(list)
    end
  end
  local arr = core.new(chunk, { x }, x.chunks, x.dtype)
  local layers = arr.layers
  local prev_name, prev_nb = cname, nb
  -- partial steps while some reduced axis has more blocks than its fan-in
  local depth = 0
  local function needs_level()
    for _, a in ipairs(axes) do if prev_nb[a + 1] > split[a] then return true end end
    return false
  end
  while needs_level() do
    depth = depth + 1
    local pname = fmt("%s-partial-%d-%s", spec.prefix, depth, token)
    local nnb = {}
    for d = 1, #prev_nb do nnb[d] = reduced[d - 1] and math.ceil(prev_nb[d] / split[d - 1]) or prev_nb[d] end
    local from_name, from_nb = prev_name, prev_nb
    local layer = core.grid_layer(pname, nnb, function(dsk, idx)
      dsk[block_key(pname, idx)] = spec.combine(RD.group(from_name, from_nb, idx, reduced, split))
    end, { prev_name })
    layers[pname] = layer
    prev_name, prev_nb = pname, nnb
  end
  -- the aggregate: the result's blocks
  local aname = spec.prefix .. "-aggregate-" .. token
  local out_chunks, keep = {}, opts.keepdims
  for d = 1, x.ndim do
    if not reduced[d - 1] then out_chunks[#out_chunks + 1] = x.chunks[d]
    elseif keep then out_chunks[#out_chunks + 1] = { 1 } end
  end
  local all = {}
  for a in pairs(reduced) do all[a] = math.huge end
  local from_name, from_nb = prev_name, prev_nb
  local squeeze = core.kernel("squeeze")
  local agg = core.grid_layer(aname, core.numblocks_of(out_chunks), function(dsk, oidx)
    local idx, j = {}, 0
    for d = 1, x.ndim do
      if reduced[d - 1] then
        idx[d] = 0
        if keep then j = j + 1 end
      else
        j = j + 1
        idx[d] = oidx[j]
      end
    end
    local group = RD.group(from_name, from_nb, idx, reduced, all)
    local task = #group == 1 and spec.single and spec.single(group[1]) or spec.combine(group)
    if spec.finish then task = spec.finish(task) end
    if not keep and #axes > 0 then task = { squeeze, task, axes } end
    dsk[block_key(aname, oidx)] = task
  end, { prev_name })
  return core.new(agg, { arr }, out_chunks, spec.dtype)
end

-- The keys of the blocks of grid (name, nb) that block idx of the next level
-- combines: along reduced axes, blocks idx*s .. idx*s + s - 1.
function RD.group(name, nb, idx, reduced, split)
  local ranges = {}
  for d = 1, #nb do
    if reduced[d - 1] then
      local s = split[d - 1]
      local lo = s == math.huge and 0 or idx[d] * s
      local hi = s == math.huge and nb[d] - 1 or math.min(nb[d] - 1, lo + s - 1)
      ranges[d] = { lo, hi }
    else
      ranges[d] = { idx[d], idx[d] }
    end
  end
  local out, cur = {}, {}
  local function walk(d)
    if d > #nb then
      out[#out + 1] = block_key(name, cur)
      return
    end
    for i = ranges[d][1], ranges[d][2] do
      cur[d] = i
      walk(d + 1)
    end
  end
  walk(1)
  return out
end

-- A reduction's options, as every reduction takes them: nothing (all axes), an axis
-- (x:sum(1)), a list of axes (x:sum{1, 2}), or a table of options
-- (x:sum{axis = 1, keepdims = true}). Returns the options table (axis 1-based, as
-- given); what names the reduction in errors, level is the caller's.
local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n > 0 and n == #t
end

function RD.options(opts, what, level)
  if opts == nil then return {} end
  if math.type(opts) == "integer" then return { axis = opts } end
  if type(opts) == "table" and not core.is_array(opts) and is_list(opts) then
    return { axis = opts } -- a list of axes
  end
  if type(opts) ~= "table" or core.is_array(opts) or #opts > 0 then
    error(fmt("lask.array: %s: expected an axis (1-based integer), a list of axes or a table of options like {axis = 1, keepdims = true}, got %s",
      what, core.is_array(opts) and "a lask array" or type(opts) == "number" and tostring(opts) or type(opts)), level + 1)
  end
  return opts
end
local opts_of = RD.options

local function sum_dtype(dt) return dt == "bool" and "int64" or dt end

-- axis = {} (numpy's axis=()): nothing is reduced.
local function no_axes(opts) return type(opts.axis) == "table" and not core.is_array(opts.axis) and #opts.axis == 0 end
local function float_dtype(dt) return dt == "float32" and "float32" or "float64" end

-- Does reducing x over axes (0-based) give a non-empty result from no elements?
-- (numpy's "zero-size array to reduction operation which has no identity")
local function empty_reduction(x, axes)
  local reduced, kept = 1, 1
  local is_reduced = {}
  for _, a in ipairs(axes) do is_reduced[a] = true end
  for d = 1, x.ndim do
    if is_reduced[d - 1] then reduced = reduced * x.shape[d] else kept = kept * x.shape[d] end
  end
  return reduced == 0 and kept > 0
end

-- sum, prod, min, max: chunk and agg kernels named <op>_chunk, <op>_agg. min and max
-- have no identity: an empty block's partial is empty and the agg passes over it.
local function simple(op, dtype_rule)
  return function(x, opts)
    opts = opts_of(opts, op, 2)
    if opts.dtype then x = x:astype(opts.dtype) end
    if no_axes(opts) then return x:astype(dtype_rule(x.dtype)) end -- numpy: the values as they are
    local axes = core.normalize_axes(opts.axis, x.ndim, op, 2)
    if (op == "min" or op == "max") and empty_reduction(x, axes) then
      error(fmt("lask.array: %s: zero-size array to reduction operation %s which has no identity", op, op), 2)
    end
    local kchunk, kagg = core.kernel(op .. "_chunk"), core.kernel(op .. "_agg")
    local ax = axes_list(axes)
    return reduce(x, {
      prefix = op,
      chunk = function(key) return { kchunk, key, ax } end,
      combine = function(list) return { kagg, list, ax } end,
      single = function(key) return key end,
      by_parts = true,
      dtype = dtype_rule(x.dtype),
    }, axes, opts, 2)
  end
end


--- The sum of the elements (along axes).
-- @function sum
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: int64 for bool input, else x's dtype
-- @raise on a bad axis or option, naming the valid ones
-- @usage assert(da.arange(5, {chunks = 2}):sum():compute():item() == 10)

--- The product of the elements (along axes).
-- @function prod
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: int64 for bool input, else x's dtype
-- @raise on a bad axis or option, naming the valid ones
-- @usage assert(da.arange(1, 5):prod():compute():item() == 24)

--- The smallest element (along axes); NaN if there is one.
-- @function min
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: x's dtype
-- @raise on a bad axis or option, naming the valid ones; over an extent of 0
-- @usage assert(da.arange(5):min():compute():item() == 0)

--- The largest element (along axes); NaN if there is one.
-- @function max
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: x's dtype
-- @raise on a bad axis or option, naming the valid ones; over an extent of 0
-- @usage assert(da.max(da.arange(5)):compute():item() == 4)
RD.sum = simple("sum", sum_dtype)
RD.prod = simple("prod", sum_dtype)
RD.min = simple("min", function(dt) return dt end)
RD.max = simple("max", function(dt) return dt end)

-- mean, var, std: moment partials.
local function moment(op, order)
  return function(x, opts)
    opts = opts_of(opts, op, 2)
    local axes = core.normalize_axes(opts.axis, x.ndim, op, 2)
    local ax = axes_list(axes)
    local ddof = opts.ddof or 0
    if type(ddof) ~= "number" then error("lask.array: " .. op .. ": ddof must be a number", 2) end
    local dtype = float_dtype(x.dtype)
    if no_axes(opts) then -- numpy: each value its own sample: the mean is x, the variance 0/(1 - ddof)
      local y = x:astype(dtype)
      if op == "mean" then return y end
      local var = (y - y) * (y - y) / (1 - ddof)
      return op == "var" and var or require("lask.array.elementwise").functions.sqrt(var)
    end
    local kchunk, kagg = core.kernel("moment_chunk"), core.kernel("moment_agg")
    local kfinish = core.kernel(op .. "_finish")
    local out_dt = dtype ~= "float64" and dtype or nil
    return reduce(x, {
      prefix = op,
      extra = ddof,
      chunk = function(key) return { kchunk, key, ax, order } end,
      combine = function(list) return { kagg, list, ax } end,
      single = function(key) return key end,
      by_parts = true,
      finish = function(task)
        if op == "mean" then return { kfinish, task, out_dt } end
        return { kfinish, task, ddof, out_dt }
      end,
      dtype = dtype,
    }, axes, opts, 2)
  end
end


--- The mean (along axes), accurate whatever the chunking.
-- @function mean
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: float32 for float32 input, else float64
-- @raise on a bad axis or option, naming the valid ones
-- @usage assert(da.arange(5):mean():compute():item() == 2)

--- The variance (along axes): the mean squared deviation, over n - ddof.
-- @function var
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =, ddof =}`
-- @return lask.array: float32 for float32 input, else float64
-- @raise on a bad axis or option, naming the valid ones
-- @usage assert(da.arange(5):var():compute():item() == 2)
-- assert(da.arange(5):var{ddof = 1}:compute():item() == 2.5)

--- The standard deviation (along axes): the square root of var.
-- @function std
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =, ddof =}`
-- @return lask.array: float32 for float32 input, else float64
-- @raise on a bad axis or option, naming the valid ones
-- @usage assert(math.abs(da.arange(5):std():compute():item() - math.sqrt(2)) < 1e-12)
RD.mean = moment("mean", 1)
RD.var = moment("var", 2)
RD.std = moment("std", 2)

-- argmin, argmax (nanargmin, nanargmax): over one axis, or over the flattened array (no axis). Positions
-- are 1-based, as every index of lask's API (numpy's are 0-based): x:argmax() of
-- {3, 9, 1} is 2.
local function arg(op)
  return function(x, opts)
    opts = opts_of(opts, op, 2)
    if type(opts.axis) == "table" then error("lask.array: " .. op .. ": axis must be one integer", 2) end
    core.need_known(x, op, 2) -- block offsets give the positions
    local flat = opts.axis == nil
    local axes = core.normalize_axes(opts.axis, x.ndim, op, 2)
    if x.size == 0 or empty_reduction(x, axes) then error(fmt("lask.array: %s: attempt to get %s of an empty sequence", op, op), 2) end
    local kchunk, kagg = core.kernel(op .. "_chunk"), core.kernel((op:gsub("^nan", "")) .. "_agg")
    local kfinish = core.kernel("arg_finish")
    local offsets = {}
    for d = 1, x.ndim do offsets[d] = core.offsets(x.chunks[d]) end
    local axis0 = axes[1]
    local spec = {
      prefix = op,
      combine = function(list) return { kagg, list, flat and nil or axis0 } end,
      finish = function(task) return { kfinish, task, 1 } end,
      dtype = "int64",
    }
    if x.ndim == 0 then return x:astype("int64") * 0 + 1 end
    if flat then
      local gshape, all = core.plain(x.shape), axes
      spec.chunk = function(key, idx)
        local off = {}
        for d = 1, #idx do off[d] = offsets[d][idx[d] + 1] end
        return { kchunk, key, all, off, gshape }
      end
    else
      spec.chunk = function(key, idx) return { kchunk, key, axis0, offsets[axis0 + 1][idx[axis0 + 1] + 1] } end
    end
    return reduce(x, spec, axes, { keepdims = opts.keepdims and not flat, split_every = opts.split_every }, 2)
  end
end


--- The 1-based position of the smallest element (flat, or along one axis).
-- @function argmin
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: int64 positions counting from 1 (numpy's + 1)
-- @raise on a bad axis or option, naming the valid ones; over an extent of 0
-- @usage assert(da.from_array({3, 1, 2}):argmin():compute():item() == 2)

--- The 1-based position of the largest element (flat, or along one axis).
-- @function argmax
-- @param x lask.array
-- @param[opt] axis an axis (1-based), a list of axes, or options `{axis =, keepdims =, split_every =}`
-- @return lask.array: int64 positions counting from 1 (numpy's + 1)
-- @raise on a bad axis or option, naming the valid ones; over an extent of 0
-- @usage assert(da.from_array({3, 1, 2}):argmax():compute():item() == 1)
RD.argmin = arg("argmin")
RD.argmax = arg("argmax")
RD.nanargmin = arg("nanargmin") -- NaN skipped (nanargmin_chunk); an all-NaN lane fails at compute
RD.nanargmax = arg("nanargmax")

return RD
