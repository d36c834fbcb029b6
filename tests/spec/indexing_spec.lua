-- indexing_spec.lua: x[...] on lazy arrays (lua/lask/array/indexing.lua) against a
-- naive Lua reference: integers, ranges (negative steps too), new axes, index lists,
-- boolean masks with unknown chunk sizes, assignment; argwhere, nonzero,
-- flatnonzero, unique, where(c); comparison methods, x.T, #x, printing. Every dtype,
-- uneven chunks, transposed blocks, and each scheduler.
local H = dofile("tests/spec/array_helpers.lua")
local lask, da = H.lask, H.da
local nd = require("lask.core").ndarray

local DTYPES = { "float64", "float32", "int64", "bool" }
local SCHEDULERS = { "sync", "threaded", "multiprocessing" }

-- A reference array: {shape=, flat=} (C order, 1-based flat list).
local function size_of(shape)
  local n = 1
  for _, e in ipairs(shape) do n = n * e end
  return n
end

-- The value of element i (0-based flat) of a test array of dtype dt.
local function value(dt, i, rng)
  local v = rng and rng(-50, 50) or ((i * 7) % 11 - 5)
  if dt == "bool" then return v > 0 end
  if dt == "int64" then return v end
  if dt == "float32" then return v / 4 end -- exact in float32
  return v / 4 + 0.125
end

local nested = H.nested

-- A lazy array of ref's values cut into chunks.
local function lazy(ref, dt, chunks)
  if size_of(ref.shape) == 0 then
    return da.from_array(nd.asarray({}, dt)):reshape(ref.shape):rechunk(chunks)
  end
  local a = nd.asarray(nested(ref.shape, ref.flat), dt)
  return da.from_array(a, { chunks = chunks })
end

local function make_ref(shape, dt, rng)
  local flat = {}
  for i = 1, size_of(shape) do flat[i] = value(dt, i - 1, rng) end
  return { shape = shape, flat = flat }
end

