-- The graph semantics of the README through lask.sync (and lask.get): keys, tasks,
-- arguments, results, errors, release of intermediates.
local lask = require "lask"
local sync = require "lask.sync"

local function inc(i) return i + 1 end
local function add(a, b) return a + b end

for _, sched in ipairs { { "lask.sync", sync.get }, { "lask.get", lask.get } } do
  local name, get = sched[1], sched[2]

  describe(name .. " on the talk's graph", function()
    local d = { x = 1, y = { inc, "x" }, z = { add, "y", 10 } }

    it("computes get(d, 'z') = 12", function()
      assert.are.equal(12, get(d, "z"))
    end)

    it("returns literals and intermediate keys", function()
      assert.are.equal(1, get(d, "x"))
      assert.are.equal(2, get(d, "y"))
    end)

    it("mirrors nested lists of keys", function()
      assert.are.same({ 1, { 2, 12 } }, get(d, { "x", { "y", "z" } }))
      assert.are.same({}, get(d, {}))
      assert.are.same({ 12, 12 }, get(d, { "z", "z" }))
    end)
  end)

  describe(name .. " arguments", function()
    it("treats a string that is not a key as a literal", function()
      local d = { a = { function(s, t) return s .. t end, "hello", "b" }, b = "world" }
      assert.are.equal("helloworld", get(d, "a"))
    end)

    it("evaluates list arguments element by element, recursively", function()
      local k = lask.key
      local d = {
        [k("x", 0)] = 1, [k("x", 1)] = 2, [k("x", 2)] = 3,
        s = { function(t) local s = 0 for _, v in ipairs(t) do s = s + v end return s end,
              { k("x", 0), k("x", 1), k("x", 2) } },
        nested = { function(t) return t[2][1] + t[2][2] + t[1] end, { "s", { k("x", 0), 100 } } },
      }
      assert.are.equal(6, get(d, "s"))
      assert.are.equal(107, get(d, "nested"))
    end)

    it("runs nested tasks inline", function()
      local d = { x = 1, z = { add, { inc, "x" }, { add, { inc, 10 }, "x" } } }
      assert.are.equal(14, get(d, "z"))
    end)

    it("resolves aliases and list values at the top level", function()
      local d = { x = 1, y = "x", l = { "x", "y", "not-a-key" } }
      assert.are.equal(1, get(d, "y"))
      assert.are.same({ 1, 1, "not-a-key" }, get(d, "l"))
    end)

    it("passes quoted values as they are", function()
      local task = { inc, "x" }
      local d = { x = 1, q = { function(v) return v end, lask.quote(task) }, s = { function(v) return v end, lask.quote("x") } }
      assert.are.equal(task, get(d, "q"))
      assert.are.equal("x", get(d, "s"))
    end)

    it("passes tables with string keys, functions and empty tables as literals", function()
      local obj, fn = { a = 1 }, function() end
      local d = { r = { function(a, b, c) return { a, b, c } end, obj, fn, {} } }
      local r = get(d, "r")
      assert.are.equal(obj, r[1])
      assert.are.equal(fn, r[2])
      assert.are.same({}, r[3])
    end)

    it("accepts callable tables and native kernels as heads", function()
      local callable = setmetatable({}, { __call = function(_, a) return a * 3 end })
      local K = lask.kernels
      local d = { x = 2, a = { callable, "x" }, b = { K.add, "a", { K.inc, "x" } } }
      assert.are.equal(6, get(d, "a"))
      assert.are.equal(9, get(d, "b"))
    end)

    it("keeps tuple keys and string keys apart", function()
      local d = { ["('x', 0)"] = "string", [lask.key("x", 0)] = "tuple" }
      assert.are.equal("tuple", get(d, lask.key("x", 0)))
      assert.are.equal("string", get(d, "('x', 0)"))
    end)

    it("handles a missing result (nil) as a value", function()
      local d = { n = { function() return nil end }, m = { function(v) return v == nil end, "n" } }
      assert.is_true(get(d, "m"))
      assert.is_nil(get(d, "n"))
    end)
  end)

  describe(name .. " memory", function()
    it("releases an intermediate as soon as its last dependent has run", function()
      local weak = setmetatable({}, { __mode = "v" })
      local d = {
        a = { function() local t = { "big" } weak.a = t return t end },
        b = { function(t) return #t end, "a" },
        c = { function(n) collectgarbage() collectgarbage() return { n, weak.a == nil } end, "b" },
      }
      local r = get(d, "c")
      assert.are.equal(1, r[1])
      assert.is_true(r[2], "a's value was still alive after its only dependent ran")
    end)

    it("keeps a requested intermediate alive", function()
      local d = { a = { function() return { 1 } end }, b = { function(t) collectgarbage() return t[1] end, "a" } }
      local r = get(d, { "a", "b" })
      assert.are.same({ { 1 }, 1 }, r)
    end)
  end)

  describe(name .. " errors", function()
    local function catch(...)
      local ok, err = pcall(get, ...)
      assert.is_false(ok, "expected an error")
      return err
    end

    it("reports a cycle with its keys before running anything", function()
      local ran = false
      local d = { a = { add, "b", 1 }, b = { add, "c", 1 }, c = { add, "a", 1 }, s = { function() ran = true end }, t = { add, "s", "a" } }
      local err = catch(d, "t")
      assert.are.equal("cycle", err.kind)
      assert.are.equal(3, #err.cycle)
      local set = {}
      for _, k in ipairs(err.cycle) do set[k] = true end
      assert.are.same({ a = true, b = true, c = true }, set)
      assert.matches("cycle", tostring(err))
      assert.matches("'a'", tostring(err))
      assert.is_false(ran)
    end)

    it("reports a self-reference as a cycle", function()
      local err = catch({ a = { inc, "a" } }, "a")
      assert.are.same({ "a" }, err.cycle)
    end)

    it("reports a missing dependency naming both keys", function()
      local err = catch({ a = { inc, lask.key("b", 3) } }, "a")
      assert.are.equal("missing", err.kind)
      assert.matches("'a'", err.message)
      assert.matches("%('b', 3%)", err.message)
    end)

    it("reports a requested key absent from the graph", function()
      local err = catch({ a = 1 }, "nope")
      assert.matches("'nope' is not in the graph", tostring(err))
    end)

    it("reports a non-callable (nil) head", function()
      local undefined_function
      local err = catch({ x = 1, a = { undefined_function, "x" } }, "a")
      assert.are.equal("a", err.key)
      assert.matches("not a function", tostring(err))
    end)

    it("reports keys of a wrong type", function()
      assert.matches("numbers are never keys", tostring(catch({ [1] = 5 }, 1)))
      assert.matches("not boolean", tostring(catch({ a = 1 }, true)))
    end)

    it("carries the key, message and Lua traceback of a failing task", function()
      local function fails(v) error("bad value " .. v) end
      local err = catch({ x = 1, y = { fails, "x" }, z = { add, "y", 1 } }, "z")
      assert.are.equal("task", err.kind)
      assert.are.equal("y", err.key)
      assert.matches("bad value 1", err.message)
      assert.matches("get_spec.lua:%d+: in function", err.traceback)
      assert.not_matches("busted", err.traceback) -- only the task's own frames
      assert.matches("^lask: task 'y' failed: .*bad value 1", tostring(err))
    end)

    it("names the outer task for an error in a nested task, and tuple keys", function()
      local err = catch({ [lask.key("t", 2)] = { inc, { function() error("inner") end } } }, lask.key("t", 2))
      assert.are.equal(lask.key("t", 2), err.key)
      assert.matches("inner", err.message)
      assert.matches("%('t', 2%)", tostring(err))
    end)

    it("reports errors of native kernels with the key", function()
      local err = catch({ a = { lask.kernels.add, 1, "not a number" } }, "a")
      assert.are.equal("a", err.key)
      assert.matches("add: argument 2 is a string", err.message)
    end)

    it("keeps non-string error values", function()
      local value = { code = 42 }
      local err = catch({ a = { function() error(value) end } }, "a")
      assert.are.equal(value, err.value)
    end)

    it("stops at the first error and leaves the engine usable", function()
      local ran = {}
      local d = { a = { function() error("first") end }, b = { function(v) ran.b = true return v end, "a" } }
      catch(d, "b")
      assert.is_nil(ran.b)
      assert.are.equal(12, get({ x = 1, y = { inc, "x" }, z = { add, "y", 10 } }, "z"))
    end)
  end)

  describe(name .. " at scale", function()
    it("runs a chain of 1,000,000 tasks without overflowing a stack", function()
      local d = { k0 = 0 }
      local K = lask.kernels
      for i = 1, 1000000 do d["k" .. i] = { K.inc, "k" .. (i - 1) } end
      assert.are.equal(1000000, get(d, "k1000000"))
    end)

    it("runs a fan-in of 1,000,000 Lua tasks", function()
      local d, keys = {}, {}
      local function one() return 1 end
      for i = 1, 1000000 do
        local k = lask.key("one", i)
        d[k] = { one }
        keys[i] = k
      end
      d.total = { lask.kernels.sum, keys }
      assert.are.equal(1000000, get(d, "total"))
    end)
  end)
end

describe("lask.sync order of execution", function()
  it("runs tasks in lask.order priority order", function()
    local seen = {}
    local function rec(k) return function(...) seen[#seen + 1] = k return 0 end end
    local d = {}
    local k = lask.key
    for i = 0, 3 do
      d[k("x", i)] = { rec("x" .. i) }
      d[k("s", i)] = { rec("s" .. i), k("x", i) }
    end
    d.total = { rec("total"), { k("s", 0), k("s", 1), k("s", 2), k("s", 3) } }
    sync.get(d, "total")
    assert.are.same({ "x0", "s0", "x1", "s1", "x2", "s2", "x3", "s3", "total" }, seen)
    local o = lask.order(d)
    assert.is_true(o[k("x", 0)] < o[k("s", 0)] and o[k("s", 0)] < o[k("x", 1)])
    assert.are.equal(8, o.total)
  end)
end)

-- issue 15 (10): unknown options were ignored ({scheduler = "processes"} ran on
-- threads, {schedular = "sync"} ran); each get and compute names the valid ones.
describe("options of every get", function()
  local d = { x = 1, y = { inc, "x" } }
  local gets = { sync = sync.get, threaded = require("lask.threaded").get,
    multiprocessing = require("lask.multiprocessing").get, ["lask.get"] = lask.get }

  for name, get in pairs(gets) do
    it(name .. " rejects unknown options with the valid names", function()
      assert.error_matches(function() get(d, "y", { scheduler = "processes" }) end,
        "unknown option 'scheduler' %(valid options: callbacks, lua, num_workers, optimize, strict%).*lask%.multiprocessing%.get")
      assert.error_matches(function() get(d, "y", { num_worker = 2 }) end, "did you mean 'num_workers'%?")
      assert.error_matches(function() get(d, "y", { lua = "threads" }) end, 'lua must be "caller" or "parallel"')
      assert.error_matches(function() get(d, "y", { 5 }) end, "unknown option 1")
    end)

    it(name .. " accepts every valid option", function()
      assert.equal(2, get(d, "y", { num_workers = 1, callbacks = {}, optimize = true, lua = "caller" }))
      assert.equal(2, get(d, "y", { lua = "parallel" }))
    end)
  end

  it("compute rejects unknown options, with did you mean", function()
    local da = require "lask.array"
    local x = da.ones({ 4 }, { chunks = 2 })
    assert.error_matches(function() x:compute({ schedular = "sync" }) end,
      "compute: unknown option 'schedular'; did you mean 'scheduler'%?")
    assert.error_matches(function() lask.compute(x, { schedular = "sync" }) end, "did you mean 'scheduler'%?")
    assert.error_matches(function() lask.compute(x, { scheduler = "sync", fusee = false }) end, "'fusee'")
    assert.equal(4, x:sum():compute({ scheduler = "sync", fuse = false, lua = "caller" }):get())
    -- a plain table that names no option is a value, given back
    assert.same({ a = 1 }, select(2, lask.compute(x, { a = 1 })))
  end)
end)

-- issue 15 (11): the native kernels module by the name the threaded issue gave it
describe("require 'lask.kernels'", function()
  it("is lask.kernels, whose kernels run as task heads", function()
    local K = require "lask.kernels"
    assert.equal(lask.kernels, K)
    assert.equal(3, lask.get({ a = 1, b = { K.add, "a", 2 } }, "b"))
    assert.equal("add", tostring(K.add))
  end)
end)

-- issue 15 (8): sync and threaded called pretask/posttask for data keys, the
-- multiprocessing scheduler did not; Dask calls them for tasks only.
describe("callbacks see tasks only, on every scheduler", function()
  for _, name in ipairs({ "sync", "threaded", "multiprocessing" }) do
    it(name, function()
      local pre, post, state = {}, {}, nil
      local cb = {
        pretask = function(k) pre[#pre + 1] = tostring(k) end,
        posttask = function(k, v) post[#post + 1] = tostring(k) .. "=" .. tostring(type(v) == "table" and #v or v) end,
        finish = function(_, s) state = s end,
      }
      local d = { x = 1, l = { 1, 2 }, y = { inc, "x" }, a = "y", z = { "x", "y" }, w = { add, 1, 2 } }
      local r = require("lask." .. name).get(d, { "y", "a", "z", "l", "w", "x" }, { callbacks = { cb } })
      assert.same({ 2, 2, { 1, 2 }, { 1, 2 }, 3, 1 }, r)
      table.sort(pre)
      table.sort(post)
      assert.same({ "w", "y", "z" }, pre)
      assert.same({ "w=3", "y=2", "z=2" }, post)
      assert.equal(3, state.ntasks)
      assert.equal(3, state.done)
    end)
  end
end)
