--- numpy's common ufuncs on lazy arrays: math, rounding, predicates, logical and bitwise operators.
-- Each is one operator of the engine's list (engine/array/elementwise_ops.h), so it
-- runs as a native tile loop on every dtype, fuses with the elementwise operations
-- around it into one kernel per block, and types its result by numpy 1.24's rules
-- (float functions of integers and bools give float64 — numpy gives float16 for
-- bools —; float32 stays float32; predicates give bool). Operands may be arrays,
-- Lua numbers or booleans (weak scalars, as Python's in numpy) and broadcast.
-- With no array among the operands the result is a plain value.
--
-- Lua's bitwise operators work on arrays too: `a & b`, `a | b`, `a ~ b`, `~a`,
-- `a << n`, `a >> n` are bitwise_and, bitwise_or, bitwise_xor, invert, left_shift
-- and right_shift, on int64 and bool arrays (and Lua integers or booleans on either
-- side). Note that `>>` is numpy's arithmetic shift (Lua's own `>>` on integers is
-- logical). `x:round(decimals)` and `x:clip(lo, hi)` are methods too.
-- @module lask.array.ufuncs
-- @alias F
local elementwise = require "lask.array.elementwise"

local elemwise = elementwise.elemwise
local fmt = string.format

local U = {}

-- The functions of lask.array this module adds, name -> function (init.lua puts them
-- into lask.array).
U.functions = {}
local F = U.functions

local function unary(op) return function(x) return elemwise(op, nil, x) end end
local function binary(op) return function(a, b) return elemwise(op, nil, a, b) end end

