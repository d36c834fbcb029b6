-- The stride audit of issue 15, kernel by kernel: every array kernel of
-- lask.core.array_kernels that takes arrays is called twice, once on C-contiguous
-- operands and once on views with the same values (Fortran order through
-- transpose, a step through getitem, an offset through getitem), for each dtype it
-- takes; the results must be equal. The graphs of lask.array may copy a block before
-- a kernel sees it; a user calling a kernel (or a graph written by hand) may not,
-- so each kernel must read strides itself. Random values; the seed is printed.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local core = require "lask.core"
local ak, nd = core.array_kernels, core.ndarray

local seed = tonumber(os.getenv("LASK_SEED")) or os.time()
print(("# kernel_views_spec seed %d (set LASK_SEED to replay)"):format(seed))
math.randomseed(seed)

local DTYPES = { "float64", "float32", "int64", "bool" }

-- A C-contiguous ndarray of shape with random values of dtype (floats: multiples of
-- 1/8, exact in float32).
local function random_nd(shape, dt, lo, hi)
  lo, hi = lo or -6, hi or 6
  local n = 1
  for _, e in ipairs(shape) do n = n * e end
  local flat = {}
  for i = 1, n do
    if dt == "bool" then flat[i] = math.random() < 0.5
    elseif dt == "int64" then flat[i] = math.random(lo, hi)
    else flat[i] = math.random(lo * 8, hi * 8) / 8 end
  end
  return nd.asarray(flat, dt):reshape(shape)
end

-- Views of c (2-d or 1-d) with c's values: name -> view.
local function views(c)
  local out = {}
  local shape = c.shape
  if #shape == 2 then
    out.fortran = ak.transpose(ak.transpose(c, { 1, 0 }):copy(), { 1, 0 })
  end
  -- a step: c's values at every second element of a bigger array (junk between)
  local big_shape, starts, stops, steps = {}, {}, {}, {}
  for d = 1, #shape do
    big_shape[d] = 2 * shape[d] + 1
    starts[d], stops[d], steps[d] = 1, 1 + 2 * shape[d], 2
  end
  local big = random_nd(big_shape, c.dtype)
  -- put c's values in place: rebuild big's table with c's values at the stepped positions
  local t = big:totable()
  local ct = c:totable()
  if #shape == 2 then
    for i = 1, shape[1] do for j = 1, shape[2] do t[2 * i][2 * j] = ct[i][j] end end
  else
    for i = 1, shape[1] do t[2 * i] = ct[i] end
  end
  big = nd.asarray(t, c.dtype)
  out.stepped = ak.getitem(big, starts, stops, steps)
  -- an offset: c inside a bigger array, starting at (2, 1)
  local off_shape, ostarts, ostops = {}, {}, {}
  for d = 1, #shape do
    off_shape[d] = shape[d] + 3
    ostarts[d], ostops[d] = d == 1 and 2 or 1, (d == 1 and 2 or 1) + shape[d]
  end
  local ob = random_nd(off_shape, c.dtype):totable()
  if #shape == 2 then
    for i = 1, shape[1] do for j = 1, shape[2] do ob[i + 2][j + 1] = ct[i][j] end end
  else
    for i = 1, shape[1] do ob[i + 2] = ct[i] end
  end
  out.offset = ak.getitem(nd.asarray(ob, c.dtype), ostarts, ostops)
  return out
end

