-- Faults tried on purpose (issue 19): runaway recursion, special files, absurd
-- shapes, out of memory, nesting beyond any sane depth. Each must end promptly with
-- a clear error on the key, or a clean result, never a hang or a crash.
local lask = require "lask"
local S = dofile("tests/spec/spec_helpers.lua")

-- Under ASan and TSan (make asan, make tsan) an address-space limit cannot be set
-- (their shadow memory needs terabytes of it) and their allocators abort instead of
-- failing: the out-of-memory cases are tried in the plain build only. ASan also
-- catches a worker's SIGSEGV itself, and exits with status 1.
local SANITIZED = (os.getenv("BUILD") or ""):match("san") ~= nil
local function it_unsanitized(name, f)
  if SANITIZED then return pending(name .. " (not under sanitizers: no address-space limit)") end
  return it(name, f)
end

describe("a Lua task that recurses without end", function()
  -- Before the fix the task error handler counted the stack level by level (the
  -- square of the depth): a real stack overflow ran for more than 15 minutes.
  for _, sched in ipairs { "lask.sync", "lask.threaded", "lask.multiprocessing" } do
    it("reports 'stack overflow' on its key at once (" .. sched .. ")", function()
      local out, status = S.run(([[
        local function f(n) return 1 + f(n + 1) end
        local ok, err = pcall(require(%q).get, { a = { function() return f(0) end } }, "a")
        print(ok, err.key, err.message)
      ]]):format(sched), 30)
      assert.are.equal(0, status, out)
      assert.matches("^false\ta\t.*stack overflow", out)
    end)
  end

  it("keeps the task's frames in the traceback of an error 50,000 frames deep", function()
    local function deep(n) if n == 0 then error("bottom") end return 1 + deep(n - 1) end
    local ok, err = pcall(lask.get, { a = { function() return deep(50000) end } }, "a")
    assert.is_false(ok)
    assert.matches("bottom", err.message)
    assert.matches("in upvalue 'deep'", err.traceback)
    assert.matches("%.%.%.", err.traceback) -- luaL_traceback's elision of the middle
    assert.not_matches("busted", err.traceback)
  end)
end)

local tmpdir = S.tmpdir

