-- lask.graph: Dask's core graph utilities. Expected values come from Dask 2022.12's
-- dask.core run on the same graphs (noted where they are Dask's doctests).
local core = require "lask.core"
local graph = require "lask.graph"

local K = core.key

local function inc(i) return i + 1 end
local function add(a, b) return a + b end

-- Stand-ins for native kernels: callable objects that name themselves.
local function kernel(name)
  return setmetatable({}, { __call = function() end, __tostring = function() return name end })
end
local arange, np_sum = kernel("arange"), kernel("sum")

-- The talk's x.sum().dask, built by hand.
local function sum_graph()
  local d = {}
  for i = 0, 2 do
    d[K("x", i)] = { arange, 5 * i, 5 * i + 5 }
    d[K("s", i)] = { np_sum, K("x", i) }
  end
  d[K("s")] = { np_sum, { K("s", 0), K("s", 1), K("s", 2) } }
  return d
end

local function sorted(list)
  local copy = table.move(list, 1, #list, 1, {})
  table.sort(copy, graph.key_less)
  return copy
end

local function position(list)
  local pos = {}
  for i, k in ipairs(list) do pos[k] = i end
  return pos
end

-- Asserts that order lists every key of dsk once, each after its dependencies.
local function assert_topological(dsk, order)
  local pos, n = position(order), 0
  for k in pairs(dsk) do
    n = n + 1
    assert.is_not_nil(pos[k], "missing " .. graph.describe_key(k))
    for d in pairs(graph.get_dependencies(dsk, k)) do
      assert.is_true(pos[d] < pos[k], graph.describe_key(d) .. " after " .. graph.describe_key(k))
    end
  end
  assert.equal(n, #order)
end

-- A chain k0 <- k1 <- ... <- k(n-1), built once for the big-graph tests.
local chain_cache = {}
local function chain(n)
  if not chain_cache[n] then
    local d = { k0 = 0 }
    for i = 1, n - 1 do d["k" .. i] = { inc, "k" .. (i - 1) } end
    chain_cache[n] = d
  end
  return chain_cache[n]
end

describe("lask.graph", function()
  local talk = { x = 1, y = { inc, "x" }, z = { add, "y", 10 } }

  -- the suites after this one share the Lua state: give the big chain back
  teardown(function() chain_cache = {} end)

  describe("istask", function()
    it("is true for a table whose first element is callable", function()
      assert.is_true(graph.istask({ inc, 1 }))
      assert.is_true(graph.istask({ inc }))
      assert.is_true(graph.istask({ arange, 0, 5 }))
      assert.is_true(graph.istask({ core.kernels.inc, 1 }))
    end)

    it("is false for keys, quotes, lists and literals", function()
      assert.is_false(graph.istask(1))
      assert.is_false(graph.istask("x"))
      assert.is_false(graph.istask({ 1, inc }))
      assert.is_false(graph.istask({}))
      assert.is_false(graph.istask(K("x", 0)))
      assert.is_false(graph.istask(core.quote({ inc, 1 })))
      assert.is_false(graph.istask(inc))
    end)
  end)

  describe("get_dependencies", function()
    -- Dask's doctest graph
    local dsk = { x = 1, y = { inc, "x" }, z = { add, "x", "y" }, w = { inc, "z" },
                  a = { add, { inc, "x" }, 1 } }

    it("gives the direct dependencies as a set", function()
      assert.same({}, graph.get_dependencies(dsk, "x"))
      assert.same({ x = true }, graph.get_dependencies(dsk, "y"))
      assert.same({ x = true, y = true }, graph.get_dependencies(dsk, "z"))
      assert.same({ z = true }, graph.get_dependencies(dsk, "w"))
      assert.same({ x = true }, graph.get_dependencies(dsk, "a"))
    end)

    it("reads a task given directly", function()
      assert.same({ x = true }, graph.get_dependencies(dsk, nil, { inc, "x" }))
    end)

    it("follows nested tasks and lists, and leaves strings that are not keys", function()
      local d = { a = 1, b = 2, c = { add, { inc, "a" }, { "b", { inc, "a" }, "nope" } },
                  d = { np_sum, { { "a", "b" }, { "c" } } } }
      assert.same({ a = true, b = true }, graph.get_dependencies(d, "c"))
      -- as_list keeps repeats, breadth first like Dask: ['a', 'b', 'a'] and ['a', 'b', 'c']
      assert.same({ "a", "b", "a" }, graph.get_dependencies(d, "c", nil, true))
      assert.same({ "a", "b", "c" }, graph.get_dependencies(d, "d", nil, true))
    end)

    it("knows tuple keys, and a tuple key absent from the graph is not a dependency", function()
      local d = sum_graph()
      assert.same({ [K("x", 1)] = true }, graph.get_dependencies(d, K("s", 1)))
      assert.same({ [K("s", 0)] = true, [K("s", 1)] = true, [K("s", 2)] = true },
        graph.get_dependencies(d, K("s")))
      assert.same({}, graph.get_dependencies(d, nil, { np_sum, K("x", 7) }))
    end)

    it("never interprets quotes, and numbers are never keys", function()
      local d = { x = 1, y = { add, core.quote("x"), core.quote({ inc, "x" }) }, [1] = 5, z = { inc, 1 } }
      assert.same({}, graph.get_dependencies(d, "y"))
      assert.same({}, graph.get_dependencies(d, "z"))
    end)

    it("counts an alias (a value that is a key) as a dependency", function()
      assert.same({ x = true }, graph.get_dependencies({ x = 1, y = "x" }, "y"))
    end)

    it("raises on a missing key or no key and no task", function()
      local ok, err = pcall(graph.get_dependencies, talk, "nope")
      assert.is_false(ok)
      assert.matches("key not in graph: 'nope'", err)
      assert.has_error(function() graph.get_dependencies(talk) end)
    end)
  end)

  describe("get_deps", function()
    it("gives dependencies and dependents of every key", function()
      local deps, dependents = graph.get_deps(talk)
      assert.same({ x = {}, y = { x = true }, z = { y = true } }, deps)
      assert.same({ x = { y = true }, y = { z = true }, z = {} }, dependents)
    end)
  end)

  describe("toposort", function()
    it("puts every key after the keys it needs", function()
      assert.same({ "x", "y", "z" }, graph.toposort(talk))
      local d = sum_graph()
      assert_topological(d, graph.toposort(d))
    end)

    it("accepts dependencies as sets or as cull's lists", function()
      local d = sum_graph()
      local deps = graph.get_deps(d)
      assert_topological(d, graph.toposort(d, deps))
      local lists = {}
      for k, s in pairs(deps) do lists[k] = sorted((function()
        local l = {}
        for x in pairs(s) do l[#l + 1] = x end
        return l
      end)()) end
      assert_topological(d, graph.toposort(d, lists))
    end)

    it("raises an error object naming a cycle", function()
      local d = { x = { inc, "z" }, y = { inc, "x" }, z = { inc, "y" }, w = { inc, "x" } }
      local ok, err = pcall(graph.toposort, d)
      assert.is_false(ok)
      assert.equal("cycle", err.kind)
      assert.equal(3, #err.cycle)
      -- each key on the cycle needs the next, the last needs the first
      for i, k in ipairs(err.cycle) do
        local nxt = err.cycle[i % 3 + 1]
        assert.is_true(graph.get_dependencies(d, k)[nxt])
      end
      assert.matches("^lask: the graph has a cycle: '%a' %-> '%a' %-> '%a' %-> '%a'$", tostring(err))
    end)

    it("sorts a million-node chain without running out of stack", function()
      local order = graph.toposort(chain(1000000))
      assert.equal(1000000, #order)
      assert.equal("k0", order[1])
      assert.equal("k500000", order[500001])
      assert.equal("k999999", order[1000000])
    end)
  end)

  describe("getcycle and isdag", function()
    -- Dask's doctest: getcycle(d, 'x') == ['x', 'z', 'y', 'x']
    local cyclic = { x = { inc, "z" }, y = { inc, "x" }, z = { inc, "y" } }

    it("lists the keys of a cycle, each needing the next, first repeated last", function()
      assert.same({ "x", "z", "y", "x" }, graph.getcycle(cyclic, "x"))
      assert.same({ "x", "z", "y", "x" }, graph.getcycle(cyclic, { "x" }))
      -- from a key that only leads into the cycle (Dask gives the same)
      local d = { x = { inc, "z" }, y = { inc, "x" }, z = { inc, "y" }, w = { inc, "x" } }
      assert.same({ "x", "z", "y", "x" }, graph.getcycle(d, { "w" }))
    end)

    it("finds self-dependencies and cycles through tuple keys", function()
      assert.same({ "a", "a" }, graph.getcycle({ a = { inc, "a" } }, "a"))
      local d = { [K("a", 0)] = { inc, K("b", 0) }, [K("b", 0)] = { add, K("a", 0), 1 } }
      assert.same({ K("a", 0), K("b", 0), K("a", 0) }, graph.getcycle(d, K("a", 0)))
    end)

    it("gives an empty table for a DAG, and looks at all keys by default", function()
      assert.same({}, graph.getcycle(talk, "z"))
      assert.same({}, graph.getcycle(sum_graph()))
      assert.equal(4, #graph.getcycle(cyclic))
    end)

    it("isdag answers Dask's doctests", function()
      assert.is_true(graph.isdag({ x = 0, y = { inc, "x" } }, "y"))
      assert.is_false(graph.isdag({ x = { inc, "y" }, y = { inc, "x" } }, "y"))
      assert.is_true(graph.isdag(chain(1000), "k999"))
    end)
  end)

  describe("subs", function()
    it("replaces a key by a value inside a task (Dask's doctest)", function()
      assert.same({ inc, 1 }, graph.subs({ inc, "x" }, "x", 1))
    end)

    it("goes through nested tasks and lists, and never mutates", function()
      local task = { add, "x", { { inc, "x" }, "y", { "x" } }, "xx" }
      -- Dask: (add, 5, [(inc, 5), 'y', [5]], 'xx')
      assert.same({ add, 5, { { inc, 5 }, "y", { 5 } }, "xx" }, graph.subs(task, "x", 5))
      assert.same({ add, "x", { { inc, "x" }, "y", { "x" } }, "xx" }, task)
      assert.are_not.equal(task, graph.subs(task, "nothing", 5))
    end)

    it("substitutes tuple keys and whole values, not heads or quotes", function()
      local q = core.quote("x")
      assert.same({ np_sum, 7, q }, graph.subs({ np_sum, K("x", 1), q }, K("x", 1), 7))
      assert.equal(3, graph.subs("x", "x", 3))
      assert.equal("y", graph.subs("y", "x", 3))
      assert.same({ inc, "y" }, graph.subs({ inc, "x" }, "x", "y"))
    end)

    it("handles a task nested a million deep", function()
      local deep = "x"
      for _ = 1, 1000000 do deep = { inc, deep } end
      local out = graph.subs(deep, "x", 0)
      for _ = 1, 1000000 do out = out[2] end
      assert.equal(0, out)
    end)
  end)

  describe("flatten", function()
    it("flattens nested lists, as Dask's doctests", function()
      assert.same({ 1 }, graph.flatten({ 1 }))
      assert.same({ 1, 2, 1, 2 }, graph.flatten({ { 1, 2 }, { 1, 2 } }))
      assert.same({ 1, 2, 1, 2 }, graph.flatten({ { { 1 }, { 2 } }, { { 1 }, { 2 } } }))
      assert.same({ 1, 2, 3, 4, "ab" }, graph.flatten({ { 1, { 2, 3 } }, 4, {}, "ab" }))
    end)

    it("keeps keys, tasks and quotes whole; a lone key gives a list of it", function()
      local task = { inc, 1 }
      assert.same({ K("x", 0), K("x", 1), task }, graph.flatten({ K("x", 0), { K("x", 1), task } }))
      assert.same({ "x" }, graph.flatten("x"))
      assert.same({ K("x", 0) }, graph.flatten(K("x", 0)))
    end)

    it("takes a container test", function()
      local only_pairs = function(v) return type(v) == "table" and #v == 2 end
      assert.same({ 1, 2, { 3, 4, 5 } }, graph.flatten({ { 1, 2 }, { 3, 4, 5 } }, only_pairs))
    end)
  end)

  describe("tostring", function()
    it("prints the talk's graph with functions by name", function()
      assert.equal("{'x': 1, 'y': {inc, 'x'}, 'z': {add, 'y', 10}}", graph.tostring(talk))
    end)

    it("prints x.sum().dask with tuple keys in order, one key per line as the talk does", function()
      assert.equal("{('s',): {sum, {('s', 0), ('s', 1), ('s', 2)}},\n"
        .. " ('s', 0): {sum, ('x', 0)},\n ('s', 1): {sum, ('x', 1)},\n ('s', 2): {sum, ('x', 2)},\n"
        .. " ('x', 0): {arange, 0, 5},\n ('x', 1): {arange, 5, 10},\n ('x', 2): {arange, 10, 15}}",
        graph.tostring(sum_graph()))
    end)

    it("puts string keys before tuple keys and orders indices as numbers", function()
      local d = { [K("a", 10)] = 1, [K("a", 9)] = 2, b = 3, a = 4, [K("a")] = 5 }
      assert.equal("{'a': 4, 'b': 3, ('a',): 5, ('a', 9): 2, ('a', 10): 1}", graph.tostring(d))
    end)

    it("prints native kernels, globals, quotes, literals and anonymous functions", function()
      local d = {
        n = { core.kernels.inc, 1 },
        g = { math.floor, 1.5 },
        q = { inc, core.quote("n") },
        s = { add, "it's", "a\nb" },
        f = { function() end, true },
        t = { add, { k = 1, [2] = "v" }, {} },
      }
      assert.equal("{'f': {function, true},\n 'g': {math.floor, 1.5},\n 'n': {inc, 1},\n "
        .. "'q': {inc, quote('n')},\n 's': {add, \"it's\", 'a\\nb'},\n "
        .. "'t': {add, {[2] = 'v', k = 1}, {}}}", graph.tostring(d))
    end)

    it("elides graphs past 50 keys with a count", function()
      local s = graph.tostring(chain(60))
      assert.matches("^{'k0': 0,\n 'k1': {inc, 'k0'},\n 'k10': {inc, 'k9'},\n ", s)
      assert.matches(",\n %.%.%. %(10 more%)}$", s)
      local _, entries = s:gsub(": ", "")
      assert.equal(50, entries)
    end)

    it("describes keys as Python reprs", function()
      assert.equal("'y'", graph.describe_key("y"))
      assert.equal("('s',)", graph.describe_key(K("s")))
      assert.equal("('x', 0, 1)", graph.describe_key(K("x", 0, 1)))
    end)
  end)

  it("is reachable through lask under Dask's names", function()
    local lask = require "lask"
    for _, name in ipairs { "istask", "get_dependencies", "get_deps", "toposort", "getcycle",
                            "isdag", "subs", "flatten" } do
      assert.equal(graph[name], lask[name], name)
    end
    -- lask.tostring also takes arrays (their graph); on a graph it is graph.tostring
    local d = { x = 1, y = { graph.istask, "x" } }
    assert.equal(graph.tostring(d), lask.tostring(d))
  end)
end)

describe("lask.funcname", function()
  local funcname = require "lask.funcname"

  it("names a task's function by one set of rules (graphs, pictures, profile pages)", function()
    local namer = funcname.namer()
    assert.equal("inc", namer(core.kernels.inc)) -- a native kernel's own name
    assert.equal("add", namer(add)) -- a name in the calling code
    assert.equal("math.floor", namer(math.floor)) -- a field of a global table
    local anonymous = { function() end }
    assert.equal("function", namer(anonymous[1])) -- no name: Dask's "lambda"
    local object = { setmetatable({}, { __call = function() end }) }
    assert.equal(tostring(object[1]), namer(object[1])) -- Dask's str(func)
  end)

  it("reads the name off the line that defines a function no frame holds", function()
    -- a chunk loaded from a string keeps its source, so the line can be read
    local made = load("local function triple(x) return 3 * x end\nreturn { triple }")()
    assert.equal("triple", funcname.namer()(made[1]))
  end)
end)

-- issue 15 (9): lask.tostring never returned on a self-referential table
describe("lask.tostring of self-referential values", function()
  it("prints a table inside itself as {...}, as Python's [...]", function()
    local lask = require "lask"
    local t = { 1, 2 }
    t[3] = t
    local u = { a = 1 }
    u.self = u
    local shared = { 5 }
    assert.equal("{'w': {print, {1, 2, {...}}},\n 'x': {1, 2, {...}},\n 'y': {a = 1, self = {...}},\n 'z': {{5}, {5}}}",
      lask.tostring({ x = t, y = u, z = { shared, shared }, w = { print, t } }))
    local d = { x = 1 }
    d.y = d
    assert.equal("{'x': 1, 'y': {x = 1, y = {...}}}", lask.tostring(d))
  end)
end)
