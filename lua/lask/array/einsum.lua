--- Contractions of lask.array: tensordot and einsum (numpy's, the common cases).
-- Both come down to transposes, reshapes and one blocked matrix product (dot) per
-- pair of operands; batch letters go through a broadcast product and a sum.
-- @module lask.array.einsum
-- @alias SH
local core = require "lask.array.core"
local shape = require "lask.array.shape"
local U = shape.util

local fmt, mtype = string.format, math.type
local need_array, axis0, A = U.need_array, U.axis0, U.A

local SH = { diagonal = shape.diagonal }

local function axes_list(v, nd, what, level)
  local out = {}
  for i, a in ipairs(type(v) == "table" and v or { v }) do out[i] = axis0(a, nd, what, level + 1) end
  return out
end

--- The sum of products of a and b over the given axes (numpy's tensordot).
-- axes: an integer n (the last n axes of a with the first n of b; 2 by default) or
-- a pair of lists of 1-based axes {{a's}, {b's}}. Done as one matrix product of
-- the two arrays transposed and reshaped.
-- @param a lask.array
-- @param b lask.array
-- @param[opt=2] axes integer or table
-- @return lask.array: a's free axes, then b's
-- @usage local c = da.tensordot(da.ones({2, 3}), da.ones({3, 4}), 1)
-- assert(c:compute():get(1, 1) == 3)
function SH.tensordot(a, b, axes)
  a, b = need_array(a, "tensordot", 2), need_array(b, "tensordot", 2)
  axes = axes == nil and 2 or axes
  local ca, cb
  if mtype(axes) == "integer" then
    if axes < 0 or axes > a.ndim or axes > b.ndim then error("lask.array: tensordot: axes is out of range", 2) end
    ca, cb = {}, {}
    for i = 1, axes do ca[i], cb[i] = a.ndim - axes + i - 1, i - 1 end
  elseif type(axes) == "table" and #axes == 2 then
    ca, cb = axes_list(axes[1], a.ndim, "tensordot", 2), axes_list(axes[2], b.ndim, "tensordot", 2)
    if #ca ~= #cb then error("lask.array: tensordot: give as many axes of a as of b", 2) end
  else
    error("lask.array: tensordot: axes must be an integer or a pair of axis lists", 2)
  end
  local inA, inB = {}, {}
  local K = 1
  for i = 1, #ca do
    if a.shape[ca[i] + 1] ~= b.shape[cb[i] + 1] then
      error(fmt("lask.array: tensordot: shape mismatch along the summed axes (%d and %d)", a.shape[ca[i] + 1],
        b.shape[cb[i] + 1]), 2)
    end
    inA[ca[i]], inB[cb[i]] = true, true
    K = K * a.shape[ca[i] + 1]
  end
  local permA, permB, shape, Fa, Fb = {}, {}, {}, 1, 1
  for d = 0, a.ndim - 1 do if not inA[d] then
      permA[#permA + 1] = d + 1
      shape[#shape + 1] = a.shape[d + 1]
      Fa = Fa * a.shape[d + 1]
    end end
  for _, d in ipairs(ca) do permA[#permA + 1] = d + 1 end
  for _, d in ipairs(cb) do permB[#permB + 1] = d + 1 end
  for d = 0, b.ndim - 1 do if not inB[d] then
      permB[#permB + 1] = d + 1
      shape[#shape + 1] = b.shape[d + 1]
      Fb = Fb * b.shape[d + 1]
    end end
  local a2 = a:transpose(permA):reshape { Fa, K }
  local b2 = b:transpose(permB):reshape { K, Fb }
  return A().dot(a2, b2):reshape(shape)
end

-- Parses an einsum spec into the input letter lists and the output's.
local function einsum_spec(spec, n, level)
  if type(spec) ~= "string" then error("lask.array: einsum: the first argument must be a spec string", level + 1) end
  spec = spec:gsub("%s", "")
  local lhs, rhs = spec:match("^(.-)%->(.*)$")
  lhs = lhs or spec
  local ins = {}
  for part in (lhs .. ","):gmatch("([^,]*),") do
    local letters = {}
    for c in part:gmatch(".") do
      if not c:match("%a") then error("lask.array: einsum: only letters are supported in the spec (no '...')", level + 1) end
      letters[#letters + 1] = c
    end
    ins[#ins + 1] = letters
  end
  if #ins ~= n then error(fmt("lask.array: einsum: the spec names %d operands, got %d", #ins, n), level + 1) end
  local out = {}
  if rhs then
    for c in rhs:gmatch(".") do out[#out + 1] = c end
  else -- implicit: the letters seen once, sorted
    local count = {}
    for _, l in ipairs(ins) do for _, c in ipairs(l) do count[c] = (count[c] or 0) + 1 end end
    for c, m in pairs(count) do if m == 1 then out[#out + 1] = c end end
    table.sort(out)
  end
  return ins, out
end

local function index_of(list, c, from)
  for i = from or 1, #list do if list[i] == c then return i end end
end

-- One operand reduced to distinct letters: repeated letters (diagonals) taken
-- first, then the letters not in keep summed.
local function einsum_reduce(x, letters, keep, level)
  letters = table.move(letters, 1, #letters, 1, {})
  if #letters ~= x.ndim then error("lask.array: einsum: a term's letters do not match its operand's axes", level + 1) end
  -- a letter repeated within the operand: its diagonal (the letter moves last)
  local again = true
  while again do
    again = false
    for p = 1, #letters do
      local q = index_of(letters, letters[p], p + 1)
      if q then
        local c = letters[p]
        x = SH.diagonal(x, 0, p, q)
        table.remove(letters, q)
        table.remove(letters, p)
        letters[#letters + 1] = c
        again = true
        break
      end
    end
  end
  local drop, kept = {}, {}
  for i, c in ipairs(letters) do
    if keep[c] then kept[#kept + 1] = c else drop[#drop + 1] = i end
  end
  if #drop > 0 then x = x:sum { axis = drop } end
  return x, kept
end

-- x (letters) transposed to the order of the letters in want (a subset that has all of x's).
local function to_order(x, letters, want)
  local perm, out = {}, {}
  for _, c in ipairs(want) do
    local i = index_of(letters, c)
    if i then
      perm[#perm + 1] = i
      out[#out + 1] = c
    end
  end
  if #perm > 1 then x = x:transpose(perm) end
  return x, out
end

--- Einstein summation over the operands (numpy's einsum, the common cases).
-- Specs of letters with "->" (or implicit output): one operand ("ij->ji", "ii->",
-- "ij->", "ij->i") and any number of operands reduced two at a time; a pair with
-- summed letters and no shared kept letter is one tensordot (a matrix product:
-- "ij,jk->ik", "i,i->", "ij,j->i"); shared kept letters (a batch: "bij,bjk->bik")
-- go through a broadcast product and a sum; a letter repeated within an operand
-- takes its diagonal ("ii", "iij"). No "..." ellipsis.
-- @param spec string
-- @param ... lask.array: the operands
-- @return lask.array
-- @raise for specs outside these cases
-- @usage local a = da.from_array({{1, 2}, {3, 4}})
-- assert(da.einsum("ii->", a):compute():item() == 5)
-- assert(da.einsum("ij,jk->ik", a, a):compute():get(1, 1) == 7)
function SH.einsum(spec, ...)
  local n = select("#", ...)
  local xs = { ... }
  local ins, out = einsum_spec(spec, n, 2)
  if n == 0 then error("lask.array: einsum: needs at least one operand", 2) end
  for i = 1, n do xs[i] = need_array(xs[i], "einsum", 2) end
  -- letters needed after operand i: the output's and those of later operands
  local function needed_after(i)
    local keep = {}
    for _, c in ipairs(out) do keep[c] = true end
    for j = i + 1, n do for _, c in ipairs(ins[j]) do keep[c] = true end end
    return keep
  end
  local keep1 = needed_after(1)
  for i = 2, n do for _, c in ipairs(ins[i]) do keep1[c] = true end end
  local x, letters = einsum_reduce(xs[1], ins[1], keep1, 2)
  for i = 2, n do
    local later = needed_after(i)
    local own = {}
    for c in pairs(later) do own[c] = true end
    for _, c in ipairs(letters) do own[c] = true end
    local y, yl = einsum_reduce(xs[i], ins[i], own, 2)
    -- letters of x's that y does not need were kept for y; now sum the pair
    local shared, batch, summed = {}, {}, {}
    for _, c in ipairs(letters) do if index_of(yl, c) then shared[c] = true end end
    for c in pairs(shared) do
      if later[c] then batch[#batch + 1] = c else summed[#summed + 1] = c end
    end
    table.sort(summed)
    if #batch == 0 then
      local ax, ay = {}, {}
      for j, c in ipairs(summed) do ax[j], ay[j] = index_of(letters, c), index_of(yl, c) end
      local nl = {}
      for _, c in ipairs(letters) do if not shared[c] then nl[#nl + 1] = c end end
      for _, c in ipairs(yl) do if not shared[c] then nl[#nl + 1] = c end end
      x = SH.tensordot(x, y, { ax, ay })
      letters = nl
    else
      -- a broadcast product over the union of the letters, then the sum
      local union = {}
      for _, c in ipairs(letters) do union[#union + 1] = c end
      for _, c in ipairs(yl) do if not index_of(union, c) then union[#union + 1] = c end end
      local function spread(z, zl)
        z, zl = to_order(z, zl, union)
        local shape, j = {}, 1
        for d, c in ipairs(union) do
          if zl[j] == c then
            shape[d] = z.shape[j]
            j = j + 1
          else shape[d] = 1 end
        end
        return z:reshape(shape)
      end
      local p = spread(x, letters) * spread(y, yl)
      local drop = {}
      for _, c in ipairs(summed) do drop[#drop + 1] = index_of(union, c) end
      if #drop > 0 then p = p:sum { axis = drop } end
      local nl = {}
      for _, c in ipairs(union) do if not index_of(summed, c) then nl[#nl + 1] = c end end
      x, letters = p, nl
    end
    -- letters no later step needs are summed now
    local drop = {}
    for j, c in ipairs(letters) do if not later[c] then drop[#drop + 1] = j end end
    if #drop > 0 then
      x = x:sum { axis = drop }
      local nl = {}
      for _, c in ipairs(letters) do if later[c] then nl[#nl + 1] = c end end
      letters = nl
    end
  end
  for _, c in ipairs(out) do
    if not index_of(letters, c) then error(fmt("lask.array: einsum: output letter '%s' is in no operand", c), 2) end
  end
  -- letters not in the output (one operand with extra letters) were summed already
  return (to_order(x, letters, out))
end

return SH
