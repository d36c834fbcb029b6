--- Functions of lask.array: .npy files (`from_npy`, `store`).
-- x:store(path) writes an array block by block (a new file, or regions of an
-- existing one in place; at once, or as a delayed value with compute = false),
-- from_npy(path) reads one lazily, block by block. The header is read by the C
-- parser the blocks are read with (engine/array/npy.c, through
-- lask.core.ndarray.npy_header), so an array that can be made can be computed.
--
-- store never holds the whole array: a first task creates the file at its full
-- size (npy_create: the header, then a sparse hole), and one task per block writes
-- that block at its place (store_block) as soon as it is computed; the engine
-- frees each block once written. The file is made under a temporary name in the
-- same directory and renamed over path only when every block is written, so a
-- failed store leaves no file behind, partial or otherwise. The file reads as
-- "an unfinished file" until every block is written (its version byte is set
-- last, engine/array/npy.h), so even a store killed midway leaves nothing that
-- loads; the next store of the same path removes such leftovers
-- (path.tmp-<token>).
-- @module lask.array.io
-- @alias IO
local core = require "lask.array.core"
local lcore = require "lask.core"

local fmt = string.format

local IO = {}

--- A lazy array over the .npy file at path, read block by block (each
-- block reads only its bytes; read, not mapped, so that a file truncated by another
-- process gives an error, not SIGBUS). opts.chunks as everywhere (auto by default).
-- @param path string
-- @param[opt] opts table: `chunks`
-- @return lask.array
-- @raise when the file cannot be read, is not a regular file, or is not a .npy file
-- @usage local path = os.tmpname()
-- da.arange(10):store(path)
-- local x = da.from_npy(path, {chunks = 4})
-- assert(x.numblocks[1] == 3 and x:sum():compute():item() == 45)
-- os.remove(path)
function IO.from_npy(path, opts)
  opts = opts or {}
  if type(path) ~= "string" then error("lask.array: from_npy: the path must be a string", 2) end
  local nd = lcore.ndarray
  if not nd then error("lask.array: from_npy: lask.ndarray is not available in this build", 2) end
  local h, why = nd.npy_header(path) -- engine/array/npy.c's parser, the one the blocks are read with
  if not h then error("lask.array: from_npy: " .. why, 2) end
  local chunks = core.normalize_chunks(opts.chunks, h.shape, h.dtype, 2)
  local k = core.kernel("from_npy")
  local offsets = {}
  for d = 1, #h.shape do offsets[d] = core.offsets(chunks[d]) end
  local name = "from-npy-" .. core.tokenize("from_npy", path, h.shape, h.dtype, h.size, chunks)
  local layer = core.blockwise_layer(name, chunks, {}, function(idx)
    if #idx == 0 then return { k, path } end -- 0-d: the whole (an empty table would be a literal)
    local off, shape = {}, {}
    for d = 1, #idx do
      off[d] = offsets[d][idx[d] + 1]
      shape[d] = chunks[d][idx[d] + 1]
    end
    return { k, path, off, shape }
  end)
  return core.new(layer, {}, chunks, h.dtype)
end

-- Writing