-- Flattens a kernel result (arrays, lists of them, numbers) to comparable values.
local function flat(v, out)
  out = out or {}
  if nd.isndarray(v) then
    out[#out + 1] = "dtype:" .. v.dtype
    out[#out + 1] = "shape:" .. table.concat(v.shape, ",")
    for _, x in ipairs(H.vals(v).flat) do out[#out + 1] = x end
  elseif type(v) == "table" then
    for i = 1, #v do flat(v[i], out) end
  else
    out[#out + 1] = v
  end
  return out
end

local function same(a, b, what, tol)
  local fa, fb = flat(a), flat(b)
  assert(#fa == #fb, what .. ": " .. #fa .. " values vs " .. #fb)
  for i = 1, #fa do
    local x, y = fa[i], fb[i]
    if type(x) == "number" and type(y) == "number" then
      assert(x == y or (x ~= x and y ~= y) or math.abs(x - y) <= (tol or 1e-10) * (1 + math.abs(y)),
        ("%s: value %d: %.17g vs %.17g"):format(what, i, x, y))
    else
      assert(x == y, ("%s: item %d: %s vs %s"):format(what, i, tostring(x), tostring(y)))
    end
  end
end

-- Calls kernel name with args built by make(operands) for contiguous operands and
-- for each view layout of them; asserts equal results (or the same failure).
local function check(name, operands, make, tol)
  local ok0, want = pcall(ak[name], table.unpack(make(operands)))
  for _, lay in ipairs { "fortran", "stepped", "offset" } do
    local vs, usable = {}, true
    for i, c in ipairs(operands) do
      local v = views(c)
      vs[i] = v[lay] or c
      if not v[lay] and lay ~= "fortran" then usable = false end
    end
    if usable then
      local what = ("%s on %s views of %s"):format(name, lay, operands[1].dtype)
      local ok, got = pcall(ak[name], table.unpack(make(vs)))
      assert(ok == ok0, what .. ": " .. tostring(ok0 and got or want))
      if ok then same(got, want, what, tol) end
    end
  end
end

describe("array kernels on views give what they give on contiguous arrays", function()
  for _, dt in ipairs(DTYPES) do
    it("elementwise, fused, astype, reductions, structure and matmul on " .. dt, function()
      local a, b = random_nd({ 4, 5 }, dt), random_nd({ 4, 5 }, dt)
      for name, op in pairs(core.arrayops.ops) do
        if op.kernel == "op" then
          check(name, op.arity == 1 and { a } or op.arity == 2 and { a, b } or { random_nd({ 4, 5 }, "bool"), a, b },
            function(o) return o end)
        end
      end
      check("astype", { a }, function(o) return { o[1], "float32" } end)
      check("fused", { a, b }, function(o) return { "$1 $2 add 2 mul", o[1], o[2] } end)
      for _, red in ipairs { "sum", "prod", "min", "max" } do
        for _, axes in ipairs { { 0 }, { 1 }, { 0, 1 } } do
          check(red .. "_chunk", { a }, function(o) return { o[1], axes } end)
        end
      end
      check("moment_chunk", { a }, function(o) return { o[1], { 1 } } end)
      check("argmax_chunk", { a }, function(o) return { o[1], 1, 0 } end)
      check("argmin_chunk", { a }, function(o) return { o[1], { 0, 1 }, { 0, 0 }, { 4, 5 } } end)
      check("sum_agg", { a, b }, function(o) return { o } end)
      check("min_agg", { a, b }, function(o) return { o } end)
      check("block", { a, b }, function(o) return { { { o[1], o[2] }, { o[2], o[1] } } } end)
      -- the finishing steps, on views of their partials (2-d: one reduced 1-d row)
      local row = random_nd({ 6 }, dt)
      local m = ak.moment_chunk(row, { 0 })
      for _, fin in ipairs { "mean_finish", "var_finish", "std_finish" } do
        check(fin, { m }, function(o) return { o[1], fin ~= "mean_finish" and 1 or nil } end)
      end
      check("moment_agg", { m, m }, function(o) return { o } end)
      local am = ak.argmax_chunk(row, 0, 0)
      check("arg_finish", { am }, function(o) return { o[1], 1 } end)
      check("argmax_agg", { am, am }, function(o) return { o } end)
      check("copy", { a }, function(o) return o end)
      check("reshape", { a }, function(o) return { o[1], { 5, 4 } } end)
      check("concatenate", { a, b }, function(o) return { o, 1 } end)
      check("stack", { a, b }, function(o) return { o, 0 } end)
      check("transpose", { a }, function(o) return { o[1], { 1, 0 } } end)
      check("getitem", { a }, function(o) return { o[1], { 1, 1 }, { 4, 5 }, { 2, 2 } } end)
      for _, dt2 in ipairs(DTYPES) do
        local m = random_nd({ 5, 3 }, dt2)
        check("matmul", { a, m }, function(o) return o end, 1e-6)
        check("matmul_sum", { a, m }, function(o) return { { o[1], o[1] }, { o[2], o[2] } } end, 1e-6)
        local v = random_nd({ 5 }, dt2)
        check("matmul", { a, v }, function(o) return o end, 1e-6)
      end
    end)
  end

  for _, dt in ipairs { "float64", "float32", "int64" } do
    it("linear algebra kernels on " .. dt, function()
      local tall = random_nd({ 7, 3 }, dt)
      local wide = random_nd({ 3, 5 }, dt)
      -- a positive definite square: tᵀt + 9 I, computed here in float64
      local t64 = tall:astype("float64")
      local sq = ak.add(ak.matmul(ak.transpose(t64, { 1, 0 }), t64), ak.mul(ak.eye({ 3, 3 }, 0, "float64"), 9))
      if dt ~= "float64" then sq = sq:astype(dt == "int64" and "float64" or dt) end
      local rhs, vec = random_nd({ 3, 2 }, dt), random_nd({ 7 }, dt)
      check("qr", { tall }, function(o) return o end)
      check("qr", { wide }, function(o) return o end)
      check("svd", { tall }, function(o) return o end)
      check("lu", { sq }, function(o) return o end)
      check("solve", { sq, rhs }, function(o) return { o[1], o[2], "gen" } end)
      check("solve", { sq, rhs }, function(o) return { o[1], o[2], "pos" } end)
      check("cholesky", { sq }, function(o) return { o[1], false } end)
      check("inv", { sq }, function(o) return o end)
      check("lstsq", { tall, vec }, function(o) return o end)
      for _, ord in ipairs { "fro", "nuc", 1, -1, 2, -2, math.huge, -math.huge } do
        check("norm", { tall }, function(o) return { o[1], ord } end)
      end
      check("vstack", { tall, tall }, function(o) return { o } end)
      check("rows", { tall }, function(o) return { o[1], 2, 5 } end)
      -- qr_factor's R, and Q·W through qr_apply with a view W
      check("qr_factor", { tall }, function(o) return o end)
      local f = ak.qr_factor(tall)
      local w = random_nd({ 3, 2 }, "float64")
      check("qr_apply", { w }, function(o) return { f[1], o[1] } end)
      -- the range finder's kernels
      check("orth_rows", { wide }, function(o) return o end)
      local wt = random_nd({ 2, 3 }, "float64")
      check("power_step", { tall, wt }, function(o) return { { o[1] }, o[2], 0, 2 } end)
    end)
  end

  it("store_block writes a view's values", function()
    for _, dt in ipairs(DTYPES) do
      local c = random_nd({ 4, 5 }, dt)
      for lay, v in pairs(views(c)) do
        local tmp, path = os.tmpname(), os.tmpname()
        ak.npy_create(tmp, { 4, 5 }, dt)
        ak.store_block(tmp, v, { 0, 0 }, { 4, 5 })
        assert(nd.npy_finish(tmp, path)) -- a file is readable once finished (a store's last step)
        local back = nd.load(path)
        os.remove(path)
        same(back, c, "store_block " .. dt .. " " .. lay, 0)
      end
    end
  end)
end)
