-- array_refs.lua: naive references for the shape and blockwise specs (loaded with
-- dofile; not a spec). A reference array is {shape=, flat=} in C order.
--   F.R(shape, f)          the reference whose element at idx (a 1-based list) is f(idx)
--   F.at(r, idx)           r's element at idx
--   F.input(shape, dtype, chunks)   a lazy input of that dtype and chunks, and its reference
--   F.check(x, ref, dtype, opts)    x computed (opts: compute's) equals ref, dtype included
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local nd = require("lask.core").ndarray

local F = { H = H }

function F.R(shape, f)
  return { shape = shape, flat = H.grid(shape, function(...) return f({ ... }) end) }
end

function F.at(r, idx)
  local off = 0
  for d = 1, #r.shape do off = off * r.shape[d] + (idx[d] - 1) end
  return r.flat[off + 1]
end

-- The k-th input value of a dtype: small integers, halves, or booleans.
local function value(dtype, k)
  if dtype == "bool" then return k % 3 == 0 end
  local v = (k * 7) % 13 - 6
  if dtype == "int64" then return v end
  return v + 0.5
end

function F.input(shape, dtype, chunks)
  local k = 0
  local r = F.R(shape, function()
    k = k + 1
    return value(dtype, k)
  end)
  local a = nd.asarray(H.nested(shape, r.flat))
  if a.dtype ~= dtype then a = a:astype(dtype) end
  return H.da.from_array(a, { chunks = chunks }), r
end

local function tuple(s) return "(" .. table.concat(s, ", ") .. ")" end

function F.check(x, ref, dtype, opts)
  local v = H.get(x, opts)
  assert(#ref.shape == x.ndim and #ref.shape == #v.shape, "ndim " .. x.ndim .. " and " .. #v.shape .. ", want " .. #ref.shape)
  for d = 1, #ref.shape do
    assert(ref.shape[d] == x.shape[d] and ref.shape[d] == v.shape[d],
      ("shape %s (computed %s), want %s"):format(tuple(x.shape), tuple(v.shape), tuple(ref.shape)))
  end
  if dtype then assert(dtype == x.dtype and dtype == v.dtype, ("dtype %s (computed %s), want %s"):format(x.dtype, v.dtype, dtype)) end
  H.same(v, ref.flat)
end

-- Calls f(dtype, run) for every dtype, the runs (compute options) in turn.
function F.each(dtypes, runs, f)
  local s = 0
  for _, dtype in ipairs(dtypes) do
    s = s % #runs + 1
    f(dtype, runs[s])
  end
end

-- c and a() or b(), for values that may be false
function F.pick(c, a, b)
  if c then return a() end
  return b()
end

return F
