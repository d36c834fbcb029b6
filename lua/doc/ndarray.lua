--- In-memory arrays: what `Array:compute` gives (implemented in C, lua/binding/lndarray.c).
-- A `lask.ndarray` is numpy's ndarray in lask: a typed buffer (dtype `float64`,
-- `float32`, `int64` or `bool`) with a shape and strides, read-only once made.
-- Indices count from 1: `a[i]` is an element of a 1-d array (the row view of
-- others; nil out of range, so `ipairs` works), `#a` the extent of the first axis.
-- Arithmetic (`+ - * / % // ^`, unary `-`, and calling an operator kernel of
-- `require("lask.core").array_kernels` such as `K.sin(a)`) is elementwise, with
-- numpy's broadcasting and typing, as the same kernels the lazy arrays use, and fused:
-- it gives at once an array whose `shape` and `dtype` are known, computed the first
-- time anything reads its elements, the whole expression in one pass into one new
-- array (no temporary per operator). The values are the kernels' applied one at a
-- time, bit for bit; errors are raised by the operator that causes them. An array
-- that maps a file (`da.load` with `mmap`) changes when the file is written:
-- arithmetic on it runs at once. `tostring`
-- prints as numpy does (`[[1. 2.]\n [3. 4.]]`). Made by `Array:compute`,
-- `da.load`, or `da.asarray`'s input; given to `map_blocks` functions.
--
-- This file is documentation only: LDoc reads it, nothing requires it.
-- @classmod lask.ndarray
-- @usage local a = da.arange(6):reshape{2, 3}:compute()
-- assert(a.ndim == 2 and a.shape[2] == 3 and a.dtype == "int64" and #a == 2)
-- assert(a:get(2, 3) == 5 and a[2][1] == 3)
-- assert((a * 2):get(1, 2) == 2)
-- local b = (a * 0.5 + 1) ^ 2 -- one pass over a, when b is read
-- assert(b.dtype == "float64" and b.shape[2] == 3 and b:get(2, 3) == 12.25)

--- Fields.
-- @section fields

--- The extents, a list of integers (`{}` for a 0-d array).
-- @field shape

--- The element type: "float64", "float32", "int64" or "bool".
-- @field dtype

--- The number of axes.
-- @field ndim

--- The number of elements.
-- @field size

--- The distance in bytes between neighbours along each axis, a list.
-- @field strides

--- Methods.
-- @section methods

--- The element at the given indices.
-- @function get
-- @param ... integer: one 1-based index per axis (negative ones count from the end)
-- @return number, integer or boolean (by the dtype)
-- @raise when the number of indices is not ndim or an index is out of range
-- @usage local a = da.arange(6):reshape{2, 3}:compute()
-- assert(a:get(1, 1) == 0 and a:get(-1, -1) == 5)

--- The one element of a size-1 array, as numpy's `item()`.
-- @function item
-- @return number, integer or boolean
-- @raise when the array has more than one element
-- @usage assert(da.arange(5):sum():compute():item() == 10)

--- The array as nested Lua tables (a 0-d array gives its element).
-- @function totable
-- @return table
-- @usage local t = da.arange(4):reshape{2, 2}:compute():totable()
-- assert(t[2][1] == 2)

--- Writes the array to a `.npy` file (numpy's format, readable by `numpy.load`).
-- @function save
-- @param path string
-- @return true
-- @raise when the file cannot be written
-- @usage local path = os.tmpname()
-- da.arange(3):compute():save(path)
-- assert(da.load(path):get(3) == 2); os.remove(path)

--- A C-contiguous copy in another dtype.
-- @function astype
-- @param dtype string: "float64", "float32", "int64" or "bool"
-- @return lask.ndarray
-- @usage assert(da.arange(3):compute():astype("float64").dtype == "float64")

--- A C-contiguous copy.
-- @function copy
-- @return lask.ndarray
-- @usage local a = da.arange(3):compute()
-- assert(a:copy():get(2) == 1)

--- The same elements in another shape (numpy's `reshape`, in C order; a view when it can be).
-- @function reshape
-- @param ... the new shape: a list `{2, 3}` or the extents `2, 3` (one may be -1)
-- @return lask.ndarray
-- @raise when the sizes differ
-- @usage assert(da.arange(6):compute():reshape(2, 3).shape[1] == 2)
