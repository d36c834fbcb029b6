-- graphs.lua: the graphs the overhead benchmarks build (overhead.lua, lua_path.lua).
-- Loaded with dofile(dir .. "graphs.lua"); works on stock lua5.4 with lask loadable.
--
--   G.heads(kind, work_us)              op(a, b) -> a task, and the sum of a list
--   G.build(shape, n, kind, work_us)    dsk, the output key, its expected value, tasks
--   G.build_into(b, shape, n, kind, work_us)
--                                       the same graph made by the lask.graph_builder b
--                                       (b:task a node, no table a task): the output
--                                       key, its expected value, tasks
--
-- The graphs. Every shape is built from one binary operation, op(a, b) = a + b:
--   chain  N tasks: c0 = op(0, 1), ci = op(c(i-1), 1)
--   fanin  N-1 independent tasks fi = op(i, 1), then one sum over the list of them
--   tree   N/2 leaves op(i, 1), then levels of op(left, right) down to one root
-- With work_us > 0 every op also busy-waits that long (the sum of fanin does not).

local G = {}

function G.heads(kind, work_us)
  local lask = require "lask"
  local K = lask.kernels
  if kind == "native" then
    if work_us > 0 then
      return function(a, b) return { K.spin, { K.add, a, b }, work_us } end, K.sum
    end
    return function(a, b) return { K.add, a, b } end, K.sum
  end
  local clock = lask.clock or os.clock
  local add
  if work_us > 0 then
    local dt = work_us * 1e-6
    add = function(a, b)
      local t = clock() + dt
      repeat until clock() >= t
      return a + b
    end
  else
    add = function(a, b) return a + b end
  end
  local function sum(xs)
    local s = 0
    for i = 1, #xs do s = s + xs[i] end
    return s
  end
  return function(a, b) return { add, a, b } end, sum
end

function G.build(shape, n, kind, work_us)
  local key = require("lask").key
  local op, sum = G.heads(kind, work_us)
  local dsk = {}
  if shape == "chain" then
    local prev = key("c", 0)
    dsk[prev] = op(0, 1)
    for i = 1, n - 1 do
      local k = key("c", i)
      dsk[k] = op(prev, 1)
      prev = k
    end
    return dsk, prev, n, n
  elseif shape == "fanin" then
    local ks = {}
    for i = 1, n - 1 do
      local k = key("f", i)
      dsk[k] = op(i, 1)
      ks[i] = k
    end
    local out = key("fsum", 0)
    dsk[out] = { sum, ks }
    return dsk, out, (n - 1) * n // 2 + (n - 1), n
  elseif shape == "tree" then
    local leaves = (n + 1) // 2
    local level, count = {}, 0
    for i = 0, leaves - 1 do
      local k = key("t", 0, i)
      dsk[k] = op(i, 1)
      level[i + 1] = k
    end
    count = leaves
    local depth = 0
    while #level > 1 do
      depth = depth + 1
      local up = {}
      for j = 1, (#level + 1) // 2 do
        local k = key("t", depth, j - 1)
        dsk[k] = op(level[2 * j - 1], level[2 * j] or 0)
        up[j] = k
      end
      count = count + #up
      level = up
    end
    return dsk, level[1], leaves * (leaves + 1) // 2, count
  end
  error("unknown shape " .. tostring(shape))
end

-- A task op(a, b) as b:task's head and arguments (G.heads' tasks, unpacked).
local function task_parts(kind, work_us)
  local op, sum = G.heads(kind, work_us)
  local t = op(0, 0)
  if type(t[2]) == "table" then return function(a, b) return t[1], { t[2][1], a, b }, t[3] end, sum end
  local f = t[1]
  return function(a, b) return f, a, b end, sum
end

-- G.build's shapes made by b:task calls. The loops repeat G.build's on purpose: G.build
-- writes its table as a user's loop does (dsk[k] = task), and a shared loop calling
-- back per task would add that call to the table path's measured build time.
function G.build_into(b, shape, n, kind, work_us)
  local key = require("lask").key
  local parts, sum = task_parts(kind, work_us)
  local task = b.task
  local function put(k, x, y) task(b, k, parts(x, y)) end
  if shape == "chain" then
    local prev = key("c", 0)
    put(prev, 0, 1)
    for i = 1, n - 1 do
      local k = key("c", i)
      put(k, prev, 1)
      prev = k
    end
    return prev, n, n
  elseif shape == "fanin" then
    local ks = {}
    for i = 1, n - 1 do
      local k = key("f", i)
      put(k, i, 1)
      ks[i] = k
    end
    local out = key("fsum", 0)
    task(b, out, sum, ks)
    return out, (n - 1) * n // 2 + (n - 1), n
  elseif shape == "tree" then
    local leaves = (n + 1) // 2
    local level, count = {}, 0
    for i = 0, leaves - 1 do
      local k = key("t", 0, i)
      put(k, i, 1)
      level[i + 1] = k
    end
    count = leaves
    local depth = 0
    while #level > 1 do
      depth = depth + 1
      local up = {}
      for j = 1, (#level + 1) // 2 do
        local k = key("t", depth, j - 1)
        put(k, level[2 * j - 1], level[2 * j] or 0)
        up[j] = k
      end
      count = count + #up
      level = up
    end
    return level[1], leaves * (leaves + 1) // 2, count
  end
  error("unknown shape " .. tostring(shape))
end

return G
