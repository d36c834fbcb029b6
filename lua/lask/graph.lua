-- lask.graph: Dask's graph utilities (dask/core.py) with Lua conventions.
--
-- A graph is a table key -> value-or-task. The rules below are shared with the C
-- conversion code, so every function here classifies values the same way:
--   key       a string or a tuple key (lask.core.key); numbers are never keys.
--             Inside a graph an argument is a key only if the graph holds it:
--             a string that is not in dsk is a literal.
--   task      a table (not a key, not a quote) whose [1] is callable; its
--             arguments are t[2..#t].
--   list      a table that is not a task, key or quote, has no metatable, #t > 0
--             and no fields besides 1..#t; its elements are arguments.
--   quote     lask.core.quote(v): never interpreted.
--   literal   anything else.
-- Sets are tables key -> true; lists are 1-based sequences.
--
-- Everything that follows dependencies or nesting uses explicit stacks, so
-- million-node chains and deeply nested (fused) tasks never hit Lua's stack limit.
local core = require "lask.core"
local funcname = require "lask.funcname"

local iskey_value, isquote = core.iskey, core.isquote
local type, next, pairs, getmetatable, rawequal = type, next, pairs, getmetatable, rawequal
local math_type, concat, sort = math.type, table.concat, table.sort
local lua_tostring = tostring

local graph = {}

-- Callable: a function, or a value whose metatable has __call.
local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end
graph.callable = callable

local function istask(v)
  return type(v) == "table" and callable(v[1]) and not iskey_value(v) and not isquote(v)
end
graph.istask = istask

-- A proper sequence with nothing else in it (checked by counting fields).
local function is_sequence(t, n)
  local count = 0
  for k in pairs(t) do
    if math_type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end

-- Default container test for flatten: a plain table shaped like a sequence (empty
-- included) that is not a task; tuple keys, quotes and objects stay whole.
local function is_container(v)
  if type(v) ~= "table" or getmetatable(v) ~= nil or iskey_value(v) or isquote(v) then
    return false
  end
  local n = #v
  return not (n > 0 and callable(v[1])) and is_sequence(v, n)
end

-- A list in a task: a non-empty container.
local function islist(v) return is_container(v) and #v > 0 end
graph.islist = islist

-- Could v name a task at all (a string or a tuple key), whatever the graph?
-- (lask.iskey, from lask.core, answers for tuple keys only.)
local function iskey(v)
  return type(v) == "string" or iskey_value(v)
end
graph.is_key_type = iskey

-- Is v an argument that refers to a key of dsk?
local function refers(dsk, v)
  return iskey(v) and dsk[v] ~= nil
end
graph.refers = refers

-- The elements of v that are arguments: 2..#v for a task, 1..#v for a list;
-- nil for anything else.
local function argument_range(v)
  if type(v) ~= "table" then return nil end
  if istask(v) then return 2, #v end
  if islist(v) then return 1, #v end
  return nil
end

-- Keys of dsk referenced by value: a set, or with as_list a list with duplicates
-- in Dask's order (breadth first: level by level, left to right). Hot: runs once
-- per task of every graph, so a flat task allocates nothing but the result.
local function dependencies_of(dsk, value, as_list)
  local out, n = {}, 0
  local level, first, last = { value }, 1, 1
  local lo, hi = argument_range(value)
  if lo then level, first, last = value, lo, hi end
  while level do
    local nxt, m = nil, 0
    for i = first, last do
      local w = level[i]
      local a, b = argument_range(w)
      if a then
        nxt = nxt or {}
        for j = a, b do
          m = m + 1
          nxt[m] = w[j]
        end
      elseif refers(dsk, w) then
        if as_list then
          n = n + 1
          out[n] = w
        else
          out[w] = true
        end
      end
    end
    level, first, last = nxt, 1, m
  end
  return out
end

-- get_dependencies(dsk, key [, task] [, as_list]): the keys the value at key (or
-- the given task when key is nil) needs directly, nested tasks and lists included.
function graph.get_dependencies(dsk, key, ...)
  local value
  if key ~= nil then
    value = dsk[key]
    if value == nil then error("key not in graph: " .. graph.describe_key(key), 2) end
  elseif select("#", ...) > 0 then
    value = ...
  else
    error("provide either key or task", 2)
  end
  return dependencies_of(dsk, value, (select(2, ...)))
end

-- Iterates dependencies given as a set (ours) or a list (cull's, like Dask's); a
-- set never has the key 1 because numbers are never keys.
local function each_dep(deps)
  if deps[1] ~= nil then
    local i = 0
    return function()
      i = i + 1
      return deps[i]
    end
  end
  local k
  return function()
    k = next(deps, k)
    return k
  end
end
graph.each_dep = each_dep

-- reverse_dict(deps): key -> set of keys that list it; every key gets a set.
function graph.reverse_dict(deps)
  local out = {}
  for k, vals in pairs(deps) do
    out[k] = out[k] or {}
    for v in each_dep(vals) do
      local s = out[v]
      if not s then s = {}; out[v] = s end
      s[k] = true
    end
  end
  return out
end

-- get_deps(dsk): dependencies (key -> set) and dependents (key -> set).
function graph.get_deps(dsk)
  local deps = {}
  for k, v in pairs(dsk) do deps[k] = dependencies_of(dsk, v) end
  return deps, graph.reverse_dict(deps)
end

-- A set of keys: a plain non-empty table whose values are all `true`.
local function is_key_set(t)
  if getmetatable(t) ~= nil or next(t) == nil or t[1] ~= nil then return false end
  for _, v in pairs(t) do
    if v ~= true then return false end
  end
  return true
end

-- Normalises `keys` (one key, a possibly nested list of keys, or a set) to a list.
local function key_list(keys)
  if keys == nil then return nil end
  if type(keys) == "table" and not iskey_value(keys) and not isquote(keys) then
    if is_key_set(keys) then
      local out = {}
      for k in pairs(keys) do out[#out + 1] = k end
      return out
    end
    if getmetatable(keys) == nil and not istask(keys) then return graph.flatten(keys) end
  end
  return { keys }
end
graph.key_list = key_list

local function all_keys(dsk)
  local out = {}
  for k in pairs(dsk) do out[#out + 1] = k end
  return out
end

-- Returns deps_of(key): from the given dependencies, or computed on demand (and
-- remembered) so a traversal from a few keys never scans the whole graph.
local function dependency_lookup(dsk, dependencies)
  if dependencies then
    return function(k)
      local d = dependencies[k]
      if d == nil then error("key not in graph: " .. graph.describe_key(k), 4) end
      return d
    end
  end
  local memo = {}
  return function(k)
    local d = memo[k]
    if d == nil then
      local v = dsk[k]
      if v == nil then error("key not in graph: " .. graph.describe_key(k), 4) end
      d = dependencies_of(dsk, v)
      memo[k] = d
    end
    return d
  end
end

-- Depth-first search with an explicit stack (Tarjan's method, as Dask's _toposort).
-- `path` holds the nodes being explored, in order: a node is on it from its first
-- visit until it completes, and each is a dependency of the one before, so meeting
-- a node of the path again closes a cycle made of the path from that node on.
-- Returns the ordered list, or nil and the cycle (list, first key repeated last).
local function dfs(starts, deps_of, want_order)
  local ordered, nordered = want_order and {} or nil, 0
  local completed, on_path, path, npath = {}, {}, {}, 0
  local stack, top = {}, 0
  local function cycle_from(nxt)
    local cycle = table.move(path, on_path[nxt], npath, 1, {})
    cycle[#cycle + 1] = nxt
    return cycle
  end
  for s = 1, #starts do
    top = 1
    stack[1] = starts[s]
    while top > 0 do
      local cur = stack[top]
      if completed[cur] then
        top = top - 1
      else
        if not on_path[cur] then
          npath = npath + 1
          path[npath], on_path[cur] = cur, npath
        end
        local pushed = top
        local deps = deps_of(cur)
        if deps[1] ~= nil then -- a list (cull's); sets never hold the key 1
          for i = 1, #deps do
            local nxt = deps[i]
            if not completed[nxt] then
              if on_path[nxt] then return nil, cycle_from(nxt) end
              top = top + 1
              stack[top] = nxt
            end
          end
        else
          for nxt in next, deps do
            if not completed[nxt] then
              if on_path[nxt] then return nil, cycle_from(nxt) end
              top = top + 1
              stack[top] = nxt
            end
          end
        end
        if top == pushed then
          if ordered then
            nordered = nordered + 1
            ordered[nordered] = cur
          end
          completed[cur], on_path[cur] = true, nil
          path[npath], npath = nil, npath - 1
          top = top - 1
        end
      end
    end
  end
  return ordered or {}
end

-- The error get() raises for a cycle, in the same shape: kind, message, and cycle
-- (the keys on it, each needing the next, the last needing the first).
local ERROR_MT = { __tostring = function(e) return "lask: " .. e.message end }

local function cycle_error(cycle)
  local names = {}
  for i, k in ipairs(cycle) do names[i] = graph.describe_key(k) end
  cycle = table.move(cycle, 1, #cycle - 1, 1, {})
  return setmetatable({ kind = "cycle", cycle = cycle,
    message = "the graph has a cycle: " .. concat(names, " -> ") }, ERROR_MT)
end

graph.cycle_error = cycle_error -- from a getcycle() list

-- toposort(dsk [, dependencies]): every key, each after the keys it needs. The order
-- among independent keys follows pairs() and is not fixed across processes.
-- A cycle raises an error object like get()'s: {kind = "cycle", message =, cycle =}.
function graph.toposort(dsk, dependencies)
  local order, cycle = dfs(all_keys(dsk), dependency_lookup(dsk, dependencies), true)
  if not order then error(cycle_error(cycle)) end
  return order
end

-- getcycle(dsk [, keys]): the keys of a cycle reachable from keys (one key or a
-- list; nil means all), each depending on the next, the first repeated at the end
-- as in Dask: {'x', 'z', 'y', 'x'}. Empty table when there is none.
function graph.getcycle(dsk, keys)
  local _, cycle = dfs(key_list(keys) or all_keys(dsk), dependency_lookup(dsk), false)
  return cycle or {}
end

function graph.isdag(dsk, keys)
  return next(graph.getcycle(dsk, keys)) == nil
end

-- Substitution engine for subs and subs_map. `map` (key -> value) when given,
-- else the single pair key/val. Returns true and the replacement, or false.
local function replacement(v, key, val, map)
  if map then
    if v ~= nil and iskey(v) then
      local r = map[v]
      if r ~= nil then return true, r end
    end
    return false
  end
  if rawequal(v, key) then return true, val end
  return false
end

-- One level of substitution: a copy of t from `first` on with replacements
-- applied, or nil if some element is itself a task or list (needs the full walk).
local function flat_copy(t, first, key, val, map)
  local out = first == 2 and { t[1] } or {}
  for i = first, #t do
    local v = t[i]
    local found, r = replacement(v, key, val, map)
    if found then
      out[i] = r
    elseif argument_range(v) then
      return nil
    else
      out[i] = v
    end
  end
  return out
end

-- Rebuilds task with the replacements applied to every argument, through nested
-- tasks and lists. Heads are never replaced; other values are shared, not copied;
-- tasks and lists are always new. Iterative: frame d rebuilds src[d] into dst[d],
-- at[d] := index of the element being filled.
local function substitute(task, key, val, map)
  local found, r = replacement(task, key, val, map)
  if found then return r end
  local first = argument_range(task)
  if not first then return task end
  local flat = flat_copy(task, first, key, val, map)
  if flat then return flat end
  local src, dst, at, d = { task }, { first == 2 and { task[1] } or {} }, { first - 1 }, 1
  while true do
    local i = at[d] + 1
    local t = src[d]
    if i <= #t then
      at[d] = i
      local v = t[i]
      found, r = replacement(v, key, val, map)
      local a = not found and argument_range(v)
      if found then
        dst[d][i] = r
      elseif a then
        d = d + 1
        src[d], dst[d], at[d] = v, a == 2 and { v[1] } or {}, a - 1
      else
        dst[d][i] = v
      end
    else
      local done = dst[d]
      src[d], dst[d] = nil, nil
      d = d - 1
      if d == 0 then return done end
      dst[d][at[d]] = done
    end
  end
end

-- subs(task, key, val): a copy of task with every argument equal to key replaced
-- by val, through nested tasks and lists (Dask's subs); never mutates task.
function graph.subs(task, key, val)
  return substitute(task, key, val, nil)
end

-- subs_map(task, replacements): subs for several keys in one pass
-- (replacements: key -> value). A lask addition used by the optimisations.
function graph.subs_map(task, replacements)
  return substitute(task, nil, nil, replacements)
end

-- flatten(list [, container_check]): the leaves of a nested list, in order.
-- container_check(v) says which elements to descend into. A non-container
-- argument (a string, a key) gives a one-element list, as Dask's does.
function graph.flatten(list, container_check)
  local is_c = container_check or is_container
  if not is_c(list) then return { list } end
  local out, stack = {}, { { list, 0 } }
  while #stack > 0 do
    local f = stack[#stack]
    f[2] = f[2] + 1
    local item = f[1][f[2]]
    if f[2] > #f[1] then
      stack[#stack] = nil
    elseif is_c(item) then
      stack[#stack + 1] = { item, 0 }
    else
      out[#out + 1] = item
    end
  end
  return out
end

---------------------------------------------------------------------------------
-- Printing. Python-like reprs so graphs read as in the Dask talks:
--   {('x', 0): {arange, 0, 5}, 'y': {inc, 'x'}}
-- Strings print in single quotes, tuple keys as Python tuples, tasks and lists as
-- {...}, quotes as quote(...); a table inside itself prints as {...}, as Python's [...]. Callables print by name, by lask.funcname's rules
-- (a native kernel's own name, a name in the calling code, a global, `math.floor`,
-- the name on the line that defines it; else `function`).

local function repr_string(s)
  local q = (s:find("'", 1, true) and not s:find('"', 1, true)) and '"' or "'"
  local escaped = s:gsub("[%c\\" .. q .. "]", function(c)
    if c == "\n" then return "\\n" elseif c == "\t" then return "\\t"
    elseif c == "\r" then return "\\r" elseif c == "\\" or c == q then return "\\" .. c end
    return ("\\x%02x"):format(c:byte())
  end)
  return q .. escaped .. q
end

local function repr_atom(v)
  if type(v) == "string" then return repr_string(v) end
  return lua_tostring(v)
end

function graph.describe_key(k)
  if not iskey_value(k) then return repr_atom(k) end
  local parts = {}
  for i = 1, #k do parts[i] = repr_atom(k[i]) end
  return "(" .. concat(parts, ", ") .. (#parts == 1 and ",)" or ")")
end

local function repr_table_key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. repr_atom(k) .. "]"
end

local function sorted_fields(t, less)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, less)
  return keys
end

-- Order for keys: strings first, then tuple keys part by part as lask.core's __lt
-- (booleans, then numbers, then strings; shorter first); anything else last, by its
-- printed form.
local PART_RANK = { boolean = 1, number = 2, string = 3 }

local function part_less(a, b)
  local ra, rb = PART_RANK[type(a)] or 4, PART_RANK[type(b)] or 4
  if ra ~= rb then return ra < rb end
  if ra == 1 then return not a and b end
  if ra == 4 then return lua_tostring(a) < lua_tostring(b) end
  return a < b
end

local function key_rank(k)
  if type(k) == "string" then return 1 elseif iskey_value(k) then return 2 end
  return 3
end

local function key_less(a, b)
  local ra, rb = key_rank(a), key_rank(b)
  if ra ~= rb then return ra < rb end
  if ra == 1 then return a < b end
  if ra == 3 then return part_less(a, b) end
  for i = 1, math.min(#a, #b) do
    if a[i] ~= b[i] then return part_less(a[i], b[i]) end
  end
  return #a < #b
end
graph.key_less = key_less

-- Appends the repr of value to out. Iterative, so fused tasks nested a million
-- deep still print: the stack holds values still to print, interleaved with
-- literal text (flagged in is_text) to emit between them.
local EXIT = {} -- is_text's mark for "done printing table vals[n]"

local function render(value, namer, out)
  local vals, is_text, n = { value }, { false }, 1
  local open = {} -- tables being printed: met again inside themselves, they print as {...}
  local function push(v, text)
    n = n + 1
    vals[n], is_text[n] = v, text
  end
  local function enter(t)
    open[t] = true
    push(t, EXIT)
  end
  local function push_items(t, first, last)
    for i = last, first, -1 do
      push(t[i], false)
      if i > first then push(", ", true) end
    end
  end
  while n > 0 do
    local v, text = vals[n], is_text[n]
    vals[n] = nil
    n = n - 1
    if text == EXIT then
      open[v] = nil
    elseif text then
      out[#out + 1] = v
    elseif type(v) == "table" and open[v] then
      out[#out + 1] = "{...}"
    elseif iskey_value(v) then
      out[#out + 1] = graph.describe_key(v)
    elseif isquote(v) then
      out[#out + 1] = "quote("
      push(")", true)
      push(core.unquote(v), false)
    elseif istask(v) then
      out[#out + 1] = "{" .. namer(v[1])
      enter(v)
      push("}", true)
      if #v > 1 then
        push_items(v, 2, #v)
        push(", ", true)
      end
    elseif type(v) == "table" and getmetatable(v) == nil then
      out[#out + 1] = "{"
      enter(v)
      push("}", true)
      if is_sequence(v, #v) then
        push_items(v, 1, #v)
      else
        local keys = sorted_fields(v, part_less)
        for i = #keys, 1, -1 do
          push(v[keys[i]], false)
          push(repr_table_key(keys[i]) .. " = ", true)
          if i > 1 then push(", ", true) end
        end
      end
    elseif callable(v) then
      out[#out + 1] = namer(v)
    else
      out[#out + 1] = repr_atom(v)
    end
  end
end

-- repr(v): how a value or task prints inside a graph.
function graph.repr(v)
  local out = {}
  render(v, funcname.namer(), out)
  return concat(out)
end

local MAX_PRINTED = 50

-- The `limit` smallest keys of dsk in key order, and the number of keys. Keeps a
-- small sorted buffer so printing a huge graph does not sort all of it.
local function first_keys(dsk, limit)
  local best, total = {}, 0
  for k in pairs(dsk) do
    total = total + 1
    if #best < limit or key_less(k, best[#best]) then
      local i = #best + 1
      while i > 1 and key_less(k, best[i - 1]) do
        best[i] = best[i - 1]
        i = i - 1
      end
      best[i] = k
      best[limit + 1] = nil
    end
  end
  return best, total
end

-- tostring(dsk): the graph on one line, keys in key_less order; past 50 keys the
-- rest is elided as `...` with a count.
function graph.tostring(dsk)
  local namer = funcname.namer()
  local keys, total = first_keys(dsk, MAX_PRINTED)
  local items, width = {}, 2
  for i, k in ipairs(keys) do
    local out = { graph.describe_key(k), ": " }
    render(dsk[k], namer, out)
    items[i] = concat(out)
    width = width + #items[i] + 2
  end
  if total > #keys then items[#items + 1] = ("... (%d more)"):format(total - #keys) end
  -- short graphs on one line; longer ones one key per line, as the talk prints them
  return "{" .. concat(items, width <= 80 and ", " or ",\n ") .. "}"
end

return graph
