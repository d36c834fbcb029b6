-- lask.array.expression: the graph compute runs — the arrays' layers, with chains
-- of elementwise layers made into one expression per block that the fused kernel
-- (engine/array/fused.c) evaluates. (Not lask.fuse, Dask's fusion of task chains in
-- any graph: this works on the array layers before there is a graph.)
--
-- A blockwise layer is *inlined* into its consumer when it is not an output, has
-- exactly one consumer layer, that consumer is blockwise too, and each of its
-- blocks feeds exactly one block of the consumer (no broadcast reuse, which would
-- recompute it). Then:
--   - an elementwise layer inlined into an elementwise consumer becomes part of the
--     consumer's postfix program: "(2*x+1)^3" is one task per block running the
--     fused kernel "2 $1 mul 1 add powi:3", reading x once and writing once;
--   - any other inlined layer (a creation step, an elementwise step feeding a
--     reduction's chunk step or a store) becomes a nested task inside its
--     consumer's task: one task per block, no intermediate kept in the graph.
--   - a creation layer (random, normal, ones, arange, ...), or an elementwise program
--     over such layers only, inlined into the chunk step of a reduction along its
--     first axis (sum, prod, min, max, mean, var, std), with blocks of more than 2^20
--     elements, is made and reduced in parts of about 2^17 elements: one task still,
--     whose parts are each reduced while in the cache and then combined (parts_of).
-- A program stays within the fused kernel's limits (lask.core.arrayops.fused_limits:
-- inputs, tokens, stack depth): a layer that would overflow them stays a task of
-- its own.
-- Every other layer's tasks are copied as they are.
local core = require "lask.array.core"
local arrayops = require("lask.core").arrayops

local fmt, mtype = string.format, math.type
local block_key, input_index = core.block_key, core.input_index

local F = {}

local OPS, LIMITS = arrayops.ops, arrayops.fused_limits
local MAX_ARGS, MAX_TOKENS, MAX_DEPTH = LIMITS.max_args, LIMITS.max_tokens, LIMITS.max_depth
local POWI_MAX = LIMITS.powi_max

-- A constant as a program token that parses back to the same Lua value (floats
-- keep a mark of floatness, so 2.0 stays a float).
local function const_token(v)
  if type(v) == "boolean" then return tostring(v) end
  if mtype(v) == "integer" then return tostring(v) end
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  local s = fmt("%.17g", v)
  if not s:find("[%.eEn]") then s = s .. ".0" end
  return s
end
F.const_token = const_token

-- Does each block of child (read by consumer through input numblocks nb) feed
-- exactly one consumer block?
local function one_to_one(child, consumer)
  local cnb, nb = consumer.numblocks, child.numblocks
  local off = #cnb - #nb
  if off < 0 then return false end
  for e = 1, #cnb do
    if e <= off then
      if cnb[e] ~= 1 then return false end
    elseif nb[e - off] ~= cnb[e] then
      return false
    end
  end
  return true
end

-- The consumers of every layer: name -> set of layer names.
local function consumers_of(layers)
  local out = {}
  for name, layer in pairs(layers) do
    for _, d in ipairs(layer.deps or {}) do
      out[d] = out[d] or {}
      out[d][name] = true
    end
  end
  return out
end

-- name -> the consumer it is inlined into, for every layer that may be inlined.
local function plan_inlining(layers, outputs)
  local consumers = consumers_of(layers)
  local inline = {}
  for name, layer in pairs(layers) do
    if layer.kind == "blockwise" and not outputs[name] and consumers[name] then
      local only, count = nil, 0
      for c in pairs(consumers[name]) do
        only, count = c, count + 1
      end
      local consumer = layers[only]
      if count == 1 and consumer and consumer.kind == "blockwise" and one_to_one(layer, consumer) then
        inline[name] = only
      end
    end
  end
  return inline
end

