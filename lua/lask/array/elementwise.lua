--- Functions of lask.array: elementwise operators and math functions (`da.exp(x)`, `da.add(a, b)`, `a + b`).
-- Each takes arrays or Lua numbers (at least one array; numbers alone give a
-- number) and gives a lazy array. Operands broadcast by numpy's rules; the result's
-- dtype follows numpy's promotion with Lua numbers "weak" (`2 * x` keeps a float32
-- x float32) and 0-d arrays strong (numpy 2). Chains of them compute as one fused
-- kernel per block. The operators of an array (`+ - * / % // ^`, unary `-`) are
-- `add`, `subtract`, `multiply`, `divide`, `mod`, `floor_divide`, `power` and
-- `negative`.
--
-- How it works:
-- elemwise(op, ...) broadcasts its operands by numpy's rules (scalars, and arrays
-- aligned on their last axes), gives every array operand the same chunks along the
-- axes it shares with the result (rechunking to the common refinement of their
-- block boundaries), and makes a blockwise layer whose tasks apply the kernel op to
-- one block of each operand. The layer also records the operation ({op, param,
-- args}) so lask.array.expression can make a chain of them one fused-kernel program.
--
-- Result dtypes are the kernels' own: the operator table and the typing rule come
-- from the engine (lask.core.arrayops, engine/array/elementwise_ops.c): numpy 1.24
-- promotion, with Lua numbers "weak" like Python scalars (2 * float32 array is
-- float32) and every array strong, 0-d ones too, as in numpy 2 (a float32 array
-- times a 0-d float64 array is float64). They are worked out here, when the array is made, so x.dtype is
-- known without computing anything and a bad dtype is reported at once.
-- @module lask.array.elementwise
-- @alias E
-- @usage local x = da.arange(4, {chunks = 2})
-- local y = da.exp(x * 0) + x ^ 2
-- assert(y:compute():get(4) == 10 and y.dtype == "float64")
local core = require "lask.array.core"
local arrayops = require("lask.core").arrayops

local fmt = string.format
local is_array = core.is_array

local E = {}

-- The operators (name -> {arity=, rule=, ...}), as the engine's table has them.
local OPS = arrayops.ops

