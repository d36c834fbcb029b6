-- Dask's core tests that apply to lask's contract, ported: dask/tests/test_core.py,
-- test_local.py, test_threaded.py, test_multiprocessing.py (each test named; the
-- scheduler-generic ones run on every lask scheduler, as Dask's GetFunctionTestMixin
-- runs on each get). Python tuples are Lua tasks/keys, lists are Lua lists.
-- What lask does differently on purpose is asserted as lask's behaviour and listed
-- in the README's "Differences from Dask". test_order.py: order_spec.lua;
-- test_optimization.py: optimization_spec.lua.
local lask = require "lask"
local graph = require "lask.graph"
local sync = require "lask.sync"

local function inc(x) return x + 1 end
local function add(x, y) return x + y end
local function sum(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end

local GETS = {
  { "lask.sync", sync.get }, { "lask.threaded", require("lask.threaded").get },
  { "lask.multiprocessing", require("lask.multiprocessing").get },
}

local function set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

describe("dask/tests/test_core.py", function()
  it("test_get_dependencies_nested", function()
    local dsk = { x = 1, y = 2, z = { add, { inc, { { "x" } } }, "y" } }
    assert.same(set { "x", "y" }, graph.get_dependencies(dsk, "z"))
    local l = graph.get_dependencies(dsk, "z", nil, true)
    table.sort(l)
    assert.same({ "x", "y" }, l)
  end)

  it("test_get_dependencies_empty", function()
    local dsk = { x = { inc } }
    assert.same({}, graph.get_dependencies(dsk, "x"))
    assert.same({}, graph.get_dependencies(dsk, "x", nil, true))
  end)

  it("test_get_dependencies_list", function()
    local dsk = { x = 1, y = 2, z = { "x", { { inc, "y" } } } }
    assert.same(set { "x", "y" }, graph.get_dependencies(dsk, "z"))
  end)

  it("test_get_dependencies_task", function()
    local dsk = { x = 1, y = 2, z = { "x", { { inc, "y" } } } }
    assert.same(set { "x" }, graph.get_dependencies(dsk, nil, { inc, "x" }))
    assert.same({ "x" }, graph.get_dependencies(dsk, nil, { inc, "x" }, true))
  end)

  it("test_get_dependencies_nothing", function()
    assert.has_error(function() graph.get_dependencies({}) end)
  end)

  it("test_get_dependencies_many", function()
    local dsk = { a = { 1, 2, 3 }, b = "a", c = { 1, { inc, 1 } }, d = { { sum, "c" } }, e = { "a", "b", "zzz" },
      f = { { "a", "b" }, 2, 3 } }
    local tasks = { dsk.d, dsk.f }
    assert.same(set { "a", "b", "c" }, graph.get_dependencies(dsk, nil, tasks))
    local l = graph.get_dependencies(dsk, nil, tasks, true)
    table.sort(l)
    assert.same({ "a", "b", "c" }, l)
  end)

  it("test_get_deps", function()
    local dsk = { a = { 1, 2, 3 }, b = "a", c = { 1, { inc, 1 } }, d = { { sum, "c" } }, e = { "b", "zzz", "b" },
      f = { { "a", "b" }, 2, 3 } }
    local dependencies, dependents = graph.get_deps(dsk)
    assert.same({ a = {}, b = set { "a" }, c = {}, d = set { "c" }, e = set { "b" }, f = set { "a", "b" } }, dependencies)
    assert.same({ a = set { "b", "f" }, b = set { "e", "f" }, c = set { "d" }, d = {}, e = {}, f = {} }, dependents)
  end)

  it("test_flatten", function()
    assert.same({}, graph.flatten({}))
    assert.same({ "foo" }, graph.flatten("foo"))
  end)

  it("test_subs", function()
    assert.same({ sum, { 1, 2 } }, graph.subs({ sum, { 1, "x" } }, "x", 2))
    assert.same({ sum, { 1, { 2 } } }, graph.subs({ sum, { 1, { "x" } } }, "x", 2))
  end)

  it("test_subs_with_unfriendly_eq", function()
    local unfriendly = setmetatable({}, { __eq = function() error("compared") end })
    assert.equal(unfriendly, graph.subs(unfriendly, 1, 2))
    local task = { add, unfriendly, "x" }
    assert.equal(unfriendly, graph.subs(task, "x", 1)[2])
  end)

  it("test_subs_arbitrary_key", function()
    local key = lask.key(1.5, "foo", 3)
    assert.same({ inc, 1 }, graph.subs({ inc, key }, key, 1))
  end)

  it("test_quote", function()
    for _, l in ipairs({ { 1, 2, 3 }, { add, 1, 2 }, { 1, { 2, 3 } }, { add, 1, { add, 2, 3 } }, { x = "x" } }) do
      assert.same(l, sync.get({ x = lask.quote(l) }, "x"))
    end
  end)

  it("test_getcycle", function()
    local dsk = { x = { inc, "z" }, y = { inc, "x" }, z = { inc, "y" }, w = 1 }
    local cycle = graph.getcycle(dsk, { "x" })
    assert.equal(4, #cycle)
    assert.equal(cycle[1], cycle[4])
    assert.same({}, graph.getcycle({ a = 1, b = { inc, "a" } }))
  end)
end)

describe("dask/tests/test_local.py", function()
  it("test_callback (the start and end of each task, with the graph and state)", function()
    local dsk = { a = { inc, 1 } }
    local seen = {}
    local cb = {
      pretask = function(key, d, state)
        assert.equal("a", key)
        assert.equal(dsk, d)
        assert.equal("table", type(state))
        seen[#seen + 1] = "pre"
      end,
      posttask = function(key, value, d, state, worker)
        assert.equal("a", key)
        assert.equal(2, value)
        assert.equal(dsk, d)
        assert.equal("table", type(state))
        assert.equal("integer", math.type(worker))
        seen[#seen + 1] = "post"
      end,
    }
    assert.equal(2, lask.get(dsk, "a", { callbacks = { cb } }))
    assert.same({ "pre", "post" }, seen)
  end)

  it("test_exceptions_propagate (the error object reaches the caller)", function()
    local e = setmetatable({ a = 1, b = 2 }, { __tostring = function() return "My Exception!" end })
    local ok, err = pcall(lask.get, { x = { function() error(e) end } }, "x")
    assert.is_false(ok)
    assert.equal(e, err.value)
    assert.equal(1, err.value.a)
    assert.equal(2, err.value.b)
    assert.matches("My Exception!", tostring(err))
  end)

  -- Dask runs x9 first (ties broken by key names); lask in argument order
  it("test_ordering (lask: in argument order)", function()
    local L = {}
    local dsk, keys = {}, {}
    for i = 0, 9 do
      dsk[lask.key("x", i)] = { function() L[#L + 1] = i end }
      keys[#keys + 1] = lask.key("x", i)
    end
    dsk.y = { function() end, keys }
    sync.get(dsk, "y")
    assert.same({ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, L)
  end)

  it("test_complex_ordering (sync runs tasks in lask.order's order)", function()
    local da = require "lask.array"
    local x = da.random.normal({ 20, 20 }, { chunks = { 5, 10 }, seed = 1 })
    local res = (x:dot(x.T) - x:mean({ axis = 1 })):std()
    local dsk = res.dask
    local o = lask.order(dsk)
    local expected = lask.sorted_keys(o)
    table.sort(expected, function(a, b) return o[a] < o[b] end)
    local actual = {}
    local cb = { pretask = function(key) actual[#actual + 1] = key end }
    sync.get(dsk, expected[#expected], { callbacks = { cb } })
    local tasks = {}
    for _, k in ipairs(expected) do
      local v = dsk[k]
      if graph.istask(v) or (type(v) == "table" and getmetatable(v) == nil) then tasks[#tasks + 1] = k end
    end
    assert.same(tasks, actual)
  end)

  it("test_ensure_calculate_only_whats_needed", function()
    local counter = 0
    local function only_once()
      counter = counter + 1
      if counter > 1 then error("Should only be called once") end
      return 1
    end
    for _, g in ipairs(GETS) do
      counter = 0
      assert.equal(2, g[2]({ x1 = { only_once }, x2 = { only_once }, y = { add, 1, "x2" } }, "y"))
    end
  end)

  it("test_detect_malformed_graph (a missing dependency)", function()
    local ok, err = pcall(sync.get, { y = { function(x) return x end, lask.key("x") } }, "y")
    assert.is_false(ok)
    assert.matches("x", tostring(err))
  end)
end)

for _, g in ipairs(GETS) do
  local name, get = g[1], g[2]
  describe("dask/tests/test_threaded.py on " .. name, function()
    it("test_get", function()
      local dsk = { x = 1, y = 2, z = { inc, "x" }, w = { add, "z", "y" } }
      assert.equal(4, get(dsk, "w"))
      assert.same({ 4, 2 }, get(dsk, { "w", "z" }))
    end)

    it("test_nested_get", function()
      local dsk = { x = 1, y = 2, a = { add, "x", "y" }, b = { sum, { "x", "y" } } }
      assert.same({ 3, 3 }, get(dsk, { "a", "b" }))
    end)

    it("test_get_without_computation", function()
      assert.equal(1, get({ x = 1 }, "x"))
    end)

    it("test_broken_callback", function()
      local ok_cb = { start = function() end, finish = function() end }
      local broken = { start = function() error("my_exception") end, finish = function() end }
      assert.error_matches(function() get({ x = 1 }, "x", { callbacks = { broken, ok_cb } }) end, "my_exception")
    end)

    it("test_exceptions_rise_to_top", function()
      local function bad() error("bad value") end
      assert.error_matches(function() get({ x = 1, y = { bad, "x" } }, "y") end, "bad value")
    end)
  end)
end

describe("dask/tests/test_multiprocessing.py", function()
  local mp = require("lask.multiprocessing").get

  it("test_pickle_globals, test_pickle_locals (functions reach the workers)", function()
    local big = 100
    local function local_add(x) return x + big end
    assert.equal(101, mp({ x = { local_add, 1 } }, "x"))
    assert.equal(1, mp({ x = { math.abs, -1 } }, "x"))
  end)

  it("test_errors_propagate, test_remote_exception", function()
    local ok, err = pcall(mp, { x = { function() error("hello world") end } }, "x")
    assert.is_false(ok)
    assert.equal("x", err.key)
    assert.matches("hello world", tostring(err))
  end)

  -- Dask pickles a lambda made in the worker; lask sends functions by identity
  it("test_lambda_results_with_cloudpickle (lask: functions that existed at the fork)", function()
    local function one() return 1 end
    assert.equal(1, mp({ x = { function() return one end } }, "x")())
    assert.error_matches(function() mp({ x = { function() return function() return 1 end end } }, "x") end,
      "made after the workers started")
  end)

  it("test_unpicklable_args_generate_errors (results that cannot cross)", function()
    assert.error_matches(function() mp({ x = { function() return coroutine.create(print) end } }, "x") end,
      "cannot be sent")
  end)

  it("test_fuse_doesnt_clobber_intermediates", function()
    local d = { x = 1, y = { inc, "x" }, z = { add, 10, "y" } }
    assert.same({ 2, 12 }, mp(d, { "y", "z" }, { optimize = true }))
  end)

  it("test_optimize_graph_false (callbacks see every task when not optimised)", function()
    local keys = {}
    local cb = { pretask = function(key) keys[key] = true end }
    mp({ x = 1, y = { inc, "x" }, z = { add, 10, "y" } }, "z", { callbacks = { cb } })
    assert.same({ y = true, z = true }, keys)
  end)

  it("test_random_seeds (each worker draws its own numbers)", function()
    local d, ks = {}, {}
    for i = 1, 10 do
      d["r" .. i] = { function()
        local t = {}
        for j = 1, 5 do t[j] = math.random(0, 10000) end
        return table.concat(t, ",")
      end }
      ks[i] = "r" .. i
    end
    local seen, n = {}, 0
    for _, v in ipairs(mp(d, ks, { num_workers = 2 })) do
      if not seen[v] then seen[v], n = true, n + 1 end
    end
    assert.equal(10, n)
  end)
end)

describe("dask/tests/test_optimization.py", function()
  local opt = require "lask.optimization"
  local function double(x) return 2 * x end
  local function len(t) return #t end

  it("test_cull", function()
    local d = { x = 1, y = { inc, "x" }, z = { inc, "x" }, out = { add, "y", 10 } }
    local culled, deps = opt.cull(d, "out")
    assert.same({ x = 1, y = { inc, "x" }, out = { add, "y", 10 } }, culled)
    assert.same({ x = {}, y = { "x" }, out = { "y" } }, deps)
    assert.same({ opt.cull(d, "out") }, { opt.cull(d, { "out" }) })
    assert.same(d, (opt.cull(d, { "out", "z" })))
    assert.same({ opt.cull(d, { { "out" }, { "z" } }) }, { opt.cull(d, { "out", "z" }) })
    assert.has_error(function() opt.cull(d, "badkey") end)
  end)

  -- with renaming, Dask's fuse_linear points dependents at the new name; its
  -- general fuse, which lask.fuse is, leaves them on the alias under the old name
  it("test_fuse_keys (fuse's answers)", function()
    local d = { a = 1, b = { inc, "a" }, c = { inc, "b" } }
    assert.same({ b = { inc, 1 }, c = { inc, "b" } }, (opt.fuse(d, { "b" }, nil, { rename_keys = false })))
    assert.same({ ["a-b"] = { inc, 1 }, c = { inc, "b" }, b = "a-b" }, (opt.fuse(d, { "b" })))
    d = { w = { inc, "x" }, x = { inc, "y" }, y = { inc, "z" }, z = { add, "a", "b" }, a = 1, b = 2 }
    assert.same({ w = { inc, "x" }, x = { inc, { inc, "z" } }, z = { add, "a", "b" }, a = 1, b = 2 },
      (opt.fuse(d, { "x", "z" }, nil, { rename_keys = false })))
    assert.same({ w = { inc, "x" }, ["y-x"] = { inc, { inc, "z" } }, z = { add, "a", "b" }, a = 1, b = 2, x = "y-x" },
      (opt.fuse(d, { "x", "z" })))
  end)

  -- issue 15 (4) is this test: dependencies as sets hid B's two uses by C
  it("test_donot_substitute_same_key_multiple_times", function()
    local called = false
    local function inc_only_once(x)
      if called then error("called twice") end
      called = true
      return x + 1
    end
    local dsk = { A = 42, B = { inc_only_once, "A" }, C = { add, "B", "B" }, D = { inc, "C" } }
    local deps = { A = {}, B = { A = true }, C = { B = true }, D = { C = true } }
    local fused = opt.fuse(dsk, { "A", "D" }, deps)
    assert.equal(87, sync.get(fused, "D"))
  end)

  it("test_inline", function()
    local d = { a = 1, b = { inc, "a" }, c = { inc, "b" }, d = { add, "a", "c" } }
    assert.same({ a = 1, b = { inc, 1 }, c = { inc, "b" }, d = { add, 1, "c" } }, (opt.inline(d)))
    assert.same({ a = 1, b = { inc, 1 }, c = { inc, { inc, 1 } }, d = { add, 1, { inc, { inc, 1 } } } },
      (opt.inline(d, { "a", "b", "c" })))
    d = { x = 1, y = { inc, "x" }, z = { add, "x", "y" } }
    assert.same({ x = 1, y = { inc, 1 }, z = { add, 1, "y" } }, (opt.inline(d)))
    assert.same({ x = 1, y = { inc, 1 }, z = { add, 1, { inc, 1 } } }, (opt.inline(d, "y")))
    assert.same({ x = 1, y = { inc, "x" }, z = { add, "x", { inc, "x" } } }, (opt.inline(d, "y", false)))
    d = { a = 1, b = "a", c = "b", d = { "a", "b", "c" }, e = { add, { len, "d" }, "a" } }
    assert.same({ a = 1, b = 1, c = 1, d = { 1, 1, 1 }, e = { add, { len, { 1, 1, 1 } }, 1 } }, (opt.inline(d, "d")))
    assert.same({ a = 1, b = 1, c = "b", d = { 1, "b", "c" }, e = { add, { len, "d" }, 1 } },
      (opt.inline(d, "a", false)))
  end)

  it("test_inline_functions, test_inline_traverses_lists, test_inline_functions_protects_output_keys", function()
    local dsk = { out = { add, "i", "d" }, i = { inc, "x" }, d = { double, "y" }, x = 1, y = 1 }
    assert.same({ out = { add, { inc, "x" }, "d" }, d = { double, "y" }, x = 1, y = 1 },
      (opt.inline_functions(dsk, {}, { inc })))
    dsk = { out = { sum, { "i", "d" } }, i = { inc, "x" }, d = { double, "y" }, x = 1, y = 1 }
    assert.same({ out = { sum, { { inc, "x" }, "d" } }, d = { double, "y" }, x = 1, y = 1 },
      (opt.inline_functions(dsk, {}, { inc })))
    dsk = { x = { inc, 1 }, y = { double, "x" } }
    assert.same({ y = { double, { inc, 1 } } }, (opt.inline_functions(dsk, {}, { inc })))
    assert.same({ y = { double, "x" }, x = { inc, 1 } }, (opt.inline_functions(dsk, { "x" }, { inc })))
  end)

  it("test_inline_doesnt_shrink_fast_functions_at_top", function()
    local dsk = { x = { inc, "y" }, y = 1 }
    assert.same(dsk, (opt.inline_functions(dsk, {}, { inc })))
  end)

  it("test_functions_of", function()
    local a, b = function(x) return x end, function(x) return x end
    assert.same({ [a] = true }, opt.functions_of({ a, 1 }))
    assert.same({ [a] = true, [b] = true }, opt.functions_of({ a, { b, 1 } }))
    assert.same({ [a] = true, [b] = true }, opt.functions_of({ a, { { b, 1 } } }))
    assert.same({ [a] = true, [b] = true }, opt.functions_of({ a, { { { { b, 1 } } } } }))
    assert.same({}, opt.functions_of(1))
    assert.same({}, opt.functions_of(a))
    assert.same({ [a] = true }, opt.functions_of({ a }))
  end)

  it("test_inline_cull_dependencies", function()
    local d = { a = 1, b = "a", c = "b", d = { "a", "b", "c" }, e = { add, { len, "d" }, "a" } }
    local d2, deps = opt.cull(d, { "d", "e" })
    assert.has_no_error(function() opt.inline(d2, { b = true }, nil, deps) end)
  end)
end)
