--- numpy's common ufuncs on lazy arrays: math, rounding, predicates, logical and bitwise operators.
-- Each is one operator of the engine's list (engine/array/elementwise_ops.h), so it
-- runs as a native tile loop on every dtype, fuses with the elementwise operations
-- around it into one kernel per block, and types its result by numpy 1.24's rules
-- (float functions of integers and bools give float64 — numpy gives float16 for
-- bools —; float32 stays float32; predicates give bool). Operands may be arrays,
-- Lua numbers or booleans (weak scalars, as Python's in numpy) and broadcast.
-- With no array among the operands the result is a plain value.
-- @module lask.array.ufuncs
local elementwise = require "lask.array.elementwise"

local elemwise = elementwise.elemwise
local fmt = string.format

local U = {}

--- The functions of lask.array this module adds, name -> function.
U.functions = {}
local F = U.functions

local function unary(op) return function(x) return elemwise(op, nil, x) end end
local function binary(op) return function(a, b) return elemwise(op, nil, a, b) end end

--- Unary float functions: `da.NAME(x)`, float64 (float32 for float32 input).
-- log1p, expm1, exp2, log2, log10, cbrt, tan, arcsin, arccos, arctan, sinh, cosh,
-- arcsinh, arccosh, arctanh, deg2rad (radians), rad2deg (degrees), floor, ceil,
-- trunc, rint, fabs. floor, ceil, trunc and rint of integers are float64, as in
-- numpy 1.24.
-- @function log1p
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.log1p(da.from_array({0, 1}))
-- assert(y:compute():get(1) == 0 and math.abs(y:compute():get(2) - math.log(2)) < 1e-15)
for _, op in ipairs { "log1p", "expm1", "exp2", "log2", "log10", "cbrt", "tan", "arcsin", "arccos", "arctan",
  "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "floor", "ceil", "trunc", "rint",
  "fabs" } do
  F[op] = unary(op)
end
F.radians, F.degrees = F.deg2rad, F.rad2deg

--- Predicates: `da.NAME(x)`, a bool array: isnan, isinf, isfinite, signbit, logical_not.
-- Integers and bools are never NaN or infinite.
-- @function isnan
-- @param x lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.isnan(da.from_array({1, 0/0, 3}))
-- assert(m:compute():get(2) == true and m:compute():get(1) == false)
for _, op in ipairs { "isnan", "isinf", "isfinite", "signbit", "logical_not" } do F[op] = unary(op) end

--- Two-operand functions: `da.NAME(a, b)`.
-- Float results (int and bool operands computing as float64): arctan2, hypot,
-- copysign, nextafter, logaddexp, logaddexp2. In the operands' common dtype: fmod
-- (C's remainder: the dividend's sign; integers by 0 give 0), fmin and fmax (NaN
-- ignored unless both are). Bool results, for any dtypes (truth is x ~= 0):
-- logical_and, logical_or, logical_xor. Integers and bools only: bitwise_and,
-- bitwise_or, bitwise_xor, left_shift, right_shift (numpy's: arithmetic right shift;
-- a shift by 64 or more gives 0, or -1 for negative x shifted right).
-- @function arctan2
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array
-- @raise for bitwise functions of floats: "bitwise operations need integer or boolean operands"
-- @usage local y = da.hypot(da.from_array({3, 5}), 4)
-- assert(y:compute():get(1) == 5)
for _, op in ipairs { "arctan2", "hypot", "copysign", "nextafter", "logaddexp", "logaddexp2", "fmod", "fmin",
  "fmax", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
  "right_shift" } do
  F[op] = binary(op)
end

--- Bitwise not: `~x` of integers, logical not of bools (`da.invert`, `da.bitwise_not`).
-- @param x lask.array (int64 or bool)
-- @return lask.array: x's dtype
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage assert((~da.from_array({0, 5})):compute():get(2) == -6)
function F.invert(x) return elemwise("invert", nil, x) end
F.bitwise_not = F.invert

--- The sign of x: -1, 0 or 1 in x's dtype (NaN for NaN; both zeros give 0).
-- @param x lask.array (float or int64; numpy refuses bools)
-- @return lask.array: x's dtype
-- @usage assert(da.sign(da.from_array({-2.5, 0, 3})):compute():get(1) == -1)
function F.sign(x) return elemwise("sign", nil, x) end

--- 1 / x in x's dtype: integers divide as C does (1 / 0 is the minimum int64, numpy's result).
-- @param x lask.array
-- @return lask.array: x's dtype (bool as int64)
-- @usage assert(da.reciprocal(da.from_array({4.0})):compute():get(1) == 0.25)
function F.reciprocal(x) return elemwise("reciprocal", nil, x) end

