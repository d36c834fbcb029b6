-- lask.array.core: the lazy chunked array — metadata, chunks, names, the layered
-- graph behind an array, and printing. The operations live in the sibling modules;
-- lask.array (init.lua) gathers them, as its functions and as the methods of the
-- class Array (M.Array).
--
-- An Array's shape, chunks, numblocks and chunksize are read-only views (Dask's
-- tuples; assignment raises, core.plain copies one); x[k] indexes and x[k] = v
-- assigns (lask.array.indexing: x then takes the new array's name and graph, as
-- Dask's collections change in place; nothing else changes an array). It prints as Dask's repr does, with the chunk size rather than
-- every block size. Besides its metadata (name, chunks, shape, dtype, ...) it
-- holds its graph as *layers*, one per operation, as Dask's HighLevelGraph does:
-- layers[name] is the layer that makes the blocks (name, i, j, ...), and each layer
-- lists the layers it reads. Layers are shared between arrays and never change, so
-- deriving an array copies a table of references, not tasks.
--
-- Layer kinds:
--   blockwise  one task per block of a grid `numblocks`, made by block(idx, args)
--              from the blocks of `inputs` (each {name=, numblocks=}: an input with
--              one block along an axis is broadcast along it, an input of fewer
--              axes is aligned right, as numpy broadcasts). Elementwise layers are
--              blockwise with an `ew` description ({op=, param=, args=}) that fusion
--              reads; creation layers are blockwise with no inputs.
--   generic    any tasks: build() gives them.
-- x.dask merges every layer's tasks into one plain graph; compute hands
-- the layers to lask.array.expression, which rewrites them before the graph is made.
local lcore = require "lask.core"

local lask_key = lcore.key
local concat, fmt, mtype = table.concat, string.format, math.type

local M = {}

local Array = {} -- the class: lask.array (init.lua) fills it with every method
M.Array = Array
local Array_mt = { __name = "lask.array" }
local FIELDS = {} -- the private key of an array's fields
M.Array_mt = Array_mt

--------------------------------------------------------------------------------
-- Kernels

local kernels = {}

-- The array kernel called name (a native kernel that prints by name).
function M.kernel(name)
  local k = kernels[name]
  if k then return k end
  local ks = lcore.array_kernels
  k = ks and ks[name]
  if not k then error("lask.array: the array kernel '" .. name .. "' is not available in this build", 2) end
  kernels[name] = k
  return k
end

local fused = setmetatable({}, { __mode = "v" })

-- The fused elementwise kernel for a postfix program (one per program).
function M.fused_kernel(program)
  local k = fused[program]
  if k then return k end
  local make = lcore.fused_kernel or (lcore.array_kernels and lcore.array_kernels.fused_kernel)
  if not make then error("lask.array: fused kernels are not available in this build", 2) end
  k = make(program)
  fused[program] = k
  return k
end

--------------------------------------------------------------------------------
-- dtypes (numpy's names; our four)

local DTYPES = { float64 = "float64", float32 = "float32", int64 = "int64", bool = "bool",
  f8 = "float64", f4 = "float32", i8 = "int64", b1 = "bool", double = "float64", float = "float64",
  int = "int64", ["<f8"] = "float64", ["<f4"] = "float32", ["<i8"] = "int64", ["|b1"] = "bool" }

-- The canonical name of a dtype given by name; raises for unknown ones.
function M.dtype(name, level)
  local dt = type(name) == "string" and DTYPES[name]
  if not dt then
    error(fmt("lask.array: unknown dtype %s (float64, float32, int64 and bool are supported)",
      type(name) == "string" and ("'" .. name .. "'") or tostring(name)), (level or 1) + 1)
  end
  return dt
end

M.itemsize = { float64 = 8, float32 = 4, int64 = 8, bool = 1 }

-- numpy's result_type of two of our dtypes (int64 with float32 gives float64): the
-- engine's rule (lask.core.arrayops).
M.promote = require("lask.core").arrayops.promote

-- The dtype of a Lua scalar operand.
function M.scalar_dtype(v)
  if type(v) == "boolean" then return "bool" end
  if mtype(v) == "integer" then return "int64" end
  return "float64"
end

--------------------------------------------------------------------------------
-- Read-only metadata. An array's shape, chunks and numblocks are shared by every
-- array derived from it and read by its tasks, so a user's assignment must not
-- reach them (Dask's are tuples). Users see read-only views: indexing, #, ipairs,
-- pairs, table.concat and table.unpack work; assignment raises.

local frozen_of = setmetatable({}, { __mode = "k" }) -- view -> the table it shows

local function frozen_error(_, k)
  error(fmt("lask.array: shape, chunks and numblocks are read-only (cannot set [%s]); "
    .. "make a new array instead (rechunk, reshape, ...)", tostring(k)), 2)
end
local function frozen_len(v) return #frozen_of[v] end
local function frozen_pairs(v) return next, frozen_of[v], nil end

-- A plain (mutable, deep) copy of metadata, read-only view or not.
local function plain(t)
  local out = {}
  for i = 1, #t do
    local v = t[i]
    out[i] = type(v) == "table" and plain(v) or v
  end
  return out
end
M.plain = plain

-- Wraps the plain list `shown` (and the lists in it, in place) in read-only views.
local function view_of(shown)
  for i = 1, #shown do
    if type(shown[i]) == "table" then shown[i] = view_of(shown[i]) end
  end
  local view = setmetatable({}, { __index = shown, __newindex = frozen_error, __len = frozen_len,
    __pairs = frozen_pairs, __name = "lask.array.metadata", __metatable = "read-only" })
  frozen_of[view] = shown
  return view
end

-- A read-only view of a copy of the list t (nested lists too); a view is returned as is.
local function freeze(t)
  if frozen_of[t] then return t end
  return view_of(plain(t))
end
M.freeze = freeze

local function is_frozen(t) return frozen_of[t] ~= nil end
M.is_frozen = is_frozen

--------------------------------------------------------------------------------
-- Tokens: deterministic names from the inputs, as Dask's tokenize

local function is_array(v) return getmetatable(v) == Array_mt end
M.is_array = is_array

-- 64-bit FNV-1a over s, 8 bytes at a time (Lua integers wrap on overflow).
local function fnv64(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  local n = #s
  local i = 1
  while i + 7 <= n do
    h = (h ~ string.unpack("<i8", s, i)) * 1099511628211
    i = i + 8
  end
  for j = i, n do h = (h ~ s:byte(j)) * 1099511628211 end
  return h
end

local function serialize(v, out)
  local t = type(v)
  if t == "number" then
    out[#out + 1] = mtype(v) == "integer" and ("i" .. v) or fmt("f%.17g", v)
  elseif t == "string" then
    out[#out + 1] = "s" .. #v .. ":" .. v
  elseif t == "boolean" or t == "nil" then
    out[#out + 1] = tostring(v)
  elseif is_array(v) then
    out[#out + 1] = "A" .. v.name
  elseif t == "table" and frozen_of[v] then
    serialize(frozen_of[v], out)
  elseif t == "table" and getmetatable(v) == nil then
    local keys, n = {}, #v
    for k in pairs(v) do keys[#keys + 1] = k end
    if #keys == n then -- a sequence: in order, no sort (chunks lists can be long)
      out[#out + 1] = "["
      for i = 1, n do
        serialize(v[i], out)
        out[#out + 1] = ","
      end
      out[#out + 1] = "]"
      return
    end
    table.sort(keys, function(a, b)
      if type(a) ~= type(b) then return type(a) < type(b) end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      serialize(k, out)
      out[#out + 1] = "="
      serialize(v[k], out)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    out[#out + 1] = fmt("o%p", v) -- functions, userdata, objects: by identity (never by a printed form)
  end
end

-- A hex token for the arguments: equal inputs give equal tokens.
function M.tokenize(...)
  local out = {}
  for i = 1, select("#", ...) do
    serialize((select(i, ...)), out)
    out[#out + 1] = ";"
  end
  local s = concat(out)
  return fmt("%016x", fnv64(s)):sub(1, 16) .. fmt("%08x", fnv64(s .. "#") & 0xffffffff)
end

--------------------------------------------------------------------------------
-- Shapes and chunks

local function check_extent(v, what, level)
  if mtype(v) == "float" and v == math.floor(v) and v >= 0 and v < 2 ^ 62 then v = math.tointeger(v) end
  if mtype(v) ~= "integer" or v < 0 then
    error(fmt("lask.array: %s must be non-negative integers, got %s", what, tostring(v)), level + 1)
  end
  return v
end

-- A shape: a list of non-negative integers (or one integer for 1-D).
function M.normalize_shape(shape, level)
  level = (level or 1) + 1
  if type(shape) == "number" then shape = { shape } end
  if is_frozen(shape) then shape = plain(shape) end
  if type(shape) ~= "table" or getmetatable(shape) ~= nil then
    error("lask.array: a shape is a list of integers, got " .. type(shape), level)
  end
  local out = {}
  for i = 1, #shape do out[i] = check_extent(shape[i], "shape extents", level) end
  return out
end

-- A graph holds at most this many tasks (engine/core/graph.h's LASK_MAX_OPERAND),
-- so no array has more blocks: more is refused before any list is made.
M.MAX_BLOCKS = (1 << 29) - 1

local DEFAULT_BLOCK_BYTES = 128 * 2 ^ 20 -- "auto" chunks aim at blocks of this size, as Dask

-- Blocks of size bs over an extent n.
local function regular(n, bs)
  if n == 0 then return { 0 } end
  local out = {}
  for start = 0, n - 1, bs do out[#out + 1] = math.min(bs, n - start) end
  return out
end
M.regular_chunks = regular

-- Automatic block sizes: about DEFAULT_BLOCK_BYTES per block, near-square blocks
-- (fixed[d]: the block size chosen for axis d).
local function auto_sizes(shape, itemsize, fixed)
  local total, free = itemsize, {}
  for d = 1, #shape do
    if fixed[d] then total = total * math.max(fixed[d], 1) else
      total = total * math.max(shape[d], 1)
      free[#free + 1] = d
    end
  end
  local out = {}
  -- blocks of DEFAULT_BLOCK_BYTES, or bigger when that many would not fit a graph
  local target = math.max(DEFAULT_BLOCK_BYTES, total / (M.MAX_BLOCKS // 4))
  local factor = (#free > 0 and total > target) and (total / target) ^ (1 / #free) or 1
  for d = 1, #shape do
    out[d] = fixed[d] or math.max(1, math.ceil(shape[d] / factor))
  end
  return out
end

local function chunk_error(msg, level) error("lask.array: " .. msg, level + 1) end

local function describe_chunks(chunks)
  local parts = {}
  for d, c in ipairs(chunks) do
    if type(c) == "table" then parts[d] = "(" .. concat(c, ", ") .. ")" else parts[d] = tostring(c) end
  end
  return "(" .. concat(parts, ", ") .. ")"
end

-- Explicit block sizes for one axis of extent n, checked.
local function explicit(sizes, n, d, level)
  local out, sum = {}, 0
  for i = 1, #sizes do
    out[i] = check_extent(sizes[i], "block sizes", level + 1)
    sum = sum + out[i]
  end
  if sum ~= n or #out == 0 then
    chunk_error(fmt("chunks %s along axis %d sum to %d, but the extent is %d", describe_chunks({ sizes }), d, sum, n),
      level + 1)
  end
  return out
end

local function shape_text(shape)
  return "(" .. concat(shape, ", ") .. (#shape == 1 and ",)" or ")")
end

-- The number of elements of shape (0 when an extent is 0): the one place a shape's
-- size is computed, so that it cannot wrap. Refuses a shape whose size in bytes
-- overflows int64, as numpy does (extents of 0 aside: numpy refuses (2^62, 0, 8)
-- too, so that no stride can overflow); level as error's.
function M.shape_size(shape, dtype, level)
  local bytes, size = M.itemsize[dtype or "float64"] or 8, 1
  for d = 1, #shape do
    local n = shape[d]
    if n > 0 then
      if bytes > math.maxinteger // n then
        error(fmt("lask.array: an array of shape %s and dtype %s is too big: its size in bytes overflows int64",
          shape_text(shape), dtype or "float64"), level + 1)
      end
      bytes, size = bytes * n, size * n
    else
      size = 0
    end
  end
  return size
end

-- Refuses block counts (per axis; 1 for explicit lists too) beyond M.MAX_BLOCKS.
local function check_blocks(counts, shape, level)
  local total = 1.0
  for d = 1, #counts do total = total * counts[d] end
  if total > M.MAX_BLOCKS then
    local nb = {}
    for d = 1, #counts do nb[d] = fmt("%.0f", counts[d]) end
    chunk_error(fmt("the chunks of shape %s make %s blocks (numblocks (%s)); a graph holds at most %d tasks: "
      .. "choose larger chunks", shape_text(shape), fmt("%.0f", total), concat(nb, ", "), M.MAX_BLOCKS), level + 1)
  end
end

-- Chunks for shape: a number (block size on every axis; -1 for whole axes), a list
-- with one entry per axis (a block size, -1, "auto", or explicit sizes), explicit
-- block sizes of a 1-D array ({5, 5, 5}), nil or "auto". Gives a list per axis of
-- block sizes. Blocks of size 0 only appear on axes of extent 0 (one block). The
-- shape's size and the block count are checked before any list is made (a shape of
-- 2^62 by 2 in blocks of 1 is refused at once, with the numbers).
function M.normalize_chunks(chunks, shape, dtype, level)
  level = (level or 1) + 1
  local nd = #shape
  local itemsize = M.itemsize[dtype or "float64"] or 8
  M.shape_size(shape, dtype, level)
  if chunks == nil or chunks == "auto" then chunks = "auto" end
  if type(chunks) == "number" or chunks == "auto" then
    local t = {}
    for d = 1, nd do t[d] = chunks end
    chunks = t
  end
  if type(chunks) ~= "table" then chunk_error("chunks must be a number, a list or 'auto', got " .. type(chunks), level) end
  if nd == 1 and #chunks > 1 and type(chunks[1]) == "number" then chunks = { chunks } end
  if #chunks ~= nd then
    chunk_error(fmt("chunks %s do not match a shape of %d dimension%s", describe_chunks(chunks), nd,
      nd == 1 and "" or "s"), level)
  end
  local out, sizes, want_auto = {}, {}, false -- out[d]: explicit lists; sizes[d]: regular block sizes
  for d = 1, nd do
    local c, n = chunks[d], shape[d]
    if type(c) == "table" then
      out[d] = explicit(c, n, d, level)
    elseif c == -1 or c == nil then
      sizes[d] = math.max(n, 1)
    elseif c == "auto" then
      want_auto = true
    else
      c = check_extent(c, "block sizes", level)
      if c == 0 and n > 0 then chunk_error(fmt("a block size of 0 for axis %d of extent %d", d, n), level) end
      sizes[d] = math.max(c, 1)
    end
  end
  if want_auto then
    local fixed = {}
    for d = 1, nd do fixed[d] = sizes[d] and math.max(math.min(sizes[d], shape[d]), 1) or (out[d] and math.max(out[d][1], 1)) end
    sizes = auto_sizes(shape, itemsize, fixed)
  end
  local counts = {}
  for d = 1, nd do counts[d] = out[d] and #out[d] or shape[d] == 0 and 1 or (shape[d] - 1) // sizes[d] + 1 end
  check_blocks(counts, shape, level)
  for d = 1, nd do out[d] = out[d] or regular(shape[d], sizes[d]) end
  return out
end

-- Start offsets of each block along one axis (0-based), and the total.
function M.offsets(sizes)
  local out, pos = {}, 0
  for i = 1, #sizes do
    out[i] = pos
    pos = pos + sizes[i]
  end
  return out, pos
end

-- Equal lists of extents, NaN (an unknown block size) equal to NaN.
local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] and (a[i] == a[i] or b[i] == b[i]) then return false end end
  return true
end
M.same_list = same_list

function M.same_chunks(a, b)
  if #a ~= #b then return false end
  for d = 1, #a do if not same_list(a[d], b[d]) then return false end end
  return true
end

--------------------------------------------------------------------------------
-- Block keys and grids

-- The key of block idx (0-based list) of the array called name.
local function block_key(name, idx)
  return lask_key(name, table.unpack(idx))
end
M.block_key = block_key

-- Calls f(idx) for every block index of the grid numblocks, in C order. idx is
-- reused between calls: copy it to keep it.
function M.each_block(numblocks, f)
  local nd = #numblocks
  for d = 1, nd do if numblocks[d] == 0 then return end end
  local idx = {}
  for d = 1, nd do idx[d] = 0 end
  while true do
    f(idx)
    local d = nd
    while d >= 1 do
      idx[d] = idx[d] + 1
      if idx[d] < numblocks[d] then break end
      idx[d] = 0
      d = d - 1
    end
    if d < 1 then return end
  end
end

-- A nested list of the keys of every block of name (a list per axis, as the
-- keys argument of get and the block kernel take them); a key for 0-d arrays.
function M.key_grid(name, numblocks)
  local nd = #numblocks
  if nd == 0 then return lask_key(name) end
  local idx = {}
  local function level(d)
    local out = {}
    for i = 0, numblocks[d] - 1 do
      idx[d] = i
      out[i + 1] = d == nd and block_key(name, idx) or level(d + 1)
    end
    return out
  end
  return level(1)
end

-- The index of input block (numblocks nb_in, aligned right) feeding output block idx.
function M.input_index(idx, nb_in)
  local off = #idx - #nb_in
  local out = {}
  for d = 1, #nb_in do out[d] = nb_in[d] == 1 and 0 or idx[d + off] end
  return out
end

--------------------------------------------------------------------------------
-- Layers

-- The tasks of a layer (key -> task), made once.
function M.layer_tasks(layer)
  local dsk = layer.dsk
  if dsk then return dsk end
  if layer.kind == "blockwise" then
    dsk = {}
    local inputs, name = layer.inputs, layer.name
    M.each_block(layer.numblocks, function(idx)
      local args = {}
      for i, inp in ipairs(inputs) do args[i] = block_key(inp.name, M.input_index(idx, inp.numblocks)) end
      dsk[block_key(name, idx)] = layer.block(idx, args)
    end)
  else
    dsk = layer.build()
  end
  layer.dsk = dsk
  return dsk
end

--------------------------------------------------------------------------------
-- The Array

local function numblocks_of(chunks)
  local nb = {}
  for d = 1, #chunks do nb[d] = #chunks[d] end
  return nb
end
M.numblocks_of = numblocks_of

-- The largest block size along each axis (Dask's chunksize).
local function chunksize_of(chunks)
  local out = {}
  for d = 1, #chunks do
    local m = 0
    for _, c in ipairs(chunks[d]) do m = math.max(m, c) end
    out[d] = m
  end
  return out
end

-- A new array: its layer (made by the caller, named name), the layers of the
-- arrays it reads (deps, a list of arrays), chunks and dtype.
function M.new(layer, deps, chunks, dtype)
  local layers = {}
  for _, a in ipairs(deps or {}) do
    for n, l in pairs(a.layers) do layers[n] = l end
  end
  layers[layer.name] = layer
  if not layer.deps then
    layer.deps = {}
    for i, a in ipairs(deps or {}) do layer.deps[i] = a.name end
  end
  local shape = {}
  for d = 1, #chunks do
    local n = 0
    for _, c in ipairs(chunks[d]) do n = n + c end
    shape[d] = n
  end
  local size = M.shape_size(shape, dtype, 2) -- cannot wrap (2^40 by 2^40 gave size 0)
  local fields = {
    name = layer.name, chunks = freeze(chunks), shape = freeze(shape), ndim = #chunks, size = size, dtype = dtype,
    numblocks = freeze(numblocks_of(chunks)), chunksize = freeze(chunksize_of(chunks)), layers = layers,
  }
  return setmetatable({ [FIELDS] = fields }, Array_mt)
end

-- A generic layer whose tasks fill(dsk, idx) writes for every block index idx of
-- the grid numblocks (0-based, C order; idx is reused: copy it to keep it). deps:
-- the names of the layers it reads, when they are not the inputs of core.new.
function M.grid_layer(name, numblocks, fill, deps)
  return {
    name = name, kind = "generic", deps = deps,
    build = function()
      local dsk = {}
      M.each_block(numblocks, function(idx) fill(dsk, idx) end)
      return dsk
    end,
  }
end

-- A blockwise layer over input arrays (a list; they must already have chunks that
-- line up with out_chunks by the broadcasting rule).
function M.blockwise_layer(name, out_chunks, inputs, block)
  local ins = {}
  for i, a in ipairs(inputs) do ins[i] = { name = a.name, numblocks = a.numblocks } end
  return { name = name, kind = "blockwise", numblocks = numblocks_of(out_chunks), inputs = ins, block = block }
end

-- The graph of x: every layer's tasks merged into one table.
local function materialize(x)
  local dsk = {}
  for _, layer in pairs(x.layers) do
    for k, v in pairs(M.layer_tasks(layer)) do dsk[k] = v end
  end
  return dsk
end
M.materialize = materialize

-- An extent as printed: unknown ones (NaN) as nan, as Dask prints them.
local function extent_str(v) return v ~= v and "nan" or tostring(v) end

-- The extents of a list as strings.
local function extents(list, i, j)
  local out = {}
  for k = i or 1, j or #list do out[#out + 1] = extent_str(list[k]) end
  return out
end

-- Python's tuple form: (15,), (4, 6), ().
local function tuple(list)
  return "(" .. concat(extents(list), ", ") .. (#list == 1 and ",)" or ")")
end
M.tuple = tuple

-- The block sizes of each axis, as the talk prints them, ((5, 5, 5)); an axis of
-- more than REPR_BLOCKS blocks shows its first three and its last, ((7, 7, 7, ..., 5)),
-- so that a long array prints in a short line (x.chunks has them all).
local REPR_BLOCKS = 8
local function chunks_repr(chunks)
  local parts = {}
  for d, c in ipairs(chunks) do
    local n = #c
    parts[d] = "(" .. (n <= REPR_BLOCKS and concat(extents(c), ", ")
      or fmt("%s, %s, %s, ..., %s", extent_str(c[1]), extent_str(c[2]), extent_str(c[3]), extent_str(c[n]))) .. ")"
  end
  return "(" .. concat(parts, ", ") .. ")"
end

Array_mt.__tostring = function(x)
  return fmt("lask.array<%s, shape=%s, chunks=%s, dtype=%s>", x.name, tuple(x.shape), chunks_repr(x.chunks), x.dtype)
end

-- Fields live in a table under a private key, so that no assignment can reach them.
-- String keys are fields, methods and properties (M.properties: computed fields
-- such as x.T); every other key is indexing, x[i] or x[{...}] (M.getitem, which
-- lask.array.indexing provides), and assigning to one is x[k] = v (M.setitem).
M.properties = {}

Array_mt.__index = function(x, k)
  local fields = rawget(x, FIELDS)
  local v = fields[k]
  if v ~= nil then return v end
  v = Array[k]
  if v ~= nil then return v end
  if k == "dask" then
    v = materialize(x)
    fields.dask = v
  elseif type(k) ~= "string" then
    return M.getitem(x, k)
  elseif M.properties[k] then
    return M.properties[k](x)
  end
  return v
end

Array_mt.__newindex = function(x, k, v)
  if type(k) ~= "string" then return M.setitem(x, k, v) end
  error("lask.array: the fields of an array cannot be set (cannot set '" .. tostring(k) .. "')", 2)
end

-- x takes y's metadata and graph: x's name, chunks and graph become y's. How
-- x[k] = v and x:compute_chunk_sizes() change x in place, as Dask's do.
function M.become(x, y) rawset(x, FIELDS, rawget(y, FIELDS)) end

-- True when every block size of x is known (none is NaN).
function M.known_chunks(x)
  for _, c in ipairs(x.chunks) do
    for _, s in ipairs(c) do if s ~= s then return false end end
  end
  return true
end

-- Raises (at level) unless every block size of x is known; what names the operation.
function M.need_known(x, what, level)
  if not M.known_chunks(x) then
    error(fmt("lask.array: %s: the array has unknown chunk sizes (NaN, from a boolean mask, nonzero, unique, ...); "
      .. "call x:compute_chunk_sizes() first", what), (level or 1) + 1)
  end
end

-- The names x.k and x:k() reach (fields, methods, dask), for the REPL's Tab
-- (lask.repl.complete).
Array_mt.__lazy = function(x)
  local names = { dask = true }
  for k in pairs(rawget(x, FIELDS)) do names[k] = true end
  for k in pairs(Array) do names[k] = true end
  return names
end

Array_mt.__len = function(x)
  if x.ndim == 0 then error("lask.array: len() of a 0-d array", 2) end
  local n = x.shape[1]
  if n ~= n then error("lask.array: #x of an array of unknown size (NaN): call x:compute_chunk_sizes() first", 2) end
  return n
end

-- Axis numbers (1-based, negative from the end) as a sorted list of 0-based axes;
-- nil means all, an empty list none (numpy's axis=()). Raises for axes out of range
-- or repeated.
function M.normalize_axes(axis, ndim, what, level)
  level = (level or 1) + 1
  local list = {}
  if axis == nil then
    for d = 0, ndim - 1 do list[#list + 1] = d end
    return list
  end
  if type(axis) ~= "table" then axis = { axis } end
  local seen = {}
  for _, a in ipairs(axis) do
    if mtype(a) ~= "integer" then
      error(fmt("lask.array: %s: axis must be an integer, got %s", what, tostring(a)), level)
    end
    local a0 = a > 0 and a - 1 or ndim + a
    if a == 0 or a0 < 0 or a0 >= ndim then
      error(fmt("lask.array: %s: axis %d is out of range for a %d-d array (axes count from 1)", what, a, ndim), level)
    end
    if seen[a0] then error(fmt("lask.array: %s: axis %d is repeated", what, a), level) end
    seen[a0] = true
    list[#list + 1] = a0
  end
  table.sort(list)
  return list
end

return M