-- Reference selection: per axis a list of 0-based positions, or an integer
-- (dropped), or "new" (a new axis); gives {shape, flat}.
local function ref_select(ref, axes)
  local strides, s = {}, 1
  for d = #ref.shape, 1, -1 do
    strides[d] = s
    s = s * ref.shape[d]
  end
  local lists, shape = {}, {}
  local d = 0
  for _, a in ipairs(axes) do
    if a == "new" then
      shape[#shape + 1] = 1
    else
      d = d + 1
      if type(a) == "number" then lists[d] = { a } else
        lists[d] = a
        shape[#shape + 1] = #a
      end
    end
  end
  local flat = {}
  local function walk(dd, off)
    if dd > #ref.shape then
      flat[#flat + 1] = ref.flat[off + 1]
      return
    end
    for _, p in ipairs(lists[dd]) do walk(dd + 1, off + p * strides[dd]) end
  end
  walk(1, 0)
  return { shape = shape, flat = flat }
end

-- The positions (0-based) of a range {first, last, step} on an axis of extent n, as
-- numpy's slice with an inclusive last (Python's semantics, written out).
local function range_positions(spec, n)
  local a, b, step = spec[1], spec[2], spec[3] or 1
  local out = {}
  if step > 0 then
    local start = a == nil and 0 or (a > 0 and a - 1 or n + a)
    local stop = b == nil and n or (b >= 0 and b or n + b + 1)
    start, stop = math.max(0, math.min(start, n)), math.max(0, math.min(stop, n))
    for p = start, stop - 1, step do out[#out + 1] = p end
  else
    local first = a == nil and n - 1 or (a > 0 and a - 1 or n + a)
    local last = b == nil and 0 or (b > 0 and b - 1 or n + b)
    first, last = math.min(first, n - 1), math.max(last, 0)
    for p = first, last, step do out[#out + 1] = p end
  end
  return out
end

local function same(x, ref, what, opts)
  local got = H.get(x, opts)
  assert.same(ref.shape, got.shape, what .. ": shape")
  local ok, why = H.close(got.flat, ref.flat, 0)
  assert(ok, what .. ": " .. tostring(why))
end

local function isnan(v) return v ~= v end

describe("lask.array x[...]", function()
  it("picks along the first axis with x[i], 1-based, negative from the end, for every dtype", function()
    for _, dt in ipairs(DTYPES) do
      local ref = make_ref({ 7, 3 }, dt)
      local x = lazy(ref, dt, { { 3, 1, 3 }, { 2, 1 } })
      for _, i in ipairs { 1, 4, 7, -1, -7 } do
        local p = i > 0 and i - 1 or 7 + i
        same(x[i], ref_select(ref, { p, range_positions({}, 3) }), dt .. " x[" .. i .. "]")
        assert.equal(dt, x[i].dtype)
      end
      local one = lazy(make_ref({ 5 }, dt), dt, 2)[2]
      assert.same({}, H.get(one).shape)
      assert.equal(value(dt, 1), one:compute():get())
    end
  end)

  it("takes x[{i, j}], ranges with steps (negative too), {}, new axes, an index list or mask, against a naive reference", function()
    local seed = os.time()
    print("indexing ranges seed " .. seed)
    math.randomseed(seed)
    local rng = math.random
    for trial = 1, 60 do
      local dt = DTYPES[trial % #DTYPES + 1]
      local ndim = rng(1, 3)
      local shape, chunks = {}, {}
      for d = 1, ndim do
        shape[d] = rng(0, 7)
        local c, left = {}, shape[d] -- uneven chunks, blocks of 0 sometimes
        while left > 0 do
          local b = math.min(left, rng(1, 3))
          c[#c + 1] = b
          left = left - b
        end
        if #c == 0 then c = { 0 } end
        chunks[d] = c
      end
      local ref = make_ref(shape, dt, rng)
      local x = lazy(ref, dt, chunks)
      local key, axes, what = {}, {}, {}
      local d = 0
      local n_entries = rng(1, ndim + 1)
      local advanced = false -- one index list or mask per key
      for _ = 1, n_entries do
        local kind = rng(1, 8)
        if kind >= 7 and (advanced or d >= ndim) then kind = 2 end
        if kind == 7 or kind == 8 then -- an index list (in memory or lazy) or a lazy 1-D mask
          advanced = true
          d = d + 1
          local n = shape[d]
          local list, pos = {}, {}
          if kind == 7 and n > 0 then
            for i = 1, rng(0, 5) do
              local p = rng(1, n)
              list[i], pos[i] = rng(0, 1) == 0 and p or p - n - 1, p - 1
            end
          end
          if kind == 8 then
            for i = 1, n do
              list[i] = rng(0, 1) == 1
              if list[i] then pos[#pos + 1] = i - 1 end
            end
          end
          local a = nd.asarray(list, kind == 7 and "int64" or "bool")
          if #list == 0 then a = nd.asarray({}, kind == 7 and "int64" or "bool") end
          local lazy_entry = kind == 8 or rng(0, 1) == 1
          if lazy_entry and #list > 0 then a = da.from_array(a, { chunks = rng(1, 3) }) end
          key[#key + 1], axes[#axes + 1] = a, pos
          local shown = {}
          for i, v in ipairs(list) do shown[i] = tostring(v) end
          what[#what + 1] = (kind == 7 and "list{" or "mask{") .. table.concat(shown, ",") .. "}"
        elseif kind == 6 then
          key[#key + 1], axes[#axes + 1] = da.newaxis, "new"
          what[#what + 1] = "newaxis"
        elseif d < ndim then
          d = d + 1
          local n = shape[d]
          if kind == 1 and n > 0 then
            local i = rng(1, n) * (rng(0, 1) == 0 and 1 or -1)
            key[#key + 1], axes[#axes + 1] = i, i > 0 and i - 1 or n + i
            what[#what + 1] = tostring(i)
          elseif kind == 2 then
            key[#key + 1], axes[#axes + 1] = {}, range_positions({}, n)
            what[#what + 1] = "{}"
          else
            local step = rng(1, 3) * (kind == 3 and -1 or 1)
            local a, b = rng(-n - 1, n + 1), rng(-n - 1, n + 1)
            if a == 0 then a = nil end
            if b == 0 then b = nil end
            local spec = { a, b, step }
            key[#key + 1], axes[#axes + 1] = spec, range_positions(spec, n)
            what[#what + 1] = ("{%s, %s, %d}"):format(tostring(a), tostring(b), step)
          end
        end
      end
      for dd = d + 1, ndim do axes[#axes + 1] = range_positions({}, shape[dd]) end
      local label = ("%s shape (%s) x[{%s}]"):format(dt, table.concat(shape, ","), table.concat(what, ", "))
      same(x[key], ref_select(ref, axes), label, { scheduler = SCHEDULERS[trial % 3 + 1] })
    end
  end)

  it("indexes transposed and stepped blocks (views), and 0-d results", function()
    local ref = make_ref({ 4, 6 }, "float64")
    local x = lazy(ref, "float64", { 3, 4 })
    local t = x.T -- blocks are transposed views
    local tref = ref_select(ref, { range_positions({}, 4), range_positions({}, 6) })
    -- the transpose's reference: element (j, i)
    local tflat = {}
    for j = 0, 5 do for i = 0, 3 do tflat[#tflat + 1] = ref.flat[i * 6 + j + 1] end end
    tref = { shape = { 6, 4 }, flat = tflat }
    same(t[{ { 2, 6, 2 }, { -1, 1, -2 } }], ref_select(tref, { { 1, 3, 5 }, { 3, 1 } }), "transposed")
    same(t[{ 2, -1 }], ref_select(tref, { 1, 3 }), "0-d")
    same(x[{ {}, { 1, 6, 2 } }][{ { nil, nil, -1 } }], ref_select(ref, { { 3, 2, 1, 0 }, { 0, 2, 4 } }), "stepped")
  end)

  it("selects with int64 index lists (lask.ndarray or lazy, 1-based, negative from the end), each dtype", function()
    for _, dt in ipairs(DTYPES) do
      local ref = make_ref({ 9, 4 }, dt)
      local x = lazy(ref, dt, { { 4, 4, 1 }, 3 })
      local list = { 9, 1, -1, 5, 5, 2 }
      local pos = { 8, 0, 8, 4, 4, 1 }
      local idx = nd.asarray(list, "int64")
      same(x[idx], ref_select(ref, { pos, { 0, 1, 2, 3 } }), dt .. " ndarray list")
      same(x[{ {}, nd.asarray({ 4, -4 }, "int64") }], ref_select(ref, { range_positions({}, 9), { 3, 0 } }),
        dt .. " list on axis 2")
      local lazy_idx = da.from_array(idx, { chunks = 4 })
      local y = x[lazy_idx]
      assert.same({ 6, 4 }, H.plain and H.plain(y.shape) or { y.shape[1], y.shape[2] }) -- known sizes
      for _, sched in ipairs(SCHEDULERS) do
        same(y, ref_select(ref, { pos, { 0, 1, 2, 3 } }), dt .. " lazy list " .. sched, { scheduler = sched })
      end
      same(x[nd.asarray({}, "int64")], { shape = { 0, 4 }, flat = {} }, dt .. " empty list")
      -- an in-memory boolean list is a list of positions: known sizes
      local bl = nd.asarray({ true, false, false, true, false, false, false, false, true })
      local z = x[bl]
      assert.equal(3, z.shape[1])
      same(z, ref_select(ref, { { 0, 3, 8 }, { 0, 1, 2, 3 } }), dt .. " bool list")
    end
  end)

  it("reports bad indices with the key, the cause and the choices", function()
    local x = da.arange(10, { chunks = 4 })
    assert.error_matches(function() return x[11] end, "index 11 is out of bounds for axis 1 with extent 10")
    assert.error_matches(function() return x[0] end, "index 0 is out of bounds.*count from 1")
    assert.error_matches(function() return x[{ 1, 2 }] end, "too many indices %(2%) for a 1%-d array")
    assert.error_matches(function() return x[{ { 1, 5, 0 } }] end, "the step cannot be 0")
    assert.error_matches(function() return x[nd.asarray({ 11 }, "int64")] end, "index 11 %(item 1 of the list%) is out of bounds")
    assert.error_matches(function() return x[nd.asarray({ 1.5 })] end, "must be int64 or bool, got float64")
    assert.is_nil(x["nope"]) -- a string is a field or method: nil when there is none
  end)
end)

describe("lask.array boolean masks and unknown chunk sizes", function()
  it("x[x:gt(v)] selects in C order with NaN sizes until compute_chunk_sizes, every dtype and scheduler", function()
    for _, dt in ipairs(DTYPES) do
      for _, shape in ipairs { { 11 }, { 5, 4 } } do
        local ref = make_ref(shape, dt)
        local chunks = #shape == 1 and { { 4, 0, 5, 2 } } or { { 2, 3 }, { 3, 1 } }
        local x = lazy(ref, dt, chunks)
        local threshold = dt == "bool" and false or 0
        local m = dt == "bool" and x:ne(threshold) or x:gt(threshold)
        local y = x[m]
        assert.equal(1, y.ndim)
        assert.is_true(isnan(y.shape[1]) and isnan(y.chunks[1][1]))
        assert.matches("shape=%(nan,%), chunks=%(%(nan", tostring(y))
        local want = {}
        for _, v in ipairs(ref.flat) do
          if (dt == "bool" and v ~= false) or (dt ~= "bool" and v > 0) then want[#want + 1] = v end
        end
        for _, sched in ipairs(SCHEDULERS) do
          same(y, { shape = { #want }, flat = want }, dt .. " mask " .. sched, { scheduler = sched })
        end
        if dt ~= "bool" then
          local sum = 0
          for _, v in ipairs(want) do sum = sum + v end
          assert.equal(sum, y:sum():compute():get())
          assert.equal(sum * 2, (y * 2):sum():compute():get()) -- elementwise on unknown sizes
        end
        local z = y:compute_chunk_sizes()
        assert.equal(y, z) -- in place, as Dask
        assert.equal(#want, y.shape[1])
        local total = 0
        for _, c in ipairs(y.chunks[1]) do total = total + c end
        assert.equal(#want, total)
        same(y, { shape = { #want }, flat = want }, dt .. " after compute_chunk_sizes")
      end
    end
  end)

  it("masks one axis with a lazy 1-D boolean array", function()
    local ref = make_ref({ 6, 3 }, "int64")
    local x = lazy(ref, "int64", { { 4, 2 }, 2 })
    local keep = nd.asarray({ true, false, true, true, false, true })
    local m = da.from_array(keep, { chunks = 3 })
    local y = x[m]
    assert.is_true(isnan(y.shape[1]))
    assert.equal(3, y.shape[2])
    same(y, ref_select(ref, { { 0, 2, 3, 5 }, { 0, 1, 2 } }), "rows")
    local mc = da.from_array(nd.asarray({ false, true, true }))
    same(x[{ {}, mc }], ref_select(ref, { range_positions({}, 6), { 1, 2 } }), "columns")
  end)

  it("refuses what needs known sizes, saying to call compute_chunk_sizes", function()
    local x = da.arange(10, { chunks = 4 })
    local y = x[x:gt(3)]
    assert.error_matches(function() return y[{ { 1, 2 } }] end, "unknown chunk sizes.*compute_chunk_sizes")
    assert.error_matches(function() return y:rechunk(2) end, "rechunk: the array has unknown chunk sizes")
    assert.error_matches(function() return y:argmax() end, "argmax: the array has unknown chunk sizes")
    assert.error_matches(function() return #y end, "unknown size.*compute_chunk_sizes")
    for name, f in pairs {
      reshape = function() return y:reshape({ 2, 3 }) end, dot = function() return y:dot(y) end,
      concatenate = function() return da.concatenate({ y, y }) end, stack = function() return da.stack({ x, y }) end,
      store = function() return y:store("/nonexistent-lask-dir/y.npy") end, slice = function() return y:slice({ 1, 2 }) end,
    } do
      assert.error_matches(f, name .. ": the array has unknown chunk sizes.*compute_chunk_sizes")
    end
    assert.error_matches(function() return x[x * 0.5] end, "index array must be int64 or bool, got float64")
    assert.error_matches(function() return x[da.ones({ 3 }):gt(0)] end, "does not match")
  end)
end)

describe("lask.array x[key] = v", function()
  it("assigns through a mask (da.where), casting to x's dtype, and changes x's name", function()
    for _, dt in ipairs { "float64", "float32", "int64" } do
      local ref = make_ref({ 3, 5 }, dt)
      local x = lazy(ref, dt, { 2, 3 })
      local before, name = x, x.name
      local old = x + 0
      x[x:lt(0)] = 2.75
      assert.equal(before, x)
      assert.are_not.equal(name, x.name)
      assert.equal(dt, x.dtype)
      local want = {}
      for i, v in ipairs(ref.flat) do
        want[i] = v < 0 and (dt == "int64" and 2 or 2.75) or v
      end
      same(x, { shape = { 3, 5 }, flat = want }, dt .. " mask assignment")
      same(old, ref, dt .. " arrays made before keep the old values")
      -- a lazy value of x's shape, and an in-memory mask
      local y = lazy(ref, dt, { 3, 2 })
      y[y:gt(0)] = y * 10
      local flags = {}
      for i, v in ipairs(ref.flat) do flags[i] = v < 0 end
      local z = lazy(ref, dt, 5)
      z[nd.asarray(nested({ 3, 5 }, flags))] = 0
      local wy, wz = {}, {}
      for i, v in ipairs(ref.flat) do
        wy[i] = v > 0 and v * 10 or v
        wz[i] = v < 0 and 0 or v
      end
      same(y, { shape = { 3, 5 }, flat = wy }, dt .. " lazy value")
      same(z, { shape = { 3, 5 }, flat = wz }, dt .. " in-memory mask")
    end
  end)

  it("assigns into regions (integers, ranges, negative steps) numbers, ndarrays and lazy arrays", function()
    local seed = os.time()
    print("setitem seed " .. seed)
    math.randomseed(seed)
    local rng = math.random
    for trial = 1, 30 do
      local dt = DTYPES[trial % 3 + 1]
      local shape = { rng(1, 6), rng(1, 6) }
      local ref = make_ref(shape, dt, rng)
      local x = lazy(ref, dt, { rng(1, 3), rng(1, 4) })
      local key, axes = {}, {}
      for d = 1, 2 do
        local n = shape[d]
        if rng(1, 3) == 1 then
          local i = rng(1, n)
          key[d], axes[d] = i, { i - 1 }
        else
          local step = rng(1, 2) * (rng(0, 1) == 0 and 1 or -1)
          local spec = { rng(1, n), rng(1, n), step }
          key[d], axes[d] = spec, range_positions(spec, n)
        end
      end
      -- the value: a number, or an array of the region's kept shape
      local kshape, count = {}, 1
      for d = 1, 2 do
        if type(key[d]) == "table" then kshape[#kshape + 1] = #axes[d] end
        count = count * #axes[d]
      end
      local vflat, v = {}, nil
      local kind = rng(1, 3)
      if kind == 1 or count == 0 then
        v = 99
        for i = 1, count do vflat[i] = 99 end
      else
        for i = 1, count do vflat[i] = 100 + i end
        local arr = nd.asarray(#kshape == 0 and { 100 + 1 } or nested(kshape, vflat), "int64")
        if #kshape == 0 then arr = nd.asarray({ 101 }, "int64") end
        v = kind == 2 and arr or da.from_array(arr, { chunks = 2 })
        if #kshape == 0 then v = 101 end
      end
      -- the reference: v's elements in the region's order
      local want = table.move(ref.flat, 1, #ref.flat, 1, {})
      local k = 0
      for _, i in ipairs(axes[1]) do
        for _, j in ipairs(axes[2]) do
          k = k + 1
          local val = vflat[k] or v
          if dt == "float64" or dt == "float32" then val = val + 0.0 end
          want[i * shape[2] + j + 1] = val
        end
      end
      x[key] = v
      same(x, { shape = shape, flat = want }, ("%s trial %d"):format(dt, trial),
        { scheduler = SCHEDULERS[trial % 3 + 1] })
    end
  end)

  it("refuses index lists and new axes in assignments, and fields", function()
    local x = da.arange(5)
    assert.error_matches(function() x[{ da.newaxis }] = 1 end, "assignment takes integers, ranges")
    assert.error_matches(function() x.shape = 3 end, "cannot be set")
  end)
end)

describe("lask.array argwhere, nonzero, flatnonzero, where(c), unique", function()
  it("gives 1-based positions in C order for every dtype, uneven chunks, each scheduler", function()
    for _, dt in ipairs(DTYPES) do
      local ref = make_ref({ 4, 5 }, dt)
      ref.flat[3] = dt == "bool" and false or 0
      local x = lazy(ref, dt, { { 3, 1 }, { 2, 3 } })
      local rows, cols, flat = {}, {}, {}
      for i = 0, 3 do
        for j = 0, 4 do
          local v = ref.flat[i * 5 + j + 1]
          if v ~= 0 and v ~= false then
            rows[#rows + 1], cols[#cols + 1], flat[#flat + 1] = i + 1, j + 1, i * 5 + j + 1
          end
        end
      end
      for _, sched in ipairs(SCHEDULERS) do
        local opts = { scheduler = sched }
        local w = da.argwhere(x)
        assert.is_true(isnan(w.shape[1]))
        local wf = {}
        for i = 1, #rows do wf[#wf + 1], wf[#wf + 2] = rows[i], cols[i] end
        same(w, { shape = { #rows, 2 }, flat = wf }, dt .. " argwhere " .. sched, opts)
        local nz = x:nonzero()
        same(nz[1], { shape = { #rows }, flat = rows }, dt .. " nonzero rows", opts)
        same(nz[2], { shape = { #cols }, flat = cols }, dt .. " nonzero cols", opts)
        local wh = da.where(x)
        same(wh[2], { shape = { #cols }, flat = cols }, dt .. " where(x)", opts)
        same(da.flatnonzero(x), { shape = { #flat }, flat = flat }, dt .. " flatnonzero", opts)
      end
    end
  end)

  it("unique: sorted distinct values with counts, NaN once and last, every dtype", function()
    local seed = os.time()
    print("unique seed " .. seed)
    math.randomseed(seed)
    for _, dt in ipairs(DTYPES) do
      local flat = {}
      for i = 1, 40 do
        local v = math.random(-3, 3)
        if dt == "bool" then flat[i] = v > 0 elseif dt == "int64" then flat[i] = v else flat[i] = v / 2 end
      end
      if dt == "float64" then flat[7], flat[20] = 0 / 0, 0 / 0 end
      local ref = { shape = { 8, 5 }, flat = flat }
      local x = lazy(ref, dt, { { 3, 5 }, { 4, 1 } })
      local counts, keys = {}, {}
      for _, v in ipairs(flat) do
        local key = v ~= v and "nan" or v
        if not counts[key] then keys[#keys + 1] = v end
        counts[key] = (counts[key] or 0) + 1
      end
      table.sort(keys, function(a, b)
        if a ~= a then return false end
        if b ~= b then return true end
        if type(a) == "boolean" then return (not a) and b end
        return a < b
      end)
      local cnt = {}
      for i, v in ipairs(keys) do cnt[i] = counts[v ~= v and "nan" or v] end
      for _, sched in ipairs(SCHEDULERS) do
        local u, c = da.unique(x, { return_counts = true })
        assert.is_true(isnan(u.shape[1]))
        same(u, { shape = { #keys }, flat = keys }, dt .. " unique " .. sched, { scheduler = sched })
        same(c, { shape = { #keys }, flat = cnt }, dt .. " counts " .. sched, { scheduler = sched })
        same(da.unique(x), { shape = { #keys }, flat = keys }, dt .. " unique alone " .. sched, { scheduler = sched })
      end
    end
    assert.error_matches(function() da.unique(da.arange(3), { return_sorted = true }) end,
      "unknown option 'return_sorted'") -- return_index and return_inverse: array_routines_spec
  end)
end)

describe("lask.array ergonomics", function()
  it("has comparison methods, x.T as a field, #x, and short printing", function()
    local x = da.arange(6, { chunks = 4 })
    local ref = { 0, 1, 2, 3, 4, 5 }
    for method, f in pairs { lt = function(a, b) return a < b end, le = function(a, b) return a <= b end,
      gt = function(a, b) return a > b end, ge = function(a, b) return a >= b end,
      eq = function(a, b) return a == b end, ne = function(a, b) return a ~= b end } do
      local want = {}
      for i, v in ipairs(ref) do want[i] = f(v, 3) end
      local y = x[method](x, 3)
      assert.equal("bool", y.dtype)
      same(y, { shape = { 6 }, flat = want }, method)
    end
    -- fields and methods still work through the new __index
    assert.same({ 6 }, { x.shape[1] })
    assert.same({ 4, 2 }, { x.chunks[1][1], x.chunks[1][2] })
    assert.equal("int64", x.dtype)
    assert.equal(1, x.ndim)
    assert.equal(6, x.size)
    assert.matches("^arange%-", x.name)
    assert.equal("table", type(x.dask))
    assert.equal(15, x:sum():compute():get())
    assert.equal(15, x:sum(1):compute():get())
    local m = da.ones({ 3, 5 }, { chunks = 2 })
    assert.same({ 5, 3 }, { m.T.shape[1], m.T.shape[2] })
    assert.same(H.get(m:transpose()).flat, H.get(m.T).flat)
    assert.equal(3, #m)
    local long = da.arange(1000, { chunks = 10 })
    assert.is_true(#tostring(long) < 120)
    assert.is_true(#tostring(long[long:gt(5)]) < 160)
  end)
end)

describe("ports of dask/array/tests/test_slicing.py", function()
  local x_ref = { { 10, 20, 30, 40, 50 }, { 60, 70, 80, 90, 100 }, { 110, 120, 130, 140, 150 } }
  local expect = { 40, 10, 20, 90, 60, 70, 140, 110, 120 }

  it("test_index_with_int_dask_array: every chunking of x and of the index (1-based: {4, 1, 2})", function()
    for _, x_chunks in ipairs { false, { 3, 5 }, { 2, 3 }, { 1, 2 }, { 1, 1 } } do
      for _, idx_chunks in ipairs { false, 3, 2, 1 } do
        local x = da.from_array(nd.asarray(x_ref, "int64"), x_chunks and { chunks = x_chunks } or nil)
        local idx = nd.asarray({ 4, 1, 2 }, "int64")
        if idx_chunks then idx = da.from_array(idx, { chunks = idx_chunks }) end
        local what = ("x chunks %s, idx chunks %s"):format(x_chunks and table.concat(x_chunks, ",") or "-",
          tostring(idx_chunks))
        same(x[{ {}, idx }], { shape = { 3, 3 }, flat = expect }, what)
        local t = {}
        for j = 0, 2 do for i = 0, 2 do t[#t + 1] = expect[i * 3 + j + 1] end end
        same(x.T[{ idx, {} }], { shape = { 3, 3 }, flat = t }, what .. " transposed")
      end
    end
  end)

  it("test_index_with_int_dask_array_0d: a 0-d index (lazy or in memory) drops the axis", function()
    for chunks = 1, 3 do
      local x = da.from_array(nd.asarray({ { 10, 20, 30 }, { 40, 50, 60 } }, "int64"), { chunks = chunks })
      for _, idx0 in ipairs { da.from_array(nd.asarray(2, "int64")), nd.asarray(2, "int64") } do
        same(x[{ idx0, {} }], { shape = { 3 }, flat = { 40, 50, 60 } }, "rows " .. chunks)
        same(x[{ {}, idx0 }], { shape = { 2 }, flat = { 20, 50 } }, "columns " .. chunks)
      end
    end
  end)

  it("test_index_with_int_dask_array_nanchunks, _negindex, _indexerror", function()
    for chunks = 1, 5 do
      local a = da.arange(-2, 3, { chunks = chunks })
      same(a[a:nonzero()], { shape = { 4 }, flat = { -2, -1, 1, 2 } }, "nonzero " .. chunks)
      local z = da.zeros(5, { chunks = chunks })
      same(z[z:nonzero()], { shape = { 0 }, flat = {} }, "no nonzero " .. chunks)
    end
    for _, chunks in ipairs { 2, 4 } do
      local a = da.arange(4, { chunks = chunks })
      same(a[da.from_array(nd.asarray({ -1, -4 }, "int64"), { chunks = 1 })], { shape = { 2 }, flat = { 3, 0 } },
        "negative " .. chunks)
      for _, bad in ipairs { 5, -5, 0 } do
        local y = a[da.from_array(nd.asarray({ bad }, "int64"), { chunks = 1 })]
        local ok, err = pcall(y.compute, y)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("take: index " .. bad .. " is out of bounds for an axis of extent 4", 1, true))
      end
    end
  end)

  it("test_index_with_bool_dask_array: a lazy mask next to ranges", function()
    local ref = { shape = { 6, 6 }, flat = {} }
    for i = 0, 35 do ref.flat[i + 1] = i end
    local d = lazy(ref, "int64", { 3, 3 })
    local ind = da.from_array(nd.asarray({ true, true, false, true, false, false }), { chunks = 2 })
    local rows = { 0, 1, 3 }
    same(d[ind], ref_select(ref, { rows, range_positions({}, 6) }), "ind")
    same(d[{ { 2, 9, 2 }, ind }], ref_select(ref, { { 1, 3, 5 }, rows }), "(1:9:2, ind)")
    same(d[{ ind, { 3, 8 } }], ref_select(ref, { rows, { 2, 3, 4, 5 } }), "(ind, 2:8)")
  end)
end)
