--- Functions of lask.array: structure (transpose, dot, reshape, concatenate, stack; map_blocks: lask.array.blockwise).
-- @module lask.array.structure
-- @alias ST
-- @usage local a = da.ones({2, 3}, {chunks = 1})
-- assert(a.T.shape[1] == 3 and a:dot(a.T):compute():get(1, 1) == 3)
local core = require "lask.array.core"

local fmt, mtype = string.format, math.type
local block_key, is_array = core.block_key, core.is_array
local quote = require("lask.core").quote

local ST = {}

local function need_array(x, what, level)
  if is_array(x) then return x end
  if type(x) == "table" or type(x) == "userdata" then
    return require("lask.array.creation").from_array(x, nil, level + 1)
  end
  error(fmt("lask.array: %s: expected an array, got %s", what, type(x)), level + 1)
end

--- The array with its axes permuted (reversed by default); also `x:transpose()`. Blocks are views.
-- @param x lask.array
-- @param[opt] axes list: a 1-based permutation, such as `{2, 1}`
-- @return lask.array
-- @raise when axes is not a permutation of x's axes
-- @usage local x = da.zeros({2, 3, 4})
-- assert(da.transpose(x).shape[1] == 4 and x:transpose{2, 1, 3}.shape[1] == 3)
function ST.transpose(x, axes)
  x = need_array(x, "transpose", 2)
  local perm = {}
  if axes == nil then
    for d = 1, x.ndim do perm[d] = x.ndim - d end
  else
    if type(axes) ~= "table" or #axes ~= x.ndim then
      error(fmt("lask.array: transpose: axes must list the %d axes", x.ndim), 2)
    end
    local seen = {}
    for d = 1, x.ndim do
      local a = axes[d]
      local a0 = mtype(a) == "integer" and (a > 0 and a - 1 or x.ndim + a) or -1
      if a0 < 0 or a0 >= x.ndim or seen[a0] then
        error(fmt("lask.array: transpose: axes %s are not a permutation of 1..%d", core.tuple(axes), x.ndim), 2)
      end
      seen[a0] = true
      perm[d] = a0
    end
  end
  local identity = true
  for d = 1, x.ndim do if perm[d] ~= d - 1 then identity = false end end
  if identity then return x end
  local chunks = {}
  for d = 1, x.ndim do chunks[d] = x.chunks[perm[d] + 1] end
  local name = "transpose-" .. core.tokenize("transpose", x, perm)
  local k = core.kernel("transpose")
  local in_name = x.name
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local iidx = {}
    for d = 1, #idx do iidx[perm[d] + 1] = idx[d] end
    dsk[block_key(name, idx)] = { k, block_key(in_name, iidx), perm }
  end)
  return core.new(layer, { x }, chunks, x.dtype)
end

--- x transposed: numpy's `x.T`, reached as the field `x.T` of every array
-- (also `x:transpose()` and `da.transpose(x)`).
-- @return lask.array
-- @usage assert(da.zeros({2, 3}).T.shape[1] == 3)
function ST.T(x) return ST.transpose(x) end

local matmul_dtype = require("lask.core").arrayops.matmul_type

