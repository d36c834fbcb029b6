-- lask.ndarray, the in-memory array of lask.array: Lua access (1-based), asarray,
-- totable, printing, .npy files in both directions with numpy (through Debian's
-- /usr/bin/python3), arrays through graphs, and eager arithmetic.
local lask = require "lask"
local core = require "lask.core"
local ak = core.array_kernels

local PY = "/usr/bin/python3"

local function have_numpy()
  return os.execute(PY .. " -c 'import numpy' >/dev/null 2>&1") == true
end

local tmpdir
local function tmp(name) return tmpdir .. "/" .. name end

-- Runs a Python script (numpy imported as np, `d` the temporary directory); true if it exits 0.
local function python(script)
  local f = assert(io.open(tmp("script.py"), "w"))
  f:write("import numpy as np\nnp.seterr(all='ignore')\nd = '", tmpdir, "'\n", script, "\n")
  f:close()
  return os.execute(PY .. " " .. tmp("script.py")) == true
end

setup(function()
  local p = assert(io.popen("mktemp -d /tmp/lask-ndarray-spec-XXXXXX"))
  tmpdir = p:read("l")
  p:close()
end)

teardown(function() os.execute("rm -rf '" .. tmpdir .. "'") end)

describe("lask.ndarray access", function()
  local a = core.asarray { { 1, 2, 3 }, { 4, 5, 6 } }

  it("describes itself", function()
    assert.are.same({ 2, 3 }, a.shape)
    assert.are.equal("int64", a.dtype)
    assert.are.equal(2, a.ndim)
    assert.are.equal(6, a.size)
    assert.are.equal(2, #a)
    assert.are.same({ 24, 8 }, a.strides)
    assert.is_true(core.ndarray.isndarray(a))
    assert.is_false(core.ndarray.isndarray({}))
  end)

  it("counts from 1: a[i] is a row view, get(i, j) an element", function()
    local row = a[2]
    assert.are.same({ 3 }, row.shape)
    assert.are.equal(5, row[2])
    assert.are.equal(6, a:get(2, 3))
    assert.are.equal(6, a:get(-1, -1))
    assert.are.equal(1, a:get(1, -3))
    assert.is_nil(a[0])
    assert.is_nil(a[3])
  end)

  it("item() gives the one element of a size-1 array, as numpy's", function()
    assert.are.equal(5, a[2]:get(2))
    assert.are.equal(7, core.asarray({ { 7 } }):item())
    assert.are.equal(2.5, core.asarray(2.5):item())
    assert.has_error(function() a:item() end, "lask.ndarray: item needs an array of one element, this one has 6")
  end)

  it("reshape() as numpy's: C order, -1 inferred, a view or a copy", function()
    local b = a:reshape { 3, -1 } -- a is 2x3: 1..6
    assert.are.same({ 3, 2 }, b.shape)
    assert.are.same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, b:totable())
    assert.are.same({ 1, 2, 3, 4, 5, 6 }, a:reshape(-1):totable())
    assert.are.same({ 1, 4, 2, 5, 3, 6 }, core.array_kernels.transpose(a):reshape(6):totable()) -- copied
    assert.are.equal(7, core.asarray({ { 7 } }):reshape({}):item())
    assert.has_error(function() a:reshape { 4, 2 } end,
      "lask.ndarray: reshape: cannot reshape an array of shape (2, 3) into shape (4, 2)")
    assert.has_error(function() a:reshape { -1, -1 } end, "lask.ndarray: reshape: only one extent can be -1")
  end)

  it("raises for a bad index or index count", function()
    assert.has_error(function() a:get(3, 1) end, "lask.ndarray: index 3 out of range for axis 1 of size 2")
    assert.has_error(function() a:get(1) end, "lask.ndarray: get needs 2 indices for a 2-d array, got 1")
  end)

  it("works with ipairs", function()
    local seen = {}
    for i, v in ipairs(core.asarray { 7, 8, 9 }) do seen[i] = v end
    assert.are.same({ 7, 8, 9 }, seen)
  end)

  it("is read-only", function()
    assert.has_error(function() a[1] = 5 end, "lask.ndarray is read-only")
  end)

  it("gives nested tables", function()
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, a:totable())
    assert.are.same({ 4, 5, 6 }, a[2]:totable())
    assert.are.equal(2.5, core.asarray(2.5):totable())
    assert.are.same({}, core.asarray({}):totable())
  end)

  it("gives Lua numbers, integers and booleans", function()
    assert.are.equal("float", math.type(core.asarray({ 1.5 })[1]))
    assert.are.equal("integer", math.type(core.asarray({ 1 })[1]))
    assert.are.equal(true, core.asarray({ true })[1])
    assert.are.equal("float", math.type(core.asarray({ 1 }, "float32")[1]))
  end)
