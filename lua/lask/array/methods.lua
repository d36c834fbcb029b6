-- lask.array.methods: the Array class, whole — every method and operator of a
-- lask.array, each the function a sibling module exports. This is the one place
-- that fills the class: core.Array (what x:name(...) finds) and the operators of
-- core.Array_mt. lask.array (init.lua) loads it. The array's own protocol —
-- fields, x.dask, printing, #x, immutability — is core's (Array_mt in core.lua).
local core = require "lask.array.core"
local compute = require "lask.array.compute"
local elementwise = require "lask.array.elementwise"
local io_ = require "lask.array.io"
local rechunk = require "lask.array.rechunk"
local reductions = require "lask.array.reductions"
local slicing = require "lask.array.slicing"
local structure = require "lask.array.structure"

local ew = elementwise.functions

-- x:name(...)
local methods = {
  -- evaluation
  compute = compute.compute, -- x:compute([opts]): a lask.ndarray
  persist = compute.persist, -- x:persist([opts]): blocks computed, still lazy
  store = io_.store,         -- x:store(path [, opts]): a .npy file
  -- elementwise
  astype = elementwise.astype,
  -- reductions: x:sum([opts]), ... (opts: axis, keepdims, split_every)
  sum = reductions.sum,
  prod = reductions.prod,
  min = reductions.min,
  max = reductions.max,
  mean = reductions.mean,
  var = reductions.var,
  std = reductions.std,
  argmin = reductions.argmin,
  argmax = reductions.argmax,
  -- shape, blocks and indexing
  T = structure.T,
  transpose = structure.transpose,
  reshape = structure.reshape,
  dot = structure.dot,
  rechunk = rechunk.rechunk,
  slice = slicing.slice,
}

-- a + b, a - b, a * b, a / b, a % b, a // b, a ^ b, -a: elementwise, with an
-- array on either side (numbers broadcast).
local operators = {
  __add = ew.add,
  __sub = ew.subtract,
  __mul = ew.multiply,
  __div = ew.divide,
  __mod = ew.mod,
  __idiv = ew.floor_divide,
  __pow = ew.power,
  __unm = ew.negative,
}

for name, f in pairs(methods) do core.Array[name] = f end
for name, f in pairs(operators) do core.Array_mt[name] = f end

return { methods = methods, operators = operators }
