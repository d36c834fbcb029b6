-- lask.ndarray arithmetic is recorded and evaluated in one fused pass (lndexpr.c,
-- engine/array/ewexpr.c). What a user sees must not change: every operator on every
-- dtype, on views of every layout and on scalars either side, alone and inside longer
-- expressions, gives the dtype, shape and bits the kernels give applied one at a time
-- (the reference: the same kernels run as tasks of a graph, natively, one task per
-- operator), and the same errors, raised by the operator that causes them. Also: long
-- chains stay bounded, operands stay alive, file-mapped operands are read at once,
-- and pending values travel through every scheduler. Random values; the seed is
-- printed.
-- busted runs specs in an environment of its own; the tasks here read the real
-- globals, as a user's script does.
local describe, it, assert, setup, teardown = describe, it, assert, setup, teardown
local _ENV = _G
local lask = require "lask"
local da = require "lask.array"
local core = require "lask.core"
local ak, nd, ops = core.array_kernels, core.ndarray, core.arrayops.ops

local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
print(("# ndarray_lazy_spec seed %d (set LASK_SEED to replay)"):format(seed))
math.randomseed(seed)

local DTYPES = { "float64", "float32", "int64", "bool" }
local KMT = getmetatable(ak.add)

-- A C-contiguous ndarray of shape with random values of dtype (floats: multiples of
-- 1/8 in [-6, 6], exact in float32; no zeros, so that divisions stay finite).
local function random_nd(shape, dt)
  local n = 1
  for _, e in ipairs(shape) do n = n * e end
  local flat = {}
  for i = 1, n do
    local v = math.random(1, 48) * (math.random() < 0.5 and -1 or 1)
    if dt == "bool" then flat[i] = v > 0
    elseif dt == "int64" then flat[i] = v // 8
    else flat[i] = v / 8 end
  end
  return nd.asarray(flat, dt):reshape(shape)
end