--- The matrix product of 1-d and 2-d arrays (numpy's `dot` rules for them); also `da.matmul` and `a:dot(b)`.
-- Booleans multiply as int64 (the count of true products). Block (i, j) is the sum over the inner blocks k of a(i, k) @ b(k, j), done
-- by one matmul_sum task that accumulates in place (BLAS beta = 1); when there are
-- fewer than 4 output blocks and 4 or more inner ones, by a few such tasks over
-- groups of k and a sum_agg of their results (parallel work, as for xᵀq in a
-- randomized SVD). Computed on the threaded or sync scheduler, each output block is
-- written by BLAS straight into the result (no block of its own, no copy).
-- @param a lask.array: 1-d or 2-d
-- @param b lask.array: 1-d or 2-d
-- @return lask.array
-- @raise when the inner extents differ
-- @usage local a = da.arange(6, {chunks = 2}):reshape{2, 3}
-- local v = da.ones(3)
-- assert(da.dot(a, v):compute():get(2) == 12)
function ST.dot(a, b)
  a, b = need_array(a, "dot", 2), need_array(b, "dot", 2)
  if a.ndim < 1 or a.ndim > 2 or b.ndim < 1 or b.ndim > 2 then
    error(fmt("lask.array: dot: supports 1-D and 2-D arrays, got %d-D and %d-D", a.ndim, b.ndim), 2)
  end
  local ka, kb = a.shape[a.ndim], b.shape[1]
  if ka ~= kb then
    error(fmt("lask.array: dot: shapes %s and %s not aligned: %d (axis %d) != %d (axis 1)", core.tuple(a.shape),
      core.tuple(b.shape), ka, a.ndim, kb), 2)
  end
  -- the inner blocks must line up
  local inner = require("lask.array.elementwise").refine { a.chunks[a.ndim], b.chunks[1] }
  local ac, bc = {}, {}
  for d = 1, a.ndim do ac[d] = d == a.ndim and inner or a.chunks[d] end
  for d = 1, b.ndim do bc[d] = d == 1 and inner or b.chunks[d] end
  a, b = a:rechunk(ac), b:rechunk(bc)
  local chunks = {}
  if a.ndim == 2 then chunks[#chunks + 1] = a.chunks[1] end
  if b.ndim == 2 then chunks[#chunks + 1] = b.chunks[2] end
  local name = "dot-" .. core.tokenize("dot", a, b)
  local an, bn, nk = a.name, b.name, #inner
  local k1, kn, ksum = core.kernel("matmul"), core.kernel("matmul_sum"), core.kernel("sum_agg")
  -- few output blocks over a long contraction: its products in a few groups summed
  -- at the end, so that more than one worker shares them
  local nout = 1
  for _, c in ipairs(chunks) do nout = nout * #c end
  local groups = (nk >= 4 and nout < 4) and math.min(nk // 2, -(-4 // nout)) or 1
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local i = a.ndim == 2 and idx[1] or nil
    local j = b.ndim == 2 and idx[#idx] or nil
    local left, right = {}, {}
    for k = 0, nk - 1 do
      left[k + 1] = i and block_key(an, { i, k }) or block_key(an, { k })
      right[k + 1] = j and block_key(bn, { k, j }) or block_key(bn, { k })
    end
    local out = block_key(name, idx)
    if groups == 1 then
      dsk[out] = nk == 1 and { k1, left[1], right[1] } or { kn, left, right }
      return
    end
    local parts = {}
    for g = 0, groups - 1 do
      local lo, hi = g * nk // groups + 1, (g + 1) * nk // groups
      local pidx = table.move(idx, 1, #idx, 1, {})
      pidx[#pidx + 1] = g
      parts[g + 1] = block_key(name .. "-partial", pidx)
      dsk[parts[g + 1]] = { kn, table.move(left, lo, hi, 1, {}), table.move(right, lo, hi, 1, {}) }
    end
    dsk[out] = { ksum, parts }
  end)
  return core.new(layer, { a, b }, chunks, matmul_dtype(a.dtype, b.dtype))
end

local function gcd(a, b)
  while b ~= 0 do a, b = b, a % b end
  return a
end

local function product(list, from, to)
  local p = 1
  for d = from, to do p = p * list[d] end
  return p
end

-- The extents of reshape's shape argument, -1 resolved, for an array of size size
-- and dtype dtype (a shape whose size overflows is refused as core.new would).
local function reshape_extents(shape, size, dtype, level)
  if mtype(shape) == "integer" then shape = { shape } end
  if type(shape) ~= "table" or is_array(shape) then
    error("lask.array: reshape: the shape must be a list of integers", level + 1)
  end
  local out, known, free = {}, 1, nil
  for i, e in ipairs(shape) do
    if mtype(e) ~= "integer" or e < -1 then
      error(fmt("lask.array: reshape: extents must be integers >= 0 (one may be -1), got %s", tostring(e)), level + 1)
    end
    if e == -1 then
      if free then error("lask.array: reshape: only one extent can be -1", level + 1) end
      free = i
    else
      known = known * e
    end
    out[i] = e
  end
  if free and known ~= 0 and size % known == 0 then out[free] = size // known end
  if (free and out[free] == -1) or core.shape_size(out, dtype, level + 1) ~= size then
    error(fmt("lask.array: reshape: cannot reshape an array of size %d into shape %s", size, core.tuple(shape)),
      level + 1)
  end
  return out
end

--- The same elements in another shape (numpy's `reshape`, in C order); also `x:reshape(shape)`.
-- One extent may be -1. The axes
-- after the last one that changes keep their blocks. The changing ones are cut
-- along their first axis only, at multiples of the rows that make whole rows of
-- both shapes (their row sizes' least common multiple), as near x's own block
-- boundaries as that allows; then every block is reshaped on its own (a view when
-- it is C-contiguous).
-- @param x lask.array
-- @param shape list of integers (or one integer)
-- @return lask.array
-- @raise when the sizes differ
-- @usage local x = da.arange(12, {chunks = 4}):reshape{3, -1}
-- assert(x.shape[2] == 4 and x:compute():get(3, 4) == 11)
function ST.reshape(x, shape)
  x = need_array(x, "reshape", 2)
  local out = reshape_extents(shape, x.size, x.dtype, 2)
  if core.same_list(out, x.shape) then return x end
  local kreshape = core.kernel("reshape")
  local name = "reshape-" .. core.tokenize("reshape", x, out)
  if x.size == 0 or x.ndim == 0 or #out == 0 then -- one block
    local full, origin, chunks, zeros = {}, {}, {}, {}
    for d = 1, x.ndim do full[d], origin[d] = { x.shape[d] }, 0 end
    for d = 1, #out do chunks[d], zeros[d] = { out[d] }, 0 end
    local y = x:rechunk(full)
    local src = block_key(y.name, origin)
    local task = #out == 0 and { core.kernel("squeeze"), { kreshape, src, { 1 } }, { 0 } } or { kreshape, src, out }
    local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk) dsk[block_key(name, zeros)] = task end)
    return core.new(layer, { y }, chunks, x.dtype)
  end
  -- the unchanged trailing axes (at least one changing axis is left on each side)
  local s = 0
  while s < #out - 1 and s < x.ndim - 1 and out[#out - s] == x.shape[x.ndim - s] do s = s + 1 end
  local pin, pout = x.ndim - s, #out - s
  local a, b = product(x.shape, 2, pin), product(out, 2, pout)
  local l = a // gcd(a, b) * b
  local ra, rb = l // a, l // b -- rows of x, rows of the result, in one unit of l elements
  local units = x.shape[1] // ra
  -- unit boundaries near x's block boundaries along its first axis
  local cuts, at, last = {}, 0, 0
  for _, c in ipairs(x.chunks[1]) do
    at = at + c
    local u = math.floor(at / ra + 0.5)
    if u > last and u < units then cuts[#cuts + 1], last = u - last, u end
  end
  cuts[#cuts + 1] = units - last
  local in_chunks, out_chunks = { {} }, { {} }
  for i, u in ipairs(cuts) do in_chunks[1][i], out_chunks[1][i] = u * ra, u * rb end
  for d = 2, pin do in_chunks[d] = { x.shape[d] } end
  for d = 2, pout do out_chunks[d] = { out[d] } end
  for d = 1, s do in_chunks[pin + d], out_chunks[pout + d] = x.chunks[pin + d], x.chunks[pin + d] end
  local y = x:rechunk(in_chunks)
  local layer = core.grid_layer(name, core.numblocks_of(out_chunks), function(dsk, idx)
    local iidx, bshape = { idx[1] }, {}
    for d = 2, pin do iidx[d] = 0 end
    for d = 1, s do iidx[pin + d] = idx[pout + d] end
    for d = 1, #out do bshape[d] = out_chunks[d][idx[d] + 1] end
    dsk[block_key(name, idx)] = { kreshape, block_key(y.name, iidx), bshape }
  end)
  return core.new(layer, { y }, out_chunks, x.dtype)
end

-- The arrays of a sequence argument, checked.
local function sequence(seq, what, level)
  if type(seq) ~= "table" or is_array(seq) or #seq == 0 then
    error(fmt("lask.array: %s: expected a non-empty list of arrays", what), level + 1)
  end
  local out, dtype = {}, nil
  for i, v in ipairs(seq) do
    out[i] = need_array(v, what, level + 1)
    dtype = dtype and core.promote(dtype, out[i].dtype) or out[i].dtype
  end
  for i, v in ipairs(out) do out[i] = v:astype(dtype) end
  return out, dtype
end

-- The axis argument of concatenate/stack: 1-based (negative from the end) among n.
local function axis_arg(axis, n, what, level)
  axis = axis or 1
  if mtype(axis) ~= "integer" then error(fmt("lask.array: %s: axis must be an integer", what), level + 1) end
  local a0 = axis > 0 and axis - 1 or n + axis
  if axis == 0 or a0 < 0 or a0 >= n then
    error(fmt("lask.array: %s: axis %d is out of range for %d axes (axes count from 1)", what, axis, n), level + 1)
  end
  return a0
end

-- Rechunks arrays so their blocks line up on every axis but skip (0-based).
local function align_except(arrays, skip)
  local nd = arrays[1].ndim
  local want = {}
  for d = 1, nd do
    if d - 1 ~= skip then
      local lists = {}
      for i, x in ipairs(arrays) do lists[i] = x.chunks[d] end
      want[d] = require("lask.array.elementwise").refine(lists)
    end
  end
  local out = {}
  for i, x in ipairs(arrays) do
    local c = {}
    for d = 1, nd do c[d] = want[d] or x.chunks[d] end
    out[i] = x:rechunk(c)
  end
  return out
end

--- Arrays joined along an existing axis; the blocks are the inputs' (no copy).
-- @param seq list of lask.arrays: the same shape but along axis
-- @param[opt=1] axis integer: 1-based
-- @return lask.array
-- @raise when the shapes or dtypes do not fit
-- @usage local x = da.concatenate({da.ones(2), da.zeros(3)})
-- assert(x.shape[1] == 5 and x:sum():compute():item() == 2)
function ST.concatenate(seq, axis)
  local arrays, dtype = sequence(seq, "concatenate", 2)
  local nd = arrays[1].ndim
  if nd == 0 then error("lask.array: concatenate: zero-dimensional arrays cannot be concatenated", 2) end
  local a0 = axis_arg(axis, nd, "concatenate", 2)
  for _, x in ipairs(arrays) do
    local ok = x.ndim == nd
    for d = 1, nd do ok = ok and (d - 1 == a0 or x.shape[d] == arrays[1].shape[d]) end
    if not ok then
      error(fmt("lask.array: concatenate: shapes %s and %s do not match except along axis %d",
        core.tuple(arrays[1].shape), core.tuple(x.shape), a0 + 1), 2)
    end
  end
  arrays = align_except(arrays, a0)
  local chunks, owner = {}, {}
  for d = 1, nd do chunks[d] = arrays[1].chunks[d] end
  chunks[a0 + 1] = {}
  for i, x in ipairs(arrays) do
    for j, c in ipairs(x.chunks[a0 + 1]) do
      if c > 0 or #arrays == 1 then
        chunks[a0 + 1][#chunks[a0 + 1] + 1] = c
        owner[#owner + 1] = { i, j - 1 }
      end
    end
  end
  if #chunks[a0 + 1] == 0 then
    chunks[a0 + 1] = { 0 }
    owner[1] = { 1, 0 }
  end
  local name = "concatenate-" .. core.tokenize("concatenate", arrays, a0)
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local o = owner[idx[a0 + 1] + 1]
    local iidx = table.move(idx, 1, #idx, 1, {})
    iidx[a0 + 1] = o[2]
    dsk[block_key(name, idx)] = block_key(arrays[o[1]].name, iidx)
  end)
  return core.new(layer, arrays, chunks, dtype)
end

--- Arrays of one shape stacked along a new axis (blocks of extent 1 along it).
-- @param seq list of lask.arrays of one shape
-- @param[opt=1] axis integer: the new axis's place, 1-based
-- @return lask.array
-- @usage local x = da.stack({da.ones(3), da.zeros(3)})
-- assert(x.shape[1] == 2 and x.shape[2] == 3)
function ST.stack(seq, axis)
  local arrays, dtype = sequence(seq, "stack", 2)
  local nd = arrays[1].ndim
  local a0 = axis_arg(axis, nd + 1, "stack", 2)
  for _, x in ipairs(arrays) do
    if not core.same_list(x.shape, arrays[1].shape) then
      error(fmt("lask.array: stack: all arrays must have one shape, got %s and %s", core.tuple(arrays[1].shape),
        core.tuple(x.shape)), 2)
    end
  end
  arrays = align_except(arrays, -1)
  local chunks = {}
  for d = 1, nd + 1 do
    if d - 1 < a0 then chunks[d] = arrays[1].chunks[d]
    elseif d - 1 == a0 then
      chunks[d] = {}
      for i = 1, #arrays do chunks[d][i] = 1 end
    else chunks[d] = arrays[1].chunks[d - 1] end
  end
  local name = "stack-" .. core.tokenize("stack", arrays, a0)
  local k = core.kernel("stack")
  local layer = core.grid_layer(name, core.numblocks_of(chunks), function(dsk, idx)
    local iidx = {}
    for d = 1, #idx do
      if d - 1 ~= a0 then iidx[#iidx + 1] = idx[d] end
    end
    local src = arrays[idx[a0 + 1] + 1]
    dsk[block_key(name, idx)] = { k, { block_key(src.name, iidx) }, a0 }
  end)
  return core.new(layer, arrays, chunks, dtype)
end

return ST
