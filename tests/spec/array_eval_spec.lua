-- lask.array: compute, persist, store, from_npy, lask.compute, and bounded memory.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local lask, da = H.lask, H.da

local SH = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "spec_helpers.lua")
local tmpdir, exists, listdir = SH.tmpdir, SH.exists, SH.listdir

describe("lask.array compute", function()
  it("gives an in-memory lask.ndarray, with any scheduler", function()
    local x = da.arange(12, { chunks = 5 }) * 2
    local a = x:compute()
    assert.same({ 12 }, H.vals(a).shape)
    H.same(H.vals(a), H.grid({ 12 }, function(i) return 2 * (i - 1) end))
    H.same(H.get(x, { scheduler = "sync" }), H.vals(a).flat)
    H.same(H.get(x, { num_workers = 1 }), H.vals(a).flat)
    H.same(H.get(x, { optimize = true }), H.vals(a).flat)
    H.same(H.get(x, { get = lask.get }), H.vals(a).flat)
    H.same(H.get(x, { scheduler = "multiprocessing" }), H.vals(a).flat)
    local K = require("lask.core").array_kernels
    local m = da.map_blocks(function(b) return K.add(b, 1) end, x)
    H.same(H.get(m:sum(), { scheduler = "multiprocessing" }), { 144 })
    for _, name in ipairs { "threads", "processes", "synchronous", "single-threaded" } do -- Dask's names
      H.same(H.get(x, { scheduler = name }), H.vals(a).flat)
    end
    assert.has_error(function() x:compute { scheduler = "gpu" } end,
      "lask.array: unknown scheduler 'gpu' (threaded or threads, multiprocessing or processes, sync or synchronous, mpi)")
  end)

  it("assembles blocks made by Lua functions, persisted blocks and kernels alike, in parallel copies", function()
    local K = require("lask.core").array_kernels
    for _, dtype in ipairs { "float64", "float32", "int64" } do
      local base = da.arange(24, { chunks = { 5, 7, 12 } }):astype(dtype) -- uneven chunks
      local lua_made = da.map_blocks(function(b) return K.add(b, 1) end, base) -- a Lua function a block
      local kept = (base * 2):persist() -- blocks held as data
      local y = da.concatenate { lua_made:reshape { 4, 6 }, kept:reshape { 4, 6 }, (base - 1):reshape { 4, 6 } }
      local want = H.grid({ 12, 6 }, function(i, j)
        local v = (i - 1) % 4 * 6 + (j - 1)
        return i <= 4 and v + 1 or i <= 8 and 2 * v or v - 1
      end)
      for _, opts in ipairs { { scheduler = "sync" }, { scheduler = "threaded" }, { lua = "parallel" },
        { scheduler = "multiprocessing" } } do
        local a = H.vals(y:compute(opts))
        assert.same({ 12, 6 }, a.shape)
        assert.equal(dtype, y:compute(opts).dtype)
        H.same(a, want)
      end
    end
  end)

  it("persist keeps the blocks in memory under the same keys", function()
    local calls = 0
    local K = require("lask.core").array_kernels
    local x = da.map_blocks(function(b)
      calls = calls + 1
      return K.add(b, 1)
    end, da.arange(10, { chunks = 3 }))
    local p = x:persist()
    assert.equal(4, calls)
    assert.equal(x.name, p.name)
    assert.same(x.chunks, p.chunks)
    for k, v in pairs(p.dask) do
      assert.truthy(lask.iskey(k))
      assert.falsy(lask.istask(v))
    end
    H.same(H.get(p * 2), H.grid({ 10 }, function(i) return 2 * i end))
    H.same(H.get(p:sum()), { 55 })
    assert.equal(4, calls)
  end)

  it("lask.compute evaluates several arrays in one pass, sharing their inputs", function()
    local calls = 0
    local K = require("lask.core").array_kernels
    local x = da.map_blocks(function(b)
      calls = calls + 1
      return b
    end, da.arange(10, { chunks = 5 }))
    local s, m, y = lask.compute(x:sum(), x:mean(), x * 2)
    assert.equal(2, calls)
    assert.equal(45, H.vals(s).flat[1])
    assert.equal(4.5, H.vals(m).flat[1])
    H.same(H.vals(y), H.grid({ 10 }, function(i) return 2 * (i - 1) end))
    local a, b, c = lask.compute(x:max(), 7, "z", { scheduler = "sync" })
    assert.equal(9, H.vals(a).flat[1])
    assert.equal(7, b)
    assert.equal("z", c)
    local _ = K
  end)

  it("lask.compute writes the blocks of each array that no other result reads straight into it", function()
    local function finals(...)
      local prof = require("lask.diagnostics").Profiler()
      prof:register()
      local out = table.pack(lask.compute(...))
      prof:unregister()
      local n = { block = 0, into = 0 }
      for _, r in ipairs(prof.results) do
        local f = tostring(r.func)
        if n[f] then n[f] = n[f] + 1 end
      end
      return n, out
    end
    local x = da.random.random({ 11, 7 }, { chunks = { 4, 3 }, seed = 5 })
    local a, b = x + 1, x:dot(x.T)
    local n, out = finals(a, b) -- neither reads the other: no final copy of either
    assert.equal(0, n.block)
    assert.equal(9 + 9, n.into)
    H.same(H.vals(out[2]), H.vals(b:compute({ scheduler = "sync" })).flat, 1e-15)
    n = finals(x, a) -- a reads x: x's blocks are assembled by a final task
    assert.equal(1, n.block)
  end)

  it("lask.compute gives arrays that feed each other, or come twice, whole", function()
    -- blocks are written straight into each result unless another result reads them
    local x = da.random.random({ 11, 7 }, { chunks = { 4, 3 }, seed = 5 })
    local y = (x + 1) * 2
    local a, b, c, d = lask.compute(x, y, y, y.T)
    local xs, ys = H.vals(a).flat, H.vals(b).flat
    for i = 1, 77 do assert.equal((xs[i] + 1) * 2, ys[i]) end
    assert.same(ys, H.vals(c).flat)
    assert.same(H.vals(y.T:compute({ fuse = false })).flat, H.vals(d).flat)
    assert.same(ys, H.vals(y:compute({ scheduler = "sync" })).flat)
  end)
end)