-- Unary float functions, da.NAME(x): float64 for int64 and bool x, float32 for
-- float32 x (numpy 1.24's rule, but numpy gives float16 for bools). Each entry below.

--- Elementwise log(1 + x), accurate for x near 0 (numpy's log1p).
-- @function log1p
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x (a number for a number)
-- @usage local y = da.log1p(da.from_array({0, 1}))
-- assert(y:compute():get(1) == 0 and math.abs(y:compute():get(2) - math.log(2)) < 1e-15)

--- Elementwise exp(x) - 1, accurate for x near 0 (numpy's expm1).
-- @function expm1
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.expm1(da.from_array({0, 1e-10})):compute()
-- assert(y:get(1) == 0 and math.abs(y:get(2) / 1.00000000005e-10 - 1) < 1e-15) -- exp(x) - 1 is 8e-8 off

--- Elementwise 2 to the power x (numpy's exp2).
-- @function exp2
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.exp2(da.arange(11, {chunks = 4})):compute():get(11) == 1024)

--- Elementwise base-2 logarithm (numpy's log2; -inf at 0, NaN below).
-- @function log2
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.log2(da.from_array({1, 1024})):compute():get(2) == 10)

--- Elementwise base-10 logarithm (numpy's log10; -inf at 0, NaN below).
-- @function log10
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.log10(da.from_array({1, 1000})):compute():get(2) == 3)

--- Elementwise cube root, negative for negative x (numpy's cbrt).
-- @function cbrt
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.cbrt(da.from_array({-8, 8})):compute()
-- assert(y:get(1) == -2 and y:get(2) == 2)

--- Elementwise tangent, x in radians (numpy's tan).
-- @function tan
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.tan(da.from_array({0, math.pi / 4}))
-- assert(y:compute():get(1) == 0 and math.abs(y:compute():get(2) - 1) < 1e-15)

--- Elementwise inverse sine, in radians in [-pi/2, pi/2]; NaN outside [-1, 1] (numpy's arcsin).
-- @function arcsin
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.arcsin(da.from_array({1, 2})):compute()
-- assert(y:get(1) == math.pi / 2 and y:get(2) ~= y:get(2))

--- Elementwise inverse cosine, in radians in [0, pi]; NaN outside [-1, 1] (numpy's arccos).
-- @function arccos
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.arccos(da.from_array({1, -1})):compute()
-- assert(y:get(1) == 0 and y:get(2) == math.pi)

--- Elementwise inverse tangent, in radians in (-pi/2, pi/2) (numpy's arctan; `da.arctan2` for two operands).
-- @function arctan
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.arctan(da.from_array({1})):compute():get(1) == math.pi / 4)

--- Elementwise hyperbolic sine (numpy's sinh).
-- @function sinh
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.sinh(da.from_array({0, 1})):compute()
-- assert(y:get(1) == 0 and math.abs(y:get(2) - (math.exp(1) - math.exp(-1)) / 2) < 1e-15)

--- Elementwise hyperbolic cosine (numpy's cosh).
-- @function cosh
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.cosh(da.from_array({0, 1})):compute()
-- assert(y:get(1) == 1 and math.abs(y:get(2) - (math.exp(1) + math.exp(-1)) / 2) < 1e-15)

--- Elementwise inverse hyperbolic sine (numpy's arcsinh).
-- @function arcsinh
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.arcsinh(da.from_array({0, 1})):compute()
-- assert(y:get(1) == 0 and math.abs(y:get(2) - math.log(1 + math.sqrt(2))) < 1e-15)

--- Elementwise inverse hyperbolic cosine; NaN below 1 (numpy's arccosh).
-- @function arccosh
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.arccosh(da.from_array({1, 0.5})):compute()
-- assert(y:get(1) == 0 and y:get(2) ~= y:get(2))

--- Elementwise inverse hyperbolic tangent; ±inf at ±1, NaN beyond (numpy's arctanh).
-- @function arctanh
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.arctanh(da.from_array({0, 1})):compute()
-- assert(y:get(1) == 0 and y:get(2) == math.huge)

--- Elementwise degrees to radians: x * pi / 180 (numpy's deg2rad, also `da.radians`).
-- @function deg2rad
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.deg2rad(da.from_array({180})):compute():get(1) == math.pi)

--- Degrees to radians: the same function as `da.deg2rad` (numpy's radians).
-- @function radians
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.radians(da.from_array({90})):compute():get(1) == math.pi / 2)

--- Elementwise radians to degrees: x * 180 / pi (numpy's rad2deg, also `da.degrees`).
-- @function rad2deg
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.rad2deg(da.from_array({math.pi})):compute():get(1) == 180)

--- Radians to degrees: the same function as `da.rad2deg` (numpy's degrees).
-- @function degrees
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage assert(da.degrees(da.from_array({math.pi / 2})):compute():get(1) == 90)

--- Elementwise the largest integer <= x, as a float (numpy's floor).
-- Integers give float64, as in numpy 1.24 (numpy 2 keeps them int64).
-- @function floor
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.floor(da.from_array({-1.5, 2.5}))
-- assert(y:compute():get(1) == -2 and y:compute():get(2) == 2 and y.dtype == "float64")

--- Elementwise the smallest integer >= x, as a float (numpy's ceil).
-- Integers give float64, as in numpy 1.24 (numpy 2 keeps them int64).
-- @function ceil
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.ceil(da.from_array({-1.5, 2.5}))
-- assert(y:compute():get(1) == -1 and y:compute():get(2) == 3)

--- Elementwise x rounded towards zero, as a float (numpy's trunc).
-- Integers give float64, as in numpy 1.24 (numpy 2 keeps them int64).
-- @function trunc
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.trunc(da.from_array({-1.7, 1.7}))
-- assert(y:compute():get(1) == -1 and y:compute():get(2) == 1)

--- Elementwise x rounded to the nearest integer, halves to even, as a float (numpy's rint).
-- Integers give float64, as in numpy 1.24. `da.round` rounds to a number of decimals.
-- @function rint
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.rint(da.from_array({0.5, 1.5, 2.5})):compute()
-- assert(y:get(1) == 0 and y:get(2) == 2 and y:get(3) == 2)

--- Elementwise the absolute value as a float (numpy's fabs; `da.abs` keeps the dtype).
-- @function fabs
-- @param x lask.array, number or boolean
-- @return lask.array: float64, or float32 for float32 x
-- @usage local y = da.fabs(da.from_array({-3, 2}))
-- assert(y:compute():get(1) == 3 and y.dtype == "float64")
for _, op in ipairs { "log1p", "expm1", "exp2", "log2", "log10", "cbrt", "tan", "arcsin", "arccos", "arctan",
  "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "floor", "ceil", "trunc", "rint",
  "fabs" } do
  F[op] = unary(op)
end
F.radians, F.degrees = F.deg2rad, F.rad2deg

-- Predicates, da.NAME(x): a bool array, for operands of any dtype (integers and bools
-- are never NaN or infinite).

--- Elementwise whether x is NaN (numpy's isnan; false for integers and bools).
-- @function isnan
-- @param x lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.isnan(da.from_array({1, 0/0, 3}))
-- assert(m:compute():get(2) == true and m:compute():get(1) == false)

--- Elementwise whether x is infinite, positive or negative (numpy's isinf; false for integers and bools).
-- @function isinf
-- @param x lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.isinf(da.from_array({-math.huge, 0/0, 1})):compute()
-- assert(m:get(1) == true and m:get(2) == false and m:get(3) == false)

--- Elementwise whether x is neither infinite nor NaN (numpy's isfinite; true for integers and bools).
-- @function isfinite
-- @param x lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.isfinite(da.from_array({1, 0/0, math.huge})):compute()
-- assert(m:get(1) == true and m:get(2) == false and m:get(3) == false)

--- Elementwise whether the sign bit of x is set: true for negative numbers and -0.0 (numpy's signbit).
-- Integers: x < 0; bools: false.
-- @function signbit
-- @param x lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.signbit(da.from_array({-0.0, 0.0, -2})):compute()
-- assert(m:get(1) == true and m:get(2) == false and m:get(3) == true)

--- Elementwise not x, with x true where nonzero (numpy's logical_not; NaN counts as true).
-- @function logical_not
-- @param x lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.logical_not(da.from_array({0, 2})):compute()
-- assert(m:get(1) == true and m:get(2) == false)
for _, op in ipairs { "isnan", "isinf", "isfinite", "signbit", "logical_not" } do F[op] = unary(op) end

-- Two-operand functions, da.NAME(a, b): a and b broadcast together; either may be a
-- Lua number or boolean.

--- Elementwise the angle of the point (b, a): atan(a / b) in the right quadrant, in [-pi, pi] (numpy's arctan2).
-- @function arctan2
-- @param a lask.array, number or boolean: the y coordinates
-- @param b lask.array, number or boolean: the x coordinates
-- @return lask.array: float64; float32 when the operands' common dtype is (float32 arrays, or one and a Lua number)
-- @usage local y = da.arctan2(da.from_array({1, 1}), da.from_array({1, -1})):compute()
-- assert(y:get(1) == math.pi / 4 and y:get(2) == 3 * math.pi / 4)

--- Elementwise sqrt(a^2 + b^2), without overflow for large a or b (numpy's hypot).
-- @function hypot
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: float64; float32 when the operands' common dtype is (float32 arrays, or one and a Lua number)
-- @usage local y = da.hypot(da.from_array({3, 5}), 4)
-- assert(y:compute():get(1) == 5)

--- Elementwise the magnitude of a with the sign of b (numpy's copysign; -0.0 counts as negative).
-- @function copysign
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: float64; float32 when the operands' common dtype is (float32 arrays, or one and a Lua number)
-- @usage local y = da.copysign(da.from_array({3, -3}), -0.0):compute()
-- assert(y:get(1) == -3 and y:get(2) == -3)

--- Elementwise the next float after a towards b (numpy's nextafter).
-- @function nextafter
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: float64; float32 when the operands' common dtype is (float32 arrays, or one and a Lua number)
-- @usage assert(da.nextafter(da.from_array({1}), 2):compute():get(1) == 1 + 2^-52)

--- Elementwise log(exp(a) + exp(b)), without overflow (numpy's logaddexp).
-- @function logaddexp
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: float64; float32 when the operands' common dtype is (float32 arrays, or one and a Lua number)
-- @usage local y = da.logaddexp(da.from_array({0, 1000}), da.from_array({0, 1000})):compute()
-- assert(y:get(1) == math.log(2) and y:get(2) == 1000 + math.log(2))

--- Elementwise log2(2^a + 2^b), without overflow (numpy's logaddexp2).
-- @function logaddexp2
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: float64; float32 when the operands' common dtype is (float32 arrays, or one and a Lua number)
-- @usage assert(da.logaddexp2(da.from_array({1, 3}), 1):compute():get(1) == 2)

--- Elementwise the remainder of a / b with the sign of a, as C's fmod (numpy's fmod).
-- `da.mod` (`a % b`, numpy's remainder) takes the sign of b instead. In the operands'
-- common dtype (bools as int64); integers divided by 0 give 0, as numpy (which also warns).
-- @function fmod
-- @param a lask.array, number or boolean: the dividend
-- @param b lask.array, number or boolean: the divisor
-- @return lask.array: the common dtype (bool as int64)
-- @usage local x = da.from_array({-7, 7})
-- assert(da.fmod(x, 3):compute():get(1) == -1 and (x % 3):compute():get(1) == 2)

--- Elementwise the smaller of a and b, ignoring NaN: NaN only where both are (numpy's fmin).
-- `da.minimum` propagates NaN instead.
-- @function fmin
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: the common dtype
-- @usage local y = da.fmin(da.from_array({0/0, 3}), 2):compute()
-- assert(y:get(1) == 2 and y:get(2) == 2)

--- Elementwise the larger of a and b, ignoring NaN: NaN only where both are (numpy's fmax).
-- `da.maximum` propagates NaN instead.
-- @function fmax
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: the common dtype
-- @usage local y = da.fmax(da.from_array({0/0, 3}), 2):compute()
-- assert(y:get(1) == 2 and y:get(2) == 3)

--- Elementwise a and b, each true where nonzero (numpy's logical_and), for operands of any dtype.
-- @function logical_and
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.logical_and(da.from_array({0, 1, 2}), da.from_array({true, true, false})):compute()
-- assert(m:get(1) == false and m:get(2) == true and m:get(3) == false)

--- Elementwise a or b, each true where nonzero (numpy's logical_or), for operands of any dtype.
-- @function logical_or
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.logical_or(da.from_array({0, 0, 2.5}), da.from_array({0, 1, 0})):compute()
-- assert(m:get(1) == false and m:get(2) == true and m:get(3) == true)

--- Elementwise exclusive or of a and b, each true where nonzero (numpy's logical_xor).
-- @function logical_xor
-- @param a lask.array, number or boolean
-- @param b lask.array, number or boolean
-- @return lask.array: bool
-- @usage local m = da.logical_xor(da.from_array({0, 1, 2}), 1):compute()
-- assert(m:get(1) == true and m:get(2) == false and m:get(3) == false)

--- Elementwise bitwise and of integers, logical and of bools (numpy's bitwise_and; the operator `a & b`).
-- @function bitwise_and
-- @param a lask.array, integer or boolean
-- @param b lask.array, integer or boolean
-- @return lask.array: int64, or bool when both are bool
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage assert(da.bitwise_and(da.from_array({12}), 10):compute():get(1) == 8)
-- assert((da.from_array({12}) & 10):compute():get(1) == 8)

--- Elementwise bitwise or of integers, logical or of bools (numpy's bitwise_or; the operator `a | b`).
-- @function bitwise_or
-- @param a lask.array, integer or boolean
-- @param b lask.array, integer or boolean
-- @return lask.array: int64, or bool when both are bool
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage assert(da.bitwise_or(da.from_array({12}), 10):compute():get(1) == 14)
-- assert((da.from_array({12}) | 10):compute():get(1) == 14)

--- Elementwise bitwise exclusive or of integers, logical xor of bools (numpy's bitwise_xor; the operator `a ~ b`).
-- @function bitwise_xor
-- @param a lask.array, integer or boolean
-- @param b lask.array, integer or boolean
-- @return lask.array: int64, or bool when both are bool
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage assert(da.bitwise_xor(da.from_array({12}), 10):compute():get(1) == 6)
-- assert((da.from_array({true}) ~ true):compute():get(1) == false)

--- Elementwise a shifted left by b bits (numpy's left_shift; the operator `a << b`).
-- A shift by 64 or more gives 0; bools compute as int64.
-- @function left_shift
-- @param a lask.array, integer or boolean
-- @param b lask.array, integer or boolean: the number of bits
-- @return lask.array: int64
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage assert(da.left_shift(da.from_array({1, 3}), 4):compute():get(2) == 48)
-- assert((da.from_array({1}) << 64):compute():get(1) == 0)

--- Elementwise a shifted right by b bits, arithmetically as numpy's right_shift (the operator `a >> b`).
-- The sign is kept: -8 >> 1 is -4 (Lua's own `>>` on integers is a logical shift). A
-- shift by 64 or more gives 0, or -1 for negative a; bools compute as int64.
-- @function right_shift
-- @param a lask.array, integer or boolean
-- @param b lask.array, integer or boolean: the number of bits
-- @return lask.array: int64
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage local y = da.right_shift(da.from_array({48, -8}), 1):compute()
-- assert(y:get(1) == 24 and y:get(2) == -4)
for _, op in ipairs { "arctan2", "hypot", "copysign", "nextafter", "logaddexp", "logaddexp2", "fmod", "fmin",
  "fmax", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
  "right_shift" } do
  F[op] = binary(op)
end

--- Elementwise bitwise not: `~x` of integers, logical not of bools (numpy's invert; also `da.bitwise_not`).
-- @param x lask.array (int64 or bool)
-- @return lask.array: x's dtype
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage assert((~da.from_array({0, 5})):compute():get(2) == -6)
function F.invert(x) return elemwise("invert", nil, x) end
F.bitwise_not = F.invert

--- Bitwise not: the same function as `da.invert` (numpy's bitwise_not; the operator `~x`).
-- @function bitwise_not
-- @param x lask.array (int64 or bool)
-- @return lask.array: x's dtype
-- @raise for floats: "bitwise operations need integer or boolean operands"
-- @usage local y = da.bitwise_not(da.from_array({0, -1})):compute()
-- assert(y:get(1) == -1 and y:get(2) == 0)
-- assert(da.bitwise_not(da.from_array({true})):compute():get(1) == false)

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

--- Rounds to the given number of decimals, half to even, as numpy's round (also `x:round(decimals)`, `da.around`).
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

--- Rounds to the given number of decimals: the same function as `da.round` (numpy's around).
-- @function around
-- @param x lask.array (float or int64; numpy refuses bools)
-- @param[opt] decimals integer (default 0; negative: to tens, hundreds, ...)
-- @return lask.array: x's dtype
-- @raise when decimals is not an integer
-- @usage assert(da.around(da.from_array({1.25, 150}), 1):compute():get(1) == 1.2)
-- assert(da.around(da.from_array({150, 249}), -2):compute():get(1) == 200)

--- x limited to [lo, hi]: maximum(x, lo), then minimum with hi, as numpy's clip (also `x:clip(lo, hi)`).
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

--- Elementwise whether x is positive infinity (numpy's isposinf; false for integers and bools).
-- @param x lask.array
-- @return lask.array: bool
-- @usage assert(da.isposinf(da.from_array({math.huge, -math.huge})):compute():get(1) == true)
function F.isposinf(x) return F.logical_and(F.isinf(x), F.logical_not(F.signbit(x))) end

--- Elementwise whether x is negative infinity (numpy's isneginf; false for integers and bools).
-- @param x lask.array
-- @return lask.array: bool
-- @usage assert(da.isneginf(da.from_array({math.huge, -math.huge})):compute():get(2) == true)
function F.isneginf(x) return F.logical_and(F.isinf(x), F.signbit(x)) end

--- x converted to dtype, as numpy's astype (`da.astype(x, dtype)` or `x:astype(dtype)`).
-- Floats become integers by truncation towards zero; anything nonzero (NaN too) is
-- true as a bool. An array that has the dtype already is returned as it is.
-- @function astype
-- @param x lask.array
-- @param dtype string: "float64", "float32", "int64" or "bool"
-- @return lask.array
-- @raise on an unknown dtype, naming the valid ones
-- @usage assert(da.astype(da.from_array({1.7, -1.7}), "int64"):compute():get(2) == -1)
F.astype = elementwise.astype

-- numpy's other names for functions lask.array has under one name.

--- Elementwise the absolute value in x's dtype: the same function as `da.abs` (numpy's absolute).
-- @function absolute
-- @param x lask.array or number
-- @return lask.array: x's dtype
-- @usage local y = da.absolute(da.from_array({-2, 3}))
-- assert(y:compute():get(1) == 2 and y.dtype == "int64")

--- Elementwise the remainder of a / b with the sign of b: the same function as `da.mod` and `a % b` (numpy's remainder).
-- `da.fmod` takes the sign of a instead.
-- @function remainder
-- @param a lask.array or number: the dividend
-- @param b lask.array or number: the divisor
-- @return lask.array: the common dtype (bool as int64)
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.remainder(da.from_array({-7, 7}), 3):compute():get(1) == 2)

--- Elementwise a / b, always a float: the same function as `da.divide` and `a / b` (numpy's true_divide).
-- @function true_divide
-- @param a lask.array or number
-- @param b lask.array or number
-- @return lask.array: float64 (float32 for float32 operands)
-- @raise when the shapes do not broadcast, naming both
-- @usage assert(da.true_divide(da.from_array({7}), 2):compute():get(1) == 3.5)
F.absolute = elementwise.functions.abs
F.remainder = elementwise.functions.mod
F.true_divide = elementwise.functions.divide

-- Methods this module adds to lask arrays: x:round(decimals), x:clip(lo, hi).
U.methods = { round = F.round, clip = F.clip }

-- Lua's bitwise operators on arrays (the module's description says what they do).
U.operators = {
  __band = F.bitwise_and,
  __bor = F.bitwise_or,
  __bxor = F.bitwise_xor,
  __bnot = function(a) return F.invert(a) end,
  __shl = F.left_shift,
  __shr = F.right_shift,
}

return U