-- The fused program of an elementwise layer: tokens, and leaves (each {name=,
-- numblocks=, nested=layer or nil}); built once per layer. Children that would
-- overflow the kernel's limits are left out of the program and added to `extra`
-- (they become tasks of their own).
local function program_of(state, layer)
  local plan = state.plans[layer.name]
  if plan then return plan end
  local tokens, leaves, slot = {}, {}, {}
  local sp, maxsp, nops = 0, 0, 0
  local function push(tok, pops)
    tokens[#tokens + 1] = tok
    sp = sp - (pops or 0) + 1
    if sp > maxsp then maxsp = sp end
  end
  local function leaf(inp, nested)
    local id = inp.name
    if not slot[id] then
      leaves[#leaves + 1] = { name = inp.name, numblocks = inp.numblocks, nested = nested }
      slot[id] = #leaves
    end
    push("$" .. slot[id])
  end
  local function expand(l)
    local ew = l.ew
    local powi = ew.op == "pow" and ew.args[2].const ~= nil and mtype(ew.args[2].const) == "integer"
        and ew.args[2].const >= -POWI_MAX and ew.args[2].const <= POWI_MAX
    for i, a in ipairs(ew.args) do
      if powi and i == 2 then break end
      if a.const ~= nil then
        push(const_token(a.const))
      else
        local inp = l.inputs[a.input]
        local child = state.layers[inp.name]
        if state.inline[inp.name] == l.name and child.ew then
          local snap = { #tokens, #leaves, sp, maxsp, nops }
          expand(child)
          -- the margins keep room for what this plan's outermost operator adds after
          -- its last child is checked: its own token and up to 3 leaves or constants
          if #tokens > MAX_TOKENS - 4 or #leaves > MAX_ARGS - 3 or maxsp > MAX_DEPTH - 3 then
            for k = #tokens, snap[1] + 1, -1 do tokens[k] = nil end
            for k = #leaves, snap[2] + 1, -1 do
              slot[leaves[k].name] = nil
              leaves[k] = nil
            end
            sp, maxsp, nops = snap[3], snap[4], snap[5]
            state.inline[inp.name] = nil
            state.extra[#state.extra + 1] = child
            leaf(inp, nil)
          end
        elseif state.inline[inp.name] == l.name then
          leaf(inp, child)
        else
          leaf(inp, nil)
        end
      end
    end
    nops = nops + 1
    if powi then
      push("powi:" .. ew.args[2].const, 1)
    elseif ew.op == "astype" or OPS[ew.op].kernel == "param" then
      push(ew.op .. ":" .. ew.param, 1)
    else
      push(ew.op, OPS[ew.op].arity)
    end
  end
  expand(layer)
  local plain = nops == 1
  for _, lf in ipairs(leaves) do if lf.nested then plain = false end end
  plan = { plain = plain, leaves = leaves }
  if not plain then plan.kernel = core.fused_kernel(table.concat(tokens, " ")) end
  state.plans[layer.name] = plan
  return plan
end

-- A block of more than WHOLE elements, made from nothing (a creation layer) and
-- reduced along its first axis, is made and reduced in parts of about PART elements
-- (runs of whole rows): each part is reduced while it is in the cache, and the parts'
-- partials are combined as the reduction tree combines blocks'. Measured on the sum of
-- random numbers: blocks of 200 MB take 1.5x less CPU time so; blocks of 8 MB (in the
-- last-level cache already) 5% more, hence WHOLE.
local PART, WHOLE = 1 << 17, 1 << 20

-- The tasks of the parts of block idx of child, or nil when the block is to be made
-- whole: child a creation layer, or an elementwise layer whose program's inputs are
-- all creation layers nested in it, with blocks of one shape (each part then runs the
-- program on the parts of its inputs).
local function parts_of(state, child, idx)
  local makers, build = {}, nil -- makers[i] = {creation layer, its block index}
  if child.part then
    makers[1] = { child, idx }
    build = function(p) return p[1] end
  elseif child.ew then
    local plan = program_of(state, child)
    if plan.plain then return nil end
    for i, lf in ipairs(plan.leaves) do
      if not (lf.nested and lf.nested.part) then return nil end
      makers[i] = { lf.nested, input_index(idx, lf.numblocks) }
    end
    build = function(p) return { plan.kernel, table.unpack(p) } end
  else
    return nil
  end
  local bshape = makers[1][1].block_shape(makers[1][2])
  for i = 2, #makers do
    local other = makers[i][1].block_shape(makers[i][2])
    if #other ~= #bshape then return nil end
    for d = 1, #bshape do
      if other[d] ~= bshape[d] then return nil end
    end
  end
  local rows, per_row = bshape[1], 1
  for d = 2, #bshape do per_row = per_row * bshape[d] end
  if rows < 2 or rows * per_row <= WHOLE then return nil end
  local step = math.max(1, PART // per_row)
  local parts = {}
  for first = 0, rows - 1, step do
    local count, p = math.min(step, rows - first), {}
    for i, m in ipairs(makers) do p[i] = m[1].part(m[2], first, count) end
    parts[#parts + 1] = build(p)
  end
  return parts
end

-- The task of block idx of a blockwise layer, with inlined inputs nested/fused.
local function block_task(state, layer, idx)
  if layer.ew then
    local plan = program_of(state, layer)
    if plan.plain then
      local args = {}
      for i, inp in ipairs(layer.inputs) do args[i] = block_key(inp.name, input_index(idx, inp.numblocks)) end
      return layer.block(idx, args)
    end
    local task = { plan.kernel }
    for i, lf in ipairs(plan.leaves) do
      local lidx = input_index(idx, lf.numblocks)
      task[i + 1] = lf.nested and block_task(state, lf.nested, lidx) or block_key(lf.name, lidx)
    end
    return task
  end
  local args = {}
  for i, inp in ipairs(layer.inputs) do
    local iidx = input_index(idx, inp.numblocks)
    if state.inline[inp.name] == layer.name then
      local child = state.layers[inp.name]
      local parts = layer.by_parts and #layer.inputs == 1 and parts_of(state, child, iidx)
      if parts then return layer.by_parts(parts) end
      args[i] = block_task(state, child, iidx)
    else
      args[i] = block_key(inp.name, iidx)
    end
  end
  return layer.block(idx, args)
end

local function emit(state, layer, dsk)
  if layer.kind ~= "blockwise" then
    for k, v in pairs(core.layer_tasks(layer)) do dsk[k] = v end
    return
  end
  core.each_block(layer.numblocks, function(idx)
    dsk[block_key(layer.name, idx)] = block_task(state, layer, idx)
  end)
end

-- The graph of layers (name -> layer) for the outputs (a set of layer names whose
-- blocks are wanted), with fusion; a plain table as lask.get takes it, or into (a
-- lask.graph_builder: its nodes are set as a table's would be) filled.
function F.graph(layers, outputs, into)
  local state = { layers = layers, inline = plan_inlining(layers, outputs), plans = {}, extra = {} }
  local dsk = into or {}
  -- elementwise plans first: they may decide that a child stays a task of its own
  for name, layer in pairs(layers) do
    local into = state.inline[name]
    if layer.ew and (not into or not layers[into].ew) then program_of(state, layer) end
  end
  local i = 1
  while state.extra[i] do
    program_of(state, state.extra[i])
    i = i + 1
  end
  for name, layer in pairs(layers) do
    if not state.inline[name] then emit(state, layer, dsk) end
  end
  return dsk
end

-- The plain graph of layers, unfused (what x.dask shows).
function F.unfused(layers)
  local dsk = {}
  for _, layer in pairs(layers) do
    for k, v in pairs(core.layer_tasks(layer)) do dsk[k] = v end
  end
  return dsk
end

return F