-- What a value is, exactly: dtype, shape, then each element (floats as %a: every bit
-- but a NaN's payload).
local function bits(v)
  if not nd.isndarray(v) then return { type(v), math.type(v) == "float" and ("%a"):format(v) or tostring(v) } end
  local out = { "dtype " .. v.dtype, "shape " .. table.concat(v.shape, ",") }
  local function walk(t)
    if type(t) ~= "table" then
      out[#out + 1] = math.type(t) == "float" and ("%a"):format(t) or tostring(t)
      return
    end
    for _, x in ipairs(t) do walk(x) end
  end
  walk(v:totable())
  return out
end

-- A call tree {kernel, args...}: args are trees, ndarrays or scalars.
local function is_call(t) return type(t) == "table" and getmetatable(t) == nil and getmetatable(t[1]) == KMT end

-- The tree evaluated by the kernels one at a time: a graph of one task per call, run
-- natively by lask.get (no Lua in between). Gives true, value or false, message.
local function eager(tree)
  local dsk, n = {}, 0
  local function key(t)
    if not is_call(t) then return t end
    local task = { t[1] }
    for i = 2, #t do task[i] = key(t[i]) end
    n = n + 1
    dsk["t" .. n] = task
    return "t" .. n
  end
  local root = key(tree)
  return pcall(lask.get, dsk, root)
end

-- The eager tree's value (raises if the kernels fail).
local function eager_value(tree)
  local ok, v = eager(tree)
  assert(ok, v)
  return v
end

-- Lua's operators for the kernels that have one.
local OPERATORS = {
  add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end, div = function(a, b) return a / b end,
  mod = function(a, b) return a % b end, floor_divide = function(a, b) return a // b end,
  pow = function(a, b) return a ^ b end, neg = function(a) return -a end,
}
local KNAME = {}
for name in pairs(OPERATORS) do KNAME[ak[name]] = name end

-- The tree evaluated from Lua, recorded: the kernels called (or, with operators,
-- Lua's operators where there is one). Gives true, value or false, message (without
-- its position).
local function lazy(tree, operators)
  local function ev(t)
    if not is_call(t) then return t end
    local args = {}
    for i = 2, #t do args[i - 1] = ev(t[i]) end
    local f = operators and OPERATORS[KNAME[t[1]] or ""] or t[1]
    return f(table.unpack(args, 1, #t - 1))
  end
  local ok, v = pcall(ev, tree)
  if not ok then v = tostring(v):gsub("^[^:]*:%d+: ", "") end
  return ok, v
end

-- Checks the recorded tree against the eager one: the same bits, or the same error.
local function check(tree, what, operators)
  local eok, e = eager(tree)
  local lok, l = lazy(tree, operators)
  if not eok then
    assert(not lok, what .. ": the kernels fail (" .. tostring(e) .. ") but the recorded expression gives a value")
    assert(tostring(e):find(l, 1, true), what .. ": error '" .. l .. "' is not the kernels' '" .. tostring(e) .. "'")
    return false
  end
  if not lok then error(what .. ": the kernels give a value, the recorded expression fails: " .. tostring(l)) end
  local pending = nd.pending(l) -- (before anything reads it)
  assert.are.same(bits(e), bits(l), what)
  return true, l, pending
end

-- Operands of every dtype: arrays of shape {3, 4} and scalars.
local function operands()
  local out = {}
  for _, dt in ipairs(DTYPES) do out[#out + 1] = { dt, random_nd({ 3, 4 }, dt) } end
  for _, s in ipairs { 3, 2.5, true } do out[#out + 1] = { tostring(s), s } end
  return out
end

describe("recorded ndarray arithmetic", function()
  it("is pending until its data is needed: the layout is known at once", function()
    local a = random_nd({ 3, 4 }, "float32")
    local r = (a * 2 + 1) - a
    assert.are.equal(5 + 2, nd.pending(r)) -- a 2 mul 1 add a sub
    assert.are.same({ 3, 4 }, r.shape)
    assert.are.equal("float32", r.dtype)
    assert.are.equal(2, r.ndim)
    assert.are.equal(12, r.size)
    assert.are.same({ 16, 4 }, r.strides)
    assert.are.equal(3, #r)
    assert.is_true(nd.isndarray(r))
    assert.is_truthy(nd.pending(r))
    assert.are.equal((a:get(2, 3) * 2 + 1) - a:get(2, 3), r:get(2, 3)) -- exact in float32 here
    assert.is_false(nd.pending(r))
  end)

  it("every operator on every dtype and scalar, alone and inside an expression, as the kernels", function()
    local z = random_nd({ 3, 4 }, "float64")
    local vals = operands()
    local checked = 0
    for name, op in pairs(ops) do
      if op.kernel == "op" then
        local function both(args, what)
          local call = { ak[name], table.unpack(args) }
          local ok, _, pending = check(call, what)
          if ok then
            assert.is_truthy(pending, what .. " was not pending")
            checked = checked + 1
          end
          check({ ak.add, { ak.mul, call, 3 }, z }, what .. " inside an expression")
          local inner = {}
          for i, v in ipairs(args) do inner[i] = nd.isndarray(v) and { ak.mul, v, true } or v end
          check({ ak[name], table.unpack(inner) }, what .. " of expressions")
        end
        if op.arity == 1 then
          for _, x in ipairs(vals) do
            if nd.isndarray(x[2]) then both({ x[2] }, name .. "(" .. x[1] .. ")") end
          end
        elseif op.arity == 2 then
          for _, x in ipairs(vals) do
            for _, y in ipairs(vals) do
              if nd.isndarray(x[2]) or nd.isndarray(y[2]) then
                both({ x[2], y[2] }, ("%s(%s, %s)"):format(name, x[1], y[1]))
              end
            end
          end
        else -- where
          for _, c in ipairs(DTYPES) do
            for _, x in ipairs(vals) do
              for _, y in ipairs(vals) do
                both({ random_nd({ 3, 4 }, c), x[2], y[2] }, ("%s(%s, %s, %s)"):format(name, c, x[1], y[1]))
              end
            end
          end
        end
      end
    end
    assert.is_true(checked > 500, "only " .. checked .. " operations checked")
  end)

  it("Lua's operators on every dtype pair and on scalars either side, as the kernels", function()
    local vals = operands()
    for name in pairs(OPERATORS) do
      for _, x in ipairs(vals) do
        if nd.isndarray(x[2]) and name == "neg" then
          check({ ak.neg, x[2] }, "-" .. x[1], true)
          check({ ak.neg, { ak.neg, { ak.mul, x[2], 2 } } }, "-(-(" .. x[1] .. " * 2))", true)
        end
        for _, y in ipairs(vals) do
          if nd.isndarray(x[2]) and name ~= "neg" then
            local what = ("%s %s %s"):format(x[1], name, y[1])
            check({ ak[name], x[2], y[2] }, what, true)
            check({ ak[name], y[2], x[2] }, what .. " (swapped)", true)
            check({ ak.sub, { ak[name], x[2], y[2] }, { ak.mul, x[2], 0.5 } }, what .. " in an expression", true)
          end
        end
      end
    end
  end)

  it("pow: powi for small integer exponents, pow beyond, as the kernel picks", function()
    for _, dt in ipairs(DTYPES) do
      local x = random_nd({ 5 }, dt)
      for _, e in ipairs { -2, -1, 0, 1, 2, 3, 7, 16, 17, 0.5, 2.0, true } do
        check({ ak.pow, x, e }, dt .. " ^ " .. tostring(e), true)
        check({ ak.pow, { ak.add, x, x }, e }, "(" .. dt .. " + itself) ^ " .. tostring(e), true)
      end
      for _, edt in ipairs(DTYPES) do check({ ak.pow, x, random_nd({ 5 }, edt) }, dt .. " ^ " .. edt, true) end
      check({ ak.pow, 2, x }, "2 ^ " .. dt, true)
      check({ ak.pow, random_nd({}, dt), 2 }, "0-d " .. dt .. " ^ 2", true)
    end
    for _, n in ipairs { 2, -1, 0 } do check({ ak.round, random_nd({ 5 }, "float64"), n }, "round " .. n) end
  end)

  it("operands that are views of every layout, 0-d, empty and broadcast", function()
    for _, dt in ipairs(DTYPES) do
      local c = random_nd({ 3, 4 }, dt)
      local big = random_nd({ 7, 9 }, dt)
      local layouts = {
        contiguous = c,
        fortran = ak.transpose(ak.transpose(c, { 1, 0 }):copy(), { 1, 0 }),
        transposed = ak.transpose(random_nd({ 4, 3 }, dt), { 1, 0 }),
        stepped = ak.getitem(big, { 0, 0 }, { 6, 8 }, { 2, 2 }),
        offset = ak.getitem(big, { 2, 3 }, { 5, 7 }),
        row = ak.getitem(big, { 4, 0 }, { 5, 4 }),      -- {1, 4}: broadcast along rows
        column = ak.getitem(big, { 1, 5 }, { 4, 6 }),   -- {3, 1}, strided
        zero_d = random_nd({}, dt),
        one = random_nd({ 1, 1 }, dt),
      }
      for lname, v in pairs(layouts) do
        for _, w in ipairs { c, 2, 0.5, layouts.stepped } do
          local what = dt .. " " .. lname
          check({ ak.add, { ak.mul, v, w }, v }, what, true)
          check({ ak.maximum, { ak.neg, { ak.mul, v, 3 } }, w }, what .. " maximum")
          check({ ak.where, { ak.less, v, w }, v, { ak.sub, w, 1 } }, what .. " where")
        end
      end
      local empties = { nd.asarray({}, dt), ak.getitem(c, { 0, 0 }, { 3, 0 }), ak.getitem(big, { 2, 0 }, { 2, 9 }) }
      for i, e in ipairs(empties) do
        local ok, r = check({ ak.add, { ak.mul, e, 2 }, e }, dt .. " empty " .. i, true)
        assert.is_true(ok)
        assert.are.equal(0, r.size)
        assert.are.equal(tostring(eager_value({ ak.mul, e, 2 })), tostring(e * 2))
      end
      -- 0-d operands alone give a 0-d array, as the kernels
      local ok, r = check({ ak.add, { ak.mul, layouts.zero_d, 2 }, 1 }, dt .. " 0-d alone", true)
      assert.is_true(ok)
      assert.are.equal(0, r.ndim)
    end
  end)

  it("broadcasts as the kernels, and refuses what they refuse where it happens", function()
    local a, b = random_nd({ 3, 1 }, "float64"), random_nd({ 4 }, "int64")
    check({ ak.mul, { ak.add, a, b }, b }, "(3,1) + (4,)", true)
    check({ ak.add, random_nd({ 2, 1, 3 }, "float32"), random_nd({ 4, 1 }, "bool") }, "(2,1,3) + (4,1)", true)
    -- a shape mismatch: the error, worded as the kernel's, from the line of the operator
    local x, y = random_nd({ 3 }, "float64"), random_nd({ 2 }, "float64")
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() local s = x + 1; return s * y end)
    assert.is_false(ok)
    assert.are.equal(("ndarray_lazy_spec.lua:%d: mul: shapes (3,) and (2,) do not broadcast"):format(line),
      err:match("[^/]*$"))
    local _, eerr = eager({ ak.mul, { ak.add, x, 1 }, y })
    assert.is_truthy(tostring(eerr):find("mul: shapes (3,) and (2,) do not broadcast", 1, true))
    -- a dtype the operator refuses, and integers to a negative power: at once too
    local bools = random_nd({ 3 }, "bool")
    line = debug.getinfo(1, "l").currentline + 1
    ok, err = pcall(function() return bools - bools end)
    assert.is_false(ok)
    assert.is_truthy(err:find(("ndarray_lazy_spec.lua:%d: sub: numpy boolean subtract"):format(line), 1, true))
    local ints = random_nd({ 3 }, "int64")
    line = debug.getinfo(1, "l").currentline + 1
    ok, err = pcall(function() return (ints + 1) ^ -1 end)
    assert.is_false(ok)
    assert.is_truthy(err:find(("ndarray_lazy_spec.lua:%d: pow: powi: integers to negative integer powers"):format(line),
      1, true))
    ok, err = pcall(function() return ints ^ (ints - 9) end) -- element by element: run at once, fails at once
    assert.is_false(ok)
    assert.is_truthy(err:find("pow: integers to negative integer powers are not allowed", 1, true))
    -- operands left usable
    assert.are.same(bits(eager_value({ ak.add, x, x })), bits(x + x))
    -- not an operand: the kernel's own message, as before
    ok, err = pcall(function() return x + {} end)
    assert.is_false(ok)
    assert.is_truthy(err:find("add: argument 2 is a Lua value, not an array or a number", 1, true), err)
  end)

  it("stays bounded on long chains, and gives the values of the kernels applied one at a time", function()
    local x = random_nd({ 50 }, "float64")
    -- a long chain: y = y * 1.0001 + 0.5, 300 times
    local y, tree = x, x
    for _ = 1, 300 do
      y = y * 1.0001 + 0.5
      tree = { ak.add, { ak.mul, tree, 1.0001 }, 0.5 }
      assert.is_true((nd.pending(y) or 0) <= 64)
    end
    assert.are.same(bits(eager_value(tree)), bits(y))
    -- doubling: y = y + y (each operand its own copy of the other's nodes)
    y, tree = x, x
    for _ = 1, 12 do
      y = y + y * 0.5
      tree = { ak.add, tree, { ak.mul, tree, 0.5 } }
      assert.is_true((nd.pending(y) or 0) <= 64)
    end
    assert.are.same(bits(eager_value(tree)), bits(y))
    -- nested to the right: the stack grows
    y, tree = x, x
    for i = 1, 80 do
      y = (i % 2 == 0 and 1.5 or x) - y
      tree = { ak.sub, i % 2 == 0 and 1.5 or x, tree }
      assert.is_true((nd.pending(y) or 0) <= 64)
    end
    assert.are.same(bits(eager_value(tree)), bits(y))
    -- more arrays than a fused program takes
    local xs, s = {}, nil
    for i = 1, 45 do xs[i] = random_nd({ 50 }, DTYPES[i % 4 + 1]) end
    tree = xs[1]
    s = xs[1]
    for i = 2, 45 do
      s = s + xs[i]
      tree = { ak.add, tree, xs[i] }
    end
    assert.are.same(bits(eager_value(tree)), bits(s))
  end)

  it("keeps its operands alive while pending", function()
    local a, b = random_nd({ 1000 }, "float64"), random_nd({ 1000 }, "int64")
    local want = bits(eager_value({ ak.sub, { ak.mul, a, b }, a }))
    local r = a * b - a
    a, b = nil, nil
    collectgarbage()
    collectgarbage()
    assert.is_truthy(nd.pending(r))
    assert.are.same(want, bits(r))
  end)

  it("keeps the values its operands had: ndarrays cannot be written (a[i] = v raises, setitem copies)", function()
    local a, b = random_nd({ 4 }, "float64"), random_nd({ 4 }, "float64")
    local want = a:get(2) + b:get(2)
    local c = a + b
    assert.is_false(pcall(function() a[2] = 9 end))
    local a2 = ak.setitem(a, { 1 }, { 2 }, { 1 }, 9.0) -- a copy of a with a[2] = 9
    assert.are.equal(9, a2:get(2))
    assert.is_truthy(nd.pending(c))
    assert.are.equal(want, c:get(2))
  end)

  it("reads a file-mapped operand at once: a write to the file later does not change the result", function()
    local path = os.tmpname() .. ".npy"
    da.arange(8, { chunks = 4 }):astype("float64"):store(path)
    for _, mode in ipairs { true, "r+" } do
      local m = da.load(path, { mmap = mode })
      local before = m:totable()
      local c = m * 2 + 1 -- m * 2 runs at once (m's memory is the file's), + 1 may wait
      local v = ak.getitem(m, { 2 }, { 6 }) - 1
      local p = (da.arange(8):compute() + 0.5) * m -- a pending expression meeting the mapping
      assert.is_false(nd.pending(m * 2))
      assert.is_false(nd.pending(v))
      assert.is_false(nd.pending(p))
      da.full({ 8 }, 100.0):store(path, { regions = { {} }, mmap = mode == "r+" })
      assert.are.equal(100, m:get(1)) -- the mapping sees the write
      for i = 1, 8 do
        assert.are.equal(before[i] * 2 + 1, c:get(i))
        assert.are.equal((i - 1 + 0.5) * before[i], p:get(i))
      end
      for i = 1, 4 do assert.are.equal(before[i + 2] - 1, v:get(i)) end
      da.arange(8, { chunks = 4 }):astype("float64"):store(path)
    end
    os.remove(path)
  end)

  it("is evaluated by whatever needs its data, with the values of the kernels", function()
    local a = random_nd({ 2, 3 }, "float64")
    local want = eager_value({ ak.add, { ak.mul, a, 2 }, 1 })
    local function fresh() return a * 2 + 1 end
    local uses = {
      get = function(r) return r:get(2, 3) end, index = function(r) return r[2]:get(1) end,
      item = function(r) return ak.getitem(r, { 1, 1 }, { 2, 2 }):item() end,
      totable = function(r) return r:totable()[1][2] end, tostring = function(r) return tostring(r) end,
      copy = function(r) return bits(r:copy()) end, astype = function(r) return bits(r:astype("float32")) end,
      reshape = function(r) return bits(r:reshape(3, 2)) end, kernel = function(r) return bits(ak.transpose(r, { 1, 0 })) end,
      id = function(r) return nd.id(r) ~= nil end, asarray = function(r) return bits(nd.asarray(r, "int64")) end,
      from_array = function(r) return bits(da.from_array(r, { chunks = 1 }):compute()) end,
      graph = function(r) return bits(lask.get({ y = { ak.neg, r } }, "y")) end,
    }
    local expect = {
      get = want:get(2, 3), index = want[2]:get(1), item = want:get(2, 2), totable = want:totable()[1][2],
      tostring = tostring(want), copy = bits(want), astype = bits(want:astype("float32")),
      reshape = bits(want:reshape(3, 2)), kernel = bits(ak.transpose(want, { 1, 0 })), id = true,
      asarray = bits(want:astype("int64")), from_array = bits(want), graph = bits(lask.get({ y = { ak.neg, want } }, "y")),
    }
    for name, use in pairs(uses) do
      local r = fresh()
      assert.is_truthy(nd.pending(r), name)
      assert.are.same(expect[name], use(r), name)
      assert.is_false(nd.pending(r), name .. " left it pending")
    end
    local path = os.tmpname() .. ".npy"
    fresh():save(path)
    assert.are.same(bits(want), bits(da.load(path)))
    os.remove(path)
  end)
end)

describe("pending ndarrays through the schedulers", function()
  local x = random_nd({ 1000 }, "float64")
  local xt = x:totable()
  local scheds = {
    { "lask.sync", {}, require("lask.sync").get },
    { "lask.threaded", {}, lask.get },
    { "lua = parallel", { lua = "parallel" }, lask.get },
    { "lask.multiprocessing", {}, require("lask.multiprocessing").get },
  }

  it("returned from tasks, taken as arguments and captured as upvalues", function()
    local up = x * 3 -- pending, an upvalue of the tasks
    local function make(v) return v * 2 + 1 end
    local function use(v, w) return (v - w + up):get(10) end
    local d = { x = x, y = { make, "x" }, z = { use, "y", "y" }, w = { function() return up - 1 end } }
    for _, s in ipairs(scheds) do
      local y, z, w = table.unpack(s[3](d, { "y", "z", "w" }, s[2]))
      assert.are.equal(xt[10] * 3, z, s[1])
      for i = 1, 1000, 37 do
        assert.are.equal(xt[i] * 2 + 1, y:get(i), s[1])
        assert.are.equal(xt[i] * 3 - 1, w:get(i), s[1])
      end
    end
  end)

  it("a 3-point stencil of getitem views in map_overlap, on every scheduler", function()
    local function stencil(b)
      local m = b.shape[1]
      local K = require("lask.core").array_kernels
      return K.getitem(b, { 0 }, { m - 2 }) * 0.25 + K.getitem(b, { 1 }, { m - 1 }) * 0.5 + K.getitem(b, { 2 }, { m }) * 0.25
    end
    local N = 1000
    local dx = da.from_array(x, { chunks = 128 })
    local function at(i)
      if i < 1 then i = 1 - i elseif i > N then i = 2 * N + 1 - i end
      return xt[i]
    end
    for _, opts in ipairs { { scheduler = "sync" }, { scheduler = "threaded" }, { scheduler = "threaded", lua = "parallel" },
      { scheduler = "multiprocessing" } } do
      local y = da.map_overlap(stencil, dx, 1, "reflect", { trim = false }):compute(opts)
      assert.is_false(nd.pending(y))
      for i = 1, N do
        local want = 0.25 * at(i - 1) + 0.5 * at(i) + 0.25 * at(i + 1)
        if y:get(i) ~= want then
          error(("%s %s: at %d: %.17g, want %.17g"):format(opts.scheduler, tostring(opts.lua), i, y:get(i), want))
        end
      end
    end
  end)
end)
