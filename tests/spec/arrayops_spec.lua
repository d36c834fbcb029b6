-- lask.core.arrayops: the engine's elementwise operator table, typing rule and fused
-- kernel limits as Lua sees them (lua/binding/larrayops.c), checked against what the
-- kernels themselves give: for every operator with a kernel and every combination of
-- operand dtypes, strong (arrays, 0-d ones too, as in numpy 2) or weak (Lua scalars), the result
-- dtype result_type predicts is the dtype of the kernel's result, and a refusal is
-- a kernel error.
local core = require "lask.core"
local ops, result_type, limits = core.arrayops.ops, core.arrayops.result_type, core.arrayops.fused_limits
local ak = core.array_kernels

local DTYPES = { "float64", "float32", "int64", "bool" }
local SCALAR = { float64 = 1.5, int64 = 2, bool = true } -- Lua scalars of each weak dtype

-- An operand of dtype dt: an array of two elements (strong), a 0-d array (strong, as
-- in numpy 2; numpy 1.24 made it weak) or a
-- Lua scalar (weak, not for float32: a Lua number is float64).
local function operand(dt, form)
  local v = dt == "bool" and true or 3
  if form == "scalar" then return SCALAR[dt] end
  if form == "0d" then return core.asarray(v):astype(dt):reshape {} end
  return core.asarray({ v, v }):astype(dt)
end

local FORMS = { "array", "0d", "scalar" }

-- Every list of n (dtype, form) pairs.
local function combinations(n)
  local out = { {} }
  for _ = 1, n do
    local next_ = {}
    for _, c in ipairs(out) do
      for _, dt in ipairs(DTYPES) do
        for _, form in ipairs(FORMS) do
          if not (form == "scalar" and not SCALAR[dt]) then
            local d = table.move(c, 1, #c, 1, {})
            d[#d + 1] = { dt = dt, form = form }
            next_[#next_ + 1] = d
          end
        end
      end
    end
    out = next_
  end
  return out
end

describe("lask.core.arrayops", function()
  it("lists every elementwise kernel's operator with its arity", function()
    local n = 0
    for name, op in pairs(ops) do
      n = n + 1
      assert.are.equal(name, op.name)
      assert.is_true(op.arity >= 1 and op.arity <= 3)
      if op.kernel == "op" then assert.is_not_nil(ak[name], name) end
    end
    assert.is_true(n > 20)
    assert.are.equal("pow", ops.pow.kernel)
    assert.are.equal("cast", ops.astype.kernel)
    assert.is_nil(ops.powi.kernel)
    assert.is_nil(ak.powi)
  end)

  it("gives the fused kernel's limits, which the kernel enforces", function()
    for _, k in ipairs { "max_args", "max_tokens", "max_depth", "max_token_len", "powi_max" } do
      assert.are.equal("integer", math.type(limits[k]), k)
    end
    local toks = {}
    for i = 1, limits.max_tokens do toks[i] = "$1" end
    assert.has_error(function() core.fused_kernel(table.concat(toks, " ")) end)
    local ok = { "$1" }
    for _ = 2, limits.max_depth do ok[#ok + 1] = "$1" end
    for _ = 2, limits.max_depth do ok[#ok + 1] = "add" end
    assert.is_not_nil(core.fused_kernel(table.concat(ok, " ")))
    assert.has_error(function() core.fused_kernel("$" .. (limits.max_args + 1)) end)
    assert.is_not_nil(core.fused_kernel("$" .. limits.max_args))
  end)

  it("types every operator over every dtype pair as its kernel computes", function()
    local checked = 0
    for name, op in pairs(ops) do
      if op.kernel == "op" or op.kernel == "pow" then
        for _, c in ipairs(combinations(op.arity)) do
          local args, types, any_array = {}, {}, false
          for i, o in ipairs(c) do
            args[i] = operand(o.dt, o.form)
            types[i] = { dt = o.dt, weak = o.form == "scalar" }
            any_array = any_array or o.form ~= "scalar"
          end
          local param = name == "pow" and math.type(args[2]) == "integer" and args[2] or nil
          local dt, why = result_type(name, types, param)
          local ok, r = pcall(ak[name], table.unpack(args, 1, op.arity))
          local what = name .. " over " .. require("lask").tostring(types)
          if dt then
            assert.is_true(ok, what .. ": " .. tostring(r))
            if any_array then assert.are.equal(dt, r.dtype, what) end
            checked = checked + 1
          elseif any_array then
            assert.is_false(ok, what .. " should fail: " .. why)
          end
        end
      end
    end
    assert.is_true(checked > 1000)
  end)

  it("types astype as its kernel does", function()
    for _, from in ipairs(DTYPES) do
      for _, to in ipairs(DTYPES) do
        assert.are.equal(to, (result_type("astype", { { dt = from, weak = false } }, to)))
        assert.are.equal(to, ak.astype(operand(from, "array"), to).dtype)
      end
    end
  end)

  it("refuses integers to negative integer powers, and what has no tile function", function()
    local dt, why = result_type("pow", { { dt = "int64", weak = false }, { dt = "int64", weak = true } }, -1)
    assert.is_nil(dt)
    assert.are.equal(ops.pow.domain, why)
    assert.are.equal("float64", (result_type("pow", { { dt = "float64", weak = false }, { dt = "int64", weak = true } }, -1)))
    dt, why = result_type("sub", { { dt = "bool", weak = false }, { dt = "bool", weak = false } })
    assert.is_nil(dt)
    assert.are.equal(ops.sub.unsupported, why)
    assert.has_error(function() result_type("nope", {}) end)
    assert.has_error(function() result_type("add", { { dt = "float64" } }) end)
  end)

  it("promote and matmul_type are the dtypes concatenate and matmul give, numpy's table", function()
    local promote, matmul_type = core.arrayops.promote, core.arrayops.matmul_type
    -- numpy.result_type for our dtypes (numpy 1.24), and numpy.dot's result dtype
    -- except bool @ bool, which the matmul kernel sums as integers
    local NP = {
      float64 = { float64 = "float64", float32 = "float64", int64 = "float64", bool = "float64" },
      float32 = { float64 = "float64", float32 = "float32", int64 = "float64", bool = "float32" },
      int64 = { float64 = "float64", float32 = "float64", int64 = "int64", bool = "int64" },
      bool = { float64 = "float64", float32 = "float32", int64 = "int64", bool = "bool" },
    }
    for _, a in ipairs(DTYPES) do
      for _, b in ipairs(DTYPES) do
        assert.are.equal(NP[a][b], promote(a, b))
        local x, y = operand(a, "array"), operand(b, "array")
        assert.are.equal(promote(a, b), ak.concatenate({ x, y }, 0).dtype)
        local m = ak.matmul(x:reshape { 1, 2 }, y:reshape { 2, 1 })
        assert.are.equal(matmul_type(a, b), m.dtype)
        local want = (a == "float32" and b == "float32") and "float32"
          or ((a:match "^float" or b:match "^float") and "float64" or "int64")
        assert.are.equal(want, matmul_type(a, b))
      end
    end
    assert.has_error(function() promote("float64", "complex128") end)
  end)
end)