end)

describe("asarray", function()
  it("infers the dtype as numpy does", function()
    assert.are.equal("int64", core.asarray({ 1, 2 }).dtype)
    assert.are.equal("float64", core.asarray({ 1, 2.5 }).dtype)
    assert.are.equal("bool", core.asarray({ true, false }).dtype)
    assert.are.equal("int64", core.asarray({ true, 2 }).dtype)
    assert.are.equal("float64", core.asarray({}).dtype)
    assert.are.same({ 0 }, core.asarray({}).shape)
    assert.are.same({}, core.asarray(3).shape)
    assert.are.equal("bool", core.asarray(false).dtype)
  end)

  it("converts to a dtype asked for", function()
    local f = core.asarray({ 1.7, -1.7 }, "int64")
    assert.are.same({ 1, -1 }, f:totable())
    assert.are.equal("float32", core.asarray({ 1, 2 }, "float32").dtype)
    assert.are.same({ false, true }, core.asarray({ 0, 3 }, "bool"):totable())
  end)

  it("passes an ndarray through, or converts it", function()
    local a = core.asarray { 1, 2 }
    assert.are.equal(a, core.asarray(a))
    assert.are.equal("float64", core.asarray(a, "float64").dtype)
  end)

  it("rejects ragged and non-numeric tables with the place of the problem", function()
    assert.has_error(function() core.asarray { { 1, 2 }, { 3 } } end,
      "asarray: ragged nested table: [2] has 1 elements, not 2")
    assert.has_error(function() core.asarray { { 1, 2 }, 3 } end,
      "asarray: ragged nested table: [2] is a number, not a table of 2 elements")
    assert.has_error(function() core.asarray { 1, { 2 } } end,
      "asarray: ragged nested table: [2] is a table where a number was expected")
    assert.has_error(function() core.asarray { { 1, "x" } } end, "asarray: [1][2] is a string, not a number or a boolean")
    assert.has_error(function() core.asarray { 1, nil, 3 } end)
    assert.has_error(function() core.asarray "12" end)
    assert.has_error(function() core.asarray({ 1 }, "int8") end)
  end)
end)

