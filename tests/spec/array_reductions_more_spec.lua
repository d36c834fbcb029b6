-- lask.array.reductions_more: any, all, nan*, cumsum/cumprod, median/quantile, topk,
-- moment, trace against naive Lua loops (and numpy for the quantile methods), every
-- dtype, uneven chunks, axes and keepdims, every scheduler.
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local da = H.da
local nd = require("lask.core")

local SEED = tonumber(os.getenv("SEED")) or os.time()
print("array_reductions_more_spec seed " .. SEED)
math.randomseed(SEED)

local R, C = 7, 5
local NAN = 0 / 0

-- A 7 x 5 grid of the dtype, with NaNs for floats (a whole NaN column 3 in rows 2..7
-- and scattered ones), as a flat list (row-major) and a lazy array, chunks {3, 2}.
local function grid(dtype)
  local flat = {}
  for i = 1, R do
    for j = 1, C do
      local v
      if dtype == "bool" then v = math.random() < 0.5
      elseif dtype == "int64" then v = math.random(-20, 20)
      else
        v = math.random(-40, 40) / 4
        if (j == 3 and i > 1) or math.random() < 0.1 then v = NAN end
      end
      flat[#flat + 1] = v
    end
  end
  local a = nd.asarray(flat, dtype):reshape { R, C }
  return flat, da.from_array(a, { chunks = { 3, 2 } })
end

local function num(v) return type(v) == "boolean" and (v and 1 or 0) or v end
local function at(flat, i, j) return flat[(i - 1) * C + j] end

-- The lanes of the grid along axis (1 or 2) as lists, in output order.
local function lanes(flat, axis)
  local out = {}
  if axis == 1 then
    for j = 1, C do
      local l = {}
      for i = 1, R do l[i] = at(flat, i, j) end
      out[j] = l
    end
  elseif axis == 2 then
    for i = 1, R do
      local l = {}
      for j = 1, C do l[j] = at(flat, i, j) end
      out[i] = l
    end
  else
    out[1] = flat
  end
  return out
end

local function map_lanes(flat, axis, f)
  local out = {}
  for k, l in ipairs(lanes(flat, axis)) do out[k] = f(l) end
  return out
end

local function notnan(l)
  local out = {}
  for _, v in ipairs(l) do if v == v then out[#out + 1] = num(v) end end
  return out
end

local REF = {
  any = function(l) for _, v in ipairs(l) do if num(v) ~= 0 then return true end end return false end,
  all = function(l) for _, v in ipairs(l) do if num(v) == 0 then return false end end return true end,
  nansum = function(l) local s = 0 for _, v in ipairs(notnan(l)) do s = s + v end return s end,
  nanprod = function(l) local s = 1 for _, v in ipairs(notnan(l)) do s = s * v end return s end,
  nanmean = function(l)
    local t = notnan(l)
    local s = 0
    for _, v in ipairs(t) do s = s + v end
    return #t > 0 and s / #t or NAN
  end,
  nanmin = function(l)
    local t = notnan(l)
    if #t == 0 then return NAN end
    local m = math.huge
    for _, v in ipairs(t) do m = math.min(m, v) end
    return m
  end,
  nanmax = function(l)
    local t = notnan(l)
    if #t == 0 then return NAN end
    local m = -math.huge
    for _, v in ipairs(t) do m = math.max(m, v) end
    return m
  end,
  nanargmin = function(l)
    local best, bi = math.huge, 1
    for i, v in ipairs(l) do if v == v and num(v) < best then best, bi = num(v), i end end
    return bi
  end,
  nanargmax = function(l)
    local best, bi = -math.huge, 1
    for i, v in ipairs(l) do if v == v and num(v) > best then best, bi = num(v), i end end
    return bi
  end,
}
REF.nanvar = function(l)
  local t, m = notnan(l), REF.nanmean(l)
  if #t == 0 then return NAN end
  local s = 0
  for _, v in ipairs(t) do s = s + (v - m) ^ 2 end
  return s / #t
end
REF.nanstd = function(l) return math.sqrt(REF.nanvar(l)) end

local function median_ref(l, skip)
  local t = {}
  for _, v in ipairs(l) do
    if v ~= v then if not skip then return NAN end else t[#t + 1] = num(v) end
  end
  if #t == 0 then return NAN end
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
end

describe("lask.array more reductions against Lua loops", function()
  for _, dtype in ipairs { "float64", "float32", "int64", "bool" } do
    it("any, all and the nan* family over each axis and all, keepdims, " .. dtype, function()
      local flat, x = grid(dtype)
      local tol = dtype == "float32" and 1e-5 or 1e-12
      for name, ref in pairs(REF) do
        for _, axis in ipairs { 1, 2, false } do
          local opts = axis and axis or nil
          local want = map_lanes(flat, axis, ref)
          local all_nan = false -- a lane of only NaNs: numpy's nanargmin raises, so does the compute
          for _, l in ipairs(lanes(flat, axis)) do if #notnan(l) == 0 then all_nan = true end end
          if name:match("^nanarg") and all_nan then
            assert.has_error(function() x[name](x, opts):compute() end)
            goto next_axis
          end
          do
          local got = H.get(x[name](x, opts))
          local cmp = {} -- bool results (nanmin of bools) as numbers when the reference counts
          for k, v in ipairs(got.flat) do cmp[k] = type(want[k]) == "number" and num(v) or v end
          H.same(cmp, want, tol)
          if axis and not name:match("arg") then -- keepdims: the same values, the axis kept at 1
            local kd = x[name](x, { axis = axis, keepdims = true })
            assert.equal(1, kd.shape[axis])
          end
          H.same(H.get(da[name](x, opts)), got.flat, 0) -- NaN == NaN here
          end
          ::next_axis::
        end
      end
      local want_dt = { float64 = "float64", float32 = "float32", int64 = "float64", bool = "float64" }
      assert.equal(want_dt[dtype], x:nanmean().dtype)
      assert.equal("bool", x:any(1).dtype)
    end)

    it("cumsum, cumprod, nancumsum along each axis and flattened, " .. dtype, function()
      local flat, x = grid(dtype)
      local tol = dtype == "float32" and 1e-5 or 1e-12
      local function scan(list, prod, skipnan)
        local out, acc = {}, prod and 1 or 0
        for k, v in ipairs(list) do
          v = num(v)
          if skipnan and v ~= v then v = prod and 1 or 0 end
          if dtype == "float32" and prod then v = v % 3 end -- keep products small (see below)
          acc = prod and acc * v or acc + v
          out[k] = acc
        end
        return out
      end
      local y = dtype == "float32" and x or x -- the same array for every op
      for _, axis in ipairs { 1, 2, false } do
        for _, op in ipairs { "cumsum", "nancumsum" } do
          local got = H.get(y[op](y, axis or nil))
          local want = {}
          if axis == false then
            want = scan(flat, false, op == "nancumsum")
          else
            local ls = lanes(flat, axis)
            for i = 1, R do
              for j = 1, C do
                local l = axis == 1 and ls[j] or ls[i]
                local s = scan(l, false, op == "nancumsum")
                want[#want + 1] = axis == 1 and s[i] or s[j]
              end
            end
          end
          H.same(got, want, tol)
          assert.equal(dtype == "bool" and "int64" or dtype, got.dtype)
        end
      end
      -- cumprod on small values so the products stay exact
      local small = (x % 3):astype(dtype == "bool" and "bool" or dtype)
      local sflat = H.get(small).flat
      local got = H.get(small:cumprod(2))
      local want = {}
      for i = 1, R do
        local acc = 1
        for j = 1, C do
          acc = acc * num(sflat[(i - 1) * C + j])
          want[#want + 1] = acc
        end
      end
      H.same(got, want, tol)
    end)
  end

  it("nanargmin, nanargmax: NaN never chosen, infinities are; an all-NaN lane fails", function()
    local x = da.from_array({ 0 / 0, math.huge, 0 / 0, 5 }, { chunks = 1 })
    assert.equal(4, x:nanargmin():compute():item())
    assert.equal(2, x:nanargmax():compute():item())
    local y = da.from_array({ 0 / 0, math.huge, 0 / 0 }, { chunks = 2 })
    assert.equal(2, y:nanargmin():compute():item()) -- numpy's 1 (0-based): the inf, not the NaN
    local m = da.from_array({ { 0 / 0, 1 }, { 0 / 0, 2 } }, { chunks = 1 })
    assert.same({ 2, 2 }, H.get(m:nanargmin(2)).flat)
    assert.has_error(function() m:nanargmin(1):compute() end,
      "lask: task ('nanargmin-aggregate-" .. m:nanargmin(1).name:match("aggregate%-(.*)$") .. "', 0) failed: arg_finish: attempt to get the arg of an empty sequence (or of an all-NaN slice)")
  end)

  it("cumsum: many uneven blocks along the axis, int64 exact, every scheduler", function()
    local n = 1000
    local x = da.arange(n, { chunks = 37 }) * 3 - 7
    local want, acc = {}, 0
    for i = 0, n - 1 do
      acc = acc + (i * 3 - 7)
      want[#want + 1] = acc
    end
    for _, s in ipairs { "sync", "threaded", "multiprocessing" } do
      H.same(H.get(x:cumsum(), { scheduler = s }), want, 0)
    end
    assert.equal("int64", x:cumsum().dtype)
    -- float64 1-d blocks (the one-pass path), with a carry into every block but the first
    local f = da.random.random(n, { chunks = 97, seed = SEED })
    local fv, fwant, s = H.get(f).flat, {}, 0
    for i = 1, n do
      s = s + fv[i]
      fwant[i] = s
    end
    H.same(H.get(f:cumsum()), fwant, 1e-12)
    H.same(H.get(f.T:cumsum(1)), fwant, 1e-12)
    assert.equal("float64", x:cumsum { dtype = "float64" }.dtype)
  end)

  it("median and nanmedian along each axis and flattened, keepdims, every dtype", function()
    for _, dtype in ipairs { "float64", "float32", "int64", "bool" } do
      local flat, x = grid(dtype)
      for _, axis in ipairs { 1, 2, false } do
        H.same(H.get(x:median(axis or nil)), map_lanes(flat, axis, function(l) return median_ref(l, false) end), 1e-6)
        H.same(H.get(da.nanmedian(x, axis or nil)), map_lanes(flat, axis, function(l) return median_ref(l, true) end),
          1e-6)
      end
      local kd = x:median { axis = 2, keepdims = true }
      assert.same({ R, 1 }, { kd.shape[1], kd.shape[2] })
      assert.same({ R, 1 }, H.get(kd).shape)
      assert.equal(dtype == "float32" and "float32" or "float64", x:median(1).dtype)
    end
  end)

  it("median over several axes, keepdims, against a sort of each lane", function()
    local x = da.random.random({ 4, 5, 6 }, { chunks = { 3, 2, 4 }, seed = SEED })
    local v = x:compute()
    local got = H.get(x:median { 1, 3 })
    for j = 1, 5 do
      local lane = {}
      for i = 1, 4 do for k = 1, 6 do lane[#lane + 1] = v:get(i, j, k) end end
      assert.equal(median_ref(lane, false), got.flat[j])
    end
    local kd = x:median { axis = { 1, 3 }, keepdims = true }
    assert.same({ 1, 5, 1 }, H.get(kd).shape)
    H.same(H.get(kd), got.flat, 0)
    local q = H.get(x:quantile({ 0, 1 }, { axis = { 2, 3 } }))
    assert.same({ 2, 4 }, q.shape)
    for i = 1, 4 do
      local lo, hi = math.huge, -math.huge
      for j = 1, 5 do for k = 1, 6 do lo, hi = math.min(lo, v:get(i, j, k)), math.max(hi, v:get(i, j, k)) end end
      assert.equal(lo, q.flat[i])
      assert.equal(hi, q.flat[4 + i])
    end
  end)

  it("quantile and percentile: every method, a list of q in front, as numpy", function()
    local vals = {}
    for i = 1, 23 do vals[i] = math.random(-50, 50) / 2 end
    local src = {}
    for i, v in ipairs(vals) do src[i] = ("%.17g"):format(v) end
    local np_x = "np.array([" .. table.concat(src, ",") .. "]).reshape(23, 1) * np.array([1.0, -2.0])"
    local x = da.from_array(vals, { chunks = 5 }):reshape { 23, 1 } * da.from_array({ 1.0, -2.0 })
    for _, method in ipairs { "linear", "lower", "higher", "nearest", "midpoint" } do
      local got = H.get(da.quantile(x, { 0, 0.1, 0.5, 0.77, 1 }, { axis = 1, method = method }))
      local want = H.numpy(("np.quantile(%s, [0, 0.1, 0.5, 0.77, 1], axis=0, method=%q)"):format(np_x, method))
      assert.same(want.shape, got.shape)
      H.same(got, want.flat, 1e-14)
    end
    H.same(H.get(da.percentile(x, 30, 1)), H.numpy(("np.percentile(%s, 30, axis=0)"):format(np_x)).flat, 1e-14)
    assert.has_error(function() da.quantile(x, 1.5, 1) end)
    assert.has_error(function() da.quantile(x, 0.5, { axis = 1, method = "weird" }) end)
  end)

  it("topk and argtopk against a sort, both signs of k, uneven chunks, each axis", function()
    local flat, x = grid("int64")
    for _, axis in ipairs { 1, 2 } do
      for _, k in ipairs { 2, -3, 1, 9 } do
        local got = H.get(x:topk(k, axis))
        local gotarg = H.get(da.argtopk(x, k, axis))
        local m = math.min(math.abs(k), axis == 1 and R or C)
        local ls = lanes(flat, axis)
        local vals, poss = {}, {}
        for li, l in ipairs(ls) do
          local idx = {}
          for p = 1, #l do idx[p] = p end
          table.sort(idx, function(a, b)
            if l[a] ~= l[b] then if k > 0 then return l[a] > l[b] end return l[a] < l[b] end
            return a < b
          end)
          vals[li], poss[li] = {}, {}
          for r = 1, m do vals[li][r], poss[li][r] = l[idx[r]], idx[r] end
        end
        local want, wantpos = {}, {}
        if axis == 2 then
          for i = 1, R do for r = 1, m do want[#want + 1], wantpos[#wantpos + 1] = vals[i][r], poss[i][r] end end
        else
          for r = 1, m do for j = 1, C do want[#want + 1], wantpos[#wantpos + 1] = vals[j][r], poss[j][r] end end
        end
        H.same(got, want, 0)
        -- positions of equal values may differ in order between blocks: check values at them
        for q, p in ipairs(gotarg.flat) do
          local r, c = table.unpack(axis == 2 and { (q - 1) // m + 1, p } or { p, (q - 1) % C + 1 })
          assert.equal(want[q], at(flat, r, c))
        end
      end
    end
    assert.has_error(function() x:topk(0) end, "lask.array: topk: k must be a nonzero integer, got 0")
  end)

  it("moment and trace against Lua loops", function()
    local flat, x = grid("int64")
    for _, order in ipairs { 0, 1, 2, 3, 4 } do
      local want = map_lanes(flat, 2, function(l)
        local m = 0
        for _, v in ipairs(l) do m = m + v end
        m = m / #l
        local s = 0
        for _, v in ipairs(l) do s = s + (v - m) ^ order end
        return s / #l
      end)
      H.same(H.get(da.moment(x, order, 2)), want, 1e-12)
    end
    for _, k in ipairs { 0, 1, -2, 4, -6, 7 } do
      local s = 0
      for i = 1, R do
        local j = i + k
        if j >= 1 and j <= C then s = s + at(flat, i, j) end
      end
      assert.equal(s, x:trace(k):compute():item())
    end
    local bflat, b = grid("bool")
    local s = 0
    for i = 1, C do s = s + num(at(bflat, i, i)) end
    assert.equal(s, da.trace(b):compute():item())
    assert.has_error(function() da.trace(da.arange(3)) end, "lask.array: trace: x must have at least 2 axes, got 1")
  end)

  it("view layouts: transposed, sliced, empty and 0-d inputs", function()
    local flat, x = grid("float64")
    local t = x.T -- 5 x 7: lane j of t along axis 2 is column j of x
    H.same(H.get(t:nanmedian(2)), map_lanes(flat, 1, function(l) return median_ref(l, true) end), 1e-12)
    H.same(H.get(t:nansum(2)), map_lanes(flat, 1, REF.nansum), 1e-12)
    H.same(H.get(t:topk(-1, 2)), map_lanes(flat, 1, function(l)
      local m = math.huge
      for _, v in ipairs(l) do if v ~= v then return v end m = math.min(m, v) end
      return m
    end), 0)
    local sl = x:slice({ 3, 6 }, { 2, 4 }) -- rows 3..6, columns 2..4 (1-based, inclusive)
    local sub = {}
    for i = 3, 6 do for j = 2, 4 do sub[#sub + 1] = at(flat, i, j) end end
    local s = 0
    for _, v in ipairs(sub) do if v == v then s = s + v end end
    assert.near(s, sl:nansum():compute():item(), 1e-12)
    local e = da.zeros({ 0 }, { chunks = 2 })
    assert.same({}, H.get(e:cumsum()).flat)
    assert.equal(false, e:any():compute():item())
    assert.equal(true, e:all():compute():item())
    assert.equal(0, e:nansum():compute():item())
    assert.same({}, H.get(da.zeros({ 3, 0 }):median(1)).flat)
    local em = H.get(e:median()) -- numpy: nan (with a warning)
    assert.is_true(em.flat[1] ~= em.flat[1])
    assert.has_error(function() e:quantile(0.5) end, "lask.array: quantile: cannot take a quantile of an empty axis")
    local z = da.from_array(nd.asarray(3.5))
    assert.equal(3.5, z:median():compute():item())
    assert.same({ 3.5 }, H.get(z:cumsum()).flat) -- numpy: a 0-d cumsum is 1-d
    assert.equal(true, z:any():compute():item())
  end)

  it("every scheduler gives the same results", function()
    local _, x = grid("float64")
    local exprs = { x:nanmean(1), x:nanstd(2), da.nanmax(x), x:nancumsum(2), x:nanmedian(1),
      da.topk(x:nansum(1), 2) }
    for _, e in ipairs(exprs) do
      local want = H.get(e, { scheduler = "sync" })
      for _, s in ipairs { "threaded", "multiprocessing" } do H.same(H.get(e, { scheduler = s }), want.flat, 0) end
      H.same(H.get(e, { scheduler = "threaded", lua = "parallel" }), want.flat, 0)
    end
  end)
end)
