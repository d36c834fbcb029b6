-- Storage: x:store with regions (into an existing .npy) and compute = false (a
-- delayed store), da.store of lists, da.to_npy_stack / da.from_npy_stack; every
-- dtype, uneven chunks, every scheduler.
local describe, it, assert, dofile, debug, before_each, after_each = describe, it, assert, dofile, debug, before_each, after_each
local _ENV = _G
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local S = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "spec_helpers.lua")
local lask, da = H.lask, H.da

local SCHEDULERS = {
  { scheduler = "sync" }, { scheduler = "threaded" }, { scheduler = "threaded", lua = "parallel" },
  { scheduler = "multiprocessing" },
}
local DTYPES = { "float64", "float32", "int64", "bool" }

local exists, listdir = S.exists, S.listdir

-- A 2-d array of dtype with values f(i, j), chunked unevenly, and its flat reference.
local function sample(shape, dtype, chunks, f)
  f = f or function(i, j) return (i * 7 + j * 3) % 5 end
  local flat = H.grid(shape, f)
  local a = da.asarray(flat):reshape(shape):astype(dtype)
  return da.from_array(a, { chunks = chunks }), H.vals(a).flat
end

describe("x:store", function()
  local dir
  before_each(function() dir = S.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("writes regions of an existing .npy in place, converting to its dtype, the rest untouched", function()
    for _, fdtype in ipairs(DTYPES) do
      for _, dtype in ipairs(DTYPES) do
        for si, opts in ipairs(SCHEDULERS) do
          local path = ("%s/t-%s-%s-%d.npy"):format(dir, fdtype, dtype, si)
          local base, base_ref = sample({ 6, 7 }, fdtype, { 4, 3 }, function(i, j) return (i + j) % 2 end)
          base:store(path)
          local x = sample({ 3, 4 }, dtype, { 2, 3 }, function(i, j) return (i * j) % 3 end)
          local o = { regions = { { 2, 4 }, { -5, -2 } } }
          for k, v in pairs(opts) do o[k] = v end
          assert.is_true(x:store(path, o))
          local want = {}
          for i = 1, 6 do
            for j = 1, 7 do
              local v = base_ref[(i - 1) * 7 + j] -- already of fdtype
              if i >= 2 and i <= 4 and j >= 3 and j <= 6 then
                local w = ((i - 1) * (j - 2)) % 3 -- of dtype, then converted to fdtype
                if dtype == "bool" then w = w ~= 0 and 1 or 0 end
                if fdtype == "bool" then v = w ~= 0 elseif fdtype ~= "int64" then v = w + 0.0 else v = w end
              end
              want[#want + 1] = v
            end
          end
          local got = H.vals(da.load(path))
          assert.equal(fdtype, got.dtype)
          H.same(got, want)
        end
      end
    end
  end)

  it("with mmap = true writes regions through a writable shared map of the file, on every scheduler", function()
    for si, opts in ipairs(SCHEDULERS) do
      for _, dtype in ipairs(DTYPES) do
        local path = ("%s/m%d%s.npy"):format(dir, si, dtype)
        da.zeros({ 5, 4 }, { dtype = "float64" }):store(path)
        local x = sample({ 3, 4 }, dtype, { 2, 3 }, function(i, j) return i + j end)
        local o = { regions = { { 2, 4 } }, mmap = true, compute = false }
        for k, v in pairs(opts) do o[k] = v end
        local d = x:store(path, o)
        H.same(H.vals(da.load(path)), H.grid({ 5, 4 }, function() return 0.0 end)) -- nothing yet
        assert.is_true(lask.compute(d, opts))
        local want = H.grid({ 5, 4 }, function(i, j)
          if i < 2 or i > 4 then return 0.0 end
          local v = (i - 1) + j
          if dtype == "bool" then return 1.0 end
          return v + 0.0
        end)
        H.same(H.vals(da.load(path)), want)
      end
    end
    assert.error_matches(function() da.ones({ 2 }):store(dir .. "/n.npy", { mmap = true }) end, "give regions")
    local m = da.load(dir .. "/m1int64.npy", { mmap = "r+" })
    assert.equal("float64", m.dtype)
    assert.error_matches(function() da.load(dir .. "/m1int64.npy", { mmap = "w" }) end,
      'mmap must be true, false or "r%+", got "w"')
  end)

  it("takes {} and missing trailing regions as whole axes", function()
    local path = dir .. "/w.npy"
    da.zeros({ 4, 3 }):store(path)
    da.ones({ 2, 3 }, { chunks = 1 }):store(path, { regions = { { 3, 4 } } })
    H.same(H.vals(da.load(path)), { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1 })
    local five = da.ones({ 4, 3 }) * 5
    five:store(path, { regions = {} })
    H.same(H.vals(da.load(path)), { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 })
  end)

  it("refuses regions that do not fit, naming the file and the sizes", function()
    local path = dir .. "/r.npy"
    da.zeros({ 4, 3 }):store(path)
    local x = da.ones({ 2, 3 })
    assert.error_matches(function() x:store(path, { regions = { { 1, 3 } } }) end,
      "region 1 of .*/r.npy has 3 elements, but the array's axis 1 has 2")
    assert.error_matches(function() x:store(path, { regions = { { 4, 5 } } }) end,
      "region 1 {4, 5} is out of range for an axis of extent 4")
    assert.error_matches(function() x:store(path, { regions = { { 1, 4, 2 } } }) end, "no step")
    assert.error_matches(function() da.ones({ 3 }):store(path, { regions = { { 1, 3 } } }) end,
      "a 1%-d array .* cannot be written into .*, of shape %(4, 3%)")
    assert.error_matches(function() x:store(dir .. "/missing.npy", { regions = { { 1, 2 } } }) end,
      "regions write into an existing .npy file: .*missing.npy")
  end)

  it("with compute = false gives a delayed store that writes when computed, on every scheduler", function()
    for si, opts in ipairs(SCHEDULERS) do
      for _, dtype in ipairs(DTYPES) do
        local x, ref = sample({ 5, 3 }, dtype, { 2, 2 })
        local p1, p2 = ("%s/a%d%s.npy"):format(dir, si, dtype), ("%s/b%d%s.npy"):format(dir, si, dtype)
        local s1 = x:store(p1, { compute = false })
        local s2 = x.T:store(p2, { compute = false })
        assert.is_true(lask.delayed(0) ~= s1 and require("lask.delayed").is_delayed(s1))
        assert.is_false(exists(p1))
        local a, b, y = lask.compute(s1, s2, x, opts)
        assert.is_true(a)
        assert.is_true(b)
        H.same(H.vals(y), ref)
        H.same(H.vals(da.load(p1)), ref)
        assert.same({ 3, 5 }, H.vals(da.load(p2)).shape)
      end
    end
  end)

  it("da.store writes lists of arrays in one pass, with regions per array", function()
    local p, q = dir .. "/p.npy", dir .. "/q.npy"
    assert.is_true(da.store({ da.arange(5, { chunks = 2 }), da.ones({ 2, 2 }) }, { p, q }))
    H.same(H.vals(da.load(p)), { 0, 1, 2, 3, 4 })
    local d = da.store({ da.full({ 2 }, 9, { dtype = "int64" }), da.zeros({ 1, 2 }) }, { p, q },
      { regions = { { { 4, 5 } }, { { 2, 2 } } }, compute = false })
    d:compute()
    H.same(H.vals(da.load(p)), { 0, 1, 2, 9, 9 })
    H.same(H.vals(da.load(q)), { 1, 1, 0, 0 })
    local q2 = dir .. "/q2.npy"
    da.zeros({ 2, 2 }):store(q2)
    da.store({ da.full({ 2, 1 }, 7), da.full({ 2, 1 }, 8) }, { q, q2 }, { regions = { {}, { 2, 2 } } })
    H.same(H.vals(da.load(q)), { 1, 7, 0, 7 }) -- one region for both
    H.same(H.vals(da.load(q2)), { 0, 8, 0, 8 })
    assert.error_matches(function() da.store({ da.ones({ 1 }) }, { p }, { regions = { { { 1, 1 } }, { { 2, 2 } } } }) end,
      "2 regions for 1 arrays")
  end)

  it("a failing delayed store leaves no file and no temporary behind", function()
    local path = dir .. "/f.npy"
    local boom = da.from_delayed(lask.delayed(function() error("no data") end)(), { 3 })
    local s = da.concatenate({ da.ones({ 4 }), boom }):store(path, { compute = false })
    assert.error_matches(function() lask.compute(s) end, "no data")
    assert.same({}, listdir(dir))
  end)
end)

describe("da.to_npy_stack / da.from_npy_stack", function()
  local dir
  before_each(function() dir = S.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("round-trips along each axis, every dtype, uneven chunks, every scheduler", function()
    for _, dtype in ipairs(DTYPES) do
      for axis = 1, 2 do
        for si, opts in ipairs(SCHEDULERS) do
          local x, ref = sample({ 7, 5 }, dtype, { 3, 2 })
          local sub = ("%s/s-%s-%d-%d"):format(dir, dtype, axis, si)
          local o = { axis = axis }
          for k, v in pairs(opts) do o[k] = v end
          assert.is_true(da.to_npy_stack(sub, x, o))
          local y = da.from_npy_stack(sub)
          assert.equal(dtype, y.dtype)
          assert.same({ 7, 5 }, H.lask and { y.shape[1], y.shape[2] })
          assert.same(axis == 1 and { 3, 3, 1 } or { 2, 2, 1 }, { table.unpack(y.chunks[axis]) })
          assert.equal(1, #y.chunks[3 - axis])
          H.same(H.get(y, opts), ref)
          assert.equal(4, #listdir(sub)) -- info and three files
        end
      end
    end
  end)

  it("with compute = false writes the files when computed", function()
    local sub = dir .. "/lazy"
    local d = da.to_npy_stack(sub, da.arange(6, { chunks = 4 }), { compute = false })
    assert.is_false(exists(sub .. "/0.npy"))
    assert.is_true(d:compute())
    H.same(H.get(da.from_npy_stack(sub)), { 0, 1, 2, 3, 4, 5 })
  end)

  it("says what is wrong with a directory that is not a stack", function()
    assert.error_matches(function() da.from_npy_stack(dir .. "/none") end, "from_npy_stack: .*none/info")
    S.write_file(dir .. "/info", "something else\n")
    assert.error_matches(function() da.from_npy_stack(dir) end, "is not a stack's info file")
    da.to_npy_stack(dir, da.arange(6, { chunks = 3 }))
    da.arange(4):store(dir .. "/1.npy")
    assert.error_matches(function() da.from_npy_stack(dir) end,
      "1.npy holds int64 of shape %(4,%), but the info file says int64 of shape %(3,%)")
    assert.error_matches(function() da.to_npy_stack(dir, da.arange(3), { axis = 2 }) end, "axis 2 is out of range")
  end)
end)