-- The result type of op over operand types t (each {dt=, weak=}); param is astype's
-- dtype, or pow's exponent. Raises for combinations the kernels refuse.
function E.result_type(op, t, param, level)
  local dt, weak = arrayops.result_type(op, t, param)
  if not dt then error(fmt("lask.array: %s: %s", op, weak), level + 1) end
  return { dt = dt, weak = weak }
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
        elseif shape[d + off] ~= e and not (e ~= e and shape[d + off] ~= shape[d + off]) then -- NaN: unknown
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
      if ad >= 1 and (a.shape[ad] == shape[d] or a.shape[ad] ~= a.shape[ad]) then
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
      want[ad] = (a.shape[ad] == shape[d] or a.shape[ad] ~= a.shape[ad]) and out_chunks[d] or a.chunks[ad]
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
    if op == "astype" or OPS[op].kernel == "param" then task[#task + 1] = param end
    return task
  end
end

-- elemwise(op, ...): op applied elementwise to the operands (arrays or scalars);
-- param is the dtype of astype, or the integer parameter of round. A lazy array, or a plain value when no operand is
-- an array.
function E.elemwise(op, param, ...)
  local level = 2 -- callers tail-call: level 2 is the user's code
  local arity = OPS[op].arity
  local n = select("#", ...)
  if n ~= arity then error(fmt("lask.array: %s takes %d operands, got %d", op, arity, n), level) end
  local ops, arrays, types = { ... }, {}, {}
  for i = 1, n do
    ops[i] = operand(ops[i], level)
    local v = ops[i]
    if is_array(v) then
      arrays[#arrays + 1] = v
      types[i] = { dt = v.dtype, weak = false } -- 0-d arrays too: numpy 2
    else
      types[i] = { dt = core.scalar_dtype(v), weak = true }
    end
  end
  if #arrays == 0 then
    if op == "astype" or OPS[op].kernel == "param" then return core.kernel(op)(ops[1], param) end
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


--- Elementwise e to the power x.
-- @function exp
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input
-- @usage assert(da.exp(da.zeros(3)):compute():get(1) == 1)

--- Elementwise the natural logarithm.
-- @function log
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input
-- @usage assert(da.log(da.ones(3)):compute():get(2) == 0)

--- Elementwise the square root.
-- @function sqrt
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input
-- @usage assert(da.sqrt(da.full(3, 4)):compute():get(3) == 2)

--- Elementwise the absolute value (the dtype kept).
-- @function abs
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input (the input's dtype for abs and negative)
-- @usage assert(da.abs(-da.arange(3)):compute():get(3) == 2)

--- Elementwise the sine.
-- @function sin
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input
-- @usage assert(da.sin(da.zeros(2)):compute():get(1) == 0)

--- Elementwise the cosine.
-- @function cos
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input
-- @usage assert(da.cos(da.zeros(2)):compute():get(1) == 1)

--- Elementwise the hyperbolic tangent.
-- @function tanh
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input
-- @usage assert(da.tanh(da.zeros(2)):compute():get(1) == 0)

--- Elementwise -x (the operator `-x`).
-- @function negative
-- @param x lask.array (or a number)
-- @return lask.array: float64 for bool and int64 input (the input's dtype for abs and negative)
-- @usage assert(da.negative(da.arange(3)):compute():get(2) == -1)

--- Elementwise a + b.
-- @function add
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert((da.arange(3) + 1):compute():get(3) == 3)

--- Elementwise a - b.
-- @function subtract
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.subtract(5, da.arange(3)):compute():get(3) == 3)

--- Elementwise a * b.
-- @function multiply
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.multiply(da.arange(3), 2):compute():get(3) == 4)

--- Elementwise a / b (always a float dtype).
-- @function divide
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert((da.arange(3) / 2):compute():get(2) == 0.5)

--- Elementwise a % b (the sign of b, as Lua's and numpy's).
-- @function mod
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert((da.arange(5) % 3):compute():get(5) == 1)

--- Elementwise a // b.
-- @function floor_divide
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert((da.arange(5) // 2):compute():get(5) == 2)

--- Elementwise a ^ b.
-- @function power
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert((da.arange(3) ^ 2):compute():get(3) == 4)

--- Elementwise the larger of a and b (NaN if either is NaN).
-- @function maximum
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.maximum(da.arange(3), 1):compute():get(1) == 1)

--- Elementwise the smaller of a and b (NaN if either is NaN).
-- @function minimum
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.minimum(da.arange(3), 1):compute():get(3) == 1)

--- Elementwise a < b, a bool array.
-- @function less
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.less(da.arange(3), 1):compute():get(1) == true)

--- Elementwise a <= b, a bool array.
-- @function less_equal
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.less_equal(da.arange(3), 1):compute():get(2) == true)

--- Elementwise a > b, a bool array.
-- @function greater
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.greater(da.arange(3), 1):compute():get(3) == true)

--- Elementwise a >= b, a bool array.
-- @function greater_equal
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.greater_equal(da.arange(3), 1):compute():get(1) == false)

--- Elementwise a == b, a bool array.
-- @function equal
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.equal(da.arange(3), 1):compute():get(2) == true)

--- Elementwise a ~= b, a bool array.
-- @function not_equal
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: the broadcast shape of a and b
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.not_equal(da.arange(3), 1):compute():get(2) == false)

--- Elementwise choice: x where cond is true, y elsewhere (numpy's `where`).
-- @function where
-- @param cond lask.array (or a value): the condition
-- @param x lask.array or number
-- @param y lask.array or number
-- @return lask.array: the broadcast shape of the three
-- @usage local x = da.arange(4)
-- local y = da.where(da.greater(x, 1), x, 0)
-- assert(y:compute():get(2) == 0 and y:compute():get(4) == 3)

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

--- The array converted to another dtype (numpy's casting rules): `x:astype(dtype)`.
-- @function Array:astype
-- @param dtype string: "float64", "float32", "int64" or "bool"
-- @return lask.array (x itself when the dtype is already dtype)
-- @raise on an unknown dtype, naming the valid ones
-- @usage local y = da.arange(3):astype("float32")
-- assert(y.dtype == "float32" and y:compute():get(3) == 2)
function E.astype(x, dtype)
  dtype = core.dtype(dtype, 2)
  if dtype == x.dtype then return x end
  return elemwise("astype", dtype, x)
end

return E
