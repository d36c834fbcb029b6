-- lask.array.io: .npy files — x:store(path) writes an array block by block,
-- from_npy(path) reads one lazily, block by block.
--
-- store never holds the whole array: a first task creates the file at its full
-- size (npy_create: the header, then a sparse hole), and one task per block writes
-- that block at its place (store_block) as soon as it is computed; the engine
-- frees each block once written. The file is made under a temporary name in the
-- same directory and renamed over path only when every block is written, so a
-- failed store leaves no file behind, partial or otherwise.
local core = require "lask.array.core"
local lcore = require "lask.core"

local fmt = string.format

local IO = {}

--------------------------------------------------------------------------------
-- Reading a .npy header (format 1.0, 2.0, 3.0)

local DESCR = { ["<f8"] = "float64", ["<f4"] = "float32", ["<i8"] = "int64", ["|b1"] = "bool", ["=f8"] = "float64",
  ["=f4"] = "float32", ["=i8"] = "int64", ["?"] = "bool", ["|?"] = "bool" }

-- The header of the .npy file at path: {dtype=, shape=, fortran_order=}; or nil
-- and a message.
function IO.read_header(path)
  local f, why = io.open(path, "rb")
  if not f then return nil, why end
  local head = f:read(12) or ""
  local size = f:seek("end")
  f:close()
  if #head < 10 or head:sub(1, 6) ~= "\147NUMPY" then return nil, path .. ": not a .npy file" end
  local major = head:byte(7)
  local hlen, start
  if major == 1 then
    hlen, start = string.unpack("<I2", head, 9), 10
  elseif major == 2 or major == 3 then
    if #head < 12 then return nil, path .. ": truncated header" end
    hlen, start = string.unpack("<I4", head, 9), 12
  else
    return nil, fmt("%s: unsupported .npy format version %d", path, major)
  end
  f = assert(io.open(path, "rb"))
  f:seek("set", start)
  local text = f:read(hlen) or ""
  f:close()
  local descr = text:match("'descr'%s*:%s*'([^']*)'")
  local order = text:match("'fortran_order'%s*:%s*(%a+)")
  local shape_text = text:match("'shape'%s*:%s*(%b())")
  if not descr or not order or not shape_text then return nil, path .. ": malformed .npy header" end
  local dtype = DESCR[descr]
  if not dtype then return nil, fmt("%s: unsupported dtype '%s'", path, descr) end
  local shape = {}
  for n in shape_text:gmatch("%d+") do shape[#shape + 1] = math.tointeger(tonumber(n)) end
  return { dtype = dtype, shape = shape, fortran_order = order == "True", size = size, data_offset = start + hlen }
end

-- from_npy(path [, opts]): the array stored in path, read block by block (each
-- block memory-maps only its bytes). opts.chunks as everywhere (auto by default).
function IO.from_npy(path, opts)
  opts = opts or {}
  if type(path) ~= "string" then error("lask.array: from_npy: the path must be a string", 2) end
  local h, why = IO.read_header(path)
  if not h then error("lask.array: from_npy: " .. why, 2) end
  local chunks = core.normalize_chunks(opts.chunks, h.shape, h.dtype, 2)
  local k = core.kernel("from_npy")
  local offsets = {}
  for d = 1, #h.shape do offsets[d] = core.offsets(chunks[d]) end
  local name = "from-npy-" .. core.tokenize("from_npy", path, h.shape, h.dtype, h.size, chunks)
  local layer = core.blockwise_layer(name, chunks, {}, function(idx)
    local off, shape = {}, {}
    for d = 1, #idx do
      off[d] = offsets[d][idx[d] + 1]
      shape[d] = chunks[d][idx[d] + 1]
    end
    return { k, path, off, shape }
  end)
  return core.new(layer, {}, chunks, h.dtype)
end

--------------------------------------------------------------------------------
-- Writing

-- x:store(path [, opts]): writes x to the .npy file path, block by block; opts as
-- compute's. Returns true. On failure raises, leaving nothing at path.
function IO.store(x, path, opts)
  if type(path) ~= "string" then error("lask.array: store: the path must be a string", 2) end
  opts = opts or {}
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
  local renamed, why = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    error("lask.array: store: " .. tostring(why), 2)
  end
  return true
end

return IO
