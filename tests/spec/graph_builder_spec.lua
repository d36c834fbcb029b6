-- lask.graph_builder: graphs made by calls, a node at a time, against the same graphs
-- as tables (the shapes of scripts/bench/graphs.lua), on every scheduler, with the
-- table path's errors.
local lask = require "lask"
local key, K = lask.key, lask.kernels
local G = dofile("scripts/bench/graphs.lua")

local schedulers = {
  { "lask.sync", function(d, k, o) return lask.sync.get(d, k, o) end },
  { "lask.threaded", function(d, k, o) return lask.threaded.get(d, k, o) end },
  { "lask.multiprocessing", function(d, k, o)
    return lask.multiprocessing.get(d, k, setmetatable({ num_workers = 2 }, { __index = o }))
  end },
  { "lua = parallel", function(d, k, o)
    local opts = { num_workers = 2, lua = "parallel" }
    for f, v in pairs(o or {}) do opts[f] = v end
    return lask.threaded.get(d, k, opts)
  end },
}

for _, s in ipairs(schedulers) do
  local name, get = s[1], s[2]
  describe("lask.graph_builder on " .. name, function()
    for _, heads in ipairs { "native", "lua" } do
      it("chain, fanin and tree of 2000 tasks (" .. heads .. " heads) give the table graphs' values", function()
        for _, shape in ipairs { "chain", "fanin", "tree" } do
          local dsk, out, expected, n = G.build(shape, 2000, heads, 0)
          local b = lask.graph_builder()
          local bout, bexpected, bn = G.build_into(b, shape, 2000, heads, 0)
          assert.are.equal(out, bout)
          assert.are.equal(n, bn)
          assert.are.equal(bexpected, expected)
          assert.are.equal(get(dsk, out), get(b, out), shape)
          assert.are.equal(expected, get(b, out), shape)
          assert.are.equal(n, b:count())
        end
      end)
    end

    it("takes the table path's arguments: lists, nested tasks, quotes, strings, objects", function()
      local function pack(...) return { ... } end
      local function make(b)
        b:value("s", "a string")
        b:value(key("n", 1), 10)
        b:task(key("n", 2), K.add, key("n", 1), 1.5)
        b:task("list", pack, { key("n", 1), { key("n", 2), "s" }, "not a key" })
        b:task("nested", K.add, { K.mul, key("n", 1), 2 }, key("n", 2))
        b:task("quoted", pack, lask.quote({ key("n", 1) }), lask.quote("s"))
        b:alias("alias", key("n", 2))
        b:value("literal", { K.add, 1, 2 }) -- a value, never a task
        return b
      end
      local b = make(lask.graph_builder())
      local r = get(b, { "list", "nested", "quoted", "alias", "literal", "s" })
      assert.are.same({ { 10, { 11.5, "a string" }, "not a key" } }, r[1]) -- pack's one argument
      local d = {
        s = "a string", [key("n", 1)] = 10, [key("n", 2)] = { K.add, key("n", 1), 1.5 },
        list = { pack, { key("n", 1), { key("n", 2), "s" }, "not a key" } },
        nested = { K.add, { K.mul, key("n", 1), 2 }, key("n", 2) },
      }
      assert.are.same(get(d, { "list", "nested" }), { r[1], r[2] }) -- as the table graph
      assert.are.equal(31.5, r[2])
      assert.is_true(rawequal(key("n", 1), r[3][1][1]))
      assert.are.equal("s", r[3][2])
      assert.are.equal(11.5, r[4])
      assert.are.equal(K.add, r[5][1])
      assert.are.equal("a string", r[6])
    end)

    it("sets nodes as a table graph's assignments do (b:set, b[key] = v)", function()
      local d = {
        a = 2, [key("t", 1)] = { K.mul, "a", 3 }, alias = key("t", 1), lst = { "a", key("t", 1), { "a" } },
        lit = { 1, 2 },
      }
      local b = lask.graph_builder()
      b.a = 2 -- defined before its uses: a string key
      b:set(key("t", 1), { K.mul, "a", 3 })
      b.alias = key("t", 1)
      b.lst = { "a", key("t", 1), { "a" } }
      b.lit = { 1, 2 }
      local want = { "a", key("t", 1), "alias", "lst", "lit" }
      assert.are.same(get(d, want), get(b, want))
    end)

    it("runs lask.array's fused graph built into it as the table graph", function()
      local da = require "lask.array"
      local expression = require "lask.array.expression"
      local x = (da.arange(1000, { chunks = 7 }) + 1) * 2
      local s = x:sum()
      for _, y in ipairs { x, s } do
        local dsk = expression.graph(y.layers, { [y.name] = true })
        local b = expression.graph(y.layers, { [y.name] = true }, lask.graph_builder())
        local grid = require("lask.array.core").key_grid(y.name, y.numblocks)
        local want, got = get(dsk, grid), get(b, grid)
        if y == s then
          assert.are.equal(1001 * 1000, got:item())
          assert.are.equal(want:item(), got:item())
        else
          assert.are.equal(#want, #got)
          for i = 1, #want do assert.are.same(want[i]:totable(), got[i]:totable()) end
        end
      end
    end)

    it("names the key of a failing task", function()
      local b = lask.graph_builder()
      b:value(key("v", 0), 1)
      -- a plain environment: copying busted's to worker states (lua = "parallel") may fail
      local boom = load("local x = ... if x == 1 then error('boom') end", "=boom", "t", { error = error })
      b:task(key("v", 1), boom, key("v", 0))
      b:task(key("v", 2), K.add, key("v", 1), 1)
      local ok, err = pcall(get, b, key("v", 2))
      assert.is_false(ok)
      assert.are.equal("task", err.kind)
      assert.is_true(rawequal(key("v", 1), err.key))
      assert.matches("boom", tostring(err))
    end)

    it("calls callbacks with the keys of its tasks", function()
      if name == "lask.multiprocessing" or name == "lua = parallel" then return end
      local b = lask.graph_builder()
      b:value(key("c", 0), 0)
      for i = 1, 5 do b:task(key("c", i), K.inc, key("c", i - 1)) end
      local seen = {}
      local cb = { posttask = function(k, _, dsk) seen[#seen + 1] = k; assert.are.equal(b, dsk) end }
      assert.are.equal(5, get(b, key("c", 5), { callbacks = { cb } }))
      assert.are.equal(5, #seen)
      for i, k in ipairs(seen) do assert.is_true(rawequal(key("c", i), k)) end
    end)
  end)
end

describe("lask.graph_builder errors, as the table path's", function()
  it("a missing dependency names the task and the key it needs", function()
    local b = lask.graph_builder()
    b:task(key("m", 1), K.add, key("m", 0), 1)
    b:task("top", K.inc, key("m", 1))
    local ok, err = pcall(lask.get, b, "top")
    assert.is_false(ok)
    assert.are.equal("missing", err.kind)
    assert.is_true(rawequal(key("m", 1), err.key))
    assert.are.equal("lask: missing dependency: task ('m', 1) depends on ('m', 0), which is not in the graph",
      tostring(err))
    local d = { [key("m", 1)] = { K.add, key("m", 0), 1 }, top = { K.inc, key("m", 1) } }
    local _, terr = pcall(lask.get, d, "top")
    assert.are.equal(tostring(terr), tostring(err))
  end)

  it("a requested key it does not have", function()
    local b = lask.graph_builder()
    b:value("x", 1)
    b:task("y", K.inc, key("later", 1)) -- used, never defined
    assert.has_error(function() lask.get(b, "z") end, "lask: key 'z' is not in the graph")
    assert.has_error(function() lask.get(b, key("later", 1)) end, "lask: key ('later', 1) is not in the graph")
  end)

  it("a cycle, with its keys", function()
    local b = lask.graph_builder()
    b:task(key("c", 1), K.inc, key("c", 3))
    b:task(key("c", 2), K.inc, key("c", 1))
    b:task(key("c", 3), K.inc, key("c", 2))
    local ok, err = pcall(lask.sync.get, b, key("c", 3))
    assert.is_false(ok)
    assert.are.equal("cycle", err.kind)
    assert.are.equal(3, #err.cycle)
    assert.matches("the graph has a cycle: %('c', %d%) %-> %('c', %d%) %-> %('c', %d%) %-> %('c', %d%)", tostring(err))
  end)

  it("a key defined twice, a head that cannot be called, a key of a wrong type", function()
    local b = lask.graph_builder()
    b:value(key("d", 1), 1)
    assert.has_error(function() b:task(key("d", 1), K.inc, 1) end,
      "lask: lask.graph_builder: task: key ('d', 1) is defined already")
    assert.has_error(function() b:task("x", 42, 1) end,
      "lask.graph_builder: task: its function is a number, not something to call")
    assert.has_error(function() b:value(3, 1) end,
      "lask.graph_builder: value: keys are strings or lask.key tuples, not number")
    assert.has_error(function() b:alias("a", "nothing") end,
      "lask.graph_builder: alias: no node 'nothing' yet (define a string key before its uses)")
    assert.has_error(function() lask.get(b, "x", { optimize = true }) end,
      "get: optimize needs a graph table, not a lask.graph_builder")
    b:value("ok", 2) -- the failed calls left it usable
    assert.are.equal(2, lask.get(b, "ok"))
  end)

  it("takes no more nodes once a get made its graph, and runs it again", function()
    local b = lask.graph_builder()
    b:value("x", 1)
    b:task("y", K.inc, "x")
    assert.are.equal(2, lask.get(b, "y"))
    assert.are.same({ 1, 2 }, lask.sync.get(b, { "x", "y" }))
    assert.has_error(function() b:value("z", 3) end,
      "lask.graph_builder: a get has made the graph; it takes no more nodes")
  end)

  it("keeps its keys when gets of other graphs with the same keys come in between", function()
    local b = lask.graph_builder()
    b:value(key("s", 0), 0)
    for i = 1, 50 do
      b:task(key("s", i), K.add, key("s", i - 1), 1)
      if i % 10 == 0 then -- another conversion stamps the same keys
        local d = {}
        for j = 0, i do d[key("s", j)] = j * 100 end
        assert.are.equal(i * 100, lask.sync.get(d, key("s", i)))
      end
    end
    assert.are.equal(50, lask.get(b, key("s", 50)))
    assert.are.equal(51, b:count())
    assert.are.equal(51, #lask.sync.get(b, (function()
      local ks = {}
      for j = 0, 50 do ks[#ks + 1] = key("s", j) end
      return ks
    end)()))
  end)
end)
