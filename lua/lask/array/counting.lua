--- Counting functions of lask.array: histogram, histogramdd, histogram2d and bincount (numpy's, Dask's rules).
-- Each block is counted by one kernel (engine/array/shape.c) into a partial of the
-- result's fixed length; the partials are summed by the reduction machinery.
-- @module lask.array.counting
-- @alias SH
local core = require "lask.array.core"
local U = require("lask.array.shape").util

local mtype = math.type
local block_key, is_array = core.block_key, core.is_array
local need_array, per_block, A = U.need_array, U.per_block, U.A

local SH = {}

-- Sums per-block partial results (each a 1-D array of length n, from task(idx) for
-- every block of x) with the reduction machinery.
-- The counts of kernel (bincount or histogram, with its argument arg) over every
-- block of x, optionally weighted (an array of x's shape): each block's partial of
-- length n, summed by the reduction machinery.
local function counts(kernel, x, arg, n, weights, level)
  local w = weights and need_array(weights, kernel, level + 1)
  local deps = { x }
  if w then
    if not core.same_list(w.shape, x.shape) then
      error(("lask.array: %s: weights must have x's shape"):format(kernel), level + 1)
    end
    w = w:rechunk(x.chunks)
    deps[2] = w
  end
  local k, kr = core.kernel(kernel), core.kernel("reshape")
  local blocks = {}
  core.each_block(x.numblocks, function(idx) blocks[#blocks + 1] = table.move(idx, 1, #idx, 1, {}) end)
  local ones = {}
  for i = 1, #blocks do ones[i] = 1 end
  local partial = per_block(kernel, { x, arg, w }, deps, { ones, { n } }, w and "float64" or "int64", function(idx)
    local b = blocks[idx[1] + 1]
    return { kr, { k, block_key(x.name, b), arg, w and block_key(w.name, b) or nil }, { 1, n } }
  end)
  return partial:sum { axis = 1 }
end

--- Counts of each value 0, 1, 2, ... in a 1-D integer x (numpy's bincount, Dask's rules).
-- Without opts.minlength (or with 0) the result's length, x's largest value + 1, is
-- unknown until computed: NaN in its shape and chunks, as Dask gives it
-- (`:compute_chunk_sizes()` finds it); each block counts up to its own largest value
-- and one task adds the counts, the shorter ones padded with zeros. With minlength
-- the length is minlength, known, and every value must be below it (an error at
-- compute otherwise: numpy would lengthen the result, which lask cannot once the
-- length is fixed; Dask gives a wrong shape). Counts are int64, or float64 sums
-- of opts.weights. Values count from 0, as numpy's: they are data, not indices.
-- @param x lask.array: 1-D, int64 or bool, values >= 0
-- @param[opt] opts table: `minlength` (an integer >= 0), `weights` (an array of x's shape)
-- @return lask.array: 1-D, of length minlength, or unknown (NaN) without it
-- @raise when x is not 1-D integers; at compute, for a negative value, or one >= minlength
-- @usage local c = da.bincount(da.from_array({0, 1, 1, 3}), {minlength = 4})
-- assert(c:compute():get(2) == 2)
-- local u = da.bincount(da.from_array({0, 1, 1, 5}, {chunks = 2}))
-- assert(u.shape[1] ~= u.shape[1] and u:compute().shape[1] == 6)    -- unknown, then 6
-- local w = da.bincount(da.from_array({2, 0, 2}), {weights = da.from_array({0.5, 1, 2})})
-- assert(w:compute():get(3) == 2.5)
function SH.bincount(x, opts)
  x = need_array(x, "bincount", 2)
  opts = opts or {}
  if type(opts) ~= "table" then error("lask.array: bincount: options are a table: {minlength =, weights =}", 2) end
  for key in pairs(opts) do
    if key ~= "minlength" and key ~= "weights" then
      error(("lask.array: bincount: unknown option '%s' (minlength, weights)"):format(tostring(key)), 2)
    end
  end
  if x.ndim ~= 1 then error("lask.array: bincount: x must be 1-D (x:ravel() flattens it)", 2) end
  if x.dtype ~= "int64" and x.dtype ~= "bool" then
    error("lask.array: bincount: x must hold integers (int64 or bool), got " .. x.dtype, 2)
  end
  local n = opts.minlength or 0
  if mtype(n) ~= "integer" or n < 0 then
    error("lask.array: bincount: minlength must be an integer >= 0, got " .. tostring(opts.minlength), 2)
  end
  if n > 0 then return counts("bincount", x, n, n, opts.weights, 2) end
  -- unknown length: per block up to its largest value, then one padded sum
  local w = opts.weights and need_array(opts.weights, "bincount", 2)
  if w and not core.same_list(w.shape, x.shape) then error("lask.array: bincount: weights must have x's shape", 2) end
  if w then w = w:rechunk(x.chunks) end
  local k, ksum = core.kernel("bincount"), core.kernel("bincount_sum")
  local name = "bincount-" .. core.tokenize("bincount", x, w)
  local x_name, w_name, nb = x.name, w and w.name, x.numblocks[1]
  local layer = core.grid_layer(name, { 1 }, function(dsk)
    local parts = {}
    for b = 0, nb - 1 do
      local pkey = block_key(name .. "-part", { b })
      dsk[pkey] = { k, block_key(x_name, { b }), -1, w_name and block_key(w_name, { b }) or nil }
      parts[b + 1] = pkey
    end
    dsk[block_key(name, { 0 })] = { ksum, parts }
  end, w and { x_name, w_name } or { x_name })
  return core.new(layer, w and { x, w } or { x }, { { 0 / 0 } }, w and "float64" or "int64")
end

-- The bin edges (a list of floats) of bins: a number of equal bins over range =
-- {lo, hi} (required, as Dask requires), or a list of increasing edges.
local function edges_of(bins, range, what, level)
  local edges = {}
  if mtype(bins) == "integer" then
    if bins < 1 then error(("lask.array: %s: bins must be >= 1"):format(what), level + 1) end
    if type(range) ~= "table" or type(range[1]) ~= "number" or type(range[2]) ~= "number" or range[1] > range[2] then
      error(("lask.array: %s: with a number of bins, give opts.range = {lo, hi} (lo <= hi), as Dask requires "
        .. "(the edges must be known before the data is read), or give bins as a list of increasing edges"):format(what),
        level + 1)
    end
    local lo, hi = range[1] + 0.0, range[2] + 0.0
    if lo == hi then lo, hi = lo - 0.5, hi + 0.5 end
    for i = 0, bins do edges[i + 1] = lo + (hi - lo) * i / bins end
  elseif type(bins) == "table" and not is_array(bins) then
    for i, e in ipairs(bins) do
      if type(e) ~= "number" or (i > 1 and e < edges[i - 1]) then
        error(("lask.array: %s: bin edges must be increasing numbers"):format(what), level + 1)
      end
      edges[i] = e + 0.0
    end
    if #edges < 2 then error(("lask.array: %s: give at least two bin edges"):format(what), level + 1) end
  else
    error(("lask.array: %s: bins must be an integer (with opts.range = {lo, hi}) or a list of increasing edges, "
      .. "got %s"):format(what, is_array(bins) and "a lazy array (compute it first)" or type(bins)), level + 1)
  end
  return edges
end

--- A histogram of x's elements over known bins (numpy's histogram, Dask's rule that bins be known).
-- bins is a number of equal bins over opts.range = {lo, hi} (required then, as
-- in Dask), or the list of bin edges. Each bin is [a, b) but the last, [a, b];
-- values outside the edges, and NaN, are not counted. opts.density divides the
-- counts by their total and the bins' widths (numpy's density, Dask's); weights
-- sum per bin instead of counting.
-- @param x lask.array
-- @param bins integer or table (edges, increasing)
-- @param[opt] opts table: `range` ({lo, hi}), `weights` (an array of x's shape), `density` (boolean)
-- @return lask.array, lask.array: the counts (int64; float64 with weights or density) and the edges
-- @raise without range for a number of bins, for edges not increasing, an unknown option
-- @usage local h, e = da.histogram(da.arange(10, {chunks = 3}), 2, {range = {0, 10}})
-- assert(h:compute():get(1) == 5 and e:compute():get(3) == 10)
-- local d = da.histogram(da.arange(10, {chunks = 3}), {0, 2, 10}, {density = true})
-- assert(d:compute():get(1) == 2 / 10 / 2)
function SH.histogram(x, bins, opts)
  x = need_array(x, "histogram", 2)
  opts = opts or {}
  if type(opts) ~= "table" then error("lask.array: histogram: options are a table: {range =, weights =, density =}", 2) end
  for key in pairs(opts) do
    if key ~= "range" and key ~= "weights" and key ~= "density" then
      error(("lask.array: histogram: unknown option '%s' (range, weights, density)"):format(tostring(key)), 2)
    end
  end
  local edges = edges_of(bins, opts.range, "histogram", 2)
  local nb = #edges - 1
  local hist = counts("histogram", x, edges, nb, opts.weights, 2)
  local e = A().from_array(require("lask.core").ndarray.asarray(edges))
  if opts.density then
    local widths = e:slice { 2, nb + 1 } - e:slice { 1, nb }
    hist = hist / hist:sum() / widths
  end
  return hist, e
end

--- A multidimensional histogram of D-dimensional samples (numpy's histogramdd, Dask's rules).
-- sample is an (N, D) array (one sample a row) or a list of D 1-d arrays of one
-- length. bins: one number for every dimension, a number per dimension, or a list
-- of edges per dimension; numbers need opts.range, a {lo, hi} per dimension (as
-- Dask requires). Each sample's bin number is found per dimension (digitize: the
-- last bin closed, samples outside or NaN not counted), made one flat number, and
-- counted by bincount with a known length; lazily, block by block.
-- @param sample lask.array (N, D), or a list of D 1-d lask.arrays
-- @param bins integer, list of integers, or list of edge lists
-- @param[opt] opts table: `range` (a {lo, hi} per dimension), `weights` (N), `density` (boolean)
-- @return lask.array, table: the float64 counts (D axes, one per dimension's bins) and the list of edges (lask.arrays)
-- @raise as histogram's, and when the dimensions disagree
-- @usage local s = da.from_array({{0, 0}, {1, 1}, {1, 0.5}, {3, 3}}, {chunks = 3})
-- local h, e = da.histogramdd(s, {2, 2}, {range = {{0, 2}, {0, 2}}})
-- local c = h:compute()                 -- {3, 3} is outside the range
-- assert(c:get(1, 1) == 1 and c:get(2, 1) == 1 and c:get(2, 2) == 1 and e[1].shape[1] == 3)
function SH.histogramdd(sample, bins, opts)
  opts = opts or {}
  for key in pairs(opts) do
    if key ~= "range" and key ~= "weights" and key ~= "density" then
      error(("lask.array: histogramdd: unknown option '%s' (range, weights, density)"):format(tostring(key)), 2)
    end
  end
  local cols = {}
  if type(sample) == "table" and not is_array(sample) and getmetatable(sample) == nil and is_array(sample[1]) then
    for i, c in ipairs(sample) do
      cols[i] = need_array(c, "histogramdd", 2)
      if cols[i].ndim ~= 1 or cols[i].shape[1] ~= cols[1].shape[1] then
        error("lask.array: histogramdd: the sample's arrays must be 1-d and of one length", 2)
      end
    end
  else
    local x = need_array(sample, "histogramdd", 2)
    if x.ndim ~= 2 then error("lask.array: histogramdd: sample must be (N, D), or a list of D 1-d arrays", 2) end
    for d = 1, x.shape[2] do cols[d] = x[{ {}, d }] end
  end
  local D = #cols
  if D == 0 then error("lask.array: histogramdd: the sample has no dimension", 2) end
  local range = opts.range
  if range ~= nil and (type(range) ~= "table" or #range ~= D) then
    error(("lask.array: histogramdd: range must be a {lo, hi} per dimension (%d)"):format(D), 2)
  end
  local per = {}
  if mtype(bins) == "integer" then
    for d = 1, D do per[d] = bins end
  elseif type(bins) == "table" and #bins == D then
    per = bins
  else
    error(("lask.array: histogramdd: bins must be a number, or a number or a list of edges per dimension (%d)"):format(D), 2)
  end
  local da = A()
  local edges, nbins, flat, valid, stride, total = {}, {}, nil, nil, 1, 1
  for d = 1, D do edges[d] = edges_of(per[d], range and range[d], "histogramdd", 2) end
  for d = 1, D do total = total * (#edges[d] - 1) end
  for d = D, 1, -1 do
    local e = edges[d]
    local nb = #e - 1
    nbins[d] = nb
    local c = cols[d]
    if c.chunks[1] ~= cols[1].chunks[1] then c = c:rechunk({ cols[1].chunks[1] }) end
    local b = da.where(da.equal(c, e[nb + 1]), nb, da.digitize(c, e)) -- 0 below, nb + 1 above: outside
    local ok = da.logical_and(da.greater_equal(b, 1), da.less_equal(b, nb))
    local term = (b - 1) * stride
    flat = flat and flat + term or term
    valid = valid and da.logical_and(valid, ok) or ok
    stride = stride * nb
  end
  flat = da.where(valid, flat, total) -- outside: one more bin, dropped
  local w = opts.weights and need_array(opts.weights, "histogramdd", 2)
  if w and (w.ndim ~= 1 or w.shape[1] ~= cols[1].shape[1]) then
    error("lask.array: histogramdd: weights must be 1-d, one per sample", 2)
  end
  local hist = SH.bincount(flat, { minlength = total + 1, weights = w }):slice({ 1, total }):astype("float64")
  hist = hist:reshape(nbins)
  local nd = require("lask.core").ndarray
  local out_edges = {}
  for d = 1, D do out_edges[d] = da.from_array(nd.asarray(edges[d])) end
  if opts.density then
    local vol = nil
    for d = 1, D do
      local shape = {}
      for k = 1, D do shape[k] = k == d and nbins[d] or 1 end
      local wd = (out_edges[d]:slice { 2, nbins[d] + 1 } - out_edges[d]:slice { 1, nbins[d] }):reshape(shape)
      vol = vol and vol * wd or wd
    end
    hist = hist / hist:sum() / vol
  end
  return hist, out_edges
end

--- The 2-d histogram of the points (x[i], y[i]) (numpy's histogram2d): histogramdd of {x, y}.
-- @param x lask.array: 1-d
-- @param y lask.array: 1-d, x's length
-- @param bins integer, {nx, ny}, or {xedges, yedges}
-- @param[opt] opts table: `range` ({{xlo, xhi}, {ylo, yhi}}), `weights`, `density`
-- @return lask.array, lask.array, lask.array: the float64 counts, the x edges, the y edges
-- @usage local h, xe, ye = da.histogram2d(da.from_array({0, 1, 1}), da.from_array({0, 0, 1}), {{0, 1, 2}, {0, 1, 2}})
-- assert(h:compute():get(2, 1) == 1 and h:compute():get(2, 2) == 1 and xe.shape[1] == 3)
function SH.histogram2d(x, y, bins, opts)
  local h, e = SH.histogramdd({ need_array(x, "histogram2d", 2), need_array(y, "histogram2d", 2) }, bins, opts)
  return h, e[1], e[2]
end

return SH
