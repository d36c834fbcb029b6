-- lask.optimization: Dask's graph optimisations (dask/optimization.py) for lask
-- graphs: cull, fuse, inline, inline_functions. Each returns a new graph and its
-- dependencies (key -> set; cull's are key -> list, as Dask's, so fuse can count
-- repeated uses); none mutates its input. Classification of keys, tasks and lists
-- follows lask.graph.
local core = require "lask.core"
local graph = require "lask.graph"

local istask, islist, refers = graph.istask, graph.islist, graph.refers
local each_dep, key_list, subs_map = graph.each_dep, graph.key_list, graph.subs_map
local iskey_value, isquote = core.iskey, core.isquote
local pairs, next, type, concat, sort = pairs, next, type, table.concat, table.sort

local optimization = {}

local function set_of(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

local function union_into(dst, src)
  for k in pairs(src) do dst[k] = true end
  return dst
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- Dependencies as key -> set for every key of dsk: copied from the caller's (sets
-- or lists, so later edits never reach the caller's tables), computed where absent.
local function dependency_sets(dsk, dependencies)
  local out = {}
  for k, d in pairs(dependencies or {}) do
    local s = {}
    for x in each_dep(d) do s[x] = true end
    out[k] = s
  end
  for k in pairs(dsk) do
    if out[k] == nil then out[k] = graph.get_dependencies(dsk, k) end
  end
  return out
end

---------------------------------------------------------------------------------
-- cull

-- cull(dsk, keys): only the tasks needed for keys (one key or a nested list), and
-- key -> list of dependencies (duplicates kept) for them. Breadth-first with a
-- work list, so the depth of the graph does not matter.
function optimization.cull(dsk, keys)
  local work = key_list(keys)
  if not work then error("cull needs the keys to keep", 2) end
  local seen = {}
  for _, k in ipairs(work) do seen[k] = true end
  local out, dependencies = {}, {}
  local i = 1
  while work[i] ~= nil do
    local k = work[i]
    local v = dsk[k]
    if v == nil then error("key not in graph: " .. graph.describe_key(k), 2) end
    local deps = graph.get_dependencies(dsk, nil, v, true)
    out[k], dependencies[k] = v, deps
    for _, d in ipairs(deps) do
      if not seen[d] then
        seen[d] = true
        work[#work + 1] = d
      end
    end
    i = i + 1
  end
  return out, dependencies
end

---------------------------------------------------------------------------------
-- Key names for fused tasks (dask.utils.key_split, default_fused_keys_renamer)

local function strip(s, chars)
  local set = "[" .. chars:gsub("[%]%^%-%%]", "%%%0") .. "]"
  return (s:gsub("^" .. set .. "+", ""):gsub(set .. "+$", ""))
end

local function split(s, sep)
  local parts = {}
  for part in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do parts[#parts + 1] = part end
  return parts
end

-- Dask's key_split: the readable prefix of a key ('x-1' -> 'x', ('y-abc', 0) -> 'y'),
-- dropping numeric and hex-looking suffixes; 'Other' when there is none.
local function key_split(s)
  if iskey_value(s) then s = s[1] end
  if type(s) ~= "string" or s == "" then return "Other" end
  if s:find("^%a[^-]*$") and not (#s == 32 and s:find("^[a-f0-9]+$")) then
    return s -- the common case: one word, nothing to strip
  end
  local words = split(s, "-")
  local result = words[1]
  if result == "" then return "Other" end
  if not result:sub(1, 1):match("%a") then result = strip(split(result, ",")[1], "_'()\"") end
  for i = 2, #words do
    local w = words[i]
    -- Dask's hex test matches any 8-letter word that starts with a-f
    if w:match("^%a+$") and not (#w == 8 and w:match("^[a-f]")) then
      result = result .. "-" .. w
    else
      break
    end
  end
  if #result == 32 and result:match("^[a-f0-9]+$") then return "data" end
  if result:sub(1, 1) == "<" then
    result = strip(result, "<>"):match("^%s*(%S+)")
    if not result then return "Other" end
    result = result:match("([^.]*)$")
  end
  if result == "" then return "Other" end
  return result
end
optimization.key_split = key_split

-- 4 hex digits of a 64-bit FNV-style hash taken 8 bytes at a time (fused names
-- of long chains run to megabytes). Dask uses Python's salted hash here; we want
-- the same name in every process.
local function short_hash(s)
  local h = 0xcbf29ce484222325
  local full = #s - #s % 8
  for i = 1, full, 8 do h = (h ~ string.unpack("<i8", s, i)) * 0x100000001b3 end
  for i = full + 1, #s do h = (h ~ s:byte(i)) * 0x100000001b3 end
  return ("%016x"):format(h):sub(1, 4)
end

local MAX_FUSED_KEY_LENGTH = 120 - 5 -- room for the hash suffix, as Dask

-- Dask's default_fused_keys_renamer: fused keys (root last) -> the sorted distinct
-- key_split names of the others, then the root's name, joined with '-'. A tuple
-- root gives a tuple key with that name and the root's indices; nil if the root
-- has no string name.
local function default_renamer(keys)
  local root = keys[#keys]
  local root_name = root
  if iskey_value(root) then root_name = #root > 0 and root[1] or nil end
  if type(root_name) ~= "string" then return nil end
  local seen, names = { [key_split(root)] = true }, {}
  for i = 1, #keys - 1 do
    local n = key_split(keys[i])
    if not seen[n] then
      seen[n] = true
      names[#names + 1] = n
    end
  end
  sort(names)
  names[#names + 1] = root_name
  local name = concat(names, "-")
  if #name > MAX_FUSED_KEY_LENGTH then
    name = name:sub(1, MAX_FUSED_KEY_LENGTH) .. "-" .. short_hash(name)
  end
  if type(root) == "string" then return name end
  local parts = { name }
  for i = 2, #root do parts[i] = root[i] end
  return core.key(table.unpack(parts, 1, #root))
end
optimization.default_fused_keys_renamer = default_renamer

---------------------------------------------------------------------------------
-- fuse (Dask's fuse without fuse_subgraphs)
--
-- A task with exactly one dependent is "reducible": it may be substituted into that
-- dependent. Reducible tasks form trees hanging off a non-reducible root; each tree
-- is walked depth first with explicit stacks (children_stack for the walk,
-- info_stack for the summary of each finished subtree), and a subtree is merged
-- into its parent while the width/height limits hold.

-- Dask's defaults (dask.yaml: optimization.fuse), filled in from ave_width.
local function fuse_options(opts)
  local function pick(v, default)
    if v == nil then return default end
    return v
  end
  local o = { ave_width = pick(opts.ave_width, 1), max_height = pick(opts.max_height, math.huge) }
  local w = o.ave_width or 0
  o.max_depth_new_edges = pick(opts.max_depth_new_edges, w * 1.5)
  o.max_width = pick(opts.max_width, 1.5 + w * math.log(w + 1))
  local rename = opts.rename_keys
  if rename == nil or rename == true then
    o.renamer = default_renamer
  elseif rename ~= false then
    if not graph.callable(rename) then error("rename_keys must be a boolean or callable", 3) end
    o.renamer = rename
  end
  return o
end

-- Values Dask lets fuse move into another task: tasks, keys, quotes and scalars
-- (Dask: tuples, numbers, strings); lists and other objects stay where they are.
local function movable(v)
  local t = type(v)
  return t == "number" or t == "string" or t == "boolean"
    or istask(v) or iskey_value(v) or isquote(v)
end

local function trunc(x)
  return x >= 0 and math.floor(x) or math.ceil(x)
end

-- The keys of `set` that are reducible, as a list.
local function reducible_list(set, reducible)
  local out = {}
  for k in pairs(set) do
    if reducible[k] then out[#out + 1] = k end
  end
  return out
end

-- The keys of `set` that are not reducible (a new set), and how many are.
local function irreducible_set(set, reducible)
  local out, n = {}, 0
  for k in pairs(set) do
    if reducible[k] then n = n + 1 else out[k] = true end
  end
  return out, n
end

local function summary(key, task, keys, height, width, num_nodes, fudge, edges)
  return { key = key, task = task, keys = keys, height = height, width = width,
           num_nodes = num_nodes, fudge = fudge, edges = edges }
end

-- State shared by the walk: dsk, rv (the result), deps, rdeps, reducible,
-- fused_trees, options, and the two stacks.
local Fuser = {}
Fuser.__index = Fuser

-- One child below parent: fuse it in when its summary allows.
function Fuser:fuse_single(parent, edges)
  local o, info = self.o, table.remove(self.info_stack)
  local num_children_edges = count(info.edges)
  local fudge = info.fudge
  if num_children_edges - 1 >= 0 and fudge > num_children_edges - 1 then
    fudge = num_children_edges - 1
  end
  union_into(edges, info.edges)
  local no_new_edges = count(edges) == num_children_edges
  if not no_new_edges then fudge = fudge + 1 end
  local more = #self.children_stack > 0
  if (info.num_nodes + fudge) / info.height <= o.ave_width
      and (no_new_edges or info.height < o.max_depth_new_edges) then
    local val = graph.subs(self.dsk[parent], info.key, info.task)
    self:absorb(parent, { info })
    local keys = info.keys
    if keys then
      keys[#keys + 1] = parent
      self.fused_trees[parent] = keys
    end
    if not more then
      self.rv[parent] = val
      return false
    end
    local grow = no_new_edges and 0 or 1
    self.info_stack[#self.info_stack + 1] = summary(parent, val, keys, info.height + grow,
      info.width, info.num_nodes + grow, fudge, edges)
  else
    self:keep(info)
    if not more then return false end
    fudge = math.min(fudge, trunc(o.ave_width - 1))
    self.info_stack[#self.info_stack + 1] = summary(parent, self.rv[parent],
      o.renamer and { parent } or nil, 1, info.width, 1, fudge, edges)
  end
  return true
end

-- Removes fused children from the result and moves their dependencies to parent.
function Fuser:absorb(parent, infos)
  local deps_parent = self.deps[parent]
  for _, info in ipairs(infos) do
    deps_parent[info.key] = nil
  end
  for _, info in ipairs(infos) do
    union_into(deps_parent, self.deps[info.key])
    self.deps[info.key] = nil
    self.rv[info.key] = nil
    self.reducible[info.key] = nil
    self.fused_trees[info.key] = nil
  end
end

-- A child that stays a task of its own.
function Fuser:keep(info)
  self.rv[info.key] = info.task
  self.reducible[info.key] = nil
end

-- Several children below parent: fuse them all in, or none.
function Fuser:fuse_many(parent, edges, num_children)
  local o, stack = self.o, self.info_stack
  local infos = table.move(stack, #stack - num_children + 1, #stack, 1, {})
  for _ = 1, num_children do stack[#stack] = nil end
  local height, width, num_single, num_nodes, fudge, max_edges = 1, 0, 0, 0, 0, 0
  local children_edges = {}
  for _, c in ipairs(infos) do
    if c.height == 1 then
      num_single = num_single + 1
    elseif c.height > height then
      height = c.height
    end
    width, num_nodes, fudge = width + c.width, num_nodes + c.num_nodes, fudge + c.fudge
    max_edges = math.max(max_edges, count(c.edges))
    union_into(children_edges, c.edges)
  end
  -- fudge factor for the parallelism possible along the boundary (Dask's)
  local num_children_edges = count(children_edges)
  fudge = fudge + math.min(num_children - 1, math.max(0, num_children_edges - max_edges))
  if num_children_edges - 1 >= 0 and fudge > num_children_edges - 1 then
    fudge = num_children_edges - 1
  end
  union_into(edges, children_edges)
  local no_new_edges = count(edges) == num_children_edges
  if not no_new_edges then fudge = fudge + 1 end
  local more = #self.children_stack > 0
  if (num_nodes + fudge) / height <= o.ave_width and num_single <= o.ave_width
      and width <= o.max_width and height <= o.max_height
      and (no_new_edges or height < o.max_depth_new_edges) then
    local replace, keys = {}, o.renamer and {} or nil
    for _, c in ipairs(infos) do
      replace[c.key] = c.task
      if keys then table.move(c.keys, 1, #c.keys, #keys + 1, keys) end
    end
    local val = subs_map(self.dsk[parent], replace)
    self:absorb(parent, infos)
    if keys then
      keys[#keys + 1] = parent
      self.fused_trees[parent] = keys
    end
    if not more then
      self.rv[parent] = val
      return false
    end
    stack[#stack + 1] = summary(parent, val, keys, height + 1, width, num_nodes + 1, fudge, edges)
  else
    for _, c in ipairs(infos) do self:keep(c) end
    if not more then return false end
    width = math.min(width, o.max_width)
    fudge = math.min(fudge, trunc(o.ave_width - 1))
    stack[#stack + 1] = summary(parent, self.rv[parent], o.renamer and { parent } or nil,
      1, width, 1, fudge, edges)
  end
  return true
end

-- Walks the reducible tree above `start`: down to its leaves, then back up, fusing.
function Fuser:fuse_tree(start)
  local reducible, deps, rdeps = self.reducible, self.deps, self.rdeps
  local children_stack = self.children_stack
  local parent = start
  for steps = 1, math.huge do
    if not reducible[parent] then break end
    -- Dask climbs forever on a cycle of single-dependent tasks; we report it
    if steps > self.nreducible then error(graph.cycle_error(graph.getcycle(self.dsk, start)), 0) end
    parent = rdeps[parent][1]
  end
  local below = reducible_list(deps[parent], reducible)
  children_stack[#children_stack + 1] = parent
  table.move(below, 1, #below, #children_stack + 1, children_stack)
  while true do
    local child = children_stack[#children_stack]
    if child ~= parent then
      local children = reducible_list(deps[child], reducible)
      while #children > 0 do
        table.move(children, 1, #children, #children_stack + 1, children_stack)
        parent = child
        child = children_stack[#children_stack]
        children = reducible_list(deps[child], reducible)
      end
      children_stack[#children_stack] = nil
      -- a leaf of the reduction tree
      self.info_stack[#self.info_stack + 1] = summary(child, self.rv[child],
        self.o.renamer and { child } or nil, 1, 1, 1, 0, (irreducible_set(deps[child], reducible)))
    else
      children_stack[#children_stack] = nil
      local edges, num_children = irreducible_set(deps[parent], reducible)
      local go_on
      if num_children == 1 then
        go_on = self:fuse_single(parent, edges)
      else
        go_on = self:fuse_many(parent, edges, num_children)
      end
      if not go_on then return end
      parent = rdeps[parent][1]
    end
  end
end

-- Leaves an alias under each fused root: rv[new] = task, rv[root] = new. A name
-- already taken is left alone (as Dask), so should two trees get the same new
-- name, which one gets it follows pairs() order.
function Fuser:rename()
  local rv, deps = self.rv, self.deps
  for root, keys in pairs(self.fused_trees) do
    local alias = self.o.renamer(keys)
    if alias ~= nil and rv[alias] == nil then
      rv[alias], rv[root] = rv[root], alias
      deps[alias], deps[root] = deps[root], { [alias] = true }
    end
  end
end

-- Dependencies given as sets (get_deps's format) hide a key used twice by one
-- task; fusing it there would run it twice. For each key with a single dependent
-- given by a set, counts its uses in that task and records the repeats in rdeps.
local function count_repeats(dsk, rdeps, given_sets)
  local uses = {} -- parent -> key -> number of uses in its task
  for v, r in pairs(rdeps) do
    local parent = r[1]
    if #r == 1 and given_sets[parent] and dsk[parent] ~= nil then
      local u = uses[parent]
      if not u then
        u = {}
        for _, d in ipairs(graph.get_dependencies(dsk, parent, nil, true)) do u[d] = (u[d] or 0) + 1 end
        uses[parent] = u
      end
      for _ = 2, u[v] or 1 do r[#r + 1] = parent end
    end
  end
end

-- fuse(dsk [, keys] [, dependencies] [, opts]): merges tasks with a single dependent
-- into it (linear chains and, as ave_width allows, small reductions). keys are
-- never fused away. opts: ave_width (1), max_width, max_height, max_depth_new_edges,
-- rename_keys (true: Dask's names with an alias under the old key; false; or a
-- function(fused_keys_root_last) -> new key or nil). Returns graph, dependencies.
function optimization.fuse(dsk, keys, dependencies, opts)
  local o = fuse_options(opts or {})
  local deps = {}
  local rdeps = {}
  -- repeated uses by the same task count (lists keep repeats), as in Dask
  local function use(k, v, s)
    local r = rdeps[v]
    if not r then r = {}; rdeps[v] = r end
    r[#r + 1] = k
    s[v] = true
  end
  local given_sets = {} -- keys whose dependencies came as a set: repeats not known yet
  for k in pairs(dependencies or dsk) do
    local d = dependencies and dependencies[k] or graph.get_dependencies(dsk, k, nil, true)
    local s = {}
    if d[1] ~= nil then
      for i = 1, #d do use(k, d[i], s) end
    else
      for v in pairs(d) do use(k, v, s) end
      given_sets[k] = true
    end
    deps[k] = s
  end
  count_repeats(dsk, rdeps, given_sets)
  if not o.ave_width or o.ave_width == 0 or not o.max_height or o.max_height == 0 then
    return dsk, deps
  end
  local protected = keys ~= nil and set_of(key_list(keys)) or {}
  local reducible, order = {}, {}
  for k, r in pairs(rdeps) do
    if #r == 1 and not protected[k] and movable(dsk[k]) then
      reducible[k] = true
      order[#order + 1] = k
    end
  end
  if #order == 0 then return dsk, deps end
  local f = setmetatable({ dsk = dsk, rv = copy(dsk), deps = deps, rdeps = rdeps,
    reducible = reducible, nreducible = #order, fused_trees = {}, o = o, info_stack = {},
    children_stack = {} },
    Fuser)
  -- iterate a snapshot: next() over a table being emptied would rescan dead slots
  for _, k in ipairs(order) do
    if reducible[k] then f:fuse_tree(k) end
  end
  if o.renamer then f:rename() end
  return f.rv, f.deps
end

---------------------------------------------------------------------------------
-- inline, inline_functions

local function is_empty(deps)
  return deps == nil or next(deps) == nil
end

-- A value with its inlined dependencies replaced, and its new dependencies: the
-- old ones with each inlined key swapped for the dependencies of its value (so no
-- deeply inlined value is ever walked again).
local function substituted(v, deps, values, value_deps)
  local replace, new_deps
  for d in pairs(deps) do
    if values[d] ~= nil then
      replace = replace or {}
      replace[d] = values[d]
    end
  end
  if not replace then return v, deps end
  new_deps = {}
  for d in pairs(deps) do
    if replace[d] ~= nil then
      union_into(new_deps, value_deps[d])
    else
      new_deps[d] = true
    end
  end
  return subs_map(v, replace), new_deps
end

-- inline(dsk [, keys] [, inline_constants = true] [, dependencies]): replaces the
-- uses of keys by their values; with inline_constants also every constant (a
-- non-task without dependencies) and every alias (a value that is a key). The
-- inlined keys stay in the graph (follow with cull to drop them).
function optimization.inline(dsk, keys, inline_constants, dependencies)
  local deps = dependency_sets(dsk, dependencies)
  local inlined = set_of(key_list(keys) or {})
  if inline_constants ~= false then
    for k, v in pairs(dsk) do
      if refers(dsk, v) or (is_empty(deps[k]) and not istask(v)) then inlined[k] = true end
    end
  end
  -- inline in dependency order, so values put in carry no inlined keys themselves
  local sub, subdeps = {}, {}
  for k in pairs(inlined) do
    if dsk[k] ~= nil then
      sub[k] = dsk[k]
      local s = {}
      for d in pairs(deps[k]) do
        if inlined[d] then s[d] = true end
      end
      subdeps[k] = s
    end
  end
  local values, value_deps = {}, {}
  for _, k in ipairs(graph.toposort(sub, subdeps)) do
    values[k], value_deps[k] = substituted(dsk[k], deps[k], values, value_deps)
  end
  local out, out_deps = {}, {}
  for k, v in pairs(dsk) do
    if values[k] ~= nil then
      out[k], out_deps[k] = values[k], value_deps[k]
    else
      out[k], out_deps[k] = substituted(v, deps[k], values, value_deps)
    end
  end
  return out, out_deps
end

-- functions_of(task): the set of callables heading task or any task nested in it.
function optimization.functions_of(task)
  local funcs, work = {}, { task }
  while #work > 0 do
    local t = table.remove(work)
    if istask(t) then
      funcs[t[1]] = true
      for i = 2, #t do work[#work + 1] = t[i] end
    elseif islist(t) then
      for i = 1, #t do work[#work + 1] = t[i] end
    end
  end
  return funcs
end

local function function_set(fns)
  if fns[1] == nil then return fns end -- already a set fn -> true
  return set_of(fns)
end

-- inline_functions(dsk, output, fast_functions [, inline_constants = false]
-- [, dependencies]): inlines every task built only from fast_functions (a list or
-- set of callables) into its dependents and drops it, unless it is in output or
-- nothing depends on it.
function optimization.inline_functions(dsk, output, fast_functions, inline_constants, dependencies)
  local deps = dependency_sets(dsk, dependencies)
  if fast_functions == nil or next(fast_functions) == nil then return dsk, deps end
  local protected = set_of(key_list(output) or {})
  local fast = function_set(fast_functions)
  local dependents = graph.reverse_dict(deps)
  local keys = {}
  for k, v in pairs(dsk) do
    if istask(v) and not is_empty(dependents[k]) and not protected[k] then
      local only_fast = true
      for f in pairs(optimization.functions_of(v)) do
        if not fast[f] then only_fast = false break end
      end
      if only_fast then keys[#keys + 1] = k end
    end
  end
  if #keys == 0 then return dsk, deps end
  local out, out_deps = optimization.inline(dsk, keys, inline_constants == true, deps)
  for _, k in ipairs(keys) do
    out[k], out_deps[k] = nil, nil
  end
  return out, out_deps
end

return optimization
