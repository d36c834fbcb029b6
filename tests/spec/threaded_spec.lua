-- lask.threaded against lask.sync: randomized graphs, callbacks, nested gets,
-- workers, interruption.
local lask = require "lask"
local threaded = require "lask.threaded"
local sync = require "lask.sync"
local callbacks = require "lask.callbacks"
local K = lask.kernels

-- A random DAG mixing native kernels, Lua functions, lists and nested tasks.
local function lua_add(a, b) return a + b end
local function lua_sum(t) local s = 0 for _, v in ipairs(t) do s = s + v end return s end
local RANDOM_TASKS = {
  function(dep, rng) return { K.add, dep(), rng(10) } end,
  function(dep) return { lua_add, dep(), dep() } end,
  function(dep) return { K.sum, { dep(), dep(), dep() } } end,
  function(dep) return { lua_sum, { dep(), { K.inc, dep() } } } end,
  function(dep) return { K.mul, { K.identity, dep() }, 1 } end,
  function(dep) return { K.sub, dep(), { lua_add, dep(), 1 } } end,
}
local function random_graph(rng, n)
  local S = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "spec_helpers.lua")
  return S.random_graph(rng, n, RANDOM_TASKS)
end

describe("lask.threaded", function()
  it("gives the same results as lask.sync on random graphs", function()
    local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
    print(("# threaded_spec seed %d (set LASK_SEED to replay)"):format(seed))
    math.randomseed(seed)
    local rng = math.random
    for round = 1, 30 do
      local d, keys = random_graph(rng, rng(300))
      local want = {}
      for i = 1, 5 do want[i] = keys[rng(#keys)] end
      local expected = sync.get(d, want)
      for _, workers in ipairs { 1, 2, 3 } do
        assert.are.same(expected, threaded.get(d, want, { num_workers = workers }),
          ("round %d, %d workers, seed %d"):format(round, workers, seed))
      end
    end
  end)

  it("runs native fan-ins and trees of 1,000,000 tasks repeatedly", function()
    local fan, keys = {}, {}
    for i = 1, 1000000 do
      local k = lask.key("x", i)
      fan[k] = { K.inc, i }
      keys[i] = k
    end
    fan.total = { K.sum, keys }
    local tree, level = {}, {}
    for i = 1, 1 << 19 do
      local k = lask.key("t", 0, i)
      tree[k] = i
      level[i] = k
    end
    local depth = 0
    while #level > 1 do
      depth = depth + 1
      local up = {}
      for i = 1, #level, 2 do
        local k = lask.key("t", depth, (i + 1) // 2)
        tree[k] = { K.add, level[i], level[i + 1] }
        up[#up + 1] = k
      end
      level = up
    end
    local n = 1 << 19
    for _ = 1, 2 do
      assert.are.equal(1000000 * 1000001 // 2 + 1000000, threaded.get(fan, "total"))
      assert.are.equal(n * (n + 1) // 2, threaded.get(tree, level[1]))
    end
  end)

  it("calls callbacks on the calling thread, once per task, with worker ids", function()
    local d, keys = {}, {}
    for i = 1, 200 do
      d["a" .. i] = { K.spin, i, 20 }
      keys[i] = "a" .. i
    end
    d.total = { K.sum, keys }
    local events = { start = 0, pre = {}, post = {}, finish = 0, workers = {} }
    do
      local cb <close> = callbacks.Callback {
        start = function(dsk) assert.are.equal(d, dsk) events.start = events.start + 1 end,
        pretask = function(key) events.pre[key] = (events.pre[key] or 0) + 1 end,
        posttask = function(key, result, _, state, worker)
          events.post[key] = result
          events.workers[worker] = true
          assert.is_true(state.done >= 1)
        end,
        finish = function(_, _, errored) events.finish = events.finish + 1 assert.is_false(errored) end,
      }
      assert.are.equal(200 * 201 // 2, threaded.get(d, "total", { num_workers = 2 }))
    end
    assert.are.equal(1, events.start)
    assert.are.equal(1, events.finish)
    for i = 1, 200 do
      assert.are.equal(1, events.pre["a" .. i])
      assert.are.equal(i, events.post["a" .. i])
    end
    assert.are.equal(200 * 201 // 2, events.post.total)
    for w in pairs(events.workers) do assert.is_true(w == 0 or w == 1, "worker id " .. w) end
    -- closed: no longer called
    local calls = 0
    threaded.get(d, "a1", { callbacks = { { pretask = function() calls = calls + 1 end } } })
    assert.are.equal(1, calls)
  end)

  it("tells finish about an error", function()
    local errored
    pcall(threaded.get, { a = { function() error("x") end } }, "a",
      { callbacks = { { finish = function(_, _, e) errored = e end } } })
    assert.is_true(errored)
  end)

  it("supports a get inside a Lua task (nested get)", function()
    local inner = { x = 1, y = { K.inc, "x" } }
    local d = {
      a = { function() return threaded.get(inner, "y") end },
      b = { function(v) return v + threaded.get(inner, "x") + sync.get(inner, "y") end, "a" },
      c = { K.add, "b", "a" },
    }
    assert.are.equal(7, threaded.get(d, "c"))
  end)

  it("cancels the rest after a failure and stays usable", function()
    local d, keys = {}, {}
    for i = 1, 10000 do
      d[i % 2 == 0 and "k" .. i or lask.key("k", i)] = { K.spin, i, 5 }
      keys[i] = i % 2 == 0 and "k" .. i or lask.key("k", i)
    end
    d.bad = { K.add, "k2", "not a number" }
    keys[#keys + 1] = "bad"
    d.total = { K.sum, keys }
    local t0 = lask.clock()
    local ok, err = pcall(threaded.get, d, "total")
    assert.is_false(ok)
    assert.are.equal("bad", err.key)
    assert.is_true(lask.clock() - t0 < 10)
    assert.are.equal(3, threaded.get({ a = { K.add, 1, 2 } }, "a"))
  end)

  it("rejects bad options", function()
    assert.has_error(function() threaded.get({ a = 1 }, "a", { num_workers = 0 }) end,
      "get: num_workers must be a positive integer, got 0")
    assert.has_error(function() threaded.get({ a = 1 }, "a", 5) end, "get: opts must be a table, got number")
  end)
end)

describe("Ctrl-C during a get", function()
  local S = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "spec_helpers.lua")

  it("interrupts native and Lua work with an error and leaves the engine usable", function()
    local status, text = S.interrupt([[
      local lask = require "lask"
      local d = { k0 = 0 }
      for i = 1, 20000 do d["k" .. i] = { lask.kernels.spin, "k" .. (i - 1), 1000 } end
      io.write("ready\n") io.flush()
      local t = lask.clock()
      local ok, err = pcall(lask.get, d, "k20000")
      print(ok, err.kind, lask.clock() - t < 10)
      local function slow(x) local t0 = lask.clock() while lask.clock() - t0 < 0.001 do end return x + 1 end
      local d2 = { k0 = 0 }
      for i = 1, 20000 do d2["k" .. i] = { slow, "k" .. (i - 1) } end
      io.write("ready\n") io.flush()
      ok, err = pcall(lask.get, d2, "k20000")
      print(ok, err.kind)
      print("after", lask.get({ x = 1, y = { lask.kernels.inc, "x" } }, "y"))
    ]], 2)
    assert.matches("status 0", status)
    assert.matches("false\tinterrupted\ttrue", text)
    assert.matches("false\tinterrupted\n", text)
    assert.matches("after\t2", text)
  end)
end)

describe("an idle engine", function()
  -- utime + stime of this process, in clock ticks (fields 14 and 15 of /proc/self/stat).
  local function cpu_ticks()
    local stat = assert(io.open("/proc/self/stat")):read("a")
    local fields = {}
    for f in stat:match("%) (.*)"):gmatch("%S+") do fields[#fields + 1] = f end
    return tonumber(fields[12]) + tonumber(fields[13]) -- fields after the command name
  end

  it("uses no CPU between gets (its workers sleep)", function()
    local d, keys = {}, {}
    for i = 1, 10000 do d["k" .. i] = { lask.kernels.inc, i } keys[i] = "k" .. i end
    d.total = { lask.kernels.sum, keys }
    threaded.get(d, "total")
    local before = cpu_ticks()
    os.execute("sleep 1")
    local used = cpu_ticks() - before
    assert.is_true(used <= 2, ("the idle engine used %d clock ticks in 1 s"):format(used))
  end)
end)

describe("callbacks", function()
  for _, sched in ipairs { { "sync", sync.get }, { "threaded", threaded.get } } do
    local name, get = sched[1], sched[2]

    it(name .. ": timeline(trace) gets every task with its worker and times", function()
      local d, keys = {}, {}
      for i = 1, 100 do d["a" .. i] = { K.spin, i, 50 } keys[i] = "a" .. i end
      d.total = { K.sum, keys }
      local seen
      local t0 = lask.clock()
      get(d, "total", { callbacks = { { timeline = function(trace) seen = trace end } } })
      local wall = lask.clock() - t0
      assert.are.equal(101, #seen)
      local count, workers = {}, {}
      for i = 1, #seen do
        local key, start, finish, worker, head = seen:event(i)
        count[key] = (count[key] or 0) + 1
        assert.is_true(start >= 0 and finish >= start and finish <= wall + 0.01)
        if key ~= "total" then
          assert.are.equal(K.spin, head)
          assert.is_true(finish - start >= 49e-6, "a spin of 50 us took " .. (finish - start))
        end
        workers[worker] = true
        assert.is_true(worker >= 0 and worker < seen.nworkers)
      end
      for i = 1, 100 do assert.are.equal(1, count["a" .. i]) end
      assert.are.equal(1, count.total)
    end)

    it(name .. ": an error in a callback stops the get with a clear error", function()
      local d = { a = { K.inc, 1 }, b = { K.inc, "a" } }
      local ok, err = pcall(get, d, "b", { callbacks = { { posttask = function(key) error("cb broke on " .. key) end } } })
      assert.is_false(ok)
      assert.are.equal("callback", err.kind)
      assert.matches("callback posttask failed: .*cb broke on a", tostring(err))
      ok, err = pcall(get, d, "b", { callbacks = { { start = function() error("no start") end } } })
      assert.matches("callback start failed: .*no start", tostring(err))
      assert.are.equal(2 + 1, get(d, "b"))
    end)
  end
end)

describe("load balance", function()
  it("wakes the calling thread for native work a pool thread makes ready", function()
    -- one long task, then 8 that depend on it: whichever worker ran the first,
    -- both workers share the 8 (each spins 50 ms: ideally 0.2 + 4 × 0.05 s)
    for _ = 1, 3 do
      local d = { first = { K.spin, 1, 200000 } }
      local keys = {}
      for i = 1, 8 do d["t" .. i] = { K.spin, "first", 50000 } keys[i] = "t" .. i end
      d.total = { K.sum, keys }
      local workers = {}
      threaded.get(d, "total", { num_workers = 2, callbacks = { {
        timeline = function(trace)
          for i = 1, #trace do
            local key, _, _, worker = trace:event(i)
            if key ~= "first" and key ~= "total" then workers[worker] = (workers[worker] or 0) + 1 end
          end
        end } } })
      assert.is_true((workers[0] or 0) >= 2 and (workers[1] or 0) >= 2,
        ("the 8 tasks ran %d on the calling thread, %d on the pool thread"):format(workers[0] or 0, workers[1] or 0))
    end
  end)
end)
