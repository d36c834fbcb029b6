-- lask.array.elementwise: operators and math functions applied block by block.
--
-- elemwise(op, ...) broadcasts its operands by numpy's rules (scalars, and arrays
-- aligned on their last axes), gives every array operand the same chunks along the
-- axes it shares with the result (rechunking to the common refinement of their
-- block boundaries), and makes a blockwise layer whose tasks apply the kernel op to
-- one block of each operand. The layer also records the operation ({op, param,
-- args}) so lask.array.fuse can rewrite a chain of them into one fused kernel.
--
-- Result dtypes follow the kernels' rules (engine/array/fused.c): numpy 1.24 promotion,
-- with Lua numbers and 0-d arrays "weak" like Python scalars (2 * float32 array is
-- float32). They are worked out here, when the array is made, so x.dtype is known
-- without computing anything and a bad dtype is reported at once.
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type
local is_array, KIND, promote = core.is_array, core.KIND, core.promote

local E = {}

-- Typing rules by operator: arity, rule, and the dtypes it refuses.
local OPS = {
  add = { 2, "arith" }, sub = { 2, "arith", bool = "numpy boolean subtract is not supported, use logical operators" },
  mul = { 2, "arith" }, div = { 2, "div" }, mod = { 2, "arith_nb" }, pow = { 2, "arith_nb" },
  floor_divide = { 2, "arith_nb" },
  neg = { 1, "same", bool = "numpy boolean negative is not supported, use logical not" },
  abs = { 1, "same" }, exp = { 1, "float" }, log = { 1, "float" }, sqrt = { 1, "float" },
  sin = { 1, "float" }, cos = { 1, "float" }, tanh = { 1, "float" },
  maximum = { 2, "arith" }, minimum = { 2, "arith" }, where = { 3, "where" },
  less = { 2, "cmp" }, less_equal = { 2, "cmp" }, greater = { 2, "cmp" }, greater_equal = { 2, "cmp" },
  equal = { 2, "cmp" }, not_equal = { 2, "cmp" }, astype = { 1, "cast" },
}
E.OPS = OPS

local function promote_t(a, b)
  if a.weak == b.weak then return { dt = promote(a.dt, b.dt), weak = a.weak } end
  local s, w = a.weak and b or a, a.weak and a or b
  return { dt = KIND[w.dt] > KIND[s.dt] and promote(s.dt, w.dt) or s.dt, weak = false }
end

-- The result type of op over operand types t (each {dt=, weak=}); raises for
-- combinations the kernels refuse.
function E.result_type(op, t, param, level)
  local spec = OPS[op]
  local r = spec[1] >= 2 and promote_t(t[1], t[2]) or t[1]
  local rule, cd = spec[2], r.dt
  if rule == "arith_nb" then
    cd = cd == "bool" and "int64" or cd
    if op == "pow" and cd == "int64" and mtype(param) == "integer" and param < 0 then
      error("lask.array: pow: integers to negative integer powers are not allowed", level + 1)
    end
  elseif rule == "div" then
    cd = KIND[cd] < 2 and "float64" or cd
  elseif rule == "float" then
    cd = cd == "float32" and "float32" or "float64"
  elseif rule == "where" then
    r = promote_t(t[2], t[3])
    r.weak = r.weak and t[1].weak
    cd = r.dt
  elseif rule == "cast" then
    return { dt = param, weak = false }
  end
  if spec.bool and cd == "bool" then error(fmt("lask.array: %s: %s", op, spec.bool), level + 1) end
  return { dt = rule == "cmp" and "bool" or cd, weak = r.weak }
end

-- An operand as an array or a scalar: lask.ndarray values and Lua tables (nested
-- lists of numbers) become single-block arrays.
local function operand(v, level)
  if is_array(v) or type(v) == "number" or type(v) == "boolean" then return v end
  if type(v) == "table" or type(v) == "userdata" then
    return require("lask.array.creation").from_array(v, nil, level + 1)
  end
  error(fmt("lask.array: cannot use a %s as an array operand", type(v)), level + 1)
end

local function shape_str(a) return core.tuple(a.shape) end

-- The broadcast shape of arrays, or an error naming their shapes.
local function broadcast_shape(arrays, what, level)
  local nd = 0
  for _, a in ipairs(arrays) do nd = math.max(nd, a.ndim) end
  local shape = {}
  for d = 1, nd do shape[d] = 1 end
  for _, a in ipairs(arrays) do
    local off = nd - a.ndim
    for d = 1, a.ndim do
      local e = a.shape[d]
      if e ~= 1 then
        if shape[d + off] == 1 then
          shape[d + off] = e
        elseif shape[d + off] ~= e then
          local shapes = {}
          for i, b in ipairs(arrays) do shapes[i] = shape_str(b) end
          error(fmt("lask.array: %s: operands could not be broadcast together with shapes %s", what,
            table.concat(shapes, " ")), level + 1)
        end
      end
    end
  end
  return shape
end
E.broadcast_shape = broadcast_shape

