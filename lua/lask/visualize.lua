-- lask.visualize: a graph as a picture, through Graphviz, drawn the way Dask's
-- dask.dot draws it: each task is a function node (a circle, labelled with its
-- function) with an edge to its data node (a box, labelled with the key); each
-- dependency is an edge from the dependency's box to the task's circle; an alias
-- is an edge from the key it names to its box. Bottom to top by default.
--
--   lask.visualize(dsk_or_collection, "graph.svg" | "graph.png" | "graph.dot", opts)
--   lask.visualize(dsk)  -> the DOT source, as a string
--
-- opts: rankdir ("BT"), color ("order": nodes filled by lask.order's priority on
-- the plasma colour map, circles labelled with it, as Dask's color="order"), and
-- graph_attr, node_attr, edge_attr (tables of Graphviz attributes).
-- Formats other than .dot need Graphviz's `dot` program.
-- Also takes a profiler or a list of profilers: then it is lask.diagnostics.visualize.
local lask = require "lask"
local funcname = require "lask.funcname"

local M = {}

M.LARGE = 5000 -- keys past which Graphviz gets slow: warned about on stderr

local concat = table.concat

local function quote(s)
  return '"' .. tostring(s):gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

local function attrs(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = k .. "=" .. quote(t[k]) end
  return "[" .. concat(out, ", ") .. "]"
end

-- Dask's label(): long hex hashes and uuids in names are shortened to "#".
local function short(s)
  return (s:gsub("%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x", "#")
    :gsub(("[0-9a-f]"):rep(32), "#"))
end

-- Boxes show the whole key, as the talk's pictures do: x, ('x', 0).
local function box_label(key) return short(tostring(key)) end

local function has_subtasks(v, depth)
  if depth > 64 then return false end
  if lask.istask(v) then return true end
  if type(v) == "table" and getmetatable(v) == nil then
    for _, x in ipairs(v) do
      if has_subtasks(x, depth + 1) then return true end
    end
  end
  return false
end

-- Dask's task_label: the function's name, "name(...)" when arguments hold tasks.
local function task_label(task, namer)
  for i = 2, #task do
    if has_subtasks(task[i], 0) then return namer(task[1]) .. "(...)" end
  end
  return namer(task[1])
end

-- matplotlib's plasma colour map, sampled at five points and interpolated.
local PLASMA = { { 13, 8, 135 }, { 126, 3, 168 }, { 204, 71, 120 }, { 248, 149, 64 }, { 240, 249, 33 } }

local function plasma(x)
  x = math.max(0, math.min(1, x)) * (#PLASMA - 1)
  local i = math.min(math.floor(x), #PLASMA - 2)
  local f, a, b = x - i, PLASMA[i + 1], PLASMA[i + 2]
  local c = {}
  for j = 1, 3 do c[j] = math.floor(a[j] + (b[j] - a[j]) * f + 0.5) end
  local light = 0.299 * c[1] + 0.587 * c[2] + 0.114 * c[3] > 140
  return ("#%02x%02x%02x"):format(c[1], c[2], c[3]), light and "black" or "white"
end

local function is_key_of(dsk, v)
  local t = type(v)
  return (t == "string" or lask.iskey(v)) and dsk[v] ~= nil
end

-- The graph of a collection: a plain table is a graph; anything else must have .dask.
local function graph_of(x)
  if type(x) == "table" and getmetatable(x) == nil then return x end
  local ok, dsk = pcall(function() return x.dask end)
  if ok and type(dsk) == "table" then return dsk end
  error("visualize: expected a graph (a table) or a collection with a .dask graph, got " .. type(x), 3)
end

-- to_dot(dsk, opts): the DOT source of the graph.
function M.to_dot(dsk, opts)
  opts = opts or {}
  local keys = lask.sorted_keys(dsk)
  if #keys > M.LARGE then
    io.stderr:write(("lask.visualize: warning: the graph has %d keys (%d with their functions); " ..
      "Graphviz may take a long time to lay it out\n"):format(#keys, 2 * #keys))
  end
  local id = {}
  for i, k in ipairs(keys) do id[k] = "n" .. i end
  local order, maxorder
  if opts.color == "order" then
    order = lask.order(dsk)
    maxorder = 1
    for _, o in pairs(order) do maxorder = math.max(maxorder, o) end
  elseif opts.color ~= nil then
    error("visualize: unknown color " .. tostring(opts.color) .. " (known: \"order\")", 3)
  end
  local namer = funcname.namer()
  local graph_attr = { rankdir = opts.rankdir or "BT" }
  for k, v in pairs(opts.graph_attr or {}) do graph_attr[k] = v end
  local node_attr = { fontname = "helvetica" }
  for k, v in pairs(opts.node_attr or {}) do node_attr[k] = v end
  local out = { "digraph {", "  graph " .. attrs(graph_attr), "  node " .. attrs(node_attr) }
  if opts.edge_attr then out[#out + 1] = "  edge " .. attrs(opts.edge_attr) end
  local function coloured(a, k)
    if order and order[k] then
      local fill, font = plasma(order[k] / maxorder)
      a.color, a.fillcolor, a.style, a.fontcolor = fill, fill, "filled", font
      a.tooltip = ("order %d"):format(order[k])
    end
    return a
  end
  for i, k in ipairs(keys) do
    local v = dsk[k]
    if lask.istask(v) then
      local f = "f" .. i
      local label = order and order[k] and tostring(order[k]) or task_label(v, namer)
      out[#out + 1] = ("  %s %s"):format(f, attrs(coloured({ label = label, shape = "circle" }, k)))
      out[#out + 1] = ("  %s -> %s"):format(f, id[k])
      local deps = {}
      for dep in pairs(lask.get_dependencies(dsk, k)) do deps[#deps + 1] = id[dep] end
      table.sort(deps)
      for _, d in ipairs(deps) do out[#out + 1] = ("  %s -> %s"):format(d, f) end
    elseif is_key_of(dsk, v) then
      out[#out + 1] = ("  %s -> %s"):format(id[v], id[k])
    end
    out[#out + 1] = ("  %s %s"):format(id[k], attrs(coloured({ label = box_label(k), shape = "box" }, k)))
  end
  out[#out + 1] = "}\n"
  return concat(out, "\n")
end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function have_dot() return os.execute("command -v dot >/dev/null 2>&1") == true end

local function write(path, text)
  local f, err = io.open(path, "wb")
  if not f then error("visualize: " .. err, 4) end
  f:write(text)
  f:close()
end

-- Runs dot to turn the DOT source into filename in format fmt.
local function render(source, filename, fmt)
  if not have_dot() then
    error(("visualize: writing %s needs Graphviz's `dot` program, which is not on PATH " ..
      "(install graphviz, e.g. apt-get install graphviz; or write a .dot file)"):format(filename), 4)
  end
  local src, log = os.tmpname(), os.tmpname()
  write(src, source)
  local ok = os.execute(("dot -T%s -o %s %s 2>%s"):format(fmt, shell_quote(filename), shell_quote(src),
    shell_quote(log)))
  local f = io.open(log, "rb")
  local msg = f and f:read("a") or ""
  if f then f:close() end
  os.remove(src)
  os.remove(log)
  if not ok then error(("visualize: dot failed writing %s: %s"):format(filename, msg), 4) end
end

-- visualize(x, filename, opts): see the top of this file. Returns filename, or the
-- DOT source when no filename is given.
function M.visualize(x, filename, opts)
  local diag = require "lask.diagnostics"
  if diag.is_profiler(x) or (type(x) == "table" and getmetatable(x) == nil and diag.is_profiler(x[1])) then
    return diag.visualize(x, filename, opts)
  end
  local source = M.to_dot(graph_of(x), opts)
  if filename == nil then return source end
  if type(filename) ~= "string" then error("visualize: filename must be a string", 2) end
  local fmt = filename:match("%.([%w]+)$")
  if not fmt then error("visualize: " .. filename .. " has no extension to tell the format (.svg, .png, .dot)", 2) end
  fmt = fmt:lower()
  if fmt == "dot" or fmt == "gv" then
    write(filename, source)
  else
    render(source, filename, fmt == "jpg" and "jpeg" or fmt)
  end
  return filename
end

return M
