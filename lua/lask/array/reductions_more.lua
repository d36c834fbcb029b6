--- More reductions: any, all, the NaN-skipping family, cumulative sums and products, median and quantiles, topk, moment, trace.
-- Each takes its options as every reduction does (reductions.options): nothing (all
-- axes), an axis (`x:nansum(1)`, 1-based, negative from the end), a list of axes, or
-- a table (`{axis = 1, keepdims = true, split_every = 8}`). They are lazy, run block
-- by block on every scheduler, and follow numpy 1.24 (dtypes, NaN handling); positions
-- (nanargmin, argtopk) are 1-based as argmin's.
--
-- How: any, all and the nan* reductions are graphs of the existing reductions over
-- fused elementwise expressions (NaN replaced by the identity, counts of non-NaN
-- values), so their chunk steps run one fused pass per block. cumsum and cumprod are
-- a blocked scan: every block's total (a sum/prod chunk step, in parallel), a chain
-- of running totals along the axis (one small task a block), then every block scanned
-- with the total of the blocks before it (the cumsum kernel, in parallel). median and
-- quantile give each task every block along the axis, whole lanes, and select in
-- every lane (the quantile kernel: O(n) a lane). topk keeps the k best of every block, then of
-- the concatenated partials (Dask's topk); argtopk rechunks the axis to one block.
-- median and quantile read the blocks along the axis in place (Dask rechunks them
-- into one block first: a copy of the whole array).
-- @module lask.array.reductions_more
-- @alias F
local core = require "lask.array.core"
local RD = require "lask.array.reductions"
local E = require("lask.array.elementwise").functions
local U = require("lask.array.ufuncs").functions

local fmt = string.format
local block_key = core.block_key

local M = {}

-- The functions this module adds (da.NAME and x:NAME), name -> function.
M.functions = {}
local F = M.functions

-- The options table of a reduction (reductions.options) and a copy for the inner
-- reductions with keepdims replaced.
local function opts_of(opts, what) return RD.options(opts, what, 3) end
local function with(o, keepdims) return { axis = o.axis, keepdims = keepdims, split_every = o.split_every } end
local function is_float(x) return x.dtype == "float64" or x.dtype == "float32" end

--- True where any element along the axes is nonzero (NaN counts as nonzero), as numpy's any.
-- @param x lask.array
-- @param[opt] opts an axis, a list of axes, or {axis =, keepdims =, split_every =}
-- @return lask.array: bool
-- @usage assert(da.any(da.from_array({0, 0, 3}, {chunks = 2})):compute():item() == true)
function F.any(x, opts)
  local o = opts_of(opts, "any")
  return RD.sum(E.not_equal(x, 0), with(o, o.keepdims)):astype("bool")
end

--- True where every element along the axes is nonzero, as numpy's all (true for none).
-- @param x lask.array
-- @param[opt] opts an axis, a list of axes, or {axis =, keepdims =, split_every =}
-- @return lask.array: bool
-- @usage assert(da.all(da.from_array({1, 0, 3}, {chunks = 2})):compute():item() == false)
function F.all(x, opts)
  local o = opts_of(opts, "all")
  return E.equal(RD.sum(E.equal(x, 0), with(o, o.keepdims)), 0)
end

-- x with NaN replaced by v (floats only; other dtypes have no NaN).
local function fill_nan(x, v) return is_float(x) and E.where(U.isnan(x), v, x) or x end

-- The number of non-NaN elements along the axes, as x's float dtype.
local function count(x, o, keepdims)
  local n = RD.sum(U.logical_not(U.isnan(x)), with(o, keepdims))
  return n:astype(x.dtype == "float32" and "float32" or "float64")
end

--- The sum treating NaN as 0 (numpy's nansum).
-- @param x lask.array
-- @param[opt] opts as sum's
-- @return lask.array: sum's dtype (bool as int64)
-- @usage assert(da.nansum(da.from_array({1, 0/0, 2})):compute():item() == 3)
function F.nansum(x, opts) return RD.sum(fill_nan(x, 0), opts_of(opts, "nansum")) end
--- The product treating NaN as 1 (numpy's nanprod).
-- @param x lask.array
-- @param[opt] opts as prod's
-- @return lask.array: prod's dtype (bool as int64)
-- @usage assert(da.nanprod(da.from_array({2, 0/0, 3})):compute():item() == 6)
function F.nanprod(x, opts) return RD.prod(fill_nan(x, 1), opts_of(opts, "nanprod")) end

--- The mean of the non-NaN elements (numpy's nanmean; NaN where there are none).
-- @param x lask.array
-- @param[opt] opts as mean's
-- @return lask.array: float64 (float32 for float32 x)
-- @usage assert(da.nanmean(da.from_array({1, 0/0, 2})):compute():item() == 1.5)
function F.nanmean(x, opts)
  local o = opts_of(opts, "nanmean")
  if not is_float(x) then return RD.mean(x, o) end
  return RD.sum(fill_nan(x, 0), with(o, o.keepdims)) / count(x, o, o.keepdims)
end

-- nanvar with ddof, over the options o.
local function nanvar(x, o, what)
  if not is_float(x) then return RD.var(x, o) end
  local ddof = o.ddof or 0
  if type(ddof) ~= "number" then error(fmt("lask.array: %s: ddof must be a number", what), 3) end
  local m = F.nanmean(x, with(o, true))
  local d = fill_nan(x - m, 0)
  local dof = count(x, o, o.keepdims) - ddof
  return E.where(E.greater(dof, 0), RD.sum(d * d, with(o, o.keepdims)) / dof, 0 / 0)
end

--- The variance of the non-NaN elements (numpy's nanvar; `ddof` in opts; NaN where fewer than ddof + 1).
-- Two passes: the mean, then the squared deviations from it.
-- @param x lask.array
-- @param[opt] opts as var's (`ddof`, default 0)
-- @return lask.array: float64 (float32 for float32 x)
-- @usage assert(da.nanvar(da.from_array({1, 0/0, 3})):compute():item() == 1)
function F.nanvar(x, opts) return nanvar(x, opts_of(opts, "nanvar"), "nanvar") end

--- The standard deviation of the non-NaN elements (numpy's nanstd; `ddof` in opts).
-- @param x lask.array
-- @param[opt] opts as std's
-- @return lask.array: float64 (float32 for float32 x)
-- @usage assert(da.nanstd(da.from_array({1, 0/0, 3})):compute():item() == 1)
function F.nanstd(x, opts) return E.sqrt(nanvar(x, opts_of(opts, "nanstd"), "nanstd")) end

--- The minimum ignoring NaN (numpy's nanmin; NaN where every element is NaN).
-- @param x lask.array
-- @param[opt] opts as min's
-- @return lask.array: x's dtype
-- @raise for an empty reduction, as min
-- @usage assert(da.nanmin(da.from_array({3, 0/0, 2})):compute():item() == 2)
function F.nanmin(x, opts)
  local o = opts_of(opts, "nanmin")
  if not is_float(x) then return RD.min(x, o) end
  return E.where(F.all(U.isnan(x), o), 0 / 0, RD.min(fill_nan(x, math.huge), o))
end

--- The maximum ignoring NaN (numpy's nanmax; NaN where every element is NaN).
-- @param x lask.array
-- @param[opt] opts as max's
-- @return lask.array: x's dtype
-- @usage assert(da.nanmax(da.from_array({3, 0/0, 2})):compute():item() == 3)
function F.nanmax(x, opts)
  local o = opts_of(opts, "nanmax")
  if not is_float(x) then return RD.max(x, o) end
  return E.where(F.all(U.isnan(x), o), 0 / 0, RD.max(fill_nan(x, -math.huge), o))
end

--- The 1-based position of the minimum ignoring NaN (numpy's nanargmin).
-- The argmin tree with NaN never a candidate; a lane of only NaNs fails the compute
-- ("attempt to get the arg of an empty sequence (or of an all-NaN slice)"), as
-- numpy raises.
-- @param x lask.array
-- @param[opt] opts one axis, or {axis =, keepdims =}
-- @return lask.array: int64
-- @usage assert(da.nanargmin(da.from_array({3, 0/0, 2})):compute():item() == 3)
function F.nanargmin(x, opts) return RD.nanargmin(x, opts_of(opts, "nanargmin")) end
--- The 1-based position of the maximum ignoring NaN (numpy's nanargmax); as nanargmin.
-- @param x lask.array
-- @param[opt] opts one axis, or {axis =, keepdims =}
-- @return lask.array: int64
-- @usage assert(da.nanargmax(da.from_array({3, 0/0, 2})):compute():item() == 1)
function F.nanargmax(x, opts) return RD.nanargmax(x, opts_of(opts, "nanargmax")) end

-- One axis from options (1-based in, 0-based out), or nil for none given.
local function one_axis(x, o, what)
  if o.axis == nil then return nil end
  if type(o.axis) == "table" then
    if #o.axis ~= 1 then error(fmt("lask.array: %s: axis must be one integer", what), 4) end
    o.axis = o.axis[1]
  end
  return core.normalize_axes(o.axis, x.ndim, what, 4)[1]
end

-- x as one dimension (numpy's axis=None for scans and quantiles).
local function flat(x) return x.ndim == 1 and x or require("lask.array.structure").reshape(x, { x.size }) end

-- The blocked scan: op "cumsum" or "cumprod".
local function scan(op, x, opts)
  local o = opts_of(opts, op)
  if o.dtype then x = x:astype(o.dtype) end
  local ax = one_axis(x, o, op)
  if ax == nil then x, ax = flat(x), 0 end
  local dtype = x.dtype == "bool" and "int64" or x.dtype
  local token = core.tokenize(op, x, ax)
  local nb = x.numblocks
  local total_k = core.kernel(op == "cumsum" and "sum_chunk" or "prod_chunk")
  local join_k, scan_k = core.kernel(op == "cumsum" and "add" or "mul"), core.kernel(op)
  local tname, cname, oname = op .. "-total-" .. token, op .. "-carry-" .. token, op .. "-" .. token
  local function at(idx, j)
    local c = {}
    for d = 1, #idx do c[d] = idx[d] end
    c[ax + 1] = j
    return c
  end
  -- every block's total along the axis (keepdims), in parallel
  local totals = core.grid_layer(tname, nb, function(dsk, idx)
    dsk[block_key(tname, idx)] = { total_k, block_key(x.name, idx), { ax } }
  end, { x.name })
  -- the carry into block j: the total of blocks 0 .. j-1 (a chain, one small task a block)
  local carries = core.grid_layer(cname, nb, function(dsk, idx)
    local j = idx[ax + 1]
    if j == 1 then
      dsk[block_key(cname, idx)] = block_key(tname, at(idx, 0))
    elseif j > 1 then
      dsk[block_key(cname, idx)] = { join_k, block_key(cname, at(idx, j - 1)), block_key(tname, at(idx, j - 1)) }
    end
  end, { tname })
  local out = core.grid_layer(oname, nb, function(dsk, idx)
    local task = { scan_k, block_key(x.name, idx), ax }
    if idx[ax + 1] > 0 then task[4] = block_key(cname, idx) end
    dsk[block_key(oname, idx)] = task
  end, { x.name, cname })
  local y = core.new(out, { x }, x.chunks, dtype)
  y.layers[tname], y.layers[cname] = totals, carries
  return y
end

--- The cumulative sum along an axis (numpy's cumsum; no axis: of the flattened array).
-- A blocked scan: block totals in parallel, a chain of running totals, then every
-- block scanned with its carry in parallel. bool sums as int64; NaN propagates.
-- @param x lask.array
-- @param[opt] opts an axis, or {axis =, dtype =}
-- @return lask.array: x's shape (1-d without axis), x's dtype (bool as int64)
-- @usage local y = da.cumsum(da.arange(1, 6, {chunks = 2}))
-- assert(y:compute():get(5) == 15)
function F.cumsum(x, opts) return scan("cumsum", x, opts) end

--- The cumulative product along an axis (numpy's cumprod); as cumsum.
-- @param x lask.array
-- @param[opt] opts an axis, or {axis =, dtype =}
-- @return lask.array
-- @usage assert(da.cumprod(da.arange(1, 6, {chunks = 2})):compute():get(5) == 120)
function F.cumprod(x, opts) return scan("cumprod", x, opts) end

--- cumsum with NaN counted as 0 (numpy's nancumsum).
-- @param x lask.array
-- @param[opt] opts as cumsum's
-- @return lask.array
-- @usage assert(da.nancumsum(da.from_array({1, 0/0, 2})):compute():get(3) == 3)
function F.nancumsum(x, opts) return scan("cumsum", fill_nan(x, 0), opts) end
--- cumprod with NaN counted as 1 (numpy's nancumprod).
-- @param x lask.array
-- @param[opt] opts as cumprod's
-- @return lask.array
-- @usage assert(da.nancumprod(da.from_array({2, 0/0, 3})):compute():get(3) == 6)
function F.nancumprod(x, opts) return scan("cumprod", fill_nan(x, 1), opts) end

-- x rechunked so that axis ax (0-based) is one block.
local function whole_axis(x, ax)
  if x.numblocks[ax + 1] == 1 then return x end
  local chunks = {}
  for d = 1, x.ndim do chunks[d] = x.chunks[d] end
  chunks[ax + 1] = { x.shape[ax + 1] }
  return x:rechunk(chunks)
end

-- The quantile kernel over every lane along one axis. q: a number or a list.
local quantiles

-- Quantiles over several axes (numpy's tuple axis): the reduced axes moved last
-- and merged into one (transpose, reshape), then quantiles along it; keepdims puts
-- the reduced axes back at extent 1.
local function quantiles_axes(what, x, q, o, method, skipnan, dtype)
  local axes = core.normalize_axes(o.axis, x.ndim, what, 4)
  local reduced, perm, shape, n = {}, {}, {}, 1
  for _, a in ipairs(axes) do reduced[a] = true end
  for d = 0, x.ndim - 1 do
    if not reduced[d] then perm[#perm + 1], shape[#shape + 1] = d + 1, x.shape[d + 1] end
  end
  for _, a in ipairs(axes) do perm[#perm + 1], n = a + 1, n * x.shape[a + 1] end
  shape[#shape + 1] = n
  local y = require("lask.array.structure").transpose(x, perm):reshape(shape)
  local r = quantiles(what, y, q, { axis = #shape }, method, skipnan, dtype)
  if not o.keepdims then return r end
  local kshape = {}
  if type(q) == "table" then kshape[1] = #q end
  for d = 0, x.ndim - 1 do kshape[#kshape + 1] = reduced[d] and 1 or x.shape[d + 1] end
  return r:reshape(kshape)
end

function quantiles(what, x, q, o, method, skipnan, dtype)
  if type(o.axis) == "table" and #o.axis > 1 then return quantiles_axes(what, x, q, o, method, skipnan, dtype) end
  local ax = one_axis(x, o, what)
  if ax == nil then x, ax = flat(x), 0 end
  if x.shape[ax + 1] == 0 and method ~= "median" then error(fmt("lask.array: %s: cannot take a quantile of an empty axis", what), 3) end
  local qlist = type(q) == "table"
  local qs = q
  if qlist then
    if #q == 0 then error(fmt("lask.array: %s: give at least one quantile", what), 3) end
    qs = {}
    for i, v in ipairs(q) do qs[i] = v end
  end
  for _, v in ipairs(qlist and qs or { q }) do
    if type(v) ~= "number" or not (v >= 0 and v <= 1) then
      error(fmt("lask.array: %s: quantiles must be numbers in [0, 1] (percentiles in [0, 100]), got %s", what,
        tostring(v)), 3)
    end
  end
  local y = x -- no rechunk: each task reads the blocks along the axis in place
  local nbax = y.numblocks[ax + 1]
  local keep = o.keepdims
  local out_chunks, lead = {}, qlist and 1 or 0
  if qlist then out_chunks[1] = { #qs } end
  for d = 1, x.ndim do
    if d ~= ax + 1 then out_chunks[#out_chunks + 1] = y.chunks[d]
    elseif keep then out_chunks[#out_chunks + 1] = { 1 } end
  end
  local name = what .. "-" .. core.tokenize(what, y, ax, qs, method, skipnan, keep)
  local kq, kreshape = core.kernel("quantile"), core.kernel("reshape")
  local layer = core.grid_layer(name, core.numblocks_of(out_chunks), function(dsk, oidx)
    local idx, shape, j = {}, {}, lead
    if qlist then shape[1] = #qs end
    for d = 1, x.ndim do
      if d == ax + 1 then
        idx[d] = 0
        if keep then j = j + 1; shape[#shape + 1] = 1 end
      else
        j = j + 1
        idx[d] = oidx[j]
        shape[#shape + 1] = y.chunks[d][oidx[j] + 1]
      end
    end
    local src = block_key(y.name, idx)
    if nbax > 1 then
      src = {}
      for b = 0, nbax - 1 do
        idx[ax + 1] = b
        src[b + 1] = block_key(y.name, idx)
      end
    end
    local task = { kq, src, ax, qs, method, skipnan, dtype }
    if keep then task = { kreshape, task, shape } end
    dsk[block_key(name, oidx)] = task
  end, { y.name })
  return core.new(layer, { y }, out_chunks, dtype)
end

local function median_dtype(x) return x.dtype == "float32" and "float32" or "float64" end

--- The median along an axis or axes (numpy's median: the mean of the two middle values; NaN if the lane has a NaN or is empty).
-- Several axes (`{axis = {1, 2}}`) are moved last and merged into one first.
-- Every task reads whole lanes from the blocks along the axis, in place (Dask
-- rechunks the axis to one block first); no axis: of the flattened array.
-- @param x lask.array
-- @param[opt] opts an axis, a list of axes, or {axis =, keepdims =}
-- @return lask.array: float64 (float32 for float32 x)
-- @usage local m = da.median(da.from_array({{1, 5, 2}, {7, 3, 4}}, {chunks = 1}), 2)
-- assert(m:compute():get(1) == 2 and m:compute():get(2) == 4)
function F.median(x, opts)
  return quantiles("median", x, 0.5, opts_of(opts, "median"), "median", false, median_dtype(x))
end

--- The median ignoring NaN (numpy's nanmedian; NaN for an all-NaN lane).
-- @param x lask.array
-- @param[opt] opts as median's
-- @return lask.array
-- @usage assert(da.nanmedian(da.from_array({1, 0/0, 3})):compute():item() == 2)
function F.nanmedian(x, opts)
  return quantiles("nanmedian", x, 0.5, opts_of(opts, "nanmedian"), "median", true, median_dtype(x))
end

-- quantile's options: the reduction's, plus method.
local function quantile_of(what, x, q, opts, skipnan, scale)
  local o = opts_of(opts, what)
  local method = o.method or "linear"
  local ok = { linear = true, lower = true, higher = true, nearest = true, midpoint = true }
  if not ok[method] then
    error(fmt("lask.array: %s: method must be linear, lower, higher, nearest or midpoint, got %s", what,
      tostring(method)), 3)
  end
  if scale then
    if type(q) == "table" then
      local s = {}
      for i, v in ipairs(q) do s[i] = type(v) == "number" and v / 100 or v end
      q = s
    elseif type(q) == "number" then
      q = q / 100
    end
  end
  return quantiles(what, x, q, o, method, skipnan, "float64")
end

--- The q-th quantiles along an axis (numpy's quantile; q a number or a list in [0, 1]).
-- A list of q puts a leading axis of their number first, as numpy. opts.method:
-- "linear" (default), "lower", "higher", "nearest" or "midpoint". NaN in a lane gives
-- NaN (`da.nanquantile` skips NaN). Tasks read whole lanes across the blocks.
-- The result is exact, along any axis: Dask's percentile is 1-d only and
-- approximate (it merges the blocks' own percentiles).
-- @param x lask.array
-- @param q number or list of numbers in [0, 1]
-- @param[opt] opts an axis, or {axis =, keepdims =, method =}
-- @return lask.array: float64
-- @raise when a q is outside [0, 1] or the method is unknown
-- @usage local q = da.quantile(da.arange(11, {chunks = 4}), {0.1, 0.5})
-- assert(q:compute():get(1) == 1 and q:compute():get(2) == 5)
function F.quantile(x, q, opts) return quantile_of("quantile", x, q, opts, false, false) end
--- quantile ignoring NaN (numpy's nanquantile; NaN for an all-NaN lane).
-- @param x lask.array
-- @param q number or list of numbers in [0, 1]
-- @param[opt] opts as quantile's
-- @return lask.array: float64
-- @usage assert(da.nanquantile(da.from_array({1, 0/0, 3}), 0.5):compute():item() == 2)
function F.nanquantile(x, q, opts) return quantile_of("nanquantile", x, q, opts, true, false) end

--- The p-th percentiles along an axis (numpy's percentile: quantile of p / 100).
-- opts.method as quantile's: "linear" (default), "lower", "higher", "nearest",
-- "midpoint". Exact, along any axis (Dask's is 1-d and approximate).
-- @param x lask.array
-- @param p number or list of numbers in [0, 100]
-- @param[opt] opts as quantile's
-- @return lask.array: float64
-- @usage assert(da.percentile(da.arange(11, {chunks = 4}), 30):compute():item() == 3)
-- assert(da.percentile(da.arange(4), 50, {method = "lower"}):compute():item() == 1)
function F.percentile(x, p, opts) return quantile_of("percentile", x, p, opts, false, true) end
--- percentile ignoring NaN (numpy's nanpercentile).
-- @param x lask.array
-- @param p number or list of numbers in [0, 100]
-- @param[opt] opts as quantile's
-- @return lask.array: float64
-- @usage assert(da.nanpercentile(da.from_array({1, 0/0, 3}), 100):compute():item() == 3)
function F.nanpercentile(x, p, opts) return quantile_of("nanpercentile", x, p, opts, true, true) end

-- topk's k and axis (default the last).
local function topk_args(what, x, k, opts)
  if math.type(k) ~= "integer" or k == 0 then
    error(fmt("lask.array: %s: k must be a nonzero integer, got %s", what, tostring(k)), 3)
  end
  local o = opts_of(opts, what)
  if o.axis == nil then o.axis = -1 end
  if x.ndim == 0 then error(fmt("lask.array: %s: x must have at least one dimension", what), 3) end
  return one_axis(x, o, what)
end

--- The k largest elements along an axis, largest first (k < 0: the |k| smallest, smallest first), as Dask's topk.
-- Each block keeps its k best, then the concatenated partials give the result (one
-- block along the axis, of min(|k|, n) elements). NaN counts as the largest.
-- @param x lask.array
-- @param k integer, nonzero
-- @param[opt] opts an axis (default -1, the last), or {axis =}
-- @return lask.array: x's dtype
-- @usage local t = da.topk(da.from_array({5, 1, 9, 3, 7}, {chunks = 2}), 2)
-- assert(t:compute():get(1) == 9 and t:compute():get(2) == 7)
function F.topk(x, k, opts)
  local ax = topk_args("topk", x, k, opts)
  local m = math.min(math.abs(k), x.shape[ax + 1])
  local token = core.tokenize("topk", x, k, ax)
  local kt, kcat = core.kernel("topk"), core.kernel("concatenate")
  local pname, name = "topk-chunk-" .. token, "topk-" .. token
  local pchunks = {}
  for d = 1, x.ndim do pchunks[d] = x.chunks[d] end
  local part = {}
  for i, c in ipairs(x.chunks[ax + 1]) do part[i] = math.min(math.abs(k), c) end
  pchunks[ax + 1] = part
  local partial = core.blockwise_layer(pname, pchunks, { x }, function(_, args) return { kt, args[1], ax, k } end)
  local p = core.new(partial, { x }, pchunks, x.dtype)
  local out_chunks = {}
  for d = 1, x.ndim do out_chunks[d] = x.chunks[d] end
  out_chunks[ax + 1] = { m }
  local nbax = x.numblocks[ax + 1]
  local layer = core.grid_layer(name, core.numblocks_of(out_chunks), function(dsk, idx)
    local list = {}
    for j = 0, nbax - 1 do
      local c = {}
      for d = 1, #idx do c[d] = idx[d] end
      c[ax + 1] = j
      list[#list + 1] = block_key(pname, c)
    end
    dsk[block_key(name, idx)] = nbax == 1 and list[1] or { kt, { kcat, list, ax }, ax, k }
  end, { pname })
  return core.new(layer, { p }, out_chunks, x.dtype)
end

--- The 1-based positions of topk's elements along the axis (Dask's argtopk, positions counted from 1).
-- The axis is rechunked to one block.
-- @param x lask.array
-- @param k integer, nonzero (negative: the smallest)
-- @param[opt] opts an axis (default -1), or {axis =}
-- @return lask.array: int64
-- @usage assert(da.argtopk(da.from_array({5, 1, 9, 3}, {chunks = 2}), 1):compute():get(1) == 3)
function F.argtopk(x, k, opts)
  local ax = topk_args("argtopk", x, k, opts)
  local y = whole_axis(x, ax)
  local m = math.min(math.abs(k), x.shape[ax + 1])
  local chunks = {}
  for d = 1, x.ndim do chunks[d] = y.chunks[d] end
  chunks[ax + 1] = { m }
  local name = "argtopk-" .. core.tokenize("argtopk", y, k, ax)
  local ka = core.kernel("argtopk")
  local layer = core.blockwise_layer(name, chunks, { y }, function(_, args) return { ka, args[1], ax, k, 1 } end)
  return core.new(layer, { y }, chunks, "int64")
end

--- The order-th central moment along the axes: sum((x - mean)^order) / (n - ddof), as Dask's moment.
-- Two passes (the mean, then the powers of the deviations).
-- @param x lask.array
-- @param order integer >= 0
-- @param[opt] opts as var's (`ddof`, default 0)
-- @return lask.array: float64 (float32 for float32 x)
-- @usage assert(da.moment(da.from_array({1, 2, 3, 4}), 2):compute():item() == 1.25)
function F.moment(x, order, opts)
  if math.type(order) ~= "integer" or order < 0 then
    error("lask.array: moment: order must be an integer >= 0, got " .. tostring(order), 2)
  end
  local o = opts_of(opts, "moment")
  local ddof = o.ddof or 0
  if type(ddof) ~= "number" then error("lask.array: moment: ddof must be a number", 2) end
  local dtype = x.dtype == "float32" and "float32" or "float64"
  local xf = x:astype(dtype)
  local m = RD.mean(xf, with(o, true))
  local axes = core.normalize_axes(o.axis, x.ndim, "moment", 2)
  local n = 1
  for _, a in ipairs(axes) do n = n * x.shape[a + 1] end
  return RD.sum((xf - m) ^ order, with(o, o.keepdims)) / (n - ddof)
end

--- The sum along a diagonal (numpy's trace; offset k above the main one, negative below).
-- Of a 2-d x, only the blocks the diagonal crosses are read: each sums its stretch
-- of the diagonal (the eye kernel as a mask), then the partial sums are added. Of
-- an n-d x, the diagonals over axis1 and axis2 (1-based, default 1 and 2) are
-- summed: `da.diagonal(x, offset, axis1, axis2):sum(-1)`, an array of x's other axes.
-- @param x lask.array: at least 2-d
-- @param[opt] offset integer (default 0)
-- @param[opt] axis1 integer (default 1)
-- @param[opt] axis2 integer (default 2)
-- @return lask.array: 0-d for 2-d x, else x's other axes; sum's dtype (bool as int64)
-- @raise when x has fewer than 2 axes, or the axes are the same or out of range
-- @usage assert(da.trace(da.from_array({{1, 2}, {3, 4}})):compute():item() == 5)
-- assert(da.trace(da.from_array({{1, 2}, {3, 4}}), 1):compute():item() == 2)
-- local t = da.trace(da.arange(8):reshape({2, 2, 2}), 0, 2, 3)  -- per first index
-- assert(t:compute():get(1) == 0 + 3 and t:compute():get(2) == 4 + 7)
function F.trace(x, offset, axis1, axis2)
  offset = offset or 0
  if math.type(offset) ~= "integer" then error("lask.array: trace: offset must be an integer", 2) end
  if x.ndim < 2 then error(fmt("lask.array: trace: x must have at least 2 axes, got %d", x.ndim), 2) end
  local a1, a2 = axis1 or 1, axis2 or 2
  for _, a in ipairs { a1, a2 } do
    if math.type(a) ~= "integer" or a == 0 or a > x.ndim or a < -x.ndim then
      error(fmt("lask.array: trace: axes count from 1 to %d (negative from the end), got %s", x.ndim, tostring(a)), 2)
    end
  end
  if a1 < 0 then a1 = a1 + x.ndim + 1 end
  if a2 < 0 then a2 = a2 + x.ndim + 1 end
  if a1 == a2 then error("lask.array: trace: axis1 and axis2 must differ", 2) end
  if x.ndim > 2 or a1 > a2 then
    local d = require("lask.array.shape").diagonal(x, offset, a1, a2)
    if x.dtype == "bool" then d = d:astype("int64") end
    return RD.sum(d, { axis = d.ndim })
  end
  local dtype = x.dtype == "bool" and "int64" or x.dtype
  local name = "trace-" .. core.tokenize("trace", x, offset)
  local keye, kwhere, ksum = core.kernel("eye"), core.kernel("where"), core.kernel("sum_chunk")
  local ro, co = core.offsets(x.chunks[1]), core.offsets(x.chunks[2])
  local layer = core.grid_layer(name, {}, function(dsk)
    local parts = {}
    for i, rows in ipairs(x.chunks[1]) do
      for j, cols in ipairs(x.chunks[2]) do
        local r0, c0 = ro[i], co[j]
        -- does col - row == offset meet rows [r0, r0 + rows) and cols [c0, c0 + cols)?
        if rows > 0 and cols > 0 and c0 - (r0 + rows - 1) <= offset and offset <= c0 + cols - 1 - r0 then
          local mask = { keye, { rows, cols }, offset - c0 + r0, "bool" }
          local pkey = block_key(name .. "-part", { i - 1, j - 1 }) -- a task of its own: parallel
          dsk[pkey] = { ksum, { kwhere, mask, block_key(x.name, { i - 1, j - 1 }), false }, { 0, 1 } }
          parts[#parts + 1] = pkey
        end
      end
    end
    local task
    if #parts == 0 then
      local zero = dtype == "int64" and 0 or 0.0 -- no block meets the diagonal: a 0-d zero
      task = { core.kernel("squeeze"), { core.kernel("full"), { 1, 1 }, zero, dtype }, { 0, 1 } }
    else
      task = { core.kernel("squeeze"), { core.kernel("sum_agg"), parts, { 0, 1 } }, { 0, 1 } }
    end
    dsk[block_key(name, {})] = task
  end, { x.name })
  return core.new(layer, { x }, {}, dtype)
end

return M
