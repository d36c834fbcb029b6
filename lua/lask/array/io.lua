--- Functions of lask.array: .npy files (`from_npy`, `store`).
-- x:store(path) writes an array block by block,
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

--- Writes an array to the .npy file path, block by block; also `x:store(path)`.
-- The whole array is never held in memory. On failure it raises and leaves nothing at path.
-- @param x lask.array
-- @param path string
-- @param[opt] opts table: as `Array:compute`'s
-- @return true
-- @raise when the file cannot be written
-- @usage local path = os.tmpname()
-- assert(da.ones({3, 3}, {chunks = 2}):store(path))
-- assert(da.load(path):get(3, 3) == 1)
-- os.remove(path)
function IO.store(x, path, opts)
  if type(path) ~= "string" then error("lask.array: store: the path must be a string", 2) end
  opts = opts or {}
  if lcore.ndarray then lcore.ndarray.npy_clean_stale(path) end -- what killed stores of path left
  local token = core.tokenize("store", x, path)
  local tmp = fmt("%s.tmp-%s", path, token)
  local create = { name = "npy-create-" .. token, kind = "generic", deps = {} }
  local ckey = lcore.key(create.name)
  local shape, dtype = core.plain(x.shape), x.dtype
  create.dsk = { [ckey] = { core.kernel("npy_create"), tmp, shape, dtype } }
  local offsets = {}
  for d = 1, x.ndim do offsets[d] = core.offsets(x.chunks[d]) end
  local kstore = core.kernel("store_block")
  local sname = "store-" .. token
  local store = core.blockwise_layer(sname, x.chunks, { x }, function(idx, args)
    local off = {}
    for d = 1, #idx do off[d] = offsets[d][idx[d] + 1] end
    return { kstore, tmp, args[1], off, shape, ckey }
  end)
  store.deps = { x.name, create.name }
  local layers = {}
  for n, l in pairs(x.layers) do layers[n] = l end
  layers[create.name], layers[sname] = create, store
  local CP = require "lask.array.compute"
  local dsk = CP.layers_graph(layers, { [sname] = true }, opts)
  local ok, err = pcall(CP.run, dsk, core.key_grid(sname, x.numblocks), opts)
  if not ok then
    os.remove(tmp)
    error(err, 0)
  end
  local renamed, why = lcore.ndarray.npy_finish(tmp, path) -- readable only now, then renamed
  if not renamed then error("lask.array: " .. tostring(why), 2) end
  return true
end

return IO