describe("tostring", function()
  it("prints like numpy's repr", function()
    assert.are.equal("array([[1, 2, 3],\n       [4, 5, 6]])", tostring(core.asarray { { 1, 2, 3 }, { 4, 5, 6 } }))
    assert.are.equal("array([ 1.5 ,  2.25, -3.  ])", tostring(core.asarray { 1.5, 2.25, -3 }))
    assert.are.equal("array([ True, False])", tostring(core.asarray { true, false }))
    assert.are.equal("array([1., 2.], dtype=float32)", tostring(core.asarray({ 1, 2 }, "float32")))
    assert.are.equal("array(5)", tostring(core.asarray(5)))
    assert.are.equal("array([], dtype=float64)", tostring(core.asarray {}))
    assert.are.equal("array([nan, inf, 1.5])", tostring(core.asarray { 0 / 0, 1 / 0, 1.5 }))
    assert.are.equal("array([1.e-05, 1.e+00])", tostring(core.asarray { 1e-5, 1 }))
  end)

  -- issue 15 (9): mantissas were padded with spaces (1.    e+00) and the exponent was
  -- not counted in the line width (lines of ~103 columns). Expected: numpy 1.26's repr.
  it("prints scientific notation as numpy: zero-padded mantissas and exponents, 75 columns", function()
    local cases = {
      { { 1e-10, 1.0, 123456789.0 }, "array([1.00000000e-10, 1.00000000e+00, 1.23456789e+08])" },
      { { 1, 2.5e-5 }, "array([1.0e+00, 2.5e-05])" },
      { { 1e-100, 1 }, "array([1.e-100, 1.e+000])" },
      { { 1e10, 2e10, 3.5e10 }, "array([1.0e+10, 2.0e+10, 3.5e+10])" },
      { { 0 / 0, 1e-5, 1 / 0 }, "array([   nan, 1.e-05,    inf])" },
      { { { 1e-5, 1 }, { 2, 3 } }, "array([[1.e-05, 1.e+00],\n       [2.e+00, 3.e+00]])" },
      { { 1e-5, 2e-5, 3e-5, 4e-5, 5e-5, 6e-5, 7e-5, 8e-5, 9e-5, 1.5e-4, 2.5e-4, 3.25e-4, 0.5, 0.25, 1e-9, 2e-9, 3e-9 },
        "array([1.00e-05, 2.00e-05, 3.00e-05, 4.00e-05, 5.00e-05, 6.00e-05,\n"
          .. "       7.00e-05, 8.00e-05, 9.00e-05, 1.50e-04, 2.50e-04, 3.25e-04,\n"
          .. "       5.00e-01, 2.50e-01, 1.00e-09, 2.00e-09, 3.00e-09])" },
    }
    for _, c in ipairs(cases) do assert.are.equal(c[2], tostring(core.asarray(c[1]))) end
    local long = {}
    for i = 1, 200 do long[i] = i * 1.5e-7 end
    for line in tostring(core.asarray(long)):gmatch("[^\n]+") do assert.is_true(#line <= 75, line) end
  end)

  it("elides big arrays", function()
    assert.are.equal("array([   0,    1,    2, ..., 1997, 1998, 1999])", tostring(ak.arange(0, 2000, 1, "int64")))
    local s = tostring(ak.full({ 100, 100 }, 1.5))
    assert.truthy(s:find("...,", 1, true))
    assert.is_true(#s < 600)
  end)
end)

describe(".npy files", function()
  it("round-trip every dtype", function()
    for _, dt in ipairs { "float64", "float32", "int64", "bool" } do
      local a = core.asarray({ { 1, 0, 3 }, { 0, 5, 6 } }, dt)
      assert.is_true(a:save(tmp("rt.npy")))
      local b = assert(core.load(tmp("rt.npy")))
      assert.are.equal(dt, b.dtype)
      assert.are.same(a:totable(), b:totable())
      local m = assert(core.load(tmp("rt.npy"), { mmap = true }))
      assert.are.same(a:totable(), m:totable())
    end
  end)

  it("save raises on failure; the low-level core.load returns nil and a message", function()
    local a, why = core.load(tmp("missing.npy"))
    assert.is_nil(a)
    assert.are.equal("load: " .. tmp("missing.npy") .. ": No such file or directory", why)
    local ok, err = pcall(core.asarray({ 1 }).save, core.asarray({ 1 }), tmp("no/such/dir.npy"))
    assert.is_false(ok)
    assert.truthy(err:find("^lask%.ndarray: .*No such file or directory"), err)
    local f = assert(io.open(tmp("bad.npy"), "wb"))
    f:write("\147NUMPY\1\0\20\0{'descr': '<i4'}    ")
    f:close()
    a, why = core.load(tmp("bad.npy"))
    assert.is_nil(a)
    assert.truthy(why:find("bad.npy", 1, true))
  end)

  describe("with numpy", function()
    before_each(function()
      if not have_numpy() then pending(PY .. " has no numpy (apt-get install python3-numpy)") end
    end)

    it("numpy reads what lask writes", function()
      core.asarray({ { 1.5, 2, 3 }, { 4, 5, 6.25 } }):save(tmp("f8.npy"))
      core.asarray({ { 1, -2 }, { 3, 4 } }):save(tmp("i8.npy"))
      core.asarray({ true, false, true }):save(tmp("b1.npy"))
      core.asarray({ 0.5, 1 }, "float32"):save(tmp("f4.npy"))
      core.asarray(7):save(tmp("0d.npy"))
      assert.is_true(python "np.save(d + '/src.npy', np.asfortranarray([[1, 4], [2, 5], [3, 6]]))")
      core.load(tmp("src.npy"), { mmap = true }):save(tmp("fortran.npy")) -- Fortran-contiguous: kept so
      assert.is_true(python [==[
a = np.load(d + '/f8.npy'); assert a.dtype == np.float64 and (a == [[1.5, 2, 3], [4, 5, 6.25]]).all()
a = np.load(d + '/i8.npy'); assert a.dtype == np.int64 and (a == [[1, -2], [3, 4]]).all()
a = np.load(d + '/b1.npy'); assert a.dtype == np.bool_ and list(a) == [True, False, True]
a = np.load(d + '/f4.npy'); assert a.dtype == np.float32 and list(a) == [0.5, 1]
a = np.load(d + '/0d.npy'); assert a.shape == () and a == 7
a = np.load(d + '/fortran.npy', mmap_mode='r'); assert a.flags.f_contiguous and (a == [[1, 4], [2, 5], [3, 6]]).all()
]==])
    end)

    it("lask reads what numpy writes (C and Fortran order, format 1.0 and 2.0)", function()
      assert.is_true(python [==[
np.save(d + '/c.npy', np.arange(12.).reshape(3, 4))
np.save(d + '/f.npy', np.asfortranarray(np.arange(12).reshape(3, 4)))
np.lib.format.write_array(open(d + '/v2.npy', 'wb'), np.array([[True, False]]), version=(2, 0))
np.save(d + '/f4.npy', np.array([1.25, -2], dtype=np.float32))
np.save(d + '/0d.npy', np.float64(2.5))
np.save(d + '/i4.npy', np.arange(3, dtype=np.int32))
]==])
      local want = { { 0, 1, 2, 3 }, { 4, 5, 6, 7 }, { 8, 9, 10, 11 } }
      assert.are.same(want, core.load(tmp("c.npy")):totable())
      local f = core.load(tmp("f.npy"), { mmap = true })
      assert.are.equal("int64", f.dtype)
      assert.are.same(want, f:totable())
      assert.are.same({ 8, 24 }, f.strides)
      assert.are.same({ { true, false } }, core.load(tmp("v2.npy")):totable())
      assert.are.same({ 1.25, -2 }, core.load(tmp("f4.npy")):totable())
      assert.are.equal(2.5, core.load(tmp("0d.npy")):get())
      local a, why = core.load(tmp("i4.npy"))
      assert.is_nil(a)
      assert.truthy(why:find("dtype '<i4' is not supported", 1, true))
    end)

    it("elementwise kernels agree with numpy (mod, where, maximum, promotion, casts)", function()
      assert.is_true(python [==[
x = np.array([-7., -3.5, 0., 2.5, np.nan, 7.])
y = np.array([2., -2., 3., -1.5, 1., 0.])
i = np.array([-7, -3, 0, 5, 9, 7])
j = np.array([2, -2, 3, -4, 0, 5])
for name, v in dict(x=x, y=y, i=i, j=j).items(): np.save(d + '/' + name + '.npy', v)
np.save(d + '/mod_f.npy', np.remainder(x, y))
np.save(d + '/mod_i.npy', np.remainder(i, j))
np.save(d + '/max.npy', np.maximum(x, y))
np.save(d + '/where.npy', np.where(x < y, i, x))
np.save(d + '/promo.npy', i.astype(np.float32) + i)
np.save(d + '/cast.npy', np.array([-1.7, 1.7, 3.99]).astype(np.int64))
np.save(d + '/cube.npy', (2 * x + 1) ** 3)
np.save(d + '/bcast.npy', np.arange(6.).reshape(3, 1, 2) * np.array([1., 10., 100.]).reshape(3, 1) - i[:2])
]==], "numpy failed")
      local function ld(name) return assert(core.load(tmp(name .. ".npy"))) end
      local function same(a, b)
        assert.are.equal(b.dtype, a.dtype)
        assert.are.same(b.shape, a.shape)
        assert.are.equal(tostring(b), tostring(a))
      end
      local x, y, i, j = ld "x", ld "y", ld "i", ld "j"
      same(ak.mod(x, y), ld "mod_f")
      same(ak.mod(i, j), ld "mod_i")
      same(ak.maximum(x, y), ld "max")
      same(ak.where(ak.less(x, y), i, x), ld "where")
      same(ak.add(ak.astype(i, "float32"), i), ld "promo")
      same(ak.astype(core.asarray { -1.7, 1.7, 3.99 }, "int64"), ld "cast")
      same(core.fused_kernel("2 $1 mul 1 add powi:3")(x), ld "cube")
      local r = ak.arange(0.0, 6.0)
      local lhs = core.asarray { { { 0, 1 } }, { { 2, 3 } }, { { 4, 5 } } }
      assert.are.equal(tostring(ld "bcast"),
        tostring(ak.sub(ak.mul(ak.astype(lhs, "float64"), core.asarray { { 1 }, { 10 }, { 100 } }),
          core.asarray { -7, -3 })))
      assert.are.equal(6, r.size)
    end)
  end)
end)

describe("ndarrays in graphs", function()
  it("come back from graphs as ndarrays, wrapped without a copy", function()
    local a = core.asarray { 1, 2, 3 }
    local d = { a = a, b = { lask.kernels.identity, "a" }, c = { ak.mul, "b", 2 } }
    local r = lask.get(d, { "b", "c" })
    assert.is_true(core.ndarray.isndarray(r[1]))
    assert.are.equal(core.ndarray.id(a), core.ndarray.id(r[1]))
    assert.are.same({ 2, 4, 6 }, r[2]:totable())
  end)

  it("run through array kernels on every scheduler", function()
    local d = {
      x = { ak.arange, 0, 10, 1, "int64" },
      y = { core.fused_kernel("2 $1 mul 1 add powi:3"), "x" },
      z = { lask.kernels.add, "y", 1 }, -- the scalar kernels take arrays too
    }
    for _, get in ipairs { lask.get, require("lask.sync").get } do
      local z = get(d, "z")
      assert.are.equal(1 + 1, z[1])
      assert.are.equal(19 ^ 3 + 1, z[10])
      assert.are.equal("int64", z.dtype)
    end
  end)

  it("report kernel errors with the kernel's message", function()
    local ok, err = pcall(lask.get, { x = { ak.add, core.asarray { 1, 2 }, core.asarray { 1, 2, 3 } } }, "x")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("add: shapes (2,) and (3,) do not broadcast", 1, true))
  end)
end)

describe("ndarray arithmetic", function()
  local a = core.asarray { { 1, 2 }, { 3, 4 } }

  it("is eager and broadcasts", function()
    assert.are.same({ { 3, 5 }, { 7, 9 } }, (a * 2 + 1):totable())
    assert.are.same({ { 0, 1 }, { 2, 3 } }, (a - core.asarray { 1, 1 }):totable())
    assert.are.same({ { -1, -2 }, { -3, -4 } }, (-a):totable())
    assert.are.same({ { 0.5, 1 }, { 1.5, 2 } }, (a / 2):totable())
    assert.are.same({ { 1, 4 }, { 9, 16 } }, (a ^ 2):totable())
    assert.are.same({ { 0, 2 }, { 1, 0 } }, ((10 - a) % 3):totable())
  end)

  it("hands over to the other operand's metamethod", function()
    local lazy = setmetatable({}, { __add = function(x, y) return "lazy add" end })
    assert.are.equal("lazy add", a + lazy)
  end)

  it("raises on shapes that do not broadcast", function()
    assert.has_error(function() return a + core.asarray { 1, 2, 3 } end,
      "add: shapes (2, 2) and (3,) do not broadcast")
  end)
end)

describe("array kernels", function()
  it("are all in core.array_kernels, printing by name", function()
    for _, name in ipairs { "arange", "linspace", "full", "eye", "random", "normal", "from_npy", "add", "sub", "mul",
      "div", "mod", "pow", "neg", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "maximum", "minimum", "where",
      "less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "astype", "fused" } do
      assert.are.equal(name, tostring(ak[name]))
    end
    assert.are.equal("fused(2 $1 mul)", tostring(core.fused_kernel("2 $1 mul")))
    assert.has_error(function() core.fused_kernel("$1 frob") end)
  end)

  it("make the same random numbers whatever the chunking", function()
    local whole = ak.random({ 6, 4 }, 11)
    local block = ak.random({ 3, 2 }, 11, { 3, 2 }, { 6, 4 })
    assert.are.equal(whole:get(4, 3), block:get(1, 1))
    assert.are.equal(whole:get(6, 4), block:get(3, 2))
  end)

  it("read blocks of .npy files", function()
    core.asarray({ { 1, 2, 3 }, { 4, 5, 6 } }):save(tmp("blk.npy"))
    assert.are.same({ { 5, 6 } }, ak.from_npy(tmp("blk.npy"), { 1, 1 }, { 1, 2 }):totable())
  end)
end)