--- x * x in x's dtype (bool as int64): `x ^ 2`, fused as a multiplication.
-- @param x lask.array
-- @return lask.array
-- @usage assert(da.square(da.arange(4)):compute():get(4) == 9)
function F.square(x) return elemwise("pow", nil, x, 2) end

--- Rounds to the given number of decimals, half to even, as numpy's round.
-- Floats are scaled by 10^decimals, rounded with rint and scaled back in their own
-- dtype (so round(2.675, 2) is 2.67, as in numpy); integers are unchanged for
-- decimals >= 0 and rounded through float64 for negative decimals (150 to -2 is 200).
-- @param x lask.array (float or int64; numpy refuses bools)
-- @param[opt] decimals integer (default 0; negative: to tens, hundreds, ...)
-- @return lask.array: x's dtype
-- @raise when decimals is not an integer
-- @usage local y = da.round(da.from_array({0.5, 1.5, 2.25}), 1)
-- assert(y:compute():get(1) == 0.5 and y:compute():get(3) == 2.2)
-- assert(da.round(da.from_array({0.5, 1.5})):compute():get(2) == 2)
function F.round(x, decimals)
  decimals = decimals or 0
  if math.type(decimals) ~= "integer" then
    error(fmt("lask.array: round: decimals must be an integer, got %s", tostring(decimals)), 2)
  end
  return elemwise("round", decimals, x)
end
F.around = F.round

--- x limited to [lo, hi]: maximum(x, lo), then minimum with hi, as numpy's clip.
-- Either bound may be nil (not both), a number or an array broadcasting with x;
-- NaN in x stays NaN; the dtype is the operands' common dtype (a float bound makes
-- an integer array float64, as numpy).
-- @param x lask.array
-- @param lo number, lask.array or nil
-- @param hi number, lask.array or nil
-- @return lask.array
-- @raise when both bounds are nil
-- @usage local y = da.clip(da.arange(6), 1, 4)
-- assert(y:compute():get(1) == 1 and y:compute():get(6) == 4)
function F.clip(x, lo, hi)
  if lo == nil and hi == nil then error("lask.array: clip: give lo, hi or both (both are nil)", 2) end
  local y = x
  if lo ~= nil then y = elemwise("maximum", nil, y, lo) end
  if hi ~= nil then y = elemwise("minimum", nil, y, hi) end
  return y
end

--- Is x positive infinity?
-- @param x lask.array
-- @return lask.array: bool
-- @usage assert(da.isposinf(da.from_array({math.huge, -math.huge})):compute():get(1) == true)
function F.isposinf(x) return F.logical_and(F.isinf(x), F.logical_not(F.signbit(x))) end

--- Is x negative infinity?
-- @param x lask.array
-- @return lask.array: bool
-- @usage assert(da.isneginf(da.from_array({math.huge, -math.huge})):compute():get(2) == true)
function F.isneginf(x) return F.logical_and(F.isinf(x), F.signbit(x)) end

--- x converted to dtype, as numpy's astype (`da.astype(x, dtype)` or `x:astype(dtype)`).
-- @param x lask.array
-- @param dtype string: "float64", "float32", "int64" or "bool"
-- @return lask.array
-- @usage assert(da.astype(da.from_array({1.7, -1.7}), "int64"):compute():get(2) == -1)
F.astype = elementwise.astype

-- numpy's other names for functions lask.array has under one name.
F.absolute = elementwise.functions.abs
F.remainder = elementwise.functions.mod
F.true_divide = elementwise.functions.divide

--- Methods this module adds to lask arrays: x:round(decimals), x:clip(lo, hi).
U.methods = { round = F.round, clip = F.clip }

--- Lua's bitwise operators on arrays: `a & b`, `a | b`, `a ~ b`, `~a`, `a << n`, `a >> n`.
-- On int64 and bool arrays (and Lua integers or booleans on either side): numpy's
-- bitwise_and, bitwise_or, bitwise_xor, invert, left_shift and right_shift. Note
-- that `>>` is numpy's arithmetic shift (Lua's own `>>` on integers is logical).
U.operators = {
  __band = F.bitwise_and,
  __bor = F.bitwise_or,
  __bxor = F.bitwise_xor,
  __bnot = function(a) return F.invert(a) end,
  __shl = F.left_shift,
  __shr = F.right_shift,
}

return U
