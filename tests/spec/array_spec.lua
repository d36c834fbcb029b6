-- lask.array: metadata, chunks, names, printing, creation (lask.array).
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local lask, da = H.lask, H.da

describe("lask.array metadata", function()
  it("prints like the seed talk's dask.array", function()
    local x = da.arange(15, { chunks = 5 })
    assert.matches("^arange%-%x+$", x.name)
    assert.equal(("lask.array<%s, shape=(15,), chunks=((5, 5, 5)), dtype=int64>"):format(x.name), tostring(x))
    local m = da.ones({ 4, 6 }, { chunks = { 3, 4 } })
    assert.equal(("lask.array<%s, shape=(4, 6), chunks=((3, 1), (4, 2)), dtype=float64>"):format(m.name), tostring(m))
    assert.equal(("lask.array<%s, shape=(), chunks=(), dtype=int64>"):format(x:sum().name), tostring(x:sum()))
    assert.same({ 3, 4 }, m.chunksize)
  end)

  -- issue 15 (2 and 9): every block size made a long array's repr 400 KB; Dask keeps
  -- it short (with the chunk size, which lask gives as x.chunksize)
  it("prints a long array in a short line", function()
    local x = da.ones({ 100000 }, { chunks = 7 })
    assert.equal(("lask.array<%s, shape=(100000,), chunks=((7, 7, 7, ..., 5)), dtype=float64>"):format(x.name),
      tostring(x))
    local y = da.ones({ 64, 9 }, { chunks = { 8, 1 } })
    assert.equal(("lask.array<%s, shape=(64, 9), chunks=((8, 8, 8, 8, 8, 8, 8, 8), (1, 1, 1, ..., 1)), dtype=float64>")
      :format(y.name), tostring(y))
    assert.same({ 7 }, x.chunksize)
    assert.equal(3, da.ones({ 0, 3 }, { chunks = { 1, 3 } }).chunksize[2])
  end)

  -- issue 15 (2): shape and chunks are tuples in Dask; a write used to reach the
  -- blocks' tasks (uninitialised memory) and #x
  it("has read-only shape, chunks, numblocks and chunksize", function()
    local x = da.arange(10, { chunks = 5 })
    for _, write in ipairs({
      function() x.chunks[1][1] = 3 end, function() x.chunks[1] = { 10 } end, function() x.shape[1] = 99 end,
      function() x.numblocks[1] = 1 end, function() x.chunksize[1] = 1 end, function() x.shape[2] = 1 end,
      function() table.insert(x.chunks[1], 1) end,
    }) do
      assert.error_matches(write, "read%-only")
    end
    assert.equal(10, #x)
    assert.same({ 10 }, x.shape)
    assert.same({ { 5, 5 } }, x.chunks)
    assert.equal("5,5", table.concat(x.chunks[1], ","))
    local seen = {}
    for i, c in ipairs(x.chunks[1]) do seen[i] = c end
    assert.same({ 5, 5 }, seen)
    assert.equal(45, x:sum():compute():get())
    -- metadata read from one array makes another
    local y = da.zeros(x.shape, { chunks = x.chunks })
    assert.same({ { 5, 5 } }, y.chunks)
    assert.equal(0, y:sum():compute():get())
  end)

  -- issue 15 (10): x[1] was silently nil; issue 16: it indexes (indexing_spec.lua)
  it("indexes with x[i] and raises for keys it cannot index with, saying how", function()
    local x = da.arange(10, { chunks = 5 })
    assert.equal(0, x[1]:compute():get())
    assert.error_matches(function() return x[true] end, "cannot be indexed with a boolean.*integer")
    assert.is_nil(x.no_such_field)
  end)

  it("has shape, chunks, dtype, ndim, size", function()
    local x = da.zeros({ 10, 7 }, { chunks = { 3, 7 }, dtype = "float32" })
    assert.same({ 10, 7 }, x.shape)
    assert.same({ { 3, 3, 3, 1 }, { 7 } }, x.chunks)
    assert.equal("float32", x.dtype)
    assert.equal(2, x.ndim)
    assert.equal(70, x.size)
    assert.equal(10, #x)
    assert.has_error(function() x.shape = {} end)
  end)

  it("names blocks with tuple keys of 0-based coordinates", function()
    local x = da.arange(15, { chunks = 5 })
    local keys = {}
    for k in pairs(x.dask) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    assert.same({ ("('%s', 0)"):format(x.name), ("('%s', 1)"):format(x.name), ("('%s', 2)"):format(x.name) }, keys)
    assert.equal("arange", tostring(x.dask[lask.key(x.name, 1)][1]))
  end)

  it("x.dask prints like the talk's graphs", function()
    local x = da.arange(15, { chunks = 5 })
    local text = lask.tostring(x.dask)
    assert.truthy(text:find(("('%s', 0): {arange, 0, 5}"):format(x.name), 1, true))
    assert.truthy(text:find(("('%s', 2): {arange, 10, 15}"):format(x.name), 1, true))
    assert.equal(text, lask.tostring(x)) -- an array prints as its graph
    local s = x:sum()
    local stext = lask.tostring(s.dask)
    -- the talk's x.sum().dask: the three arange blocks, one sum per block, one total
    assert.truthy(stext:find(("{sum_chunk, ('%s', 1), {0}}"):format(x.name), 1, true))
    assert.truthy(stext:find(("('%s',): {squeeze, {sum_agg, {"):format(s.name), 1, true))
    local n = 0
    for _ in pairs(s.dask) do n = n + 1 end
    assert.equal(7, n)
  end)

  it("gives deterministic names from the inputs", function()
    assert.equal(da.arange(15, { chunks = 5 }).name, da.arange(15, { chunks = 5 }).name)
    assert.not_equal(da.arange(15, { chunks = 5 }).name, da.arange(15, { chunks = 3 }).name)
    assert.not_equal(da.arange(15).name, da.arange(16).name)
    local x = da.ones(10, { chunks = 5 })
    assert.equal((x + 1).name, (x + 1).name)
    assert.not_equal((x + 1).name, (x + 2).name)
    assert.not_equal((x + 1).name, (1 + x).name)
    assert.matches("^add%-", (x + 1).name)
    assert.equal(x:sum().name, x:sum().name)
    assert.not_equal(x:sum().name, x:sum({ axis = 1, keepdims = true }).name)
  end)

  it("leaves the graph of an array unchanged by later operations", function()
    local x = da.arange(10, { chunks = 5 })
    local n0 = 0
    for _ in pairs(x.dask) do n0 = n0 + 1 end
    local _ = (x * 2):sum()
    local n1 = 0
    for _ in pairs(x.dask) do n1 = n1 + 1 end
    assert.equal(n0, n1)
  end)
end)

describe("lask.array chunks", function()
  local nc = da.normalize_chunks
  it("takes a number, a list per axis, explicit sizes, -1 and auto", function()
    assert.same({ { 3, 3, 3, 1 } }, nc(3, { 10 }))
    assert.same({ { 3, 3, 3, 1 }, { 2, 2 } }, nc({ 3, 2 }, { 10, 4 }))
    assert.same({ { 5, 5 }, { 1, 3 } }, nc({ { 5, 5 }, { 1, 3 } }, { 10, 4 }))
    assert.same({ { 2, 3, 5 } }, nc({ 2, 3, 5 }, { 10 }))
    assert.same({ { 10 }, { 2, 2 } }, nc({ -1, 2 }, { 10, 4 }))
    assert.same({ { 100 } }, nc(nil, { 100 }))
    assert.same({ { 0 } }, nc(5, { 0 }))
    assert.same({ { 7 } }, nc(100, { 7 }))
    local big = nc("auto", { 100000, 10000 })
    assert.truthy(#big[1] > 1 or #big[2] > 1)
    local bytes = big[1][1] * big[2][1] * 8
    assert.truthy(bytes <= 2 * 128 * 2 ^ 20)
  end)

  it("rejects chunks that do not fit the shape", function()
    assert.has_error(function() nc({ { 5, 4 } }, { 10 }) end, "lask.array: chunks ((5, 4)) along axis 1 sum to 9, but the extent is 10")
    assert.has_error(function() nc({ 5, 5, 5 }, { 10, 4 }) end)
    assert.has_error(function() nc(0, { 10 }) end)
    assert.has_error(function() nc("big", { 10 }) end)
    assert.has_error(function() da.ones({ -1 }) end)
    assert.has_error(function() da.ones({ 2.5 }) end)
  end)

  it("keeps the values whatever the chunking", function()
    for _, c in ipairs { 1, 2, 3, 7, 10, 11 } do
      H.same(H.get(da.arange(10, { chunks = c })), H.grid({ 10 }, function(i) return i - 1 end))
    end
  end)
end)

describe("lask.array creation", function()
  it("arange: start, stop, step, dtype", function()
    H.same(H.get(da.arange(2, 11, 3, { chunks = 2 })), { 2, 5, 8 })
    H.same(H.get(da.arange(5, 0, -2)), { 5, 3, 1 })
    H.same(H.get(da.arange(0.5, 2, 0.5, { chunks = 1 })), { 0.5, 1.0, 1.5 })
    local i = H.get(da.arange(6, { chunks = 4, dtype = "int64" }))
    assert.equal("int64", i.dtype)
    H.same(i, { 0, 1, 2, 3, 4, 5 })
    assert.same({ 0 }, da.arange(0).shape)
    H.same(H.get(da.arange(0)), {})
  end)

  it("linspace matches numpy's", function()
    local want = H.numpy("np.linspace(-1, 3, 11)")
    H.same(H.get(da.linspace(-1, 3, 11, { chunks = 4 })), want.flat, 1e-15)
    H.same(H.get(da.linspace(0, 1, 4, { endpoint = false, chunks = 3 })), { 0, 0.25, 0.5, 0.75 }, 1e-15)
  end)

  it("ones, zeros, full with dtypes", function()
    H.same(H.get(da.ones({ 2, 3 }, { chunks = 2 })), { 1, 1, 1, 1, 1, 1 })
    H.same(H.get(da.zeros(3)), { 0, 0, 0 })
    local f = da.full({ 2, 2 }, 7)
    assert.equal("int64", f.dtype)
    H.same(H.get(f), { 7, 7, 7, 7 })
    assert.equal("float64", da.full(3, 2.5).dtype)
    assert.equal("bool", da.full(3, true).dtype)
    H.same(H.get(da.full(3, true, { chunks = 2 })), { true, true, true })
    assert.equal("float32", H.get(da.ones(3, { dtype = "float32" })).dtype)
    assert.has_error(function() da.full(3, "x") end)
  end)

  it("eye, with an offset diagonal and uneven chunks", function()
    local want = H.numpy("np.eye(5, 7, k=1)")
    local got = H.get(da.eye(5, { M = 7, k = 1, chunks = { 2, 3 } }))
    assert.same({ 5, 7 }, got.shape)
    H.same(got, want.flat)
    H.same(H.get(da.eye(4, { chunks = 3, k = -2 })), H.numpy("np.eye(4, k=-2)").flat)
  end)

  it("random: reproducible with a seed, the same whatever the chunking", function()
    local a = H.get(da.random.random({ 30, 20 }, { chunks = { 7, 6 }, seed = 42 }))
    local b = H.get(da.random.random({ 30, 20 }, { chunks = { 30, 20 }, seed = 42 }))
    local c = H.get(da.random.random({ 30, 20 }, { chunks = 4, seed = 43 }))
    H.same(a, b.flat, 0)
    assert.falsy(H.close(a.flat, c.flat))
    for _, v in ipairs(a.flat) do assert.truthy(v >= 0 and v < 1) end
    local n = H.get(da.random.normal({ 200, 100 }, { chunks = 33, seed = 7, loc = 3, scale = 2 }))
    local s, ss = 0, 0
    for _, v in ipairs(n.flat) do s = s + v end
    local m = s / #n.flat
    for _, v in ipairs(n.flat) do ss = ss + (v - m) ^ 2 end
    assert.truthy(math.abs(m - 3) < 0.1, "mean " .. m)
    assert.truthy(math.abs(math.sqrt(ss / #n.flat) - 2) < 0.1)
    local n2 = H.get(da.random.normal(3, 2, { 200, 100 }, { chunks = 100, seed = 7 }))
    H.same(n, n2.flat, 0)
  end)

  it("random and normal: the same bits for blocks that span the trailing axes, part of them, or single rows", function()
    for _, make in ipairs { da.random.random, da.random.normal } do
      local whole = H.get(make({ 6, 5, 40 }, { chunks = { 6, 5, 40 }, seed = 9 }))
      for _, chunks in ipairs { { 2, 5, 40 }, { 4, 2, 40 }, { 6, 5, 7 }, { 1, 1, 40 }, { 5, 3, 17 }, { 6, 1, 3 } } do
        H.same(H.get(make({ 6, 5, 40 }, { chunks = chunks, seed = 9 })), whole.flat, 0)
      end
    end
  end)

  it("from_array: Lua tables and in-memory arrays, cut into chunks", function()
    local t = { { 1, 2, 3 }, { 4, 5, 6 } }
    local x = da.from_array(t, { chunks = { 1, 2 } })
    assert.same({ { 1, 1 }, { 2, 1 } }, x.chunks)
    H.same(H.get(x), { 1, 2, 3, 4, 5, 6 })
    H.same(H.get(x * 2 + da.from_array({ 10, 20, 30 })), { 12, 24, 36, 18, 30, 42 })
    local nd = x:compute()
    local y = da.from_array(nd, { chunks = 1 })
    assert.same({ 2, 3 }, y.shape)
    H.same(H.get(y.T), { 1, 4, 2, 5, 3, 6 })
    -- big arrays print alike ("..."), yet two of them never share a name
    local n1 = da.random.random({ 3000 }, { seed = 1 }):compute()
    local n2 = da.random.random({ 3000 }, { seed = 2 }):compute()
    local a1, a2 = da.from_array(n1, { chunks = 1000 }), da.from_array(n2, { chunks = 1000 })
    assert.not_equal(a1.name, a2.name)
    local s1, s2 = H.lask.compute(a1:sum(), a2:sum())
    assert.not_equal(H.vals(s1).flat[1], H.vals(s2).flat[1])
  end)

  it("asarray rejects non-numeric tables clearly", function()
    assert.has_error(function() da.from_array({ 1, "two", 3 }) end)
    assert.has_error(function() da.from_array({ { 1, 2 }, { 3 } }) end)
    local ok, err = pcall(function() return da.ones(3) + { 1, {} } end)
    assert.falsy(ok)
    assert.truthy(tostring(err):find("lask", 1, true))
  end)
end)

describe("lask.array errors", function()
  it("reports shape, broadcasting, axis and dtype problems clearly", function()
    local x, y = da.ones({ 3, 4 }), da.ones({ 5 })
    assert.has_error(function() return x + y end,
      "lask.array: add: operands could not be broadcast together with shapes (3, 4) (5,)")
    assert.has_error(function() return x:sum({ axis = 3 }) end,
      "lask.array: sum: axis 3 is out of range for a 2-d array (axes count from 1)")
    assert.has_error(function() return x:mean({ axis = 0 }) end)
    assert.has_error(function() return x:sum({ axis = { 1, 1 } }) end)
    assert.has_error(function() return -da.ones(3, { dtype = "bool" }) end)
    assert.has_error(function() return da.ones(3, { dtype = "float16" }) end,
      "lask.array: unknown dtype 'float16' (float64, float32, int64 and bool are supported)")
    assert.has_error(function() return da.arange(4, { dtype = "int64" }) ^ -1 end)
    assert.has_error(function() return x:dot(x) end)
    assert.has_error(function() return x:slice({ 1, 2 }, {}, {}) end)
    assert.has_error(function() return x:slice(4) end)
    assert.has_error(function() return x:rechunk({ { 1, 1 }, 4 }) end)
    assert.has_error(function() return da.concatenate({ x, da.ones({ 3, 5 }) }) end)
  end)

  it("names where an error comes from", function()
    local ok, err = pcall(function() return da.ones({ 3, 4 }) + da.ones({ 5 }) end)
    assert.falsy(ok)
    assert.truthy(tostring(err):find("array_spec.lua", 1, true))
  end)
end)

-- issue 15 (11): one error policy: failures raise (da.load returned nil, msg while
-- from_npy raised on the same missing file)
describe("lask.array errors on files", function()
  it("raises for a missing file, from load and from_npy alike", function()
    local path = os.tmpname() .. "-missing.npy"
    assert.error_matches(function() da.load(path) end, "^.-lask%.array: load: .*No such file")
    assert.error_matches(function() da.from_npy(path) end, "^.-lask%.array: from_npy: .*No such file")
    assert.error_matches(function() da.load(42) end, "the path must be a string")
  end)
end)
