-- lask.order: the priorities every scheduler runs by (engine/core/order.c).
-- Dask's order rules as properties over Dask's test graphs (dask/tests/test_order.py,
-- each test named), each checked under every naming of its keys (Dask checks two:
-- "abcde" and "edcba"), over random graphs, and the peak number of live
-- intermediate values on structured graphs. Dask's diagnostics() is ported to
-- measure that peak ("pressure").
local lask = require "lask"
local sync = require "lask.sync"

local K = lask.key
local function f(...) return 0 end
local function inc(x) return x + 1 end
local function add(x, y) return x + y end

local SEED = tonumber(os.getenv("LASK_SEED")) or os.time()
print(("# order_spec seed %d (set LASK_SEED to replay)"):format(SEED))

-- Every permutation of the list t (Heap's algorithm).
local function permutations(t)
  local out, a = {}, table.move(t, 1, #t, 1, {})
  local function gen(n)
    if n <= 1 then
      out[#out + 1] = table.move(a, 1, #a, 1, {})
      return
    end
    for i = 1, n do
      gen(n - 1)
      local j = n % 2 == 0 and i or 1
      a[j], a[n] = a[n], a[j]
    end
  end
  gen(#a)
  return out
end
local NAMINGS = permutations({ "a", "b", "c", "d", "e" })

local function deps_of(dsk)
  local deps = {}
  for k in pairs(dsk) do deps[k] = lask.get_dependencies(dsk, k) end
  return deps
end

-- Dask's assert_topological_sort: every key after its dependencies.
local function assert_topological_sort(dsk, o)
  for k, ds in pairs(deps_of(dsk)) do
    assert.is_not_nil(o[k], "no priority for " .. tostring(k))
    for d in pairs(ds) do assert.is_true(o[d] < o[k], tostring(d) .. " must run before " .. tostring(k)) end
  end
  local seen = {}
  for _, p in pairs(o) do
    assert.is_nil(seen[p], "priority given twice")
    seen[p] = true
  end
end

-- Dask's diagnostics(dsk, o)[2]: before each task (run one at a time in order), the
-- number of results held for tasks still to run.
local function pressure(dsk, o)
  local deps = deps_of(dsk)
  local needed, keys = {}, {}
  for k, ds in pairs(deps) do
    keys[#keys + 1] = k
    needed[k] = needed[k] or 0
    for d in pairs(ds) do needed[d] = (needed[d] or 0) + 1 end
  end
  table.sort(keys, function(x, y) return o[x] < o[y] end)
  local held, out, has_dependents = 0, {}, {}
  for k, n in pairs(needed) do has_dependents[k] = n > 0 end
  for _, k in ipairs(keys) do
    out[#out + 1] = held
    local released = 0
    for d in pairs(deps[k]) do
      needed[d] = needed[d] - 1
      if needed[d] == 0 then released = released + 1 end
    end
    held = held - released + (has_dependents[k] and 1 or 0)
  end
  return out
end

local function max_of(list)
  local m = 0
  for _, v in ipairs(list) do m = math.max(m, v) end
  return m
end

-- Runs check(a, b, c, d, e) under every naming of the five letters.
local function every_naming(check)
  for _, n in ipairs(NAMINGS) do check(table.unpack(n)) end
end

describe("lask.order on Dask's test graphs, under every naming", function()
  it("keeps groups together (test_ordering_keeps_groups_together)", function()
    every_naming(function(a, b)
      local d = {}
      for i = 0, 3 do d[K(a, i)] = { f } end
      d[K(b, 0)], d[K(b, 1)] = { f, K(a, 0), K(a, 1) }, { f, K(a, 2), K(a, 3) }
      local o = lask.order(d)
      assert_topological_sort(d, o)
      assert.equal(1, math.abs(o[K(a, 0)] - o[K(a, 1)]))
      assert.equal(1, math.abs(o[K(a, 2)] - o[K(a, 3)]))
      d[K(b, 0)], d[K(b, 1)] = { f, K(a, 0), K(a, 2) }, { f, K(a, 1), K(a, 3) }
      o = lask.order(d)
      assert_topological_sort(d, o)
      assert.equal(1, math.abs(o[K(a, 0)] - o[K(a, 2)]))
      assert.equal(1, math.abs(o[K(a, 1)] - o[K(a, 3)]))
    end)
  end)

  it("finishes a branch before the next (test_avoid_broker_nodes)", function()
    every_naming(function(a, b)
      local d = { [K(a, 0)] = { f }, [K(a, 1)] = { f }, [K(b, 0)] = { f, K(a, 0) }, [K(b, 1)] = { f, K(a, 1) },
        [K(b, 2)] = { f, K(a, 1) } }
      local o = lask.order(d)
      assert_topological_sort(d, o)
      assert.is_true(o[K(a, 1)] < o[K(b, 0)] or (o[K(b, 1)] < o[K(a, 0)] and o[K(b, 2)] < o[K(a, 0)]))
    end)
  end)

  for _, data_root in ipairs({ true, false }) do
    it("runs the base of a reduction first (test_base_of_reduce_preferred, data_root=" .. tostring(data_root) .. ")",
      function()
        every_naming(function(a, b, c)
          local d = {}
          for i = 1, 3 do d[K(a, i)] = { f, K(a, i - 1), K(b, i) } end
          d[K(a, 0)] = { f, K(b, 0) }
          for i = 0, 3 do d[K(b, i)] = { f, c, 1 } end
          d[c] = data_root and 1 or { f, 1 }
          local o = lask.order(d)
          assert_topological_sort(d, o)
          assert.is_true(o[K(b, 0)] <= 1)
          assert.is_true(o[K(b, 1)] <= 3)
        end)
      end)
  end

  it("does not branch upwards (test_avoid_upwards_branching)", function()
    every_naming(function(a, b, c, d)
      local g = {
        [K(a, 1)] = { f, K(a, 2) }, [K(a, 2)] = { f, K(a, 3) }, [K(a, 3)] = { f, K(b, 1), K(c, 1) },
        [K(b, 1)] = { f, K(b, 2) }, [K(c, 1)] = { f, K(c, 2) }, [K(c, 2)] = { f, K(c, 3) },
        [K(d, 1)] = { f, K(c, 1) }, [K(c, 3)] = 1, [K(b, 2)] = 1,
      }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.is_true(o[K(d, 1)] < o[K(b, 1)])
    end)
  end)

  it("does not branch upwards, complex (test_avoid_upwards_branching_complex)", function()
    every_naming(function(a, b, c, d, e)
      local g = {
        [K(a, 1)] = { f, K(a, 2) }, [K(a, 2)] = { f, K(a, 3) }, [K(a, 3)] = { f, K(b, 1), K(c, 1) },
        [K(b, 1)] = { f, K(b, 2) }, [K(b, 2)] = { f }, [K(c, 1)] = { f, K(c, 2) }, [K(c, 2)] = { f, K(c, 3) },
        [K(c, 3)] = { f }, [K(d, 1)] = { f, K(c, 1) }, [K(d, 2)] = { f, K(d, 1) }, [K(d, 3)] = { f, K(d, 1) },
        [K(e, 1)] = { f, K(b, 1) }, [K(e, 2)] = { f, K(e, 1) },
      }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.is_true(o[K(c, 1)] < o[K(b, 1)])
      assert.equal(1, math.abs(o[K(d, 2)] - o[K(d, 3)]))
    end)
  end)

  it("runs b before c (test_deep_bases_win_over_dependents)", function()
    every_naming(function(a, b, c, d, e)
      local g = { [a] = { f, b, c, d }, [b] = { f, d, e }, [c] = { f, d }, [d] = { f, 1 }, [e] = { f, 2 } }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.is_true(o[b] < o[c])
    end)
  end)

  it("prefers the deep chain (test_prefer_deep)", function()
    every_naming(function(a, b, c, d, e)
      local g = { [a] = 1, [b] = { f, a }, [c] = { f, b }, [d] = 1, [e] = { f, d } }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.is_true(o[a] < o[d])
      assert.is_true(o[b] < o[d])
    end)
  end)

  it("orders a 10,000-task chain (test_stacklimit)", function()
    local g = {}
    for i = 0, 9999 do g["x" .. (i + 1)] = { inc, "x" .. i } end
    g.x0 = 0
    local o = lask.order(g)
    assert.equal(0, o.x0)
    assert.equal(10000, o.x10000)
  end)

  it("takes keys of mixed types (test_order_doesnt_fail_on_mixed_type_keys, test_type_comparisons_ok)", function()
    local o = lask.order({ x = { inc, 1 }, [K("y", 0)] = { inc, 2 }, z = { add, "x", K("y", 0) } })
    assert.equal(2, o.z)
    every_naming(function(a, b)
      local o2 = lask.order({ [a] = 1, [K(a, 1)] = 2, [K(a, b, 1)] = 3 })
      assert.equal(3, #lask.sorted_keys(o2))
    end)
  end)

  it("runs small sections to completion (test_run_smaller_sections)", function()
    every_naming(function(a, b, c, d, e)
      local aa, bb, cc, dd = a .. a, b .. b, c .. c, d .. d
      local g = {
        [a] = { f }, [c] = { f }, [e] = { f }, [cc] = { f }, [b] = { f, a, c }, [d] = { f, c, e },
        [bb] = { f, cc }, [aa] = { f, d, bb }, [dd] = { f, cc },
      }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.equal(3, max_of(pressure(g, o)))
    end)
  end)

  it("finishes a stack before the next (test_local_parents_of_reduction)", function()
    every_naming(function(a, b, c)
      local a1, a2, a3, b1, b2, b3, c1, c2, c3 = a .. 1, a .. 2, a .. 3, b .. 1, b .. 2, b .. 3, c .. 1, c .. 2, c .. 3
      local log = {}
      local function rec(x) return function() log[#log + 1] = x end end
      local g = {
        [a3] = { rec(a3) }, [a2] = { rec(a2), a3 }, [a1] = { rec(a1), a2 },
        [b3] = { rec(b3) }, [b2] = { rec(b2), b3, a2 }, [b1] = { rec(b1), b2 },
        [c3] = { rec(c3) }, [c2] = { rec(c2), c3, b2 }, [c1] = { rec(c1), c2 },
      }
      assert_topological_sort(g, lask.order(g))
      sync.get(g, { a1, b1, c1 })
      assert.same({ a3, a2, a1, b3, b2, b1, c3, c2, c1 }, log)
    end)
  end)

  it("finishes local groups of connected neighbours (test_nearest_neighbor)", function()
    every_naming(function(a, b)
      local g = {}
      for i = 1, 4 do g[b .. i] = { f } end
      local uses = { { 1 }, { 1 }, { 1, 2 }, { 2 }, { 2, 3 }, { 3 }, { 3, 4 }, { 4 }, { 4 } }
      for i, u in ipairs(uses) do
        local t = { f }
        for _, j in ipairs(u) do t[#t + 1] = b .. j end
        g[a .. i] = t
      end
      local o = lask.order(g)
      assert_topological_sort(g, o)
      local na, nb = 0, 0
      for i = 1, 9 do if o[a .. i] < 13 / 2 then na = na + 1 end end
      for i = 1, 4 do if o[b .. i] < 13 / 2 then nb = nb + 1 end end
      assert.is_true(3 < na and na < 7, "a's in the first half: " .. na)
      assert.is_true(1 < nb and nb < 4, "b's in the first half: " .. nb)
    end)
  end)

  it("orders independent tasks in one direction (test_string_ordering)", function()
    local g = { [K("a", 1)] = { f }, [K("a", 2)] = { f }, [K("a", 3)] = { f } }
    local o = lask.order(g)
    local up = o[K("a", 1)] == 0 and o[K("a", 2)] == 1 and o[K("a", 3)] == 2
    local down = o[K("a", 1)] == 2 and o[K("a", 2)] == 1 and o[K("a", 3)] == 0
    assert.is_true(up or down)
  end)

  it("prefers short narrow branches (test_prefer_short_narrow)", function()
    every_naming(function(a, b, c)
      local g = {
        [K(a, 0)] = 0, [K(b, 0)] = 0, [K(c, 0)] = 0, [K(c, 1)] = { f, K(c, 0), K(a, 0), K(b, 0) },
        [K(a, 1)] = 1, [K(b, 1)] = 1, [K(c, 2)] = { f, K(c, 1), K(a, 1), K(b, 1) },
      }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.is_true(o[K(b, 0)] < o[K(b, 1)])
      assert.is_true(o[K(b, 0)] < o[K(c, 2)])
      assert.is_true(o[K(c, 1)] < o[K(c, 2)])
    end)
  end)

  it("does not run all dependents too early (test_dont_run_all_dependents_too_early)", function()
    every_naming(function(a, b, c, d)
      local g = { [K(a, 0)] = { f, 0 }, [K(b, 0)] = { f, 1 }, [K(c, 0)] = { f, 2 },
        [K(d, 0)] = { f, K(a, 0), K(b, 0), K(c, 0) } }
      for i = 1, 9 do
        g[K(b, i)] = { f, K(b, 0) }
        g[K(c, i)] = { f, K(c, 0) }
        g[K(d, i)] = { f, K(d, i - 1), K(b, i), K(c, i) }
      end
      local o = lask.order(g)
      assert_topological_sort(g, o)
      local got = {}
      for i = 0, 9 do got[#got + 1] = o[K(d, i)] end
      assert.same({ 3, 6, 9, 12, 15, 18, 21, 24, 27, 30 }, got)
    end)
  end)

  it("takes the branch with more work first (test_many_branches_use_ndependencies)", function()
    every_naming(function(a, b, c, d, e)
      local dd, ee = d .. d, e .. e
      local g = {
        [K(a, 0)] = 0, [K(a, 1)] = { f, K(a, 0) }, [K(a, 2)] = { f, K(a, 1) }, [K(b, 1)] = { f, K(a, 0) },
        [K(b, 2)] = { f, K(b, 1) }, [K(c, 1)] = { f, K(a, 0) }, [K(d, 1)] = { f, K(a, 0) }, [K(d, 2)] = { f, K(d, 1) },
        [K(dd, 1)] = { f, K(a, 0) }, [K(dd, 2)] = { f, K(dd, 1) }, [K(dd, 3)] = { f, K(d, 2), K(dd, 2) },
        [K(e, 1)] = { f, K(a, 0) }, [K(e, 2)] = { f, K(e, 1) }, [K(ee, 1)] = { f, K(a, 0) },
        [K(ee, 2)] = { f, K(ee, 1) }, [K(ee, 3)] = { f, K(e, 2), K(ee, 2) },
        [K(a, 3)] = { f, K(a, 2), K(b, 2), K(c, 1), K(dd, 3), K(ee, 3) },
      }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      local got = {}
      for k, v in pairs(o) do
        if k[1] == d or k[1] == dd or k[1] == e or k[1] == ee then got[#got + 1] = v end
      end
      table.sort(got)
      assert.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, got)
      assert.equal(o[K(a, 3)] - 1, o[K(c, 1)])
    end)
  end)

  -- Deliberately unlike Dask (test_favor_longest_critical_path wants b first): a
  -- ready task no one depends on runs at once, since it holds no memory and lets
  -- its inputs go sooner.
  it("runs ready terminal tasks before the critical path (unlike test_favor_longest_critical_path)", function()
    every_naming(function(a, b, c, d, e)
      local g = { [c] = { f }, [d] = { f, c }, [e] = { f, c }, [b] = { f, c }, [a] = { f, b } }
      local o = lask.order(g)
      assert_topological_sort(g, o)
      assert.is_true(o[d] < o[b] and o[e] < o[b])
      assert.equal(1, max_of(pressure(g, o)))
    end)
  end)

  it("raises on cycles, orders the empty graph (test_order_cycle, test_order_empty)", function()
    for _, g in ipairs({
      { a = { f, "a" } }, { [K("a", 0)] = { f, K("a", 0) } }, { a = { f, "b" }, b = { f, "c" }, c = { f, "a" } },
      { a = { f, "b" }, b = { f, "c" }, c = { f, "a", "d" }, d = 1 },
      { a = { f, "b" }, b = { f, "c" }, c = { f, "a", "d" }, d = { f, "b" } },
    }) do
      local ok, err = pcall(lask.order, g)
      assert.is_false(ok)
      assert.matches("cycle", tostring(err))
    end
    assert.same({}, lask.order({}))
  end)

  it("spreads equal dependents little, in bounded memory (test_order_with_equal_dependents)", function()
    every_naming(function(a, b, c, d)
      local abc = { a, b, c, d }
      local g = {}
      for _, x in ipairs(abc) do
        g[K(x, 0)], g[K(x, 1)] = { f, 0 }, { f, K(x, 0) }
        g[K(x, 2, 0)], g[K(x, 2, 1)] = { f, K(x, 0) }, { f, K(x, 1) }
        for i, y in ipairs(abc) do
          g[K(x, 3, i)] = { f, K(x, 2, 0), K(y, 2, 1) }
          g[K(x, 4, i)] = { f, K(x, 3, i) }
          g[K(x, 5, i, 0)], g[K(x, 5, i, 1)] = { f, K(x, 4, i) }, { f, K(x, 4, i) }
          g[K(x, 6, i, 0)], g[K(x, 6, i, 1)] = { f, K(x, 5, i, 0) }, { f, K(x, 5, i, 1) }
        end
      end
      local o = lask.order(g)
      assert_topological_sort(g, o)
      local total = 0
      for _, x in ipairs(abc) do
        for i = 1, 4 do total = total + math.abs(o[K(x, 6, i, 1)] - o[K(x, 6, i, 0)]) end
      end
      assert.is_true(total <= 32, "spread " .. total)
      assert.is_true(max_of(pressure(g, o)) <= 10)
    end)
  end)
end)

describe("lask.order and key names", function()
  it("walks the outputs by structure, not in key order", function()
    -- a deep chain and a shallow one: the deep one first, whichever name sorts first
    for _, names in ipairs({ { "a", "z" }, { "z", "a" } }) do
      local deep, shallow = names[1], names[2]
      local g = { [deep .. "0"] = { f }, [deep .. "1"] = { f, deep .. "0" }, [deep .. "2"] = { f, deep .. "1" },
        [shallow .. "0"] = { f }, [shallow .. "1"] = { f, shallow .. "0" } }
      local o = lask.order(g)
      assert.equal(0, o[deep .. "0"])
      assert.equal(2, o[deep .. "2"])
    end
  end)

  it("gives the same order for a renamed graph with no ties", function()
    -- branches of different depths and widths: the order is fixed by structure alone
    local rng = math.random
    math.randomseed(SEED)
    for _ = 1, 20 do
      local names = {}
      for i = 1, 12 do names[i] = string.char(96 + i) end
      local perm = table.move(names, 1, #names, 1, {})
      for i = #perm, 2, -1 do
        local j = rng(i)
        perm[i], perm[j] = perm[j], perm[i]
      end
      local function build(nm)
        -- chains of lengths 1..4 under one root, each chain a distinct length
        local g, root = {}, { f }
        local k = 0
        for len = 1, 4 do
          local prev
          for s = 1, len do
            k = k + 1
            g[nm[k]] = prev and { f, prev } or { f }
            prev = nm[k]
          end
          root[#root + 1] = prev
        end
        g.root = root
        return g
      end
      local o1, o2 = lask.order(build(names)), lask.order(build(perm))
      for i = 1, 10 do assert.equal(o1[names[i]], o2[perm[i]]) end
    end
  end)
end)

describe("lask.order on random graphs", function()
  it("is a topological order that lask.sync follows", function()
    math.randomseed(SEED)
    for _ = 1, 30 do
      local n = math.random(1, 40)
      local g, names = {}, {}
      for i = 1, n do names[i] = ("k%03d"):format(math.random(0, 999)) .. i end
      for i = 1, n do
        local t = { function() return 0 end }
        for _ = 1, math.random(0, 3) do
          if i > 1 then t[#t + 1] = names[math.random(1, i - 1)] end
        end
        g[names[i]] = t
      end
      local o = lask.order(g)
      assert_topological_sort(g, o)
    end
  end)
end)

describe("lask.order keeps few intermediates alive", function()
  -- the peak number of results held, whatever the number of independent pieces
  local function peak(g) return max_of(pressure(g, lask.order(g))) end

  it("runs many independent reductions one after the other", function()
    for _, groups in ipairs({ 4, 64 }) do
      local g = {}
      for i = 1, groups do
        local parts = {}
        for j = 1, 8 do
          g[K("x", i, j)] = { f }
          g[K("y", i, j)] = { inc, K("x", i, j) } -- an elementwise step
          parts[j] = K("y", i, j)
        end
        g[K("s", i)] = { f, parts }
      end
      -- a reduction needs its 8 parts at once; nothing else waits
      assert.equal(8, peak(g), "for " .. groups .. " reductions")
      -- and with a final total over all of them: the partial sums wait too
      local all = {}
      for i = 1, groups do all[i] = K("s", i) end
      g.total = { f, all }
      assert.is_true(peak(g) <= groups + 8)
    end
  end)

  it("releases each block of a chunked reduction before making the next (tree reductions too)", function()
    for _, n in ipairs({ 16, 256 }) do
      local g, level = {}, {}
      for i = 1, n do
        g[K("x", i)] = { f }
        g[K("c", i)] = { inc, K("x", i) }
        level[i] = K("c", i)
      end
      local depth = 0
      while #level > 1 do -- a tree of width 4, as Dask's split_every
        depth = depth + 1
        local up = {}
        for i = 1, #level, 4 do
          local k = K("agg", depth, i)
          g[k] = { f, table.move(level, i, math.min(i + 3, #level), 1, {}) }
          up[#up + 1] = k
        end
        level = up
      end
      assert.is_true(peak(g) <= 4 * depth, "peak " .. peak(g) .. " for " .. n .. " blocks")
    end
  end)

  it("finishes each output's chain when every block is an output (map over blocks)", function()
    local g, outs = {}, {}
    for i = 1, 200 do
      g[K("a", i)] = { f }
      g[K("b", i)] = { inc, K("a", i) }
      g[K("c", i)] = { inc, K("b", i) }
      outs[i] = K("c", i)
    end
    assert.equal(1, peak(g))
  end)
end)