-- The flat list of the keys of every block of the array or layer called name.
local function flat_keys(name, numblocks)
  local keys = {}
  core.each_block(numblocks, function(idx) keys[#keys + 1] = core.block_key(name, idx) end)
  return keys
end

-- Completes the store of tmp into path (its blocks written: the third argument).
local function finish_store(tmp, path)
  local ok, why = require("lask.core").ndarray.npy_finish(tmp, path)
  if not ok then error("lask.array: " .. tostring(why), 0) end
  return true
end
require("lask.funcname").register(finish_store, "npy_finish")

-- A 1-based inclusive range {first, last} (negative from the end; {} the whole
-- axis) over an extent n, as a 0-based start and a length.
local function region_range(r, n, d, level)
  if type(r) ~= "table" or getmetatable(r) ~= nil then
    error(fmt("lask.array: store: region %d must be a range {first, last} or {} (the whole axis), got %s", d,
      tostring(r)), level + 1)
  end
  if r[1] == nil and r[2] == nil then return 0, n end
  local first, last = r[1] or 1, r[2] or -1
  if math.type(first) ~= "integer" or math.type(last) ~= "integer" or r[3] ~= nil and r[3] ~= 1 then
    error(fmt("lask.array: store: region %d must be {first, last} with integer bounds and no step", d), level + 1)
  end
  if first < 0 then first = n + 1 + first end
  if last < 0 then last = n + 1 + last end
  if first < 1 or last > n or last < first - 1 then
    error(fmt("lask.array: store: region %d {%d, %d} is out of range for an axis of extent %d (1-based, inclusive)",
      d, r[1] or 1, r[2] or -1, n), level + 1)
  end
  return first - 1, last - first + 1
end

-- The layers of x writing its blocks into path, and the final task: a new file
-- (made under a temporary name, renamed over path when complete), or, with regions,
-- the existing file written in place at the regions.
local function store_parts(x, path, regions, mmap, level)
  if not core.is_array(x) then error("lask.array: store: expected an array, got " .. type(x), level + 1) end
  if type(path) ~= "string" then error("lask.array: store: the path must be a string", level + 1) end
  local token = core.tokenize("store", x, path, regions, mmap == true)
  local kstore = core.kernel("store_block")
  local offsets = {}
  for d = 1, x.ndim do offsets[d] = core.offsets(x.chunks[d]) end
  local sname = "store-" .. token
  local layers = {}
  for n, l in pairs(x.layers) do layers[n] = l end
  local target, shape, start, ckey, tmp, cleanup = path, core.plain(x.shape), {}, nil, nil, nil
  if regions == nil then
    if lcore.ndarray then lcore.ndarray.npy_clean_stale(path) end -- what killed stores of path left
    tmp = fmt("%s.tmp-%s", path, token)
    target = tmp
    local create = { name = "npy-create-" .. token, kind = "generic", deps = {} }
    ckey = lcore.key(create.name)
    create.dsk = { [ckey] = { core.kernel("npy_create"), tmp, shape, x.dtype } }
    layers[create.name] = create
    for d = 1, x.ndim do start[d] = 0 end
    cleanup = function() os.remove(tmp) end
  else
    if type(regions) ~= "table" or getmetatable(regions) ~= nil then
      error("lask.array: store: regions must be a list of ranges, one per leading axis", level + 1)
    end
    local h, why = lcore.ndarray.npy_header(path)
    if not h then
      error("lask.array: store: regions write into an existing .npy file: " .. tostring(why), level + 1)
    end
    if #h.shape ~= x.ndim or #regions > x.ndim then
      error(fmt("lask.array: store: a %d-d array (with %d regions) cannot be written into %s, of shape %s",
        x.ndim, #regions, path, core.tuple(h.shape)), level + 1)
    end
    for d = 1, x.ndim do
      local n
      start[d], n = region_range(regions[d] or {}, h.shape[d], d, level + 1)
      if n ~= x.shape[d] then
        error(fmt("lask.array: store: region %d of %s has %d elements, but the array's axis %d has %d", d, path, n, d,
          x.shape[d]), level + 1)
      end
    end
    shape = h.shape
  end
  local block = function(idx, args, off) return { kstore, target, args[1], off, shape, ckey } end
  if mmap then -- each block copied into a writable shared mapping of the file
    if regions == nil then error("lask.array: store: mmap = true writes into an existing file: give regions", level + 1) end
    local map, why = lcore.ndarray.load(path, { mmap = "r+" })
    if not map then error("lask.array: store: " .. tostring(why), level + 1) end
    local kinto, kid = core.kernel("into"), lcore.kernels.identity
    block = function(_, args, off) return { kinto, map, off, kid, args[1] } end
  end
  local store = core.blockwise_layer(sname, x.chunks, { x }, function(idx, args)
    local off = {}
    for d = 1, #idx do off[d] = start[d] + offsets[d][idx[d] + 1] end
    return block(idx, args, off)
  end)
  store.deps = { x.name, ckey and ("npy-create-" .. token) or nil }
  layers[sname] = store
  local keys = flat_keys(sname, x.numblocks)
  local task
  if tmp then
    task = { finish_store, lcore.quote(tmp), lcore.quote(path), keys }
  else
    table.insert(keys, 1, true)
    task = { core.kernel("item"), keys, 0 } -- true, once every block is written
  end
  local D = require "lask.delayed"
  return D.from_layers("stored-" .. token, layers, { [sname] = true }, cleanup, task)
end

-- The options of store besides compute's.
local STORE_OPTS = { regions = true, compute = true, mmap = true }

--- Writes arrays to .npy files, block by block, without holding any array whole.
-- `x:store(path)` writes a new file (made under a temporary name and renamed over
-- path when every block is written, so a failed store leaves nothing at path).
-- With `regions` it writes into the existing .npy file at path, in place, each
-- block at its place (converted to the file's dtype; the rest of the file is left
-- as it was). `da.store({x, y}, {p, q}, opts)` stores several arrays in one pass
-- (with one region for all, or a list of regions, one per array). With `compute = false` nothing runs: the result
-- is a delayed value that stores when computed (true), alone or with others
-- through `lask.compute`.
-- @param x lask.array|table: the array (or a list of arrays)
-- @param path string|table: the file (or a list of files)
-- @param[opt] opts table: `regions` (a list of ranges, one per leading axis:
-- `{first, last}` 1-based inclusive, negative from the end, `{}` the whole axis),
-- `mmap` (true: with regions, write through a writable shared memory map of the
-- file, numpy's mmap_mode "r+", rather than by positioned writes),
-- `compute` (false: give a delayed value), and compute's options
-- @return true, or the delayed store with compute = false
-- @raise for a path that is not a string, regions that do not fit the file or
-- the array, or the failing task's error (the store then leaves no new file)
-- @usage local p = os.tmpname() .. ".npy"
-- da.arange(4, { chunks = 2 }):store(p)
-- local s = da.full({ 2 }, 9, { dtype = "int64" }):store(p, { regions = { { 2, 3 } }, compute = false })
-- lask.compute(s)
-- local a = da.load(p)
-- assert(a:get(1) == 0 and a:get(2) == 9 and a:get(3) == 9 and a:get(4) == 3)
-- os.remove(p)
function IO.store(x, path, opts)
  opts = opts or {}
  if type(opts) ~= "table" or core.is_array(opts) then error("lask.array: store: options must be a table", 2) end
  local copts = {}
  for k, v in pairs(opts) do
    if not STORE_OPTS[k] then copts[k] = v end
  end
  local CP = require "lask.array.compute"
  CP.check_opts(copts, 2)
  local stores
  if core.is_array(x) then
    stores = { store_parts(x, path, opts.regions, opts.mmap, 2) }
  else
    if type(x) ~= "table" or type(path) ~= "table" or #x ~= #path then
      error("lask.array: store: give an array and a path, or a list of arrays and a list of paths of the same length",
        2)
    end
    local regions = opts.regions
    -- one region for every array (a list of ranges), or a region per array
    local per_array = type(regions) == "table" and type(regions[1]) == "table" and type(regions[1][1]) == "table"
    if per_array and #regions ~= #x then
      error(fmt("lask.array: store: %d regions for %d arrays (give one region, or one per array)", #regions, #x), 2)
    end
    stores = {}
    for i = 1, #x do stores[i] = store_parts(x[i], path[i], per_array and regions[i] or regions, opts.mmap, 2) end
  end
  local D = require "lask.delayed"
  if opts.compute == false then
    if core.is_array(x) then return stores[1] end
    return D.delayed(stores)
  end
  D.compute_values(stores, #stores, copts)
  return true
end

return IO
