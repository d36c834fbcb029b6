-- lask.optimization: cull, fuse, inline, inline_functions. Expected graphs are
-- Dask 2022.12's answers for the same graphs (dask.optimization run under python3;
-- Dask's doctests where noted).
local core = require "lask.core"
local graph = require "lask.graph"
local opt = require "lask.optimization"

local K = core.key

local function inc(x) return x + 1 end
local function add(x, y) return x + y end
local function double(x) return x * 2 end
local function total(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end
local function arange(a, b)
  local out = {}
  for i = a, b - 1 do out[#out + 1] = i end
  return out
end

-- A reference evaluator, to check that optimised graphs compute what the original does.
local function compute(dsk, key)
  local cache = {}
  local function eval(v)
    if graph.istask(v) then
      local args = {}
      for i = 2, #v do args[i - 1] = eval(v[i]) end
      return v[1](table.unpack(args, 1, #v - 1))
    elseif graph.islist(v) then
      local out = {}
      for i = 1, #v do out[i] = eval(v[i]) end
      return out
    elseif graph.refers(dsk, v) then
      return cache[v]
    elseif core.isquote(v) then
      return core.unquote(v)
    end
    return v
  end
  for _, k in ipairs(graph.toposort(dsk)) do cache[k] = eval(dsk[k]) end
  return cache[key]
end

-- The talk's x.sum().dask, with kernels that compute.
local function sum_graph()
  local d = {}
  for i = 0, 2 do
    d[K("x", i)] = { arange, 5 * i, 5 * i + 5 }
    d[K("s", i)] = { total, K("x", i) }
  end
  d[K("s")] = { total, { K("s", 0), K("s", 1), K("s", 2) } }
  return d
end

-- Dependencies of every key as sets, whatever form they came in.
local function as_sets(deps)
  local out = {}
  for k, d in pairs(deps) do
    out[k] = {}
    for x in graph.each_dep(d) do out[k][x] = true end
  end
  return out
end

-- The dependencies an optimisation returns must be those of the graph it returns.
local function assert_deps_match(dsk, deps)
  assert.same(graph.get_deps(dsk), as_sets(deps))
end

describe("lask.optimization", function()
  describe("cull", function()
    it("keeps only what the keys need (Dask's doctest)", function()
      local d = { x = 1, y = { inc, "x" }, out = { add, "x", 10 } }
      local dsk, deps = opt.cull(d, "out")
      assert.same({ out = { add, "x", 10 }, x = 1 }, dsk)
      assert.same({ out = { "x" }, x = {} }, deps)
      assert.same({ x = 1, y = { inc, "x" }, out = { add, "x", 10 } }, d)
    end)

    it("takes nested lists of tuple keys and keeps repeats in the dependency lists", function()
      local d = sum_graph()
      d.twice = { add, K("s", 1), K("s", 1) }
      local dsk, deps = opt.cull(d, { { "twice" }, K("s", 2) })
      assert.same({ "twice", K("s", 1), K("s", 2), K("x", 1), K("x", 2) },
        (function()
          local keys = {}
          for k in pairs(dsk) do keys[#keys + 1] = k end
          table.sort(keys, graph.key_less)
          return keys
        end)())
      assert.same({ K("s", 1), K("s", 1) }, deps.twice)
      assert.same({ K("x", 1) }, deps[K("s", 1)])
    end)

    it("raises on a key the graph does not have", function()
      local ok, err = pcall(opt.cull, { x = 1 }, { "x", K("y", 0) })
      assert.is_false(ok)
      assert.matches("key not in graph: %('y', 0%)", err)
    end)

    it("culls a million-node chain without running out of stack", function()
      local d = { k0 = 0 }
      for i = 1, 999999 do d["k" .. i] = { inc, "k" .. (i - 1) } end
      d.unused = { inc, "k5" }
      local dsk, deps = opt.cull(d, "k999999")
      local n = 0
      for _ in pairs(dsk) do n = n + 1 end
      assert.equal(1000000, n)
      assert.is_nil(dsk.unused)
      assert.same({ "k41" }, deps.k42)
    end)
  end)

  describe("fuse", function()
    local abc = { a = 1, b = { inc, "a" }, c = { inc, "b" } }

    it("fuses a linear chain under Dask's name, leaving an alias (Dask's doctests)", function()
      local dsk, deps = opt.fuse(abc)
      assert.same({ ["a-b-c"] = { inc, { inc, 1 } }, c = "a-b-c" }, dsk)
      assert.same({ ["a-b-c"] = {}, c = { ["a-b-c"] = true } }, deps)
      assert.equal(3, compute(dsk, "c"))
    end)

    it("keeps the top key's name with rename_keys = false", function()
      assert.same({ c = { inc, { inc, 1 } } }, (opt.fuse(abc, nil, nil, { rename_keys = false })))
    end)

    it("never fuses requested keys away", function()
      assert.same({ b = { inc, 1 }, c = { inc, "b" } },
        (opt.fuse(abc, { "b" }, nil, { rename_keys = false })))
      local chain = { a = 1, b = { inc, "a" }, c = { inc, "b" }, d = { inc, "c" } }
      -- Dask: {'a-b-c-d': (inc, (inc, (inc, 1))), 'd': 'a-b-c-d'}
      assert.same({ ["a-b-c-d"] = { inc, { inc, { inc, 1 } } }, d = "a-b-c-d" },
        (opt.fuse(chain, { "d" })))
      -- Dask: {'a-b-c': (inc, (inc, 1)), 'c': 'a-b-c', 'd': (inc, 'c')}
      local dsk, deps = opt.fuse(chain, { "c", "d" })
      assert.same({ ["a-b-c"] = { inc, { inc, 1 } }, c = "a-b-c", d = { inc, "c" } }, dsk)
      assert_deps_match(dsk, deps)
      assert.equal(4, compute(dsk, "d"))
    end)

    it("renames tuple keys to a tuple key with the joined name", function()
      local d = { [K("x", 0)] = 1, [K("y-abc", 0)] = { inc, K("x", 0) },
                  [K("z", 0)] = { inc, K("y-abc", 0) }, [K("w", 0)] = { add, K("z", 0), K("z", 0) } }
      local dsk, deps = opt.fuse(d)
      -- Dask: {('x-y-abc-z', 0): (inc, (inc, 1)), ('z', 0): ('x-y-abc-z', 0), ('w', 0): ...}
      assert.same({ [K("x-y-abc-z", 0)] = { inc, { inc, 1 } }, [K("z", 0)] = K("x-y-abc-z", 0),
                    [K("w", 0)] = { add, K("z", 0), K("z", 0) } }, dsk)
      assert_deps_match(dsk, deps)
      assert.equal(6, compute(dsk, K("w", 0)))
      -- Dask, keys=[('y-abc', 0)]: ('x-y-abc', 0) fused, ('y-abc', 0) its alias
      assert.same({ [K("x-y-abc", 0)] = { inc, 1 }, [K("y-abc", 0)] = K("x-y-abc", 0),
                    [K("z", 0)] = { inc, K("y-abc", 0) }, [K("w", 0)] = { add, K("z", 0), K("z", 0) } },
        (opt.fuse(d, { K("y-abc", 0) })))
    end)

    it("fuses x.sum()'s chunks into their sums, and the whole reduction when wide enough", function()
      local d = sum_graph()
      local dsk, deps = opt.fuse(d, { K("s") })
      -- Dask, ave_width=1: ('x-s', i): (sum, (arange, ...)), ('s', i): ('x-s', i)
      local want = { [K("s")] = { total, { K("s", 0), K("s", 1), K("s", 2) } } }
      for i = 0, 2 do
        want[K("x-s", i)] = { total, { arange, 5 * i, 5 * i + 5 } }
        want[K("s", i)] = K("x-s", i)
      end
      assert.same(want, dsk)
      assert_deps_match(dsk, deps)
      assert.equal(105, compute(dsk, K("s")))
      -- Dask, ave_width=3: everything in ('x-s',), aliased by ('s',)
      dsk = opt.fuse(d, { K("s") }, nil, { ave_width = 3 })
      assert.same({ [K("s")] = K("x-s"), [K("x-s")] = { total, {
        { total, { arange, 0, 5 } }, { total, { arange, 5, 10 } }, { total, { arange, 10, 15 } } } } },
        dsk)
      assert.equal(105, compute(dsk, K("s")))
    end)

    it("fuses reductions as ave_width allows", function()
      local red = { a1 = 1, a2 = 2, b1 = { inc, "a1" }, b2 = { inc, "a2" }, c = { add, "b1", "b2" } }
      -- Dask, ave_width=1: only the chains a1-b1 and a2-b2
      assert.same({ ["a1-b1"] = { inc, 1 }, ["a2-b2"] = { inc, 2 }, b1 = "a1-b1", b2 = "a2-b2",
                    c = { add, "b1", "b2" } }, (opt.fuse(red)))
      -- Dask, ave_width=2: {'a1-a2-b1-b2-c': (add, (inc, 1), (inc, 2)), 'c': 'a1-a2-b1-b2-c'}
      assert.same({ ["a1-a2-b1-b2-c"] = { add, { inc, 1 }, { inc, 2 } }, c = "a1-a2-b1-b2-c" },
        (opt.fuse(red, nil, nil, { ave_width = 2 })))
      assert.same({ c = { add, { inc, 1 }, { inc, 2 } } },
        (opt.fuse(red, nil, nil, { ave_width = 2, rename_keys = false })))
    end)

    it("takes a renaming function, cull's dependencies, and leaves its input alone", function()
      local chain = { a = 1, b = { inc, "a" }, c = { inc, "b" }, d = { inc, "c" } }
      local culled, deps = opt.cull(chain, "d")
      local dsk = opt.fuse(culled, nil, deps, { rename_keys = function(keys)
        return "fused:" .. table.concat(keys, "+")
      end })
      assert.same({ ["fused:a+b+c+d"] = { inc, { inc, { inc, 1 } } }, d = "fused:a+b+c+d" }, dsk)
      assert.same({ a = 1, b = { inc, "a" }, c = { inc, "b" }, d = { inc, "c" } }, chain)
    end)

    it("keeps a task used twice by the same task, as Dask", function()
      local d = { x = 1, y = { add, "x", "x" } }
      assert.same(d, (opt.fuse(d)))
    end)

    -- issue 15 (4): with get_deps's sets the repeat was invisible: the task was
    -- inlined twice and ran twice
    it("keeps a task used twice by one task when dependencies are sets", function()
      local runs = 0
      local function once() runs = runs + 1 return 1 end
      local d = { a = { once }, b = { add, "a", "a" }, p = { once }, c = { inc, { add, "p", { double, "p" } } } }
      for _, deps in ipairs({ (graph.get_deps(d)), false }) do
        local fused = opt.fuse(d, { "b", "c" }, deps or nil)
        assert.same(d.a, fused.a)
        assert.same(d.p, fused.p)
        runs = 0
        assert.same({ 2, 4 }, require("lask.sync").get(fused, { "b", "c" }))
        assert.equal(2, runs)
      end
      -- a key used once is still fused when the dependencies are sets
      local chain = { x = 1, y = { inc, "x" }, z = { inc, "y" } }
      assert.same({ ["x-y-z"] = { inc, { inc, 1 } }, z = "x-y-z" }, (opt.fuse(chain, "z", (graph.get_deps(chain)))))
    end)

    it("does nothing with ave_width = 0", function()
      local dsk, deps = opt.fuse(abc, nil, nil, { ave_width = 0 })
      assert.same(abc, dsk)
      assert.same({ a = {}, b = { a = true }, c = { b = true } }, deps)
    end)

    it("shortens long fused names to 120 characters with a hash", function()
      local d = { k0 = 0 }
      for i = 1, 99 do d["k" .. i] = { inc, "k" .. (i - 1) } end
      local dsk = opt.fuse(d)
      local name = dsk.k99
      assert.equal(120, #name)
      assert.matches("^k0%-k1%-k10%-k11%-.*%-%x%x%x%x$", name)
      assert.equal(99, compute(dsk, "k99"))
    end)

    it("reports a cycle of single-dependent tasks instead of looping", function()
      local ok, err = pcall(opt.fuse, { a = { inc, "b" }, b = { inc, "a" } })
      assert.is_false(ok)
      assert.equal("cycle", err.kind)
    end)
  end)

  describe("inline", function()
    local d = { x = 1, y = { inc, "x" }, z = { add, "x", "y" } }

    it("inlines constants by default (Dask's doctest)", function()
      local dsk, deps = opt.inline(d)
      assert.same({ x = 1, y = { inc, 1 }, z = { add, 1, "y" } }, dsk)
      assert_deps_match(dsk, deps)
    end)

    it("inlines the keys asked for (Dask's doctests)", function()
      assert.same({ x = 1, y = { inc, 1 }, z = { add, 1, { inc, 1 } } }, (opt.inline(d, "y")))
      local dsk, deps = opt.inline(d, { "y" }, false)
      assert.same({ x = 1, y = { inc, "x" }, z = { add, "x", { inc, "x" } } }, dsk)
      assert_deps_match(dsk, deps)
      assert.equal(3, compute(dsk, "z"))
    end)

    it("inlines aliases, and keeps keys inside lists and nested tasks", function()
      local g = { x = 1, y = { inc, "x" }, w = "y", v = { total, { "w", { inc, "w" } } } }
      local dsk, deps = opt.inline(g)
      assert.same({ x = 1, y = { inc, 1 }, w = "y", v = { total, { "y", { inc, "y" } } } }, dsk)
      assert_deps_match(dsk, deps)
      assert.equal(5, compute(dsk, "v"))
    end)

    it("inlines a 100,000-deep chain without walking it again", function()
      local g = { k0 = 0 }
      for i = 1, 99999 do g["k" .. i] = { inc, "k" .. (i - 1) } end
      local keys = {}
      for i = 1, 99998 do keys[i] = "k" .. i end
      local dsk, deps = opt.inline(g, keys)
      assert.same({ inc, { inc, 0 } }, dsk.k2)
      assert.same({}, deps.k99999)
    end)
  end)

  describe("inline_functions", function()
    local d = { out = { add, "i", "d" }, i = { inc, "x" }, d = { double, "y" }, x = 1, y = 1 }

    it("inlines tasks of fast functions into their dependents (Dask's doctest)", function()
      local dsk, deps = opt.inline_functions(d, {}, { inc })
      assert.same({ out = { add, { inc, "x" }, "d" }, d = { double, "y" }, x = 1, y = 1 }, dsk)
      assert_deps_match(dsk, deps)
      assert.equal(4, compute(dsk, "out"))
    end)

    it("protects output keys (Dask's doctest), and takes functions as a set", function()
      local want = { out = { add, "i", { double, "y" } }, i = { inc, "x" }, x = 1, y = 1 }
      assert.same(want, (opt.inline_functions(d, { "i", "out" }, { inc, double })))
      assert.same(want, (opt.inline_functions(d, { "i", "out" }, { [inc] = true, [double] = true })))
    end)

    it("returns the graph unchanged without fast functions", function()
      assert.equal(d, (opt.inline_functions(d, { "out" }, {})))
    end)

    it("leaves tasks that call slow functions or have no dependents", function()
      local g = { a = { inc, { double, 1 } }, b = { add, "a", 1 }, c = { inc, 5 } }
      assert.same(g, (opt.inline_functions(g, {}, { inc })))
    end)
  end)

  it("splits key names as Dask's key_split", function()
    local ks = opt.key_split
    assert.equal("x", ks("x-1"))
    assert.equal("y-abc", ks(K("y-abc", 0)))
    assert.equal("hello-world", ks("hello-world-1"))
    assert.equal("x", ks("x-abcdefab"))
    assert.equal("data", ks("ae05086432ca935f6eba409a8ecd4896"))
    assert.equal("x", ks("_(x)"))
    assert.equal("myclass", ks("<module.submodule.myclass object at 0xdaf372"))
    assert.equal("Other", ks("-abc"))
  end)

  it("is reachable through lask under Dask's names", function()
    local lask = require "lask"
    for _, name in ipairs { "cull", "fuse", "inline", "inline_functions" } do
      assert.equal(opt[name], lask[name], name)
    end
  end)
end)
