--- Arrays as a directory of .npy files, one per block along an axis (Dask's `to_npy_stack`/`from_npy_stack`).
-- The directory holds `0.npy`, `1.npy`, ... (numbered from 0, as Dask's) and a
-- text file `info` saying the axis, dtype, shape and block sizes (Dask's is a
-- pickle, so stacks are not shared with Dask). Each file is written by its own task
-- (atomically: a failed write leaves no file) and read back as a memory map.
-- @module lask.array.npy_stack
local core = require "lask.array.core"
local lcore = require "lask.core"

local fmt, concat = string.format, table.concat

local S = {}

local MAGIC = "lask npy stack 1"

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Opens dir/info for writing, making dir (and its parents) first if needed.
local function open_info(dir, level)
  local f = io.open(dir .. "/info", "w")
  if not f then
    os.execute("mkdir -p " .. shell_quote(dir) .. " 2>/dev/null")
    local why
    f, why = io.open(dir .. "/info", "w")
    if not f then error("lask.array: to_npy_stack: cannot write into " .. dir .. ": " .. tostring(why), level + 1) end
  end
  return f
end

--- Writes an array as a directory of .npy files, one per block along an axis.
-- The array is rechunked first so that its blocks are whole along the other axes.
-- @param dir string: the directory (made if missing; files in it are replaced)
-- @param x lask.array: the array
-- @param[opt] opts table: `axis` (1-based, 1 by default), `compute` (false: give a
-- delayed value that writes the files when computed), and compute's options
-- @return true, or the delayed value with compute = false
-- @raise when dir cannot be written, axis is out of range, or a task fails
-- @usage local dir = os.tmpname() .. ".d"
-- da.to_npy_stack(dir, da.arange(10, { chunks = 4 }))
-- local y = da.from_npy_stack(dir)
-- assert(#y.chunks[1] == 3 and y:sum():compute():item() == 45)
-- os.execute("rm -r " .. dir)
function S.to_npy_stack(dir, x, opts)
  opts = opts or {}
  if type(dir) ~= "string" then error("lask.array: to_npy_stack: the directory must be a string", 2) end
  if not core.is_array(x) then error("lask.array: to_npy_stack: expected an array, got " .. type(x), 2) end
  if type(opts) ~= "table" then error("lask.array: to_npy_stack: options must be a table", 2) end
  if x.ndim == 0 then error("lask.array: to_npy_stack: a 0-d array has no axis to split along", 2) end
  local copts = {}
  for k, v in pairs(opts) do
    if k ~= "axis" and k ~= "compute" then copts[k] = v end
  end
  local CP = require "lask.array.compute"
  CP.check_opts(copts, 2)
  local axis = core.normalize_axes(opts.axis or 1, x.ndim, "to_npy_stack", 2)[1] + 1
  local want = {}
  for d = 1, x.ndim do want[d] = d == axis and core.plain(x.chunks[d]) or -1 end
  x = require("lask.array.rechunk").rechunk(x, want)
  local f = open_info(dir, 2)
  f:write(MAGIC, "\n", "axis ", axis, "\n", "dtype ", x.dtype, "\n", "shape ", concat(core.plain(x.shape), " "), "\n",
    "chunks ", concat(core.plain(x.chunks[axis]), " "), "\n")
  f:close()
  local token = core.tokenize("to_npy_stack", x, dir)
  local name = "npy-stack-" .. token
  local ksave = core.kernel("npy_save")
  local layer = core.blockwise_layer(name, x.chunks, { x }, function(idx, args)
    return { ksave, fmt("%s/%d.npy", dir, idx[axis]), args[1] }
  end)
  local layers = {}
  for n, l in pairs(x.layers) do layers[n] = l end
  layers[name] = layer
  layer.deps = { x.name }
  local keys = {}
  core.each_block(x.numblocks, function(idx) keys[#keys + 1] = core.block_key(name, idx) end)
  local D = require "lask.delayed"
  local d = D.from_layers("npy-stack-done-" .. token, layers, { [name] = true }, nil, { core.kernel("item"), keys, 0 })
  if opts.compute == false then return d end
  D.compute_values({ d }, 1, copts)
  return true
end

-- The fields of dir/info, checked.
local function read_info(dir, level)
  local f, why = io.open(dir .. "/info", "r")
  if not f then error("lask.array: from_npy_stack: " .. tostring(why), level + 1) end
  local text = f:read("a")
  f:close()
  local lines = {}
  for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local info = {}
  for i = 2, #lines do
    local k, v = lines[i]:match("^(%a+) ?(.*)$")
    if k then info[k] = v end
  end
  local function ints(s)
    local out = {}
    for w in (s or ""):gmatch("%S+") do out[#out + 1] = math.tointeger(tonumber(w)) end
    return out
  end
  local shape, chunks, axis = ints(info.shape), ints(info.chunks), math.tointeger(tonumber(info.axis or ""))
  if lines[1] ~= MAGIC or not axis or not shape[axis] or #chunks == 0 or not info.dtype then
    error("lask.array: from_npy_stack: " .. dir .. "/info is not a stack's info file (written by to_npy_stack)",
      level + 1)
  end
  return axis, core.dtype(info.dtype, level + 1), shape, chunks
end

--- An array read from a directory that `to_npy_stack` wrote, a block per file.
-- Each file's header is checked against the directory's info file at once; each
-- block is read as a memory map of its file when computed.
-- @param dir string: the directory
-- @return lask.array: the array, chunked as the files
-- @raise when the info file or a block's file is missing or does not match
function S.from_npy_stack(dir)
  if type(dir) ~= "string" then error("lask.array: from_npy_stack: the directory must be a string", 2) end
  local axis, dtype, shape, sizes = read_info(dir, 2)
  local nd = lcore.ndarray
  local chunks = {}
  for d = 1, #shape do chunks[d] = d == axis and sizes or { shape[d] } end
  local headers = {}
  for i, n in ipairs(sizes) do
    local path = fmt("%s/%d.npy", dir, i - 1)
    local h, why = nd.npy_header(path)
    if not h then error("lask.array: from_npy_stack: " .. tostring(why), 2) end
    local want = core.plain(shape)
    want[axis] = n
    local same = #h.shape == #want and h.dtype == dtype
    for d = 1, #want do same = same and h.shape[d] == want[d] end
    if not same then
      error(fmt("lask.array: from_npy_stack: %s holds %s of shape %s, but the info file says %s of shape %s", path,
        h.dtype, core.tuple(h.shape), dtype, core.tuple(want)), 2)
    end
    headers[i] = h.size
  end
  local k = core.kernel("from_npy")
  local name = "from-npy-stack-" .. core.tokenize("from_npy_stack", dir, shape, dtype, sizes, headers)
  local layer = core.blockwise_layer(name, chunks, {}, function(idx)
    return { k, fmt("%s/%d.npy", dir, idx[axis]) }
  end)
  return core.new(layer, {}, chunks, dtype)
end

return S
