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