describe("lask.array reductions of big generated blocks", function()
  -- Blocks of more than 2^20 elements made from nothing and reduced along their first
  -- axis are made and reduced part by part (lask.array.expression): the same result as
  -- the unfused graph, to rounding, for every reduction, axis, dtype and scheduler.
  local cases = {
    { "random 1-d", function() return da.random.random({ 2500000 }, { chunks = 1300000, seed = 4 }) end },
    { "normal 2-d", function() return da.random.normal({ 2500, 500 }, { chunks = { 2200, 300 }, seed = 5 }) end },
    { "ones 2-d", function() return da.ones({ 2200, 600 }, { chunks = { 2200, 600 } }) end },
    { "arange int64", function() return da.arange(2300000, { chunks = 1100000 }) end },
    { "random 3-d", function() return da.random.random({ 40, 300, 100 }, { chunks = { 40, 300, 100 }, seed = 6 }) end },
    { "elementwise over two", function()
      local x = da.random.random({ 2400, 500 }, { chunks = { 2400, 250 }, seed = 7 })
      return x * da.random.normal({ 2400, 500 }, { chunks = { 2400, 250 }, seed = 8 }) + 1
    end },
    { "elementwise with a stored input", function() -- not made in parts: the same results
      local x = da.random.random({ 1200000 }, { chunks = 1200000, seed = 9 })
      return x * da.arange(1200000, { chunks = 1200000 }):persist()
    end },
  }
  local function close(a, b, what)
    for i = 1, #b do
      local tol = 1e-12 * math.max(1, math.abs(b[i]))
      assert.truthy(math.abs(a[i] - b[i]) <= tol, ("%s [%d]: %.17g, unfused %.17g"):format(what, i, a[i], b[i]))
    end
  end

  it("give the unfused graph's results for every reduction and axis", function()
    for _, case in ipairs(cases) do
      local x = case[2]()
      local axes = { {}, { axis = 1 }, { axis = 1, keepdims = true } }
      if x.ndim > 1 then axes[#axes + 1] = { axis = 2 } end
      if x.ndim > 2 then axes[#axes + 1] = { axis = { 1, 3 } } end
      for _, op in ipairs { "sum", "mean", "var", "std", "min", "max", "prod", "argmax" } do
        for _, o in ipairs(axes) do
          if not (op == "argmax" and (o.keepdims or type(o.axis) == "table")) then
            local y = op == "argmax" and x:argmax(o.axis) or x[op](x, o)
            local got, want = H.get(y).flat, H.get(y, { fuse = false }).flat
            assert.equal(#want, #got)
            close(got, want, case[1] .. " " .. op)
          end
        end
      end
    end
  end)

  it("make a big block in parts, and a small one whole", function()
    local CP = require "lask.array.compute"
    local function chunk_tasks(y)
      local out = {}
      for key, task in pairs(CP.graph({ y }, {})) do
        if not tostring(key):find("aggregate") then out[#out + 1] = task end
      end
      return out
    end
    local big = da.random.random({ 2 ^ 21 }, { chunks = 2 ^ 21, seed = 1 })
    local t = chunk_tasks(big:sum())
    assert.equal(1, #t)
    assert.equal("sum_agg", tostring(t[1][1]):match("[%w_]+$"))
    assert.equal(16, #t[1][2]) -- 2^21 elements in parts of 2^17
    for _, part in ipairs(t[1][2]) do assert.equal(2 ^ 17, part[2][2][1]) end
    local t3 = chunk_tasks(((2 * big + 1) ^ 3):mean())
    assert.equal(16, #t3[1][2])
    assert.truthy(tostring(t3[1][2][1][2][1]):find("^fused"))
    local small = da.random.random({ 2 ^ 20 }, { chunks = 2 ^ 20, seed = 1 })
    assert.equal("sum_chunk", tostring(chunk_tasks(small:sum())[1][1]):match("[%w_]+$"))
    local rows = da.random.random({ 4000, 400 }, { chunks = { 4000, 400 }, seed = 1 }) -- not along axis 1
    assert.equal("sum_chunk", tostring(chunk_tasks(rows:sum(2))[1][1]):match("[%w_]+$"))
  end)

  it("runs on every scheduler", function()
    local x = da.random.normal({ 3000, 400 }, { chunks = { 3000, 200 }, seed = 8 })
    local want = H.get(x:sum(1), { fuse = false }).flat
    for _, sched in ipairs { "sync", "threaded", "multiprocessing" } do
      close(H.get(x:sum(1), { scheduler = sched }).flat, want, sched)
    end
  end)
end)

describe("lask.array store and from_npy", function()
  it("writes .npy files numpy reads, and reads them back lazily", function()
    local dir = tmpdir()
    local path = dir .. "/x.npy"
    local m = da.ones({ 7, 5 }, { chunks = { 3, 2 } }) * da.arange(5, { chunks = 2 }) + 0.5
    assert.is_true(m:store(path))
    local want = H.numpy(("np.load(%q)"):format(path))
    assert.same({ 7, 5 }, want.shape)
    H.same(want, H.get(m).flat)
    local back = da.from_npy(path, { chunks = { 2, 3 } })
    assert.same({ 7, 5 }, back.shape)
    assert.equal("float64", back.dtype)
    H.same(H.get(back), want.flat)
    H.same(H.get(back:sum({ axis = 1 })), H.get(m:sum({ axis = 1 })).flat, 1e-14)
    -- int64, float32 and bool files
    for _, y in ipairs { da.arange(10, { dtype = "int64", chunks = 3 }), da.ones(5, { dtype = "float32", chunks = 2 }),
      da.less(da.arange(6, { chunks = 4 }), 3) } do
      local p2 = dir .. "/" .. y.dtype .. ".npy"
      y:store(p2)
      local got = H.numpy(("np.load(%q)"):format(p2))
      assert.equal(y.dtype, got.dtype)
      local want_vals = H.get(y).flat
      if y.dtype == "bool" then
        for i, v in ipairs(want_vals) do want_vals[i] = v and 1 or 0 end
      end
      H.same(got, want_vals)
      local r = H.get(da.from_npy(p2))
      assert.equal(y.dtype, r.dtype)
    end
    os.execute("rm -rf " .. dir)
  end)

  it("a failed store leaves no file, partial or otherwise", function()
    local dir = tmpdir()
    local path = dir .. "/bad.npy"
    local x = da.map_blocks(function(b)
      error("this block is bad")
      return b
    end, da.arange(100, { chunks = 10 }))
    local ok, err = pcall(x.store, x, path)
    assert.falsy(ok)
    assert.truthy(tostring(err):find("this block is bad", 1, true))
    assert.same({}, listdir(dir))
    assert.has_error(function() da.ones(3):store(dir .. "/no/such/dir.npy") end)
    assert.same({}, listdir(dir))
    os.execute("rm -rf " .. dir)
  end)

  it("from_npy reports missing and malformed files", function()
    local dir = tmpdir()
    assert.has_error(function() da.from_npy(dir .. "/missing.npy") end)
    local f = io.open(dir .. "/junk.npy", "wb")
    f:write("not numpy")
    f:close()
    assert.has_error(function() da.from_npy(dir .. "/junk.npy") end)
    os.execute("rm -rf " .. dir)
    assert.falsy(exists(dir))
  end)
end)

describe("lask.array out of core", function()
  -- ThreadSanitizer's shadow memory multiplies a process's RSS; the bounds below
  -- are for the plain build and grow with it under TSan.
  local slack = (os.getenv("BUILD") or "build"):match("tsan") and 4 or 1

  -- Runs code in a fresh lask process and returns its peak RSS (VmHWM, kB).
  local function peak_rss_of(code)
    local bin = os.getenv("LASK_BIN") or "build/lask"
    local script = os.tmpname()
    local f = io.open(script, "w")
    f:write(code, "\n", [[
local st = io.open("/proc/self/status"):read("a")
print("RESULT " .. st:match("VmHWM:%s*(%d+)"))
]])
    f:close()
    local p = io.popen(bin .. " " .. script .. " 2>&1")
    local out = p:read("a")
    p:close()
    os.remove(script)
    local kb = out:match("RESULT (%d+)")
    assert(kb, out)
    return tonumber(kb), out
  end

  it("reduces a 2 GB lazily generated array in bounded memory", function()
    local kb, out = peak_rss_of([[
local da = require "lask.array"
local n = 2 ^ 28 -- 2 GiB of float64
local x = da.random.random({ n }, { chunks = 2 ^ 20, seed = 1 })
local r = x:mean():compute()
local m = type(r) == "table" and r.flat and r.flat[1] or r:totable()
print("MEAN", type(m) == "table" and m[1] or m)
local s = ((2 * x + 1) ^ 3):sum():compute()
]])
    local mean = tonumber(out:match("MEAN%s+(%S+)"))
    assert.truthy(mean and math.abs(mean - 0.5) < 1e-3, out)
    -- 2048 MiB of data went through; the process never held more than a few blocks
    assert.truthy(kb < 300 * 1024 * slack, ("peak RSS %d kB"):format(kb))
  end)

  it("stores a lazily generated array larger than its memory use", function()
    local dir = tmpdir()
    local kb = peak_rss_of(([[
local da = require "lask.array"
local x = da.random.normal({ 2 ^ 14, 2 ^ 13 }, { chunks = { 512, 2 ^ 13 }, seed = 3 }) -- 1 GiB
assert((x * 2):store(%q))
]]):format(dir .. "/big.npy"))
    local f = io.open(dir .. "/big.npy", "rb")
    local size = f:seek("end")
    f:close()
    assert.equal(2 ^ 30 + 128, size)
    assert.truthy(kb < 250 * 1024 * slack, ("peak RSS %d kB"):format(kb))
    os.execute("rm -rf " .. dir)
  end)
end)
