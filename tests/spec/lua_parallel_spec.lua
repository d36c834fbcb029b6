-- lua = "parallel": Lua tasks on worker states — what is copied and how, what
-- cannot be, errors, interruption, nested gets, random graphs against lask.sync,
-- and memory over repeated gets.
-- busted runs specs in an environment of its own; the tasks here read the real
-- globals, as a user's script does.
local describe, it, assert, dofile = describe, it, assert, dofile
local _ENV = _G
local lask = require "lask"
local core = require "lask.core"
local sync = require "lask.sync"
local K = lask.kernels
local S = dofile("tests/spec/spec_helpers.lua")

local P = { lua = "parallel" }

-- n keys k1..kn each running f(i), and their list.
local function fan(f, n)
  local d, keys = {}, {}
  for i = 1, n do
    d["k" .. i] = { f, i }
    keys[i] = "k" .. i
  end
  return d, keys
end

describe("lua = parallel", function()
  it("runs Lua tasks on other Lua states: a task's writes to an upvalue stay there", function()
    local n = 0
    local function bump() n = n + 1 return n end
    local d, keys = fan(bump, 40)
    lask.get(d, keys, P)
    assert.equal(0, n)
    lask.get(d, keys)
    assert.equal(40, n)
  end)

  it("uses every worker's state", function()
    local function which()
      local s = 0
      for j = 1, 200000 do s = s + j end
      return tostring(string) -- the string library table is per state
    end
    local d, keys = fan(which, 64)
    local seen, count = {}, 0
    for _, v in ipairs(lask.get(d, keys, P)) do
      if not seen[v] then seen[v], count = true, count + 1 end
    end
    assert.equal(math.min(2, #keys), math.min(count, 2))
    assert.is_nil(seen[tostring(string)]) -- none ran on the calling state
  end)

  it("copies upvalues: deep tables, cycles, shared subtables, metatables", function()
    local shared = { 1, 2, 3 }
    local deep = { a = { b = { c = { d = "deep" } } } }
    local cyc = { name = "cyc" }
    cyc.self = cyc
    local obj = setmetatable({ v = 7 }, { __index = function(_, k) return "missing " .. k end, __add = function(a, b) return a.v + b end })
    local cfg = { x = shared, y = shared }
    local function task()
      return {
        deep.a.b.c.d,
        cyc.self.self.name,
        cfg.x == cfg.y and #cfg.x,
        obj.nope,
        obj + 3,
      }
    end
    local got = lask.get({ t = { task } }, "t", P)
    assert.same({ "deep", "cyc", 3, "missing nope", 10 }, got)
  end)

  it("copies functions, functions returning functions, C functions and modules", function()
    local fmt, str = string.format, string
    local function adder(n) return function(x) return x + n end end
    local add5 = adder(5)
    local function task(i) return fmt("%d-%s-%d", add5(i), str.rep("a", 2), adder(i)(1)) end
    local d, keys = fan(task, 10)
    local got = lask.get(d, keys, P)
    for i = 1, 10 do assert.equal(("%d-aa-%d"):format(i + 5, i + 1), got[i]) end
  end)

  it("copies string keys and tuple keys in upvalues, kernels, and ndarrays without copying their buffer", function()
    local keyt = { ["x"] = 1, [lask.key("y", 2)] = 2 }
    local tk = lask.key("z", 3)
    local nd = core.asarray({ 1, 2, 3 })
    local function task()
      local s = 0
      for k, v in pairs(keyt) do s = s + v end
      return { s, tostring(tk), K.add(2, 3), core.ndarray.id(nd), tostring(nd) }
    end
    local got = lask.get({ t = { task } }, "t", P)
    assert.same({ 3, tostring(tk), 5, core.ndarray.id(nd), tostring(nd) }, got)
    -- tuple keys as graph keys and in results
    local d = { [lask.key("a", 1)] = { function() return lask.key("r", 1) end } }
    local r = lask.get(d, lask.key("a", 1), P)
    assert.is_true(lask.iskey(r))
    assert.equal(tostring(lask.key("r", 1)), tostring(r))
  end)

  it("gives results back: numbers, strings, tables with functions, ndarrays", function()
    local d = {
      a = { function() return 1.5 end },
      b = { function() return "s" end },
      c = { function() return { t = { 1, 2 }, f = function(x) return x * 2 end } end },
      e = { function(c) return c.f(c.t[2]) end, "c" }, -- a copied table as an argument
      n = { function() return core.asarray({ 4, 5 }) end },
    }
    local got = lask.get(d, { "a", "b", "c", "e", "n" }, P)
    assert.equal(1.5, got[1])
    assert.equal("s", got[2])
    assert.same({ 1, 2 }, got[3].t)
    assert.equal(42, got[3].f(21))
    assert.equal(4, got[4])
    assert.equal(tostring(core.asarray({ 4, 5 })), tostring(got[5]))
  end)

  it("snapshots the caller's globals at the get's start; tasks' writes stay on the worker", function()
    H13_G = { n = 10 }
    function H13_F(x) return x + H13_G.n end
    local function task(i) H13_W = i return H13_F(i) end
    local d, keys = fan(task, 8)
    assert.same({ 11, 12, 13, 14, 15, 16, 17, 18 }, lask.get(d, keys, P))
    assert.is_nil(H13_W)
    H13_G = { n = 100 }
    assert.same({ 101, 102, 103, 104, 105, 106, 107, 108 }, lask.get(d, keys, P))
    assert.equal(100, lask.get({ t = { function() return _G.H13_G.n end } }, "t", P))
    H13_G, H13_F = nil, nil
  end)

  describe("what cannot be copied", function()
    local cases = {
      { "a coroutine", "co", "thread", function() local co = coroutine.create(print) return function() return type(co) end end },
      { "a userdata lask does not know", "f", "userdata", function() local f = io.stdout return function() return io.type(f) end end },
      { "a C function not in package.loaded", "w", "function", function()
        local w = coroutine.wrap(function() while true do coroutine.yield(1) end end)
        return function() return w() end
      end },
    }
    for _, c in ipairs(cases) do
      it(c[1] .. ": runs on the calling state, or fails with strict naming the key, upvalue and type", function()
        local f = c[4]()
        local want = f()
        assert.equal(want, lask.get({ t = { f } }, "t", P))
        assert.equal(want, lask.get({ t = { f } }, "t"))
        local ok, err = pcall(lask.get, { t = { f } }, "t", { lua = "parallel", strict = true })
        assert.is_false(ok)
        assert.equal("t", err.key)
        assert.matches("upvalue '" .. c[2] .. "' is a " .. c[3], err.message, 1, true)
      end)
    end

    it("a global that cannot be copied fails when a worker task reads it", function()
      H13_CO = coroutine.create(print)
      local ok, err = pcall(lask.get, { t = { function() return H13_CO end } }, "t", P)
      assert.is_false(ok)
      assert.matches("global 'H13_CO' cannot be copied", err.message, 1, true)
      H13_CO = nil
    end)
  end)

  it("reports a worker task's error with its key, message and traceback; the first error stops the get", function()
    local function boom(i) if i == 3 then error("boom " .. i) end return i end
    local d, keys = fan(boom, 6)
    local ok, err = pcall(lask.get, d, keys, P)
    assert.is_false(ok)
    assert.equal("task", err.kind)
    assert.equal("k3", err.key)
    assert.matches("boom 3", err.message)
    assert.matches("lua_parallel_spec.lua:%d+: in", err.traceback)
    assert.matches("lask: task 'k3' failed", tostring(err))
    -- the states stay usable
    assert.same({ 1, 2 }, lask.get(fan(function(i) return i end, 2), { "k1", "k2" }, P))
  end)

  it("lets a task call lask.get (nested, on its worker)", function()
    local function inner(i)
      local l = require "lask"
      return l.get({ a = i, b = { function(a) return a * 10 end, "a" }, c = { l.kernels.inc, "b" } }, "c", { lua = "parallel" })
    end
    local d, keys = fan(inner, 6)
    assert.same({ 11, 21, 31, 41, 51, 61 }, lask.get(d, keys, P))
  end)

  it("lets a task that runs on the calling state call a parallel get", function()
    local co = coroutine.create(print) -- cannot be copied: the task runs on the calling state
    local function outer(i)
      local _ = co
      local d = {}
      for j = 1, 10 do d["x" .. j] = { function(a) return a * j end, i } end
      local s = 0
      for _, v in ipairs(lask.get(d, { "x1", "x2", "x3", "x10" }, { lua = "parallel" })) do s = s + v end
      return s
    end
    local d, keys = fan(outer, 4)
    d.other = { function() local x = 0 for j = 1, 1e5 do x = x + j end return x end }
    keys[#keys + 1] = "other"
    assert.same({ 16, 32, 48, 64, 5000050000 }, lask.get(d, keys, P))
  end)

  it("delivers callbacks on the calling thread", function()
    local done = {}
    local cb = { posttask = function(key) done[#done + 1] = key end }
    local d, keys = fan(function(i) return i end, 20)
    lask.get(d, keys, { lua = "parallel", callbacks = { cb } })
    assert.equal(20, #done)
  end)

  it("shows in the Profiler and the ProgressBar which Lua tasks ran on the calling state", function()
    local diag = require "lask.diagnostics"
    local co = coroutine.create(print)
    local d = { a = { function() return type(co) end }, b = { function() return 1 end } }
    do
      local prof <close> = diag.Profiler()
      lask.get(d, { "a", "b" }, P)
      local seen = {}
      for _, row in ipairs(prof.results) do seen[row.key] = row.on_caller or false end
      assert.same({ a = true, b = false }, seen)
    end
    if not os.execute("command -v script >/dev/null 2>&1") then return end
    local path = os.tmpname()
    S.write_file(path, [[
      local lask = require "lask"
      local bar <close> = require("lask.diagnostics").ProgressBar({ minimum = 0 })
      local co = coroutine.create(print)
      local d = { a = { function() local t = lask.clock() while lask.clock() - t < 0.2 do end return type(co) end } }
      lask.get(d, "a", { lua = "parallel" })
    ]])
    local p = io.popen("script -qfec '" .. S.BIN .. " " .. path .. "' /dev/null")
    local out = p:read("a")
    p:close()
    os.remove(path)
    assert.matches("1 Lua task ran on the calling state", out, 1, true)
  end)

  it("runs lask.array's map_blocks tasks with a Lua function on worker states (blocks shared, not copied)", function()
    local da = require "lask.array"
    local x = da.arange(0, 100, 1, { chunks = 10 })
    local y = da.map_blocks(function(b) return b * 2 + 1 end, x)
    local keys = {}
    for i = 0, 9 do keys[#keys + 1] = lask.key(y.name, i) end
    local got = lask.get(y.dask, keys, { lua = "parallel", strict = true })
    local want = lask.get(y.dask, keys)
    for i = 1, 10 do
      assert.equal(tostring(want[i]), tostring(got[i]))
      assert.equal((i - 1) * 10 * 2 + 1, got[i]:get(1))
    end
  end)

  it("runs map_blocks's Lua function on worker states through x:compute{lua = \"parallel\"}", function()
    local da = require "lask.array"
    local x = da.arange(0, 100, 1, { chunks = 10 })
    local uv = { scale = 2 } -- an upvalue, copied to each worker
    local y = da.map_blocks(function(b) return b * uv.scale + 1 end, x)
    -- strict: a block function that could not be copied would be an error, not the caller's
    local got = y:compute { lua = "parallel", strict = true }
    for i = 1, 100 do assert.equal((i - 1) * 2 + 1, got:get(i)) end
    local co = coroutine.create(function() end)
    local z = da.map_blocks(function(b) return co and b end, x)
    assert.error_matches(function() z:compute { lua = "parallel", strict = true } end, "upvalue 'co' is a thread")
    assert.equal(99, z:compute({ lua = "parallel" }):get(100))
  end)

  it("is accepted by lask.sync and lask.multiprocessing (which run as always) and works with optimize", function()
    local d = { a = 1, b = { function(a) return a + 1 end, "a" }, c = { function(b) return b * 2 end, "b" } }
    assert.equal(4, sync.get(d, "c", P))
    assert.equal(4, require("lask.multiprocessing").get(d, "c", P))
    assert.equal(4, lask.get(d, "c", { lua = "parallel", optimize = true }))
  end)

  it("refuses an unknown lua option, naming the valid ones", function()
    local ok, err = pcall(lask.get, { a = 1 }, "a", { lua = "threads" })
    assert.is_false(ok)
    assert.matches('"caller" or "parallel"', tostring(err), 1, true)
  end)

  it("equals lask.sync on random graphs", function()
    local seed = os.time()
    print("lua_parallel random graphs seed", seed)
    local rng = math.random
    math.randomseed(seed)
    local function lua_add(a, b) return a + b end
    local function lua_sum(t) local s = 0 for _, v in ipairs(t) do s = s + v end return s end
    local function lua_pair(a, b) return { a, b } end
    local function lua_first(t) return t[1] + t[2] end
    local tasks = {
      function(dep, r) return { K.add, dep(), r(10) } end,
      function(dep) return { lua_add, dep(), dep() } end,
      function(dep) return { lua_sum, { dep(), { K.inc, dep() } } } end,
      function(dep) return { lua_first, { lua_pair, dep(), { lua_add, dep(), 1 } } } end,
      function(dep) return { K.sub, dep(), { lua_add, dep(), 1 } } end,
    }
    for _, n in ipairs({ 50, 2000, 100000 }) do
      local d, keys = S.random_graph(rng, n, tasks)
      local want = sync.get(d, keys)
      local got = lask.get(d, keys, P)
      for i = 1, #keys do
        if want[i] ~= got[i] then error(("seed %d, n %d: key %s: %s ~= %s"):format(seed, n, tostring(keys[i]), tostring(got[i]), tostring(want[i]))) end
      end
    end
  end)

  it("loads a function once per worker state while it stays the same, with fresh upvalues each get", function()
    -- Is the running closure one a worker state keeps across gets (its registry maps
    -- a binary chunk, "\27Lua...", to the closures loaded from it)?
    local function kept()
      local me = debug.getinfo(1, "f").func
      for _, t in pairs(debug.getregistry()) do
        if type(t) == "table" then
          for k, pool in pairs(t) do
            if type(k) == "string" and k:sub(1, 4) == "\27Lua" and type(pool) == "table" then
              for _, c in ipairs(pool) do
                if c == me then return true end
              end
            end
          end
        end
      end
      return false
    end
    local scale = 1
    local function f(i) return i * scale, kept() end
    for g = 1, 3 do
      scale = g -- a new snapshot of the upvalue each get, though the closure is kept
      local d, keys = {}, {}
      for i = 1, 20 do
        d["t" .. i] = { function(a) return { f(a) } end, i }
        keys[i] = "t" .. i
      end
      local got = lask.get(d, keys, P)
      for i = 1, 20 do
        assert.equal(i * g, got[i][1])
        assert.is_true(got[i][2], "closure not kept")
      end
    end
    -- closures of one function with different upvalues, in one get
    local d, keys = {}, {}
    for i = 1, 50 do
      local v = i
      d["c" .. i] = { function() return v end }
      keys[i] = "c" .. i
    end
    local got = lask.get(d, keys, P)
    for i = 1, 50 do assert.equal(i, got[i]) end
  end)

  it("keeps the worker states' memory flat over repeated gets", function()
    -- the issue's size, 100 gets of 100k tasks; smaller under the sanitizers (slow)
    local sanitized = (os.getenv("BUILD") or "build") ~= "build"
    local ngets, ntasks = sanitized and 12 or 100, sanitized and 5000 or 100000
    local big = {}
    for i = 1, 1000 do big[i] = { i } end
    local function task(i) return #big + i end
    local d, keys = fan(task, ntasks)
    d.mem = { function() return collectgarbage("count") end, keys }
    local mems = {}
    for g = 1, ngets do mems[g] = lask.get(d, "mem", P) end
    local early = math.max(mems[4], mems[5], mems[6])
    local late = math.max(mems[ngets - 2], mems[ngets - 1], mems[ngets])
    assert.is_true(late < early * 1.5 + 200, ("worker memory grew: %.0f KiB -> %.0f KiB"):format(early, late))
  end)

  it("Ctrl-C interrupts a long pure-Lua loop on the workers", function()
    local status, text = S.interrupt([[
      local lask = require "lask"
      local d, keys = {}, {}
      for i = 1, 4 do d["k" .. i] = { function() local x = 0 while true do x = x + 1 end end } keys[i] = "k" .. i end
      io.write("ready\n") io.flush()
      local ok, err = pcall(lask.get, d, keys, { lua = "parallel" })
      print(ok, err.kind)
      print("after", lask.get({ a = { function() return 41 + 1 end } }, "a", { lua = "parallel" }))
    ]], 1)
    assert.matches("status 0", status)
    assert.matches("false\tinterrupted", text)
    assert.matches("after\t42", text)
  end)
end)