-- The common refinement of several lists of block sizes of one extent: every
-- boundary of any of them.
local function refine(lists)
  local cuts, n = {}, 0
  for _, sizes in ipairs(lists) do
    local pos = 0
    for _, s in ipairs(sizes) do
      pos = pos + s
      cuts[pos] = true
    end
    n = pos
  end
  local out, prev = {}, 0
  for pos = 1, n do
    if cuts[pos] then
      out[#out + 1] = pos - prev
      prev = pos
    end
  end
  if n == 0 then out = { 0 } end
  return out
end
E.refine = refine

-- Rechunks arrays so their blocks line up for a broadcast to shape; gives the new
-- arrays and the result's chunks.
function E.unify_chunks(arrays, shape)
  local nd = #shape
  local out_chunks = {}
  for d = 1, nd do
    local lists, first, differ = {}, nil, false
    for _, a in ipairs(arrays) do
      local ad = d - (nd - a.ndim)
      if ad >= 1 and a.shape[ad] == shape[d] then
        local c = a.chunks[ad]
        lists[#lists + 1] = c
        if first and not core.same_list(first, c) then differ = true end
        first = first or c
      end
    end
    out_chunks[d] = differ and refine(lists) or first or { shape[d] }
  end
  local out = {}
  for i, a in ipairs(arrays) do
    local want, change = {}, false
    for ad = 1, a.ndim do
      local d = ad + (nd - a.ndim)
      want[ad] = a.shape[ad] == shape[d] and out_chunks[d] or a.chunks[ad]
      if not core.same_list(want[ad], a.chunks[ad]) then change = true end
    end
    out[i] = change and require("lask.array.rechunk").rechunk(a, want) or a
  end
  return out, out_chunks
end

-- The task of one block: the kernel over its operands (block keys or constants).
local function ew_block(op, param, args)
  local kernel = core.kernel(op)
  return function(_, blocks)
    local task = { kernel }
    for i, a in ipairs(args) do
      if a.input then task[i + 1] = blocks[a.input] else task[i + 1] = a.const end
    end
    if op == "astype" then task[#task + 1] = param end
    return task
  end
end

-- elemwise(op, ...): op applied elementwise to the operands (arrays or scalars);
-- param is the dtype of astype. A lazy array, or a plain value when no operand is
-- an array.
function E.elemwise(op, param, ...)
  local level = 2 -- callers tail-call: level 2 is the user's code
  local spec = OPS[op]
  local n = select("#", ...)
  if n ~= spec[1] then error(fmt("lask.array: %s takes %d operands, got %d", op, spec[1], n), level) end
  local ops, arrays, types = { ... }, {}, {}
  for i = 1, n do
    ops[i] = operand(ops[i], level)
    local v = ops[i]
    if is_array(v) then
      arrays[#arrays + 1] = v
      types[i] = { dt = v.dtype, weak = v.ndim == 0 }
    else
      types[i] = { dt = core.scalar_dtype(v), weak = true }
    end
  end
  if #arrays == 0 then
    if op == "astype" then return core.kernel(op)(ops[1], param) end
    return core.kernel(op)(table.unpack(ops, 1, n))
  end
  if op == "pow" and not is_array(ops[2]) then param = ops[2] end
  local dtype = E.result_type(op, types, param, level).dt
  local shape = broadcast_shape(arrays, op, level)
  local aligned, chunks = E.unify_chunks(arrays, shape)
  -- operands: each distinct array once as an input
  local inputs, slot, args, ai = {}, {}, {}, 0
  for i = 1, n do
    local v = ops[i]
    if is_array(v) then
      ai = ai + 1
      v = aligned[ai]
      if not slot[v.name] then
        inputs[#inputs + 1] = v
        slot[v.name] = #inputs
      end
      args[i] = { input = slot[v.name] }
    else
      args[i] = { const = v }
    end
  end
  local name = op .. "-" .. core.tokenize(op, param, table.unpack(ops, 1, n))
  local layer = core.blockwise_layer(name, chunks, inputs, ew_block(op, param, args))
  layer.ew = { op = op, param = param, args = args }
  return core.new(layer, inputs, chunks, dtype)
end

local elemwise = E.elemwise

-- The functions of lask.array: da.exp(x), da.maximum(x, y), da.where(c, x, y), ...
E.functions = {}
for _, op in ipairs { "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "maximum", "minimum", "where", "less",
  "less_equal", "greater", "greater_equal", "equal", "not_equal" } do
  E.functions[op] = function(...) return elemwise(op, nil, ...) end
end
E.functions.negative = function(x) return elemwise("neg", nil, x) end
E.functions.add = function(a, b) return elemwise("add", nil, a, b) end
E.functions.subtract = function(a, b) return elemwise("sub", nil, a, b) end
E.functions.multiply = function(a, b) return elemwise("mul", nil, a, b) end
E.functions.divide = function(a, b) return elemwise("div", nil, a, b) end
E.functions.mod = function(a, b) return elemwise("mod", nil, a, b) end
E.functions.floor_divide = function(a, b) return elemwise("floor_divide", nil, a, b) end
E.functions.power = function(a, b) return elemwise("pow", nil, a, b) end

-- x:astype(dtype): x converted (numpy's casting rules).
function E.astype(x, dtype)
  dtype = core.dtype(dtype, 2)
  if dtype == x.dtype then return x end
  return elemwise("astype", dtype, x)
end

return E
