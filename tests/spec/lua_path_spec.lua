-- The Lua path at scale: graphs generated in Lua with lask.key tuple keys (the shapes
-- of scripts/bench/lua_path.lua), converted and run on every scheduler, against their
-- values; and the conversion's shortcuts (heads and numbers shared between tasks,
-- keys found by their stamp) keeping the table semantics.
local lask = require "lask"
local key, K = lask.key, lask.kernels

-- The graphs of scripts/bench/lua_path.lua: G.build(shape, n, heads) gives the graph,
-- its output key and the output's value (in closed form).
local G = dofile("scripts/bench/graphs.lua")

local schedulers = {
  { "lask.sync", function(d, k) return lask.sync.get(d, k) end },
  { "lask.threaded", function(d, k) return lask.threaded.get(d, k, { num_workers = 2 }) end },
  { "lask.multiprocessing", function(d, k) return lask.multiprocessing.get(d, k, { num_workers = 2 }) end },
  { "lua = parallel", function(d, k) return lask.threaded.get(d, k, { num_workers = 2, lua = "parallel" }) end },
}

for _, s in ipairs(schedulers) do
  local name, get = s[1], s[2]
  describe("generated graphs with tuple keys on " .. name, function()
    for _, heads in ipairs { "native", "lua" } do
      it("chain, fanin and tree of 3000 tasks (" .. heads .. " heads) against their values", function()
        for _, shape in ipairs { "chain", "fanin", "tree" } do
          local d, out, want = G.build(shape, 3000, heads, 0)
          assert.are.equal(want, get(d, out), shape)
          assert.are.equal(want, get(d, out), shape) -- the same table again: keys stamped by the get before
        end
      end)
    end

    it("keeps each number constant's type and value where tasks share one", function()
      local function kind(x) return x .. "" end -- "1" or "1.0": the type shows (and no global is used)
      local d = {}
      local want = {}
      local values = { 1, 1.0, 1, -0.0, 0.0, 0, 2 ^ 53, math.maxinteger, 1.5, 1 }
      for i, v in ipairs(values) do
        d[key("n", i)] = { kind, v }
        want[i] = kind(v)
      end
      local ks = {}
      for i = 1, #values do ks[i] = key("n", i) end
      assert.are.same(want, get(d, ks))
    end)

    it("tells heads from data when tasks alternate heads, lists and objects", function()
      local function sum(xs)
        local t = 0
        for j = 1, #xs do t = t + xs[j] end
        return t
      end
      local obj = setmetatable({}, { __call = function(_, x) return x * 10 end })
      local d = {}
      local ks, want = {}, {}
      for i = 1, 40 do
        local k = key("m", i)
        local r = i % 4
        if r == 0 then
          d[k] = { K.add, i, 1 }
          want[i] = i + 1
        elseif r == 1 then
          d[k] = { obj, i }
          want[i] = i * 10
        elseif r == 2 then
          d[k] = { sum, { i, i, { K.add, i, 1 } } }
          want[i] = 3 * i + 1
        else
          d[k] = { K.add, key("m", i - 1), lask.quote(1) }
          want[i] = want[i - 1] + 1
        end
        ks[i] = k
      end
      assert.are.same(want, get(d, ks))
    end)
  end)
end

describe("conversion errors name the task and the key", function()
  it("a missing tuple key", function()
    local d = { [key("a", 1)] = { K.add, key("a", 0), 1 } }
    assert.has_error(function() lask.sync.get(d, key("a", 1)) end,
      "lask: missing dependency: task ('a', 1) depends on ('a', 0), which is not in the graph")
  end)

  it("a task whose head is nil, after tasks with a head", function()
    local d = { [key("a", 0)] = { K.add, 1, 1 }, [key("a", 1)] = { nil, key("a", 0) } }
    assert.has_error(function() lask.sync.get(d, key("a", 1)) end,
      "lask: task ('a', 1): its first element is nil, not a function (is the function defined?)")
  end)
end)

-- A conversion records tuple keys by id only when asked (errors, callbacks, lua =
-- "parallel"), from the keys' stamps; another conversion of the same keys in between
-- (a task, a callback or a plain get converting them again) must not lose them.
describe("errors and callbacks name the right keys when the same keys are converted again", function()
  local function graph(fail_at)
    local d = { [key("n", 0)] = { K.add, 0, 1 } }
    for i = 1, 20 do
      d[key("n", i)] = i == fail_at and { function() error("boom at " .. i) end, key("n", i - 1) }
        or { K.add, key("n", i - 1), 1 }
    end
    return d
  end

  for _, s in ipairs(schedulers) do
    local name, get = s[1], s[2]
    it("a task that fails after a task ran a get on the same keys (" .. name .. ")", function()
      local d = graph(15)
      d[key("n", 10)] = { function(x) -- converts the graph's own keys again, nested
        assert.are.equal(5, lask.sync.get(d, key("n", 4)))
        return x + 1
      end, key("n", 9) }
      local ok, err = pcall(get, d, key("n", 20))
      assert.is_false(ok)
      assert.are.equal("task", err.kind)
      assert.is_true(rawequal(key("n", 15), err.key), tostring(err.key))
      assert.matches("boom at 15", tostring(err))
    end)
  end

  it("a cycle found after a start callback converted the same keys", function()
    local d = graph()
    d[key("n", 0)] = { K.add, key("n", 20), 1 }
    local cb = { start = function() pcall(lask.order, d, key("n", 3)) end }
    local ok, err = pcall(lask.sync.get, d, key("n", 20), { callbacks = { cb } })
    assert.is_false(ok)
    assert.are.equal("cycle", err.kind)
    assert.are.equal(21, #err.cycle)
    local seen = {}
    for _, k in ipairs(err.cycle) do seen[k[2]] = true end
    for i = 0, 20 do assert.is_true(seen[i], "key ('n', " .. i .. ") in the cycle") end
  end)

  it("posttask callbacks get every task's key after a start callback converted them again", function()
    local d = graph()
    local got = {}
    local cb = {
      start = function() assert.are.equal(4, lask.sync.get(d, key("n", 3))) end,
      posttask = function(k) got[#got + 1] = k end,
    }
    assert.are.equal(21, lask.sync.get(d, key("n", 20), { callbacks = { cb } }))
    assert.are.equal(21, #got)
    for i, k in ipairs(got) do assert.is_true(rawequal(key("n", i - 1), k), tostring(k)) end
  end)

  it("a get after another get of the same keys names a missing key and its task", function()
    local d = graph()
    assert.are.equal(21, lask.sync.get(d, key("n", 20)))
    d[key("n", 7)] = { K.add, key("gone", 1), 1 }
    local ok, err = pcall(lask.sync.get, d, key("n", 20))
    assert.is_false(ok)
    assert.are.equal("missing", err.kind)
    assert.is_true(rawequal(key("n", 7), err.key))
    assert.matches("task %('n', 7%) depends on %('gone', 1%)", tostring(err))
  end)
end)
