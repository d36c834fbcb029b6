-- array_routines_spec.lua: numpy's routines that issue 16 left open, each against a
-- naive Lua reference, for every dtype it accepts, uneven chunks and each scheduler:
-- pointwise indexing (x:vindex), da.ellipsis, unique's return_index/inverse/counts,
-- bincount without minlength, histogram (density, weights, Dask's range rule), pad's
-- statistic and ramp modes, quantile methods, n-d trace and diagonal, fromfunction
-- per block.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da
local nd = require("lask.core").ndarray

local DTYPES = { "float64", "float32", "int64", "bool" }
local SCHEDULERS = { "sync", "threaded", "multiprocessing" }

local F = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_refs.lua")
local R, at, input = F.R, F.at, F.input
local function check(x, ref, dtype, sched) F.check(x, ref, dtype, { scheduler = sched }) end

-- f(dtype, sched) for every dtype on every scheduler
local function every(dtypes, f)
  for _, dtype in ipairs(dtypes) do
    for _, sched in ipairs(SCHEDULERS) do f(dtype, sched) end
  end
end

local function is_nan(v) return v ~= v end

-- numpy's sort order: false < true, numbers ascending, NaN last
local function key_of(v)
  if type(v) == "boolean" then return v and 1 or 0 end
  return v
end
local function less(a, b)
  a, b = key_of(a), key_of(b)
  if is_nan(a) then return false end
  if is_nan(b) then return true end
  return a < b
end
-- numpy's rounding: halves to even
local function round_even(v)
  local f = math.floor(v)
  if v - f ~= 0.5 then return math.floor(v + 0.5) end
  return f % 2 == 0 and f or f + 1
end

local function same_value(a, b) return a == b or (is_nan(key_of(a)) and is_nan(key_of(b))) end

describe("lask.array routines (issue 16's gaps)", function()
  it("vindex: pointwise indexing against a naive reference, lists broadcast", function()
    local seed = os.time()
    print("vindex seed " .. seed)
    math.randomseed(seed)
    every(DTYPES, function(dtype, sched)
      local shape = { 7, 5, 3 }
      local x, r = input(shape, dtype, { { 3, 4 }, { 2, 1, 2 }, { 2, 1 } })
      -- lists on axes 1 and 2 (8 points, negative indices too), axis 3 whole
      local a, b = {}, {}
      for p = 1, 8 do
        a[p] = math.random(-7, 7)
        if a[p] == 0 then a[p] = 1 end
        b[p] = math.random(1, 5)
      end
      local function pos(i, n) return i > 0 and i or n + i + 1 end
      check(x:vindex { a, b }, R({ 8, 3 }, function(i)
        return at(r, { pos(a[i[1]], 7), b[i[1]], i[2] })
      end), dtype, sched)
      -- lists on axes 1 and 3 (an int64 ndarray and a list of one, repeating): the
      -- points first, then axis 2 (Dask's vindex rule)
      local c = nd.asarray({ 2, 7, 1 }, "int64")
      check(x:vindex { c, nil, { 3 } }, R({ 3, 5 }, function(i)
        return at(r, { ({ 2, 7, 1 })[i[1]], i[2], 3 })
      end), dtype, sched)
      -- 2-d index lists give a 2-d points' shape; an integer drops its axis
      check(x:vindex { { { 1, 2 }, { 3, 4 } }, -1, { { 1, 3 }, { 2, 2 } } }, R({ 2, 2 }, function(i)
        local rows = { { 1, 2 }, { 3, 4 } }
        local cols = { { 1, 3 }, { 2, 2 } }
        return at(r, { rows[i[1]][i[2]], 5, cols[i[1]][i[2]] })
      end), dtype, sched)
      -- da.ellipsis in vindex, a transposed input, no points
      check(x.T:vindex { da.ellipsis, { 2, 6 } }, R({ 2, 3, 5 }, function(i)
        return at(r, { ({ 2, 6 })[i[1]], i[3], i[2] })
      end), dtype, sched)
      check(x:vindex { {}, {} }, R({ 0, 3 }, function() return 0 end), dtype, sched)
    end)
    local x = da.arange(12, { chunks = 5 }):reshape { 3, 4 }
    assert.has_error(function() x:vindex { { 1, 2, 3 }, { 1, 2 } } end,
      "lask.array: vindex: the index lists do not broadcast together (axis 1: {3}, axis 2: {2}); give lists of one "
      .. "length, or of length 1 to repeat")
    assert.has_error(function() x:vindex { { 4 }, { 1 } } end)
    assert.has_error(function() x:vindex { da.arange(2) } end)
    assert.has_error(function() x:vindex { { 1.5 } } end)
    assert.has_error(function() x:vindex { { 1 }, { 1 }, { 1 } } end)
    -- x[...] with two lists refuses, as Dask's, and names vindex
    local ok, err = pcall(function() return x[{ nd.asarray({ 1, 2 }, "int64"), nd.asarray({ 1, 2 }, "int64") }] end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("vindex", 1, true))
  end)

  it("da.ellipsis in x[...] and x[...] = v", function()
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 4, 3, 5 }, dtype, { { 3, 1 }, 2, { 4, 1 } })
      check(x[{ da.ellipsis, 2 }], R({ 4, 3 }, function(i) return at(r, { i[1], i[2], 2 }) end), dtype, sched)
      check(x[{ -1, da.ellipsis }], R({ 3, 5 }, function(i) return at(r, { 4, i[1], i[2] }) end), dtype, sched)
      check(x[{ 2, da.ellipsis, { 2, 4 } }], R({ 3, 3 }, function(i) return at(r, { 2, i[1], i[2] + 1 }) end),
        dtype, sched)
      check(x[{ 1, 2, da.ellipsis, 3 }], R({}, function() return at(r, { 1, 2, 3 }) end), dtype, sched)
      check(x[da.ellipsis], r, dtype, sched)
      check(x[{ da.ellipsis, da.newaxis }], R({ 4, 3, 5, 1 }, function(i) return at(r, i) end), dtype, sched)
      local y = x + 0 -- a copy to assign into
      if dtype == "bool" then y = x:astype("bool") end
      local v = dtype == "bool" and true or 9
      y[{ da.ellipsis, 1 }] = v
      check(y, R({ 4, 3, 5 }, function(i) return i[3] == 1 and v or at(r, i) end), y.dtype, sched)
    end)
    local x = da.ones({ 2, 2 })
    assert.has_error(function() return x[{ da.ellipsis, da.ellipsis }] end,
      "lask.array: an index can only have a single ellipsis (da.ellipsis)")
    assert.has_error(function() da.ellipsis.x = 1 end)
  end)

  it("unique with return_index, return_inverse, return_counts, every dtype", function()
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 5, 6 }, dtype, { { 2, 3 }, { 4, 2 } })
      if dtype == "float64" or dtype == "float32" then -- NaNs collapse into one, last
        r.flat[3], r.flat[20] = 0 / 0, 0 / 0
        local a = nd.asarray(H.nested(r.shape, r.flat), dtype)
        x = da.from_array(a, { chunks = { { 2, 3 }, { 4, 2 } } })
      end
      -- the naive reference
      local vals = {}
      for _, v in ipairs(r.flat) do
        local found = false
        for _, u in ipairs(vals) do if same_value(u, v) then found = true end end
        if not found then vals[#vals + 1] = v end
      end
      table.sort(vals, less)
      local first, counts, inverse = {}, {}, {}
      for j, u in ipairs(vals) do
        counts[j] = 0
        for i, v in ipairs(r.flat) do
          if same_value(u, v) then
            counts[j] = counts[j] + 1
            first[j] = first[j] or i
            inverse[i] = j
          end
        end
      end
      local u, fi, inv, c = da.unique(x, { return_index = true, return_inverse = true, return_counts = true })
      local opts = { scheduler = sched }
      assert.is_true(u.shape[1] ~= u.shape[1]) -- unknown, as Dask's
      H.same(H.get(u, opts), vals)
      assert.equal(dtype, u.dtype)
      assert.same(first, H.get(fi, opts).flat)
      assert.same(counts, H.get(c, opts).flat)
      check(inv, { shape = { 5, 6 }, flat = inverse }, "int64", sched)
      -- each option alone keeps numpy's order of results
      local u2, i2 = da.unique(x, { return_inverse = true })
      H.same(H.get(u2, opts), vals)
      assert.same(inverse, H.get(i2, opts).flat)
      local _, f3, c3 = da.unique(x, { return_index = true, return_counts = true })
      assert.same(first, H.get(f3, opts).flat)
      assert.same(counts, H.get(c3, opts).flat)
      -- the values index back into x: u[inverse] == x
      local back = u:compute_chunk_sizes()[inv:ravel()]:reshape { 5, 6 }
      check(back, r, dtype, sched)
    end)
    assert.has_error(function() da.unique(da.ones(3), { return_sorted = true }) end,
      "lask.array: unique: unknown option 'return_sorted' (return_index, return_inverse, return_counts)")
    local u, fi = da.unique(da.zeros({ 0 }), { return_index = true })
    assert.equal(0, u:compute().shape[1])
    assert.equal(0, fi:compute().shape[1])
  end)

  it("bincount without minlength: an unknown length, weights, every scheduler", function()
    local seed = os.time()
    print("bincount seed " .. seed)
    math.randomseed(seed)
    for _, sched in ipairs(SCHEDULERS) do
      local vals, ws = {}, {}
      for i = 1, 23 do vals[i], ws[i] = math.random(0, 9), math.random(-4, 4) / 2 end
      local x = da.from_array(nd.asarray(vals, "int64"), { chunks = { { 5, 1, 9, 8 } } })
      local w = da.from_array(nd.asarray(ws, "float64"), { chunks = 7 })
      local m = 0
      for _, v in ipairs(vals) do m = math.max(m, v) end
      local cnt, sums = {}, {}
      for i = 1, m + 1 do cnt[i], sums[i] = 0, 0.0 end
      for i, v in ipairs(vals) do cnt[v + 1], sums[v + 1] = cnt[v + 1] + 1, sums[v + 1] + ws[i] end
      local c = da.bincount(x)
      assert.is_true(c.shape[1] ~= c.shape[1] and c.dtype == "int64")
      local got = H.get(c, { scheduler = sched })
      assert.same({ m + 1 }, got.shape)
      assert.same(cnt, got.flat)
      local s = da.bincount(x, { weights = w })
      assert.equal("float64", s.dtype)
      H.same(H.get(s, { scheduler = sched }), sums)
      assert.equal(m + 1, da.bincount(x):compute_chunk_sizes().shape[1])
      -- bool, empty
      local b = da.from_array(nd.asarray({ false, true, true }, "bool"), { chunks = 2 })
      assert.same({ 1, 2 }, H.get(da.bincount(b), { scheduler = sched }).flat)
      assert.same({ 0 }, H.get(da.bincount(da.zeros({ 0 }, { dtype = "int64" })), { scheduler = sched }).shape)
    end
    assert.has_error(function() da.bincount(da.from_array({ -1, 2 })):compute() end)
    assert.has_error(function() da.bincount(da.arange(3), { minlength = -1 }) end)
    assert.has_error(function() da.bincount(da.arange(3), { min_length = 2 }) end)
  end)

  it("histogram: density, weights, Dask's rule for a number of bins", function()
    every({ "float64", "float32", "int64" }, function(dtype, sched)
      local x, r = input({ 4, 6 }, dtype, { { 3, 1 }, { 2, 4 } })
      local wx, wr = input({ 4, 6 }, "float64", { 2, 3 })
      local edges = { -6, -2, 0, 0.5, 7 }
      local cnt, sums = { 0, 0, 0, 0 }, { 0, 0, 0, 0 }
      for i, v in ipairs(r.flat) do
        for b = 1, 4 do
          if v >= edges[b] and (v < edges[b + 1] or (b == 4 and v <= edges[5])) then
            cnt[b], sums[b] = cnt[b] + 1, sums[b] + wr.flat[i]
            break
          end
        end
      end
      local h, e = da.histogram(x, edges)
      assert.same(cnt, H.get(h, { scheduler = sched }).flat)
      H.same(H.get(e, { scheduler = sched }), edges)
      H.same(H.get(da.histogram(x, edges, { weights = wx }), { scheduler = sched }), sums)
      local total, dens = 0, {}
      for _, c in ipairs(cnt) do total = total + c end
      for b = 1, 4 do dens[b] = cnt[b] / total / (edges[b + 1] - edges[b]) end
      H.same(H.get(da.histogram(x, edges, { density = true }), { scheduler = sched }), dens)
      -- a number of bins over a range: equal widths
      local h2 = da.histogram(x, 3, { range = { -6, 6 } })
      local c2 = { 0, 0, 0 }
      for _, v in ipairs(r.flat) do
        if v >= -6 and v <= 6 then
          local b = math.min(math.floor((v + 6) / 4) + 1, 3)
          c2[b] = c2[b] + 1
        end
      end
      assert.same(c2, H.get(h2, { scheduler = sched }).flat)
    end)
    assert.has_error(function() da.histogram(da.arange(3), 3) end,
      "lask.array: histogram: with a number of bins, give opts.range = {lo, hi} (lo <= hi), as Dask requires (the "
      .. "edges must be known before the data is read), or give bins as a list of increasing edges")
    assert.has_error(function() da.histogram(da.arange(3), { 0, 1 }, { bins = 2 }) end)
    assert.has_error(function() da.histogram(da.arange(3), { 2, 1 }) end)
  end)

  it("pad: mean, median, minimum, maximum, linear_ramp, empty, per-axis options", function()
    -- numpy's pad of one lane v (a list) by b before and a after
    local function lane_stat(mode, v, lo, hi, int_like)
      local s = {}
      for i = lo, hi do s[#s + 1] = type(v[i]) == "boolean" and (v[i] and 1 or 0) or v[i] end
      local r
      if mode == "minimum" or mode == "maximum" then
        r = s[1]
        for _, e in ipairs(s) do r = (mode == "minimum") and math.min(r, e) or math.max(r, e) end
      elseif mode == "mean" then
        r = 0
        for _, e in ipairs(s) do r = r + e end
        r = r / #s
      else
        table.sort(s)
        local m = #s
        r = m % 2 == 1 and s[(m + 1) // 2] or (s[m // 2] + s[m // 2 + 1]) / 2
      end
      if int_like and (mode == "mean" or mode == "median") then r = round_even(r) end
      return r
    end
    local function pad_lane(v, b, a, mode, o, int_like)
      local n, out = #v, {}
      local stat = o.stat_length or { n, n }
      local ends = o.end_values or { 0, 0 }
      for i = 1, b do
        if mode == "linear_ramp" then
          local edge = v[1]
          local val = (i - 1) * ((edge - ends[1]) / b) + ends[1]
          out[i] = int_like and math.floor(val) or val
        else
          out[i] = lane_stat(mode, v, 1, math.min(stat[1], n), int_like)
        end
      end
      for i = 1, n do out[b + i] = v[i] end
      for t = 1, a do
        if mode == "linear_ramp" then
          local edge = v[n]
          local val = (a - t) * ((edge - ends[2]) / a) + ends[2]
          out[b + n + t] = int_like and math.floor(val) or val
        else
          out[b + n + t] = lane_stat(mode, v, n - math.min(stat[2], n) + 1, n, int_like)
        end
      end
      return out
    end
    -- pads r (2-d) along axis 1 then axis 2, as numpy does
    local function pad2(r, w, mode, o, int_like, f32)
      local function st(v) return f32 and string.unpack("f", string.pack("f", v)) or v end
      local rows, cols = r.shape[1], r.shape[2]
      local o1 = { stat_length = o.stat_length and o.stat_length[1], end_values = o.end_values and o.end_values[1] }
      local o2 = { stat_length = o.stat_length and o.stat_length[2], end_values = o.end_values and o.end_values[2] }
      local R1 = rows + w[1][1] + w[1][2]
      local mid = {}
      for j = 1, cols do
        local lane = {}
        for i = 1, rows do lane[i] = at(r, { i, j }) end
        local p = pad_lane(lane, w[1][1], w[1][2], mode, o1, int_like)
        for i = 1, R1 do mid[(i - 1) * cols + j] = st(p[i]) end
      end
      local C2 = cols + w[2][1] + w[2][2]
      local out = {}
      for i = 1, R1 do
        local lane = {}
        for j = 1, cols do lane[j] = mid[(i - 1) * cols + j] end
        local p = pad_lane(lane, w[2][1], w[2][2], mode, o2, int_like)
        for j = 1, C2 do out[(i - 1) * C2 + j] = st(p[j]) end
      end
      return { shape = { R1, C2 }, flat = out }
    end
    every({ "float64", "float32", "int64" }, function(dtype, sched)
      local x, r = input({ 5, 4 }, dtype, { { 2, 3 }, { 3, 1 } })
      local int_like = dtype == "int64"
      local w = { { 2, 3 }, { 1, 2 } }
      local f32 = dtype == "float32" -- each axis's result stored in float32, as numpy's
      for _, mode in ipairs { "mean", "median", "minimum", "maximum" } do
        check(da.pad(x, w, mode), pad2(r, w, mode, {}, int_like, f32), dtype, sched)
        local sl = { { 2, 3 }, { 1, 4 } }
        check(da.pad(x, w, mode, { stat_length = sl }), pad2(r, w, mode, { stat_length = sl }, int_like, f32),
          dtype, sched)
      end
      local ev = { { 10, -3 }, { 5, 7 } }
      check(da.pad(x, w, "linear_ramp", { end_values = ev }),
        pad2(r, w, "linear_ramp", { end_values = ev }, int_like, f32), dtype, sched)
      check(da.pad(x, w, "linear_ramp"), pad2(r, w, "linear_ramp", {}, int_like, f32), dtype, sched)
      check(da.pad(x, 1, "empty"), R({ 7, 6 }, function(i)
        if i[1] == 1 or i[1] == 7 or i[2] == 1 or i[2] == 6 then return 0 end
        return at(r, { i[1] - 1, i[2] - 1 })
      end), dtype, sched)
      check(da.pad(x, 1, "constant", { constant_values = { { 1, 2 }, { 3, 4 } } }), R({ 7, 6 }, function(i)
        if i[2] == 1 then return 3 end
        if i[2] == 6 then return 4 end
        if i[1] == 1 then return 1 end
        if i[1] == 7 then return 2 end
        return at(r, { i[1] - 1, i[2] - 1 })
      end), dtype, sched)
    end)
    -- bool: minimum and maximum
    local b, rb = input({ 4, 3 }, "bool", { { 3, 1 }, 2 })
    check(da.pad(b, 1, "maximum"), R({ 6, 5 }, function(i)
      local ii, jj = math.min(math.max(i[1] - 1, 1), 4), math.min(math.max(i[2] - 1, 1), 3)
      local any = false
      if i[1] == 1 or i[1] == 6 then
        for k = 1, 4 do any = any or at(rb, { k, jj }) end
        if i[2] == 1 or i[2] == 5 then
          any = false
          for k = 1, 4 do for l = 1, 3 do any = any or at(rb, { k, l }) end end
        end
        return any
      end
      if i[2] == 1 or i[2] == 5 then
        for l = 1, 3 do any = any or at(rb, { ii, l }) end
        return any
      end
      return at(rb, { ii, jj })
    end), "bool", "sync")
    assert.has_error(function() da.pad(da.ones(3), 1, "mean", { stat_length = 0 }) end)
    assert.has_error(function() da.pad(da.ones(3), 1, "edge", { end_values = 1 }) end,
      "lask.array: pad: option 'end_values' is for mode linear_ramp, not edge")
    assert.has_error(function() da.pad(da.ones(3), 1, "mean", { stat = 1 }) end)
    assert.has_error(function() da.pad(da.ones(0), 1, "mean") end)
  end)

  it("quantile and percentile methods against the sorted lanes", function()
    local function ref_q(lane, q, method)
      local s = {}
      for i, v in ipairs(lane) do s[i] = v end
      table.sort(s)
      local h = (#s - 1) * q
      local lo, hi = math.floor(h), math.ceil(h)
      local a, b = s[lo + 1], s[hi + 1]
      if method == "lower" then return a end
      if method == "higher" then return b end
      if method == "nearest" then return s[round_even(h) + 1] end
      if method == "midpoint" then return (a + b) / 2 end
      return a + (h - lo) * (b - a)
    end
    every({ "float64", "float32", "int64" }, function(dtype, sched)
      local x, r = input({ 6, 5 }, dtype, { { 4, 2 }, { 2, 3 } })
      for _, method in ipairs { "linear", "lower", "higher", "nearest", "midpoint" } do
        local qs = { 0, 0.1, 0.25, 0.5, 0.7, 1 }
        local got = H.get(da.quantile(x, qs, { axis = 1, method = method }), { scheduler = sched })
        local want = {}
        for qi, q in ipairs(qs) do
          for j = 1, 5 do
            local lane = {}
            for i = 1, 6 do lane[i] = at(r, { i, j }) end
            want[(qi - 1) * 5 + j] = ref_q(lane, q, method)
          end
        end
        H.same(got, want)
        local p = H.get(da.percentile(x, 30, { method = method }), { scheduler = sched })
        H.same(p, { ref_q(r.flat, 0.3, method) })
      end
    end)
    assert.has_error(function() da.quantile(da.ones(3), 0.5, { method = "weibull" }) end)
  end)

  it("trace and diagonal over any axes of n-d arrays", function()
    every(DTYPES, function(dtype, sched)
      local shape = { 3, 4, 5 }
      local x, r = input(shape, dtype, { { 2, 1 }, { 3, 1 }, { 2, 3 } })
      local sdtype = (dtype == "bool") and "int64" or dtype
      local function num(v) return type(v) == "boolean" and (v and 1 or 0) or v end
      for _, case in ipairs { { 0, 1, 2 }, { 1, 1, 3 }, { -1, 3, 2 }, { 2, 2, 3 }, { 0, -1, 1 }, { 9, 1, 2 } } do
        local k, a1, a2 = case[1], case[2], case[3]
        local p1, p2 = a1 < 0 and a1 + 4 or a1, a2 < 0 and a2 + 4 or a2
        local other
        for d = 1, 3 do if d ~= p1 and d ~= p2 then other = d end end
        local n1, n2 = shape[p1], shape[p2]
        local len = math.max(0, math.min(n1 - math.max(-k, 0), n2 - math.max(k, 0)))
        local function elem(o, t) -- element t (1-based) of diagonal k, other axis at o
          local idx = {}
          idx[other], idx[p1], idx[p2] = o, t + math.max(-k, 0), t + math.max(k, 0)
          return at(r, idx)
        end
        check(da.diagonal(x, k, a1, a2), R({ shape[other], len }, function(i) return elem(i[1], i[2]) end), dtype,
          sched)
        check(da.trace(x, k, a1, a2), R({ shape[other] }, function(i)
          local s = 0
          for t = 1, len do s = s + num(elem(i[1], t)) end
          return s
        end), sdtype, sched)
      end
      -- 2-d with swapped axes: the transposed diagonal
      local m, rm = input({ 4, 3 }, dtype, { { 3, 1 }, 2 })
      check(da.trace(m, 1, 2, 1), R({}, function()
        local s = 0
        for j = 1, 3 do if j + 1 <= 4 then s = s + num(at(rm, { j + 1, j })) end end
        return s
      end), sdtype, sched)
    end)
    assert.has_error(function() da.trace(da.ones({ 2, 2 }), 0, 1, 1) end)
    assert.has_error(function() da.trace(da.ones({ 2, 2 }), 0, 1, 3) end)
    assert.has_error(function() da.trace(da.ones(2)) end)
  end)

  it("fromfunction calls f once per block with 1-based ndarray coordinates", function()
    every({ "float64", "float32", "int64" }, function(dtype, sched)
      local y = da.fromfunction(function(i, j) return i * 10 + j end, { 5, 4 }, { chunks = { { 2, 3 }, { 3, 1 } },
        dtype = dtype })
      check(y, R({ 5, 4 }, function(i) return i[1] * 10 + i[2] end), dtype, sched)
      local z = da.fromfunction(function(i, j) return i * 10 + j end, { 5, 4 }, { chunks = 2, dtype = dtype,
        lazy = true })
      check(z, R({ 5, 4 }, function(i) return i[1] * 10 + i[2] end), dtype, sched)
    end)
    -- per block: f sees each block's coordinates (and is called once more, for the dtype)
    local calls, shapes = 0, {}
    local y = da.fromfunction(function(i, j)
      calls = calls + 1
      shapes[#shapes + 1] = i.shape[1] .. "x" .. j.shape[2] .. "@" .. i:get(1, 1) .. "," .. j:get(1, 1)
      return i - j
    end, { 3, 5 }, { chunks = { 2, 3 }, dtype = "int64" })
    assert.equal(1, calls)
    assert.equal("int64", y.dtype)
    y:compute { scheduler = "sync" }
    assert.equal(1 + 4, calls)
    table.sort(shapes)
    assert.same({ "1x1@1,1", "1x2@3,4", "1x3@3,1", "2x2@1,4", "2x3@1,1" }, shapes)
    -- the result dtype follows f (int64 / int64 is float64)
    local q = da.fromfunction(function(i, j) return i / j end, { 2, 2 }, { dtype = "int64" })
    assert.equal("float64", q.dtype)
    H.same(H.get(q), { 1, 0.5, 2, 1 })
    assert.has_error(function() da.fromfunction(function(i) return i end, { 2 }, { chunk = 1 }) end)
  end)
  it("assorted routines (lask.array.routines) against naive references", function()
    local function num(v) return type(v) == "boolean" and (v and 1 or 0) or v end
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 4, 5 }, dtype, { { 3, 1 }, { 2, 3 } })
      local v, rv = input({ 6 }, dtype, { { 4, 2 } })
      -- atleast_*d
      local a1 = da.atleast_1d(x[{ 2, 3 }])
      check(a1, R({ 1 }, function() return at(r, { 2, 3 }) end), dtype, sched)
      local a2, a3 = da.atleast_2d(v), da.atleast_3d(v)
      check(a2, R({ 1, 6 }, function(i) return at(rv, { i[2] }) end), dtype, sched)
      check(a3, R({ 1, 6, 1 }, function(i) return at(rv, { i[2] }) end), dtype, sched)
      check(da.atleast_3d(x), R({ 4, 5, 1 }, function(i) return at(r, i) end), dtype, sched)
      -- rot90, every k, both axis orders
      check(da.rot90(x), R({ 5, 4 }, function(i) return at(r, { i[2], 5 - i[1] + 1 }) end), dtype, sched)
      check(da.rot90(x, 2), R({ 4, 5 }, function(i) return at(r, { 5 - i[1], 6 - i[2] }) end), dtype, sched)
      check(da.rot90(x, -1), R({ 5, 4 }, function(i) return at(r, { 4 - i[2] + 1, i[1] }) end), dtype, sched)
      check(da.rot90(x, 1, { 2, 1 }), R({ 5, 4 }, function(i) return at(r, { 4 - i[2] + 1, i[1] }) end), dtype, sched)
      -- diff along each axis, n = 2, prepend/append
      if dtype == "bool" then
        check(da.diff(x, 1, 1), R({ 3, 5 }, function(i) return at(r, { i[1] + 1, i[2] }) ~= at(r, i) end), "bool", sched)
      else
        check(da.diff(x), R({ 4, 4 }, function(i) return at(r, { i[1], i[2] + 1 }) - at(r, i) end), dtype, sched)
        check(da.diff(x, 2, 1), R({ 2, 5 }, function(i)
          return at(r, { i[1] + 2, i[2] }) - 2 * at(r, { i[1] + 1, i[2] }) + at(r, i)
        end), dtype, sched)
        check(da.diff(v, 1, 1, { prepend = 1, append = 3 }), R({ 7 }, function(i)
          local e = { 1 }
          for k = 1, 6 do e[k + 1] = at(rv, { k }) end
          e[8] = 3
          return e[i[1] + 1] - e[i[1]]
        end), dtype, sched)
        check(da.ediff1d(v, 7, { -1, -2 }), R({ 8 }, function(i)
          if i[1] <= 2 then return -i[1] end
          if i[1] == 8 then return 7 end
          return at(rv, { i[1] - 1 }) - at(rv, { i[1] - 2 })
        end), dtype, sched)
        -- ptp
        check(da.ptp(x, 1), R({ 5 }, function(i)
          local lo, hi = math.huge, -math.huge
          for k = 1, 4 do lo, hi = math.min(lo, at(r, { k, i[1] })), math.max(hi, at(r, { k, i[1] })) end
          return hi - lo
        end), dtype, sched)
        -- outer and vdot
        check(da.outer(v, x[{ 1 }]), R({ 6, 5 }, function(i) return at(rv, { i[1] }) * at(r, { 1, i[2] }) end),
          dtype, sched)
        local s = 0
        for k = 1, 6 do s = s + at(rv, { k }) * at(rv, { k }) end
        check(da.vdot(v, v), R({}, function() return s end), dtype, sched)
      end
      -- count_nonzero
      check(da.count_nonzero(x, 2), R({ 4 }, function(i)
        local c = 0
        for k = 1, 5 do if num(at(r, { i[1], k })) ~= 0 then c = c + 1 end end
        return c
      end), "int64", sched)
      -- take (an axis, flattened, an integer), compress, extract, select, append
      check(da.take(x, { 3, -1, 3 }, 2), R({ 4, 3 }, function(i) return at(r, { i[1], ({ 3, 5, 3 })[i[2]] }) end),
        dtype, sched)
      check(x:take({ 7 }), R({ 1 }, function() return r.flat[7] end), dtype, sched)
      check(da.take(x, 2, 1), R({ 5 }, function(i) return at(r, { 2, i[1] }) end), dtype, sched)
      check(da.compress({ true, false, true }, x, 1), R({ 2, 5 }, function(i) return at(r, { 2 * i[1] - 1, i[2] }) end),
        dtype, sched)
      local kept = {}
      for i, e in ipairs(r.flat) do if i % 3 == 0 then kept[#kept + 1] = e end end
      local cond = da.fromfunction(function(i, j) return ((i - 1) * 5 + j) % 3 end, { 4, 5 }, { dtype = "int64",
        chunks = { { 3, 1 }, { 2, 3 } } })
      local ex = H.get(da.extract(da.equal(cond, 0), x), { scheduler = sched })
      H.same(ex, kept)
      local sel = da.select({ x:lt(0), x:gt(2) }, { x, x }, dtype == "bool" and false or 100)
      if dtype ~= "bool" then
        check(sel, R({ 4, 5 }, function(i)
          local e = at(r, i)
          return (e < 0 or e > 2) and e or 100
        end), dtype == "float32" and "float32" or (dtype == "int64" and "int64" or "float64"), sched)
      end
      check(da.append(v, v), R({ 12 }, function(i) return at(rv, { (i[1] - 1) % 6 + 1 }) end), dtype, sched)
      check(da.append(x, x[{ { 1, 1 } }], 1), R({ 5, 5 }, function(i) return at(r, { i[1] % 5 == 0 and 1 or i[1], i[2] })
      end), dtype, sched)
    end)
    -- average, isclose, allclose, nan_to_num (float semantics)
    for _, sched in ipairs(SCHEDULERS) do
      local x, r = input({ 3, 4 }, "float64", { { 2, 1 }, { 3, 1 } })
      local w, rw = input({ 3, 4 }, "int64", { 1, 2 })
      for i, e in ipairs(rw.flat) do rw.flat[i] = math.abs(e) + 1 end
      w = da.abs(w) + 1
      check(da.average(x, { axis = 2, weights = w }), R({ 3 }, function(i)
        local s, sw = 0, 0
        for k = 1, 4 do s, sw = s + at(r, { i[1], k }) * at(rw, { i[1], k }), sw + at(rw, { i[1], k }) end
        return s / sw
      end), "float64", sched)
      local w1 = da.from_array({ 1, 2, 3 })
      local avg, wsum = da.average(x, { axis = 1, weights = w1, returned = true })
      check(avg, R({ 4 }, function(i)
        return (at(r, { 1, i[1] }) + 2 * at(r, { 2, i[1] }) + 3 * at(r, { 3, i[1] })) / 6
      end), "float64", sched)
      check(wsum, R({ 4 }, function() return 6 end), "float64", sched)
      local a = da.from_array({ 1, 1 + 1e-7, 1.1, 1 / 0, -1 / 0, 0 / 0, 0 / 0 })
      local b = da.from_array({ 1, 1, 1, 1 / 0, 1 / 0, 0 / 0, 1 })
      assert.same({ true, true, false, true, false, false, false }, H.get(da.isclose(a, b), { scheduler = sched }).flat)
      assert.same({ true, true, false, true, false, true, false },
        H.get(da.isclose(a, b, { equal_nan = true }), { scheduler = sched }).flat)
      assert.same({ true, true, true, true, false, false, false },
        H.get(da.isclose(a, b, { atol = 0.2, rtol = 0 }), { scheduler = sched }).flat)
      assert.same({ true, false, false, true, false, false, false },
        H.get(da.isclose(a, b, { atol = 0, rtol = 1e-8 }), { scheduler = sched }).flat)
      assert.is_true(da.allclose(x, x + 1e-12):compute { scheduler = sched }:item())
      assert.is_false(da.allclose(x, x + 1e-3):compute { scheduler = sched }:item())
      local n = da.nan_to_num(a, { nan = -5 })
      H.same(H.get(n, { scheduler = sched }), { 1, 1 + 1e-7, 1.1, 1.7976931348623157e308, -1.7976931348623157e308, -5, -5 })
    end
    assert.has_error(function() da.ptp(da.ones(3, { dtype = "bool" })) end)
    assert.has_error(function() da.diff(da.ones(3), -1) end)
    assert.has_error(function() da.rot90(da.ones(3)) end)
    assert.has_error(function() da.average(da.ones({ 2, 3 }), { weights = da.ones(2) }) end)
    assert.has_error(function() da.compress({ true, true, true, true }, da.ones(3)) end)
  end)
  it("searchsorted, digitize, isin against naive searches", function()
    local function key(v) return type(v) == "boolean" and (v and 1 or 0) or v end
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 4, 5 }, dtype, { { 3, 1 }, { 2, 3 } })
      local sorted = {}
      for i, v in ipairs(r.flat) do sorted[i] = v end
      table.sort(sorted, less)
      local a = da.from_array(nd.asarray(sorted, dtype), { chunks = { { 7, 6, 7 } } })
      local probes, rp = input({ 3, 2 }, dtype, { 2, 1 })
      for _, side in ipairs { "left", "right" } do
        check(da.searchsorted(a, probes, { side = side }), R({ 3, 2 }, function(i)
          local v, c = key(at(rp, i)), 0
          for _, e in ipairs(sorted) do
            if key(e) < v or (side == "right" and key(e) == v) then c = c + 1 end
          end
          return c + 1
        end), "int64", sched)
      end
      -- isin: x's values among the first column's
      local col = {}
      for i = 1, 4 do col[i] = at(r, { i, 1 }) end
      for _, invert in ipairs { false, true } do
        check(da.isin(x, nd.asarray(col, dtype), { invert = invert }), R({ 4, 5 }, function(i)
          local found = false
          for _, c in ipairs(col) do if c == at(r, i) then found = true end end
          return found ~= invert
        end), "bool", sched)
      end
      if dtype ~= "bool" then
        local bins = { -3, -1, 0, 2.5 }
        for _, right in ipairs { false, true } do
          for _, down in ipairs { false, true } do
            local b = bins
            if down then b = { 2.5, 0, -1, -3 } end
            check(da.digitize(x, b, { right = right }), R({ 4, 5 }, function(i)
              local v = at(r, i)
              if not down then
                local c = 0 -- numpy: bins[c] <= v < bins[c + 1] (right: bins[c] < v <= bins[c + 1])
                for _, e in ipairs(bins) do if (right and e < v) or (not right and e <= v) then c = c + 1 end end
                return c
              end
              local c = 0 -- decreasing: bins[c] > v >= bins[c + 1] (right: bins[c] >= v > bins[c + 1])
              for _, e in ipairs(b) do if (right and e >= v) or (not right and e > v) then c = c + 1 end end
              return c
            end), "int64", sched)
          end
        end
      end
    end)
    local f = da.from_array({ 1.0, 0 / 0, 3 })
    assert.same({ 1, 3, 3 }, da.searchsorted(da.from_array({ 1.0, 2, 0 / 0 }), f):compute():totable())
    assert.same({ true, false, false }, da.isin(f, { 0 / 0, 1 }):compute():totable())
    assert.has_error(function() da.searchsorted(da.ones({ 2, 2 }), 1) end)
    assert.has_error(function() da.searchsorted(da.ones(2), 1, { side = "middle" }) end)
    assert.has_error(function() da.digitize(da.ones(2), { 1, 3, 2 }) end)
  end)
  it("histogramdd and histogram2d against a naive count", function()
    every({ "float64", "float32", "int64" }, function(dtype, sched)
      local x, r = input({ 9, 3 }, dtype, { { 4, 5 }, 3 })
      local wts, rw = input({ 9 }, "float64", { { 4, 5 } })
      local edges = { { -6, -1, 0, 6.5 }, { -2, 2, 7 } }
      local range3 = { -5, 5 }
      local function bin_of(v, e)
        if v ~= v or v < e[1] or v > e[#e] then return nil end
        for b = 1, #e - 1 do if v < e[b + 1] or (b == #e - 1 and v <= e[#e]) then return b end end
      end
      local e3 = {}
      for i = 0, 2 do e3[i + 1] = -5 + 10 * i / 2 end
      local want, wsum = {}, {}
      for i = 1, 3 * 2 * 2 do want[i], wsum[i] = 0, 0 end
      local all = { edges[1], edges[2], e3 }
      for n = 1, 9 do
        local b = {}
        for d = 1, 3 do b[d] = bin_of(at(r, { n, d }), all[d]) end
        if b[1] and b[2] and b[3] then
          local k = ((b[1] - 1) * 2 + (b[2] - 1)) * 2 + b[3]
          want[k], wsum[k] = want[k] + 1, wsum[k] + at(rw, { n })
        end
      end
      local bins = { edges[1], edges[2], 2 }
      local range = { { 0, 1 }, { 0, 1 }, range3 } -- the edge lists ignore theirs
      local h, e = da.histogramdd(x, bins, { range = range })
      check(h, { shape = { 3, 2, 2 }, flat = want }, "float64", sched)
      H.same(H.get(e[3], { scheduler = sched }), e3)
      local hw = da.histogramdd({ x[{ {}, 1 }], x[{ {}, 2 }], x[{ {}, 3 }] }, bins, { range = range, weights = wts })
      check(hw, { shape = { 3, 2, 2 }, flat = wsum }, "float64", sched)
      -- histogram2d is histogramdd of two, density divides by the total and the areas
      local h2 = da.histogram2d(x[{ {}, 1 }], x[{ {}, 2 }], edges, { density = true })
      local c2, tot = {}, 0
      for i = 1, 6 do c2[i] = 0 end
      for n = 1, 9 do
        local a, b = bin_of(at(r, { n, 1 }), edges[1]), bin_of(at(r, { n, 2 }), edges[2])
        if a and b then c2[(a - 1) * 2 + b], tot = c2[(a - 1) * 2 + b] + 1, tot + 1 end
      end
      for a = 1, 3 do
        for b = 1, 2 do
          local k = (a - 1) * 2 + b
          c2[k] = c2[k] / tot / ((edges[1][a + 1] - edges[1][a]) * (edges[2][b + 1] - edges[2][b]))
        end
      end
      check(h2, { shape = { 3, 2 }, flat = c2 }, "float64", sched)
    end)
    assert.has_error(function() da.histogramdd(da.ones({ 3, 2 }), 2) end)
    assert.has_error(function() da.histogramdd(da.ones({ 3, 2 }), { 2, 2, 2 }, { range = { { 0, 1 }, { 0, 1 } } }) end)
    assert.has_error(function() da.histogram2d(da.ones(3), da.ones(4), 2, { range = { { 0, 1 }, { 0, 1 } } }) end)
  end)
  it("x.blocks, npartitions, nbytes, itemsize, copy, flatten", function()
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 7, 5 }, dtype, { { 3, 3, 1 }, { 2, 3 } })
      -- block rows 2..3 (elements 4..7), block column 2 (elements 3..5)
      check(x.blocks[{ { 2, 3 }, 2 }], R({ 4, 3 }, function(i) return at(r, { i[1] + 3, i[2] + 2 }) end), dtype, sched)
      check(x.blocks[-1], R({ 1, 5 }, function(i) return at(r, { 7, i[2] }) end), dtype, sched)
      check(x.blocks[{ { nil, nil, 2 }, {} }], R({ 4, 5 }, function(i) return at(r, { i[1] <= 3 and i[1] or 7, i[2] }) end),
        dtype, sched)
      assert.equal(6, x.npartitions)
      local item = ({ float64 = 8, float32 = 4, int64 = 8, bool = 1 })[dtype]
      assert.equal(item, x.itemsize)
      assert.equal(35 * item, x.nbytes)
      check(x:flatten(), { shape = { 35 }, flat = r.flat }, dtype, sched)
      local y = x:copy()
      x[{ 1, 1 }] = dtype == "bool" and not at(r, { 1, 1 }) or 42
      check(y, r, dtype, sched)
      assert.are_not.equal(x.name, y.name)
    end)
    local x = da.ones({ 4 }, { chunks = 2 })
    assert.has_error(function() return x.blocks[3] end,
      "lask.array: x.blocks: block 3 is out of range for axis 1 of 2 blocks (positions count from 1)")
    assert.has_error(function() return x.blocks[{ 1, 1 }] end)
    assert.has_error(function() x.blocks[1] = 2 end)
  end)
  it("empty, broadcast_arrays, rollaxis, isnull, fix, index arithmetic, tri indices, cov, corrcoef", function()
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 3, 1, 4 }, dtype, { { 2, 1 }, 1, { 3, 1 } })
      local v, rv = input({ 4 }, dtype, { { 1, 3 } })
      local a, b = da.broadcast_arrays(x, v)
      check(a, r, dtype, sched)
      check(b, R({ 3, 1, 4 }, function(i) return at(rv, { i[3] }) end), dtype, sched)
      check(da.rollaxis(x, 3), R({ 4, 3, 1 }, function(i) return at(r, { i[2], i[3], i[1] }) end), dtype, sched)
      check(da.rollaxis(x, 1, 4), R({ 1, 4, 3 }, function(i) return at(r, { i[3], i[1], i[2] }) end), dtype, sched)
      local isf = dtype == "float64" or dtype == "float32"
      check(da.isnull(x), R({ 3, 1, 4 }, function() return false end), "bool", sched)
      check(da.notnull(x), R({ 3, 1, 4 }, function() return true end), "bool", sched)
      if isf then
        local y = da.where(x:gt(0), 0 / 0, x)
        check(da.isnull(y), R({ 3, 1, 4 }, function(i) return at(r, i) > 0 end), "bool", sched)
        check(da.fix(x), R({ 3, 1, 4 }, function(i)
          local e = at(r, i)
          return e >= 0 and math.floor(e) or math.ceil(e)
        end), dtype, sched)
      end
      local zero = 0
      if dtype == "bool" then zero = false end
      check(da.empty({ 2, 2 }, { dtype = dtype }), R({ 2, 2 }, function() return zero end), dtype, sched)
    end)
    for _, sched in ipairs(SCHEDULERS) do
      -- unravel_index and ravel_multi_index against C order, round trip
      local shape = { 3, 4, 2 }
      local flat = da.arange(1, 25, { chunks = 7 })
      local i, j, k = da.unravel_index(flat, shape)
      check(i, R({ 24 }, function(p) return (p[1] - 1) // 8 + 1 end), "int64", sched)
      check(j, R({ 24 }, function(p) return ((p[1] - 1) // 2) % 4 + 1 end), "int64", sched)
      check(k, R({ 24 }, function(p) return (p[1] - 1) % 2 + 1 end), "int64", sched)
      check(da.ravel_multi_index({ i, j, k }, shape), R({ 24 }, function(p) return p[1] end), "int64", sched)
      assert.same({ 2, 4, 1 }, { da.unravel_index(15, shape) })
      assert.equal(15, da.ravel_multi_index({ 2, 4, 1 }, shape))
      -- tril_indices / triu_indices (1-based), against a walk of the matrix
      for _, kk in ipairs { -1, 0, 2 } do
        local rows, cols = da.tril_indices(4, kk, 5, { chunks = 3 })
        local ur, uc = da.triu_indices(4, kk, 5)
        local wr, wc, vr, vc = {}, {}, {}, {}
        for ii = 1, 4 do
          for jj = 1, 5 do
            if jj - ii <= kk then wr[#wr + 1], wc[#wc + 1] = ii, jj end
            if jj - ii >= kk then vr[#vr + 1], vc[#vc + 1] = ii, jj end
          end
        end
        assert.same(wr, H.get(rows, { scheduler = sched }).flat)
        assert.same(wc, H.get(cols, { scheduler = sched }).flat)
        assert.same(vr, H.get(ur, { scheduler = sched }).flat)
        assert.same(vc, H.get(uc, { scheduler = sched }).flat)
      end
      -- cov and corrcoef against naive sums
      local m, rm = input({ 3, 7 }, "float64", { 2, { 4, 3 } })
      local function naive_cov(ddof, rowvar)
        local nv, no = rowvar and 3 or 7, rowvar and 7 or 3
        local function get(vv, o) return rowvar and at(rm, { vv, o }) or at(rm, { o, vv }) end
        local mean = {}
        for vv = 1, nv do
          local s = 0
          for o = 1, no do s = s + get(vv, o) end
          mean[vv] = s / no
        end
        return R({ nv, nv }, function(p)
          local s = 0
          for o = 1, no do s = s + (get(p[1], o) - mean[p[1]]) * (get(p[2], o) - mean[p[2]]) end
          return s / (no - ddof)
        end)
      end
      check(da.cov(m), naive_cov(1, true), "float64", sched)
      check(da.cov(m, { bias = true }), naive_cov(0, true), "float64", sched)
      check(da.cov(m, { rowvar = false, ddof = 2 }), naive_cov(2, false), "float64", sched)
      local c = naive_cov(1, true)
      check(da.corrcoef(m), R({ 3, 3 }, function(p)
        local v = at(c, p) / math.sqrt(at(c, { p[1], p[1] }) * at(c, { p[2], p[2] }))
        return math.max(-1, math.min(1, v))
      end), "float64", sched)
      local two = da.cov(m[{ 1 }], m[{ 2 }])
      check(two, R({ 2, 2 }, function(p) return at(c, p) end), "float64", sched)
    end
    assert.has_error(function() da.unravel_index(25, { 3, 4, 2 }) end)
    assert.has_error(function() da.ravel_multi_index({ 1, 5 }, { 3, 4 }) end)
    assert.has_error(function() da.rollaxis(da.ones({ 2, 2 }), 1, 4) end)
    assert.has_error(function() da.cov(da.ones({ 2, 2, 2 })) end)
  end)
  it("gradient, coarsen, delete against naive loops", function()
    every(DTYPES, function(dtype, sched)
      local x, r = input({ 5, 4 }, dtype, { { 2, 3 }, { 3, 1 } })
      local function num(v) return type(v) == "boolean" and (v and 1 or 0) or v end
      local fdt = dtype == "float32" and "float32" or "float64"
      local function rf(v) -- float32 results are rounded, as numpy's float32 arithmetic
        return fdt == "float32" and string.unpack("f", string.pack("f", v)) or v
      end
      for _, order in ipairs { 1, 2 } do
        for _, h in ipairs { 1, 0.5 } do
          local g0, g1 = da.gradient(x, h, { edge_order = order })
          local function ref(d)
            local n = ({ 5, 4 })[d]
            return R({ 5, 4 }, function(i)
              local function f(k)
                local idx = { i[1], i[2] }
                idx[d] = k
                return num(at(r, idx))
              end
              local k = i[d]
              if k == 1 then
                if order == 1 then return (f(2) - f(1)) / h end
                return (-1.5 / h) * f(1) + (2 / h) * f(2) + (-0.5 / h) * f(3)
              elseif k == n then
                if order == 1 then return (f(n) - f(n - 1)) / h end
                return (0.5 / h) * f(n - 2) + (-2 / h) * f(n - 1) + (1.5 / h) * f(n)
              end
              return (f(k + 1) - f(k - 1)) / (2 * h)
            end)
          end
          local function round(ref) for i, v in ipairs(ref.flat) do ref.flat[i] = rf(v) end return ref end
          F.check(g0, round(ref(1)), fdt, { scheduler = sched }) -- exact: halves and quarters
          F.check(g1, round(ref(2)), fdt, { scheduler = sched })
        end
      end
      -- coarsen: sums and maxima over windows, trimmed
      if dtype ~= "bool" then
        check(da.coarsen("sum", x, { [1] = 2, [2] = 2 }, true), R({ 2, 2 }, function(i)
          local s = 0
          for a = 0, 1 do for b = 0, 1 do s = s + at(r, { 2 * i[1] - 1 + a, 2 * i[2] - 1 + b }) end end
          return s
        end), dtype, sched)
        check(da.coarsen("max", x, { [2] = 4 }), R({ 5, 1 }, function(i)
          local m = -math.huge
          for b = 1, 4 do m = math.max(m, at(r, { i[1], b })) end
          return m
        end), dtype, sched)
      end
      -- delete rows 2 and 5 (as -1), and elements of the flattened array
      check(da.delete(x, { 2, -1 }, 1), R({ 3, 4 }, function(i) return at(r, { ({ 1, 3, 4 })[i[1]], i[2] }) end), dtype,
        sched)
      check(da.delete(x, 1), { shape = { 19 }, flat = table.move(r.flat, 2, 20, 1, {}) }, dtype, sched)
    end)
    assert.has_error(function() da.gradient(da.ones(2), 1, { edge_order = 2 }) end)
    assert.has_error(function() da.coarsen("sum", da.ones({ 5 }), { [1] = 2 }) end)
    assert.has_error(function() da.coarsen("median_of_means", da.ones({ 4 }), { [1] = 2 }) end)
    assert.has_error(function() da.delete(da.ones(3), 4) end)
  end)
  it("apply_along_axis calls a Lua function per lane, every scheduler and lua = parallel", function()
    local runs = { { scheduler = "sync" }, { scheduler = "threaded" }, { scheduler = "multiprocessing" },
      { lua = "parallel" } }
    for _, dtype in ipairs(DTYPES) do
      for _, run in ipairs(runs) do
        local x, r = input({ 3, 4, 2 }, dtype, { { 2, 1 }, { 3, 1 }, 1 })
        local function num(v) return type(v) == "boolean" and (v and 1 or 0) or v end
        -- a number per lane along axis 2: the axis dropped
        local s = da.apply_along_axis(function(v)
          local t = 0.0
          for i = 1, v.shape[1] do
            local e = v:get(i)
            t = t + (type(e) == "boolean" and (e and 1 or 0) or e) * i
          end
          return t
        end, 2, x)
        F.check(s, R({ 3, 2 }, function(i)
          local t = 0
          for k = 1, 4 do t = t + num(at(r, { i[1], k, i[2] })) * k end
          return t
        end), "float64", run)
        -- a lane of 2 values along axis 1: the axis becomes 2 long, in place
        local w = da.apply_along_axis(function(v) return { v:get(1), v:get(v.shape[1]) } end, 1, x)
        local wdt = dtype == "float32" and "float64" or dtype -- Lua numbers: float64, integers int64
        F.check(w, R({ 2, 4, 2 }, function(i) return at(r, { i[1] == 1 and 1 or 3, i[2], i[3] }) end), wdt, run)
      end
    end
    -- declared shape and dtype skip the probe
    local calls = 0
    local y = da.apply_along_axis(function(v)
      calls = calls + 1
      return v:get(1)
    end, 1, da.ones({ 2, 3 }), { shape = {}, dtype = "float32" })
    assert.equal(0, calls)
    assert.equal("float32", y.dtype)
    assert.has_error(function() da.apply_along_axis(1, 1, da.ones(2)) end)
    assert.has_error(function() da.apply_along_axis(function() return {} end, 1, da.ones(2), { shape = { 1, 2 } }) end)
  end)
end)