-- A .npy file with the given header dict text and data bytes.
local function npy_file(path, dict, data)
  local header = dict .. string.rep(" ", 63 - (10 + #dict) % 64) .. "\n"
  S.write_file(path, "\147NUMPY\1\0" .. string.pack("<I2", #header) .. header .. (data or ""))
end

describe("da.load and from_npy on files that are not regular", function()
  it("refuse a FIFO at once instead of waiting for a writer, and a directory as such", function()
    local d = tmpdir()
    assert.is_true(os.execute("mkfifo " .. d .. "/fifo.npy"))
    local out, status = S.run(([[
      local da = require "lask.array"
      print(select(2, pcall(da.load, %q)))
      print(select(2, pcall(da.from_npy, %q)))
      print(select(2, pcall(da.load, %q)))
      print(select(2, pcall(da.from_npy, %q)))
    ]]):format(d .. "/fifo.npy", d .. "/fifo.npy", d, d), 20)
    os.execute("rm -rf " .. d)
    assert.are.equal(0, status, out)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.matches("^lask%.array: load: .*/fifo%.npy: not a regular file %(a FIFO%)$", lines[1])
    assert.matches("^lask%.array: from_npy: .*/fifo%.npy: not a regular file %(a FIFO%)$", lines[2])
    assert.matches("^lask%.array: load: .*: not a regular file %(a directory%)$", lines[3])
    assert.matches("^lask%.array: from_npy: .*: not a regular file %(a directory%)$", lines[4])
  end)
end)

describe("from_npy reads headers with the C parser da.load uses", function()
  local da = require "lask.array"
  local d
  before_each(function() d = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. d) end)

  it("reads a 0-d array", function()
    npy_file(d .. "/s.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", string.pack("<d", 2.5))
    local x = da.from_npy(d .. "/s.npy")
    assert.are.same({}, x.shape)
    assert.are.equal(2.5, x:compute():item())
  end)

  it("reads a header written with double quotes", function()
    npy_file(d .. "/q.npy", '{"descr": "<i8", "fortran_order": False, "shape": (2,), }', string.pack("<i8<i8", 7, -1))
    local x = da.from_npy(d .. "/q.npy")
    assert.are.same({ 2 }, x.shape)
    assert.are.same({ 7, -1 }, x:compute():totable())
  end)

  it("refuses a negative extent and an unsupported dtype when the array is made, not at compute", function()
    npy_file(d .. "/n.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }", string.rep("\0", 24))
    local ok, err = pcall(da.from_npy, d .. "/n.npy")
    assert.is_false(ok)
    assert.matches("malformed shape", err)
    npy_file(d .. "/e.npy", "{'descr': '=f8', 'fortran_order': False, 'shape': (1,), }", string.rep("\0", 8))
    ok, err = pcall(da.from_npy, d .. "/e.npy")
    assert.is_false(ok)
    assert.matches("dtype '=f8' is not supported", err)
  end)

  it("gives the same verdict as da.load on a truncated file", function()
    npy_file(d .. "/t.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", string.rep("\0", 16))
    local _, why = pcall(da.load, d .. "/t.npy")
    local ok, err = pcall(da.from_npy, d .. "/t.npy")
    assert.is_false(ok)
    assert.matches("truncated: the header announces 32 bytes of data, the file holds 16", why)
    assert.matches("truncated: the header announces 32 bytes of data, the file holds 16", err)
  end)
end)

describe("a requested key list nested beyond any sane depth", function()
  -- 140,000 levels overflowed the C stack in the output conversion (a crash).
  for _, sched in ipairs { "lask.sync", "lask.threaded", "lask.multiprocessing" } do
    it("is refused with the limit (" .. sched .. ")", function()
      local get = require(sched).get
      local k = "a"
      for _ = 1, 200 do k = { k } end
      local r = get({ a = 7 }, k)
      for _ = 1, 200 do r = r[1] end
      assert.are.equal(7, r)
      for _ = 1, 140000 do k = { k } end
      local ok, err = pcall(get, { a = 7 }, k)
      assert.is_false(ok)
      assert.matches("the requested keys are lists nested more than 200 deep", tostring(err))
    end)
  end
end)

describe("array sizes that overflow int64", function()
  local da = require "lask.array"
  it("are refused by the shape, as numpy refuses them (2^40 by 2^40 had size 0)", function()
    local ok, err = pcall(da.zeros, { 1 << 40, 1 << 40 })
    assert.is_false(ok)
    assert.matches("an array of shape %(1099511627776, 1099511627776%) and dtype float64 is too big", err)
  end)

  it("are refused even when another extent is 0 (the strides overflowed: UB)", function()
    local ok, err = pcall(da.zeros, { 12875941756269202, 0, 111, 4 })
    assert.is_false(ok)
    assert.matches("too big: its size in bytes overflows int64", err)
  end)

  it("leave a zero-size array with a huge extent computable and printable at once", function()
    local out, status = S.run([[
      local x = require("lask.array").zeros({ 12875941756269202, 0, 1, 4 })
      print(x.size, tostring(x:compute()))
    ]], 20)
    assert.are.equal(0, status, out)
    assert.are.equal("0\tarray([], shape=(12875941756269202, 0, 1, 4), dtype=float64)\n", out)
  end)

  it("are refused by reshape, whose product of extents wrapped to the right size", function()
    -- (2^62 + 1) * 4 wraps to 4: reshape took it for a shape of 4 elements.
    for _, dtype in ipairs { "float64", "float32", "int64", "bool" } do
      local x = da.ones(4, { dtype = dtype })
      local ok, err = pcall(da.reshape, x, { (1 << 62) + 1, 4 })
      assert.is_false(ok)
      assert.matches("shape %(4611686018427387905, 4%) and dtype " .. dtype .. " is too big", err)
      assert.are.same({ 2, 2 }, { table.unpack(da.reshape(x, { 2, -1 }).shape) })
    end
  end)
end)

describe("absurd block counts", function()
  local da = require "lask.array"
  it("are refused at once, with the numbers, before any list of blocks is made", function()
    local t = os.clock()
    local ok, err = pcall(da.ones, { 1 << 31, 1 << 31 }, { chunks = { 1, 1 }, dtype = "bool" })
    assert.is_false(ok)
    assert.matches("the chunks of shape %(2147483648, 2147483648%) make 4611686018427387904 blocks "
      .. "%(numblocks %(2147483648, 2147483648%)%); a graph holds at most 536870911 tasks", err)
    ok, err = pcall(da.ones, { 1 << 15, (1 << 14) + 1 }, { chunks = 1 })
    assert.is_false(ok)
    assert.matches("make 536903680 blocks", err)
    assert.is_true(os.clock() - t < 1, "took " .. os.clock() - t .. " s")
  end)

  it("leave auto chunks of a huge but valid array alone", function()
    local x = da.ones({ 1 << 40, 1 << 20 }, { dtype = "bool" })
    assert.are.same({ 1 << 40, 1 << 20 }, x.shape)
    assert.is_true(x.numblocks[1] * x.numblocks[2] <= 536870911)
  end)
end)

describe("a Lua task that runs out of memory", function()
  -- It said "task 'a' failed: ?" (threads) or "failed: error" (processes): Lua skips
  -- the message handler for memory errors, and the bare value was dropped.
  for _, sched in ipairs { "lask.sync", "lask.threaded", "lask.multiprocessing" } do
    it_unsanitized("says 'not enough memory' on its key (" .. sched .. ")", function()
      local out, status = S.run(([[
        local function hog() local t = {} for i = 1, 1e10 do t[i] = { i } end end
        local ok, err = pcall(require(%q).get, { a = { hog } }, "a")
        print(ok, err.key, err.message, tostring(err))
        print(require("lask").get({ b = { function() return 42 end } }, "b")) -- still usable
      ]]):format(sched), 60, 800000)
      assert.are.equal(0, status, out)
      assert.are.equal("false\ta\tnot enough memory\tlask: task 'a' failed: not enough memory\n42\n", out)
    end)
  end
end)

describe("messages", function()
  it("show a 100,000-key cycle by its first and last keys and its length (it was 1.2 MB)", function()
    local N, d = 100000, {}
    for i = 1, N do d["k" .. i] = { function(x) return x end, "k" .. (i % N + 1) } end
    for _, sched in ipairs { "lask.sync", "lask", "lask.multiprocessing" } do
      local ok, err = pcall(require(sched).get, d, "k1")
      assert.is_false(ok)
      assert.are.equal(N, #err.cycle) -- every key is still in the error object
      assert.are.equal("lask: the graph has a cycle of 100000 keys: 'k1' -> 'k2' -> 'k3' -> 'k4' -> 'k5' -> 'k6'"
        .. " -> 'k7' -> 'k8' -> 'k9' -> 'k10' -> … (99985 more) … -> 'k99996' -> 'k99997' -> 'k99998' -> 'k99999'"
        .. " -> 'k100000' -> 'k1'", tostring(err))
    end
    local _, err = pcall(lask.get, { a = { function(x) return x end, "b" }, b = { function(x) return x end, "a" } }, "a")
    assert.matches("^lask: the graph has a cycle: '[ab]' %-> '[ab]' %-> '[ab]'$", tostring(err))
  end)

  it("name a failing kernel once ('npy_create: npy_create:' before)", function()
    local da = require "lask.array"
    local ok, err = pcall(function() return da.ones(3):store("/nonexistent-lask-dir/x.npy") end)
    assert.is_false(ok)
    assert.matches("failed: npy_create: /nonexistent%-lask%-dir/x%.npy%.tmp%-%x+: No such file or directory", tostring(err))
    assert.not_matches("npy_create: npy_create", tostring(err))
  end)

  it("factor empty matrices as numpy's reduced qr does (0×0 complained about chunks summing to 0)", function()
    local da, la = require "lask.array", require "lask.array.linalg"
    for _, case in ipairs { { { 0, 0 }, { 0, 0 }, { 0, 0 } }, { { 0, 3 }, { 0, 0 }, { 0, 3 } },
      { { 3, 0 }, { 3, 0 }, { 0, 0 } } } do
      local q, r = la.qr(da.ones(case[1]))
      assert.are.same(case[2], q:compute().shape)
      assert.are.same(case[3], r:compute().shape)
    end
  end)
end)

describe("os.exit(code, true) in a task while the pool runs native tasks", function()
  -- Closing the state freed the graph and the engine under the workers: a segfault
  -- in 4 runs of 6 before.
  local PROFILERS = [[
    local diag = require "lask.diagnostics"
    local prof, rprof = diag.Profiler(), diag.ResourceProfiler { dt = 0.001 }
  ]]
  for _, case in ipairs { { "", "" }, { " and profilers trace the run", PROFILERS } } do
  it("exits with the code, every time" .. case[1], function()
    -- With profilers, the run records into a trace that the close collected (ltrace.c).
    for _ = 1, 8 do
      local out, status = S.run(case[2] .. [[
        local lask, da = require "lask", require "lask.array"
        local x = da.random.random({ 2000, 2000 }, { chunks = { 125, 125 }, seed = 1 })
        local d = ((x * 2 + 1):sum({ axis = 1 })).dask
        local keys = {}
        for k in pairs(d) do keys[#keys + 1] = k end
        d.quit = { function() local t = os.clock() while os.clock() - t < 0.02 do end os.exit(3, true) end }
        keys[#keys + 1] = "quit"
        lask.get(d, keys)
      ]], 60)
      assert.are.equal(3, status, out)
      assert.are.equal("", out)
    end
  end)
  end
end)

describe("a store killed mid-write", function()
  it("leaves no file that loads, and the next store of the path removes it", function()
    local d = tmpdir()
    local path = d .. "/x.npy"
    local out, status = S.run(([[
      local da = require "lask.array"
      local n = 0
      local x = da.map_blocks(function(b)
        n = n + 1
        if n == 4 then -- half-way: die as a power cut would
          local f = io.open("/proc/self/stat")
          os.execute("kill -KILL " .. f:read("n"))
        end
        return b
      end, da.ones({ 64, 8 }, { chunks = { 8, 8 } }))
      x:store(%q, { scheduler = "sync" })
    ]]):format(path), 30)
    assert.are.equal(137, status, out)
    local p = assert(io.popen("ls " .. d))
    local left = p:read("a")
    p:close()
    local tmp = left:match("(x%.npy%.tmp%-%x+)")
    assert.is_not_nil(tmp, "the killed store left no temporary: " .. left)
    local da = require "lask.array"
    local ok, why = pcall(da.load, d .. "/" .. tmp)
    assert.is_false(ok)
    assert.matches("an unfinished file", why)
    assert.is_false((pcall(da.from_npy, d .. "/" .. tmp)))
    da.arange(4):store(path)
    p = assert(io.popen("ls " .. d))
    assert.are.equal("x.npy\n", p:read("a"))
    p:close()
    assert.are.same({ 0, 1, 2, 3 }, da.load(path):totable())
    os.execute("rm -rf " .. d)
  end)
end)

describe("lask.multiprocessing with a worker stopped by SIGSTOP", function()
  -- get waited forever: the stopped worker's socket stays open and silent.
  it("reports the stopped worker on its key after LASK_MP_STOPPED_SECONDS, leaving no child", function()
    local out, status = S.run([[
      local mp = require "lask.multiprocessing"
      local function stop_self()
        local f = io.open("/proc/self/stat")
        os.execute("kill -STOP " .. f:read("n"))
        return 1
      end
      local t = os.time()
      local ok, err = pcall(mp.get, { a = { stop_self }, b = { function() return 2 end } }, { "a", "b" },
        { num_workers = 2 })
      print(ok, err.key, err.message)
      print(os.time() - t <= 10)
      local pid = io.open("/proc/self/stat"):read("n")
      print("children: " .. io.open(("/proc/%d/task/%d/children"):format(pid, pid)):read("a"))
    ]], 60, nil, "LASK_MP_STOPPED_SECONDS=1")
    assert.are.equal(0, status, out)
    assert.matches("^false\ta\tworker process %d was stopped %(SIGSTOP%?%) for 1 s while running the task, and was "
      .. "killed %(LASK_MP_STOPPED_SECONDS sets the limit%)\ntrue\nchildren: \n$", out)
  end)
end)

describe("lask.multiprocessing when the parent runs out of memory receiving a result", function()
  -- The parent waited (waitpid) forever on the worker, alive and waiting to send.
  for _, extra_mb in ipairs { 100, 450 } do
    it_unsanitized("fails on the task's key, stops the worker and stays usable (limit +" .. extra_mb .. " MB)",
      function()
      local out, status = S.run(([[
        local mp = require "lask.multiprocessing"
        local function big() -- lowers the parent's address-space limit, then sends 300 MB
          local ppid = io.open("/proc/self/stat"):read("a"):match("%%) %%a (%%d+)")
          local vm = io.open("/proc/" .. ppid .. "/status"):read("a"):match("VmSize:%%s+(%%d+)")
          os.execute(("prlimit --pid %%s --as=%%d"):format(ppid, (tonumber(vm) + %d * 1024) * 1024))
          return string.rep("x", 300 * 2 ^ 20)
        end
        local ok, err = pcall(mp.get, { a = { big } }, "a", { num_workers = 1 })
        print(ok, err.key, err.message)
        print(mp.get({ b = { function() return 5 end } }, "b"))
        local pid = io.open("/proc/self/stat"):read("n")
        print("children: " .. io.open(("/proc/%%d/task/%%d/children"):format(pid, pid)):read("a"))
      ]]):format(extra_mb), 60)
      assert.are.equal(0, status, out)
      assert.matches("^false\ta\t[^\n]*not enough memory[^\n]*\n5\nchildren: \n$", out)
    end)
  end
end)

describe("the buffer cache", function()
  -- A dropped result stayed resident in a cache invisible from Lua (up to 2 GiB).
  local PRELUDE = [[
    local da = require "lask.array"
    da.config { buffer_cache_grace_ms = 0 } -- given back at once (the grace period: its own test)
    local function rss_mb() -- resident pages, from /proc/self/statm
      local f = io.open("/proc/self/statm")
      f:read("n")
      local pages = f:read("n")
      f:close()
      return pages * 4096 // 2 ^ 20
    end
    local function drop(mb) -- computes a result of mb MB, drops it and collects it
      local x = da.ones({ mb * 2 ^ 17 // 1000, 1000 }, { chunks = -1 }):compute()
      assert(x:get(1, 1) == 1)
      x = nil
      collectgarbage() collectgarbage() collectgarbage()
    end
  ]]
  it("gives a dropped 300 MB result back to the system by default, the floor and limit reported", function()
    local out, status = S.run(PRELUDE .. [[
      local c = da.config()
      print(c.buffer_cache_mb, c.buffer_cache_idle_mb, c.buffer_cache_bound_bytes == 64 << 20)
      local base = rss_mb()
      drop(300)
      c = da.config()
      print(c.buffer_cache_bytes, c.live_bytes, rss_mb() - base < 30)
      drop(40) -- under the floor: kept for the next get
      c = da.config()
      print(c.buffer_cache_buffers, c.buffer_cache_bytes >= 40 << 20, rss_mb() - base >= 30)
      da.trim()
      print(da.config().buffer_cache_bytes, rss_mb() - base < 30)
    ]], 60)
    assert.are.equal(0, status, out)
    assert.are.equal("2048\t64\ttrue\n0\t0\ttrue\n1\ttrue\ttrue\n0\ttrue\n", out)
  end)
  it("keeps freed blocks for reuse while a get runs, and gives them back when it ends", function()
    -- 8 blocks of 32 MB, each freed once its sum is taken: the cache holds one
    -- between blocks (the next block takes it back), so RSS stays near 2 blocks.
    for _, sched in ipairs { "sync", "threaded" } do
      local out, status = S.run(PRELUDE .. ([[
        local lask = require "lask"
        da.config { buffer_cache_idle_mb = 0 }
        local x = da.arange(32000000, { chunks = 4000000 })
        local seen = {}
        local d = x:sum().dask
        local key = lask.key(x:sum().name)
        for run = 1, 3 do
          local base = rss_mb()
          d.probe = { function(s)
            local c = da.config()
            seen[#seen + 1] = c.buffer_cache_buffers == 1 and c.buffer_cache_bytes >= 32000000
            return s
          end, key }
          local s = require("lask." .. %q).get(d, "probe", { num_workers = 1 })
          print(s:item(), seen[run], da.config().buffer_cache_bytes, rss_mb() - base < 100)
        end
        print(da.config { buffer_cache_mb = 0 }.buffer_cache_mb)
        print(x:sum():compute():item())
      ]]):format(sched), 60)
      assert.are.equal(0, status, out)
      assert.are.equal(string.rep("511999984000000\ttrue\t0\ttrue\n", 3) .. "0\n511999984000000\n", out, sched)
    end
  end)
  it("keeps a dropped result through a grace period, for the next get, then gives it back", function()
    local out, status = S.run(PRELUDE .. [[
      local lask = require "lask"
      print(da.config { buffer_cache_grace_ms = 300 }.buffer_cache_grace_ms)
      local base = rss_mb()
      drop(200) -- kept: the next get of the same size takes it back
      local c = da.config()
      print(c.buffer_cache_buffers, c.buffer_cache_bytes >= 200 << 20, rss_mb() - base >= 150)
      local x = da.ones({ 200 * 2 ^ 17 // 1000, 1000 }, { chunks = -1 }):compute() -- reuses it
      print(da.config().buffer_cache_bytes, x:get(1, 1))
      x = nil
      collectgarbage() collectgarbage()
      local t0 = lask.clock() -- then the trimmer gives it back, once 300 ms passed
      while da.config().buffer_cache_bytes > 0 and lask.clock() - t0 < 10 do os.execute("sleep 0.05") end
      print(da.config().buffer_cache_bytes, lask.clock() - t0 >= 0.2, rss_mb() - base < 30)
    ]], 60)
    assert.are.equal(0, status, out)
    assert.are.equal("300\n1\ttrue\ttrue\n0\t1.0\n0\ttrue\ttrue\n", out)
  end)

  it("refuses settings that are not non-negative integers", function()
    local da = require "lask.array"
    assert.has_error(function() da.config { buffer_cache_mb = -1 } end,
      "lask.array: config: buffer_cache_mb must be a non-negative integer, got -1")
    assert.has_error(function() da.config { buffer_cache_idle_mb = 1.5 } end,
      "lask.array: config: buffer_cache_idle_mb must be a non-negative integer, got 1.5")
  end)
end)

describe("a .npy file truncated by another process while its blocks live", function()
  -- from_npy's blocks were memory mappings: reading them after the truncation
  -- killed lask with SIGBUS.
  it("leaves persisted blocks intact, and a later read fails on the key", function()
    local d = tmpdir()
    local out, status = S.run(([[
      local da = require "lask.array"
      local path = %q
      da.arange(1 << 20):store(path)
      local x = da.from_npy(path, { chunks = 1 << 18 }):persist()
      os.execute("truncate -s 128 " .. path)
      print(x:sum():compute():item() == (1 << 20) * ((1 << 20) - 1) / 2)
      local ok, err = pcall(function() return da.from_npy(path) end)
      print(ok, err:match("truncated: [^\n]*"))
    ]]):format(d .. "/t.npy"), 60)
    os.execute("rm -rf " .. d)
    assert.are.equal(0, status, out)
    assert.are.equal("true\nfalse\ttruncated: the header announces 8388608 bytes of data, the file holds 0\n", out)
  end)
end)

describe("Ctrl-C during la.svd and la.qr of a very tall block", function()
  -- The QR of a whole block was one kernel call: Ctrl-C waited for it (seconds).
  -- Blocks of at least twice ~2^31 flops of rows are now factored in pieces, tasks
  -- of their own, and a get stops between tasks.
  it("factors the pieces to the same result", function()
    local da, la = require "lask.array", require "lask.array.linalg"
    local x = da.random.random({ 13500, 400 }, { chunks = -1, seed = 3 }) -- 2 pieces of 6750 rows
    local q, r = la.qr(x)
    local pieces = 0
    for k in pairs(q.dask) do if tostring(k):match("%-qr%-st1") then pieces = pieces + 1 end end
    assert.are.equal(2, pieces)
    local xc, qc, rc = x:compute(), q:compute(), r:compute()
    assert.is_true(da.abs(da.from_array(qc):dot(rc) - xc):max():compute():item() < 1e-11)
    assert.is_true(da.abs(da.from_array(qc).T:dot(qc) - da.eye(400)):max():compute():item() < 1e-12)
    local u, s, v = la.svd(x)
    assert.is_true(da.abs((u * s):dot(v) - x):max():compute():item() < 1e-11)
    assert.is_true(da.abs(s - select(2, la.svd(da.from_array(rc)))):max():compute():item() < 1e-9)
  end)

  for _, f in ipairs { "svd", "qr" } do
    it("stops la." .. f .. " of a 200000×300 block within seconds, the engine usable after", function()
      local status, text = S.interrupt(([[
        local lask, da, la = require "lask", require "lask.array", require "lask.array.linalg"
        local x = da.random.random({ 200000, 300 }, { chunks = -1, seed = 1 }):persist()
        local parts = { la.%s(x) }
        io.write("ready\n") io.flush()
        local t = lask.clock()
        local ok, err = pcall(lask.compute, table.unpack(parts))
        local took = lask.clock() - t
        print(ok, err.kind, took < 2.5 or took)
        io.stderr:write("took ", took, "\n")
        print("after", la.svd(da.eye(3)):sum():compute():item())
      ]]):format(f), 1)
      assert.matches("status 0", status)
      assert.matches("false\tinterrupted\ttrue\n.*after\t3.0\n", text)
    end)
  end
end)

describe("lask.multiprocessing fault suite", function()
  -- Each fault, ROUNDS times, in a process of its own (the parent's faults lower its
  -- address-space limit): get fails on the key of the task whose worker failed, and
  -- nothing is left behind: no child process (checked every round), no descriptor,
  -- no /dev/shm entry (counted after a warm-up round and at the end); the next get
  -- works. LASK_MP_STOPPED_SECONDS=0.02, the documented limit for stopped workers,
  -- keeps the SIGSTOP case fast.
  local ROUNDS = 50
  -- glibc raises its mmap threshold to the size of the last big block freed, and
  -- keeps as much again of free heap: the parent's limit (its size + a margin) would
  -- then be met by memory it already holds after the first round.
  local MALLOC = "MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072"
  -- ASan and TSan catch a SIGSEGV themselves (a report, then exit status 1): let it
  -- kill. LeakSanitizer stops an exiting worker's threads under ptrace to scan it
  -- (state t, which lask takes for a stopped worker past 0.02 s): no leak check here.
  local SAN = 'ASAN_OPTIONS="$ASAN_OPTIONS:handle_segv=0:detect_leaks=0" TSAN_OPTIONS="$TSAN_OPTIONS:handle_segv=0"'
  local PRELUDE = [[
    local mp = require "lask.multiprocessing"
    local da = require "lask.array"
    local ROUNDS = %d
    local function read(path) local f = io.open(path) local t = f:read("a") f:close() return t end
    local function pid_of(stat) return read(stat):match("^(%%d+)") end
    local function parent() return read("/proc/self/stat"):match("%%) %%a (%%d+)") end
    local function count(cmd)
      local p = assert(io.popen(cmd))
      local n = #p:read("a"):gsub("[^\n]", "")
      p:close()
      return n
    end
    local me = pid_of("/proc/self/stat")
    local function children() return (read(("/proc/%%s/task/%%s/children"):format(me, me)):gsub("%%s+$", "")) end
    local function fds() -- listed by a shell with no pipe to this process (popen's would come and go)
      local tmp = os.tmpname()
      os.execute("ls /proc/" .. me .. "/fd > " .. tmp)
      local n = #read(tmp):gsub("[^\n]", "")
      os.remove(tmp)
      return n
    end
    local function shm() return count("ls /dev/shm | grep lask") end -- lask's own names
    local function limit_as(pid, extra_mb) -- the soft address-space limit of pid: its size + extra_mb
      local vm = read("/proc/" .. pid .. "/status"):match("VmSize:%%s+(%%d+)")
      os.execute(("prlimit --pid %%s --as=%%d:"):format(pid, (tonumber(vm) + extra_mb * 1024) * 1024))
    end
    local function signal(sig) os.execute("kill -" .. sig .. " " .. pid_of("/proc/self/stat")) end
    local numbers = {} -- 1e5 numbers: 1.8 MB as bytes, 2 MB as a Lua table; the workers inherit it
  ]]
  local RUN = [[
    local arr = da.arange(1 << 20, { chunks = 1 << 18 }) -- blocks of 2 MB travel as shared memory
    local outcomes, fd0, shm0 = {}, nil, nil
    for i = 0, ROUNDS do -- round 0 warms up (what a first get opens for good)
      if i == 1 then fd0, shm0 = fds(), shm() end
      local d, keys = {}, {}
      for k, v in pairs(arr.dask) do d[k], keys[#keys + 1] = v, k end
      d.bad = { bad, { table.unpack(keys) } } -- after every block: the parent's faults then hit its result
      keys[#keys + 1] = "bad"
      local ok, err = pcall(mp.get, d, keys, { num_workers = 2 })
      if limited then os.execute("prlimit --pid " .. me .. " --as=unlimited:") end
      collectgarbage() collectgarbage()
      local outcome = ok and "succeeded" or (err.key .. ": " .. err.message):gsub("%d+", "N")
      if i > 0 then outcomes[outcome] = (outcomes[outcome] or 0) + 1 end
      assert(children() == "", "a child is left: " .. children())
    end
    for o, n in pairs(outcomes) do print(n, o) end
    print("fds", fds() - fd0, "shm", shm() - shm0, "next get", mp.get({ b = { function() return 5 end } }, "b"))
  ]]
  local faults = {
    { "a worker's SIGSEGV", "function() signal('SEGV') end",
      "bad: worker process N died while running the task: killed by signal N (Segmentation fault)" },
    { "a worker's SIGKILL", "function() signal('KILL') end",
      "bad: worker process N died while running the task: killed by signal N (Killed)" },
    { "a worker's exit", "function() os.exit(7, false) end",
      "bad: worker process N died while running the task: it exited with status N" },
    { "a worker's SIGSTOP", "function() signal('STOP') end", "bad: worker process N was stopped (SIGSTOP?) for N.N s while "
      .. "running the task, and was killed (LASK_MP_STOPPED_SECONDS sets the limit)" },
    { "a worker out of memory", "function() limit_as(pid_of('/proc/self/stat'), 30) return ('x'):rep(100 << 20) end",
      "bad: not enough memory", true },
    { "the parent out of memory (a 4 MB string)", "function() limit_as(parent(), 2) return ('x'):rep(4 << 20) end",
      "bad: not enough memory in the parent process to receive the task's result (N bytes) from worker process N, "
      .. "which was stopped", true },
    { "the parent out of memory (rebuilding a table of 1e5 numbers)", "function() limit_as(parent(), 3) return numbers end",
      "bad: could not rebuild the result (N bytes) from worker N: not enough memory", true },
  }
  for _, f in ipairs(faults) do
    local test = f[4] and it_unsanitized or it
    test("survives " .. f[1] .. " " .. ROUNDS .. " times without leaving anything", function()
      local setup = f[1]:match("table") and "for i = 1, 100000 do numbers[i] = i end\n" or ""
      local out, status = S.run(PRELUDE:format(ROUNDS) .. setup .. "local limited = " .. tostring(f[4] == true)
        .. "\nlocal bad = " .. f[2] .. "\n" .. RUN, 120, nil, "LASK_MP_STOPPED_SECONDS=0.02 " .. MALLOC .. " " .. SAN)
      assert.are.equal(0, status, out)
      assert.are.equal(ROUNDS .. "\t" .. f[3] .. "\nfds\t0\tshm\t0\tnext get\t5\n", out)
    end)
  end
end)
