-- lask.delayed: delayed functions and values, on every scheduler; delayed arrays
-- (to_delayed, from_delayed); lask.compute over both.
-- busted runs specs in an environment of its own; the tasks here read the real
-- globals, as a user's script does (lua = "parallel" copies a task's environment).
local describe, it, assert, dofile, debug = describe, it, assert, dofile, debug
local _ENV = _G
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "array_helpers.lua")
local lask, da = H.lask, H.da
local delayed = lask.delayed

-- Every scheduler, and lua = "parallel" (Lua tasks on worker states).
local SCHEDULERS = {
  { name = "sync", opts = { scheduler = "sync" } },
  { name = "threaded", opts = { scheduler = "threaded" } },
  { name = "threaded, lua = parallel", opts = { scheduler = "threaded", lua = "parallel", strict = true } },
  { name = "multiprocessing", opts = { scheduler = "multiprocessing" } },
}

local function sum(xs)
  local s = 0
  for _, v in ipairs(xs) do s = s + v end
  return s
end

describe("lask.delayed", function()
  it("runs the issue's example as written", function()
    local printed = {}
    local print = function(...) -- the example's prints, kept
      local parts = table.pack(...)
      for i = 1, parts.n do parts[i] = tostring(parts[i]) end
      printed[#printed + 1] = table.concat(parts, "\t")
    end
    local other = delayed(function() return "other" end)()
    -- the example, verbatim
    local delayed = lask.delayed
    local inc = delayed(function(x) return x + 1 end)
    local add = delayed(function(a, b) return a + b end)
    local z = add(inc(1), 10)                 -- lazy: a graph, nothing ran
    print(z:compute())                        --> 12
    print(lask.tostring(z.dask))              -- the talk's graph, with generated keys
    local parts = {}
    for i = 1, 100 do parts[i] = inc(i) end
    print(delayed(sum)(parts):compute())      -- lists of delayed values as arguments
    z:visualize("z.svg"); lask.compute(z, other); z:persist()
    -- what it printed and made
    assert.equal("12", printed[1])
    assert.matches("^{'add%-%x+': {add, 'inc%-%x+', 10},\n 'inc%-%x+': {inc, 1}}$", printed[2])
    assert.equal("5150", printed[3])
    local f = assert(io.open("z.svg", "r"))
    assert.matches("<svg", f:read("a"))
    f:close()
    os.remove("z.svg")
  end)

  it("names keys from the function and the arguments (pure) or uniquely, as strings", function()
    local inc = delayed(function(x) return x + 1 end)
    local a, b = inc(1), inc(1)
    assert.is_string(a.key)
    assert.matches("^inc%-%x+$", a.key)
    assert.not_equal(a.key, b.key) -- impure: a key per call
    local pinc = delayed(function(x) return x + 1 end, { pure = true })
    assert.equal(pinc(1).key, pinc(1).key)
    assert.not_equal(pinc(1).key, pinc(2).key)
    assert.equal(pinc(a).key, pinc(a).key)
    assert.not_equal(pinc(a).key, pinc(b).key)
    assert.equal(pinc({ 1, { 2, "x" } }).key, pinc({ 1, { 2, "x" } }).key)
    local named = delayed(function(x) return x end, { name = "load" })
    assert.matches("^load%-%x+$", named(1).key)
    assert.equal("cfg", delayed({ a = 1 }, { name = "cfg" }).key)
    assert.matches("^number%-%x+$", delayed(5).key)
    assert.equal(delayed(5).key, delayed(5).key)
    assert.equal(tostring(a), "Delayed('" .. a.key .. "')")
    local function work(x) return x end
    local w = delayed(work)
    assert.matches("^work%-%x+$", w(1).key) -- the function's own name first
    for i = 1, 3 do assert.matches("^lambda%-%x+$", delayed(function(x) return x end, { name = "lambda" })(i).key) end
    local k = delayed(lask.kernels.add)(1, 2) -- any callable: a native kernel
    assert.matches("^add%-%x+$", k.key)
    assert.equal(3, k:compute())
    assert.matches("^{'add%-%x+': {add, 1, 2}}$", lask.tostring(k))
  end)

  it("builds and runs long chains without recursion", function()
    local inc = delayed(function(x) return x + 1 end)
    local d = delayed(0)
    for _ = 1, 20000 do d = inc(d) end
    assert.equal(20000, d:compute({ scheduler = "sync" }))
    assert.equal(20000, d:compute())
  end)

  it("shares work between values computed together, and across calls when pure", function()
    local runs = 0
    local slow = delayed(function(x) runs = runs + 1 return x * 10 end)
    local add = delayed(function(p, q) return p + q end)
    local s = slow(4)
    local a, b = add(s, 1), add(s, 2)
    local va, vb = lask.compute(a, b, { scheduler = "sync" })
    assert.same({ 41, 42 }, { va, vb })
    assert.equal(1, runs)
    local p = delayed(function(x) runs = runs + 1 return x end, { pure = true })
    runs = 0
    assert.equal(14, add(p(7), p(7)):compute({ scheduler = "sync" }))
    assert.equal(1, runs)
    runs = 0
    local held = s:persist({ scheduler = "sync" })
    assert.equal(s.key, held.key)
    assert.equal(1, runs)
    assert.equal(41, add(held, 1):compute())
    assert.equal(1, runs) -- persisted: not run again
  end)

  for _, sc in ipairs(SCHEDULERS) do
    describe("on " .. sc.name, function()
      local opts = sc.opts

      it("computes a random graph of delayed calls as direct calls do (seeded)", function()
        local seed = os.time()
        print("delayed random graph seed " .. seed)
        local rng = math.random
        math.randomseed(seed)
        local function f1(a) return a * 3 - 1 end
        local function f2(a, b) return a - 2 * b end
        local function f3(xs) return sum(xs) % 1000 end
        local d1, d2, d3 = delayed(f1), delayed(f2), delayed(f3)
        local lazy, ref = { delayed(1) }, { 1 }
        for i = 2, 60 do
          local k = rng(3)
          local a, b = rng(#lazy), rng(#lazy)
          if k == 1 then
            lazy[i], ref[i] = d1(lazy[a]), f1(ref[a])
          elseif k == 2 then
            lazy[i], ref[i] = d2(lazy[a], lazy[b]), f2(ref[a], ref[b])
          else
            lazy[i], ref[i] = d3({ lazy[a], lazy[b], i }), f3({ ref[a], ref[b], i })
          end
        end
        local got = { lask.compute(lazy[60], lazy[30], lazy, opts) }
        assert.equal(ref[60], got[1])
        assert.equal(ref[30], got[2])
        assert.same(ref, got[3])
      end)

      it("builds tasks from operators, fields, indices and comparison methods", function()
        local i, f, s, t = delayed(7), delayed(2.5), delayed("ab"), delayed({ x = { 10, 20 }, name = "n" })
        local got = { lask.compute(i + 1, 1 + i, i - 2, i * 3, i / 2, i % 4, i ^ 2, i // 2, -i, f * 2,
          i & 3, i | 8, i ~ 1, i << 2, i >> 1, ~i, s .. "c", "z" .. s, t.x[2], t.name, t["x"][1],
          i:lt(8), i:le(6), i:gt(6), i:ge(8), i:eq(7), i:ne(7), s:upper(), s:rep(2, "-"), opts) }
        assert.same({ 8, 8, 5, 21, 3.5, 3, 49.0, 3, -7, 5.0, 3, 15, 6, 28, 3, -8, "abc", "zab", 20, "n", 10,
          true, false, true, false, true, false, "AB", "ab-ab" }, got)
        assert.equal("float", math.type(got[5]))
        assert.equal("integer", math.type(got[8]))
      end)

      it("gives nout results as a list, each a delayed value too", function()
        local divmod = delayed(function(a, b) return a // b, a % b, "dropped" end, { nout = 2 })
        local d = divmod(17, 5)
        assert.equal(2, #d)
        local q, r = table.unpack(d)
        assert.same({ 3, 2 }, d:compute(opts))
        assert.same({ 3, 2, 2 }, { lask.compute(q, r, d[-1], opts) })
        local none = delayed(function() end, { nout = 0 })
        assert.same({}, none():compute(opts))
        assert.is_nil(d[3]) -- out of range, as a lask.ndarray's a[i]
        assert.is_nil(d[0])
        local keys = {}
        for i, v in ipairs(d) do keys[i] = v.key end
        assert.equal(2, #keys)
      end)

      it("takes lists and tables of delayed values, nested, and plain values whole", function()
        local inc = delayed(function(x) return x + 1 end)
        local pack = delayed(function(...) return { n = select("#", ...), ... } end)
        local v = pack({ inc(1), { inc(2), "s" } }, { a = inc(3), b = { 1, 2 } }, "inc", nil, { string.len, 1 },
          { [2] = inc(4) }):compute(opts)
        assert.equal(6, v.n)
        assert.same({ 2, { 3, "s" } }, v[1])
        assert.same({ a = 4, b = { 1, 2 } }, v[2])
        assert.equal("inc", v[3])
        assert.is_nil(v[4])
        assert.equal(1, v[5][2])
        assert.same({ [2] = 5 }, v[6])
        local lit = delayed({ inc(0), { k = inc(1) } })
        assert.same({ 1, { k = 2 } }, lit:compute(opts))
        assert.equal(3, (delayed(3)):compute(opts))
      end)

      it("calls a delayed function value and a delayed function of delayed functions", function()
        local pick = delayed(function(k) return k == "up" and string.upper or string.lower end)
        assert.equal("ABC", pick("up")("abc"):compute(opts))
        assert.equal("abc", pick("down")("ABC"):compute(opts))
      end)

      it("mixes arrays: an array argument is computed whole, and lask.compute gives both", function()
        for _, dtype in ipairs { "float64", "float32", "int64", "bool" } do
          local x = da.from_array(da.asarray({ 1, 0, 3, 4, 0, 6, 7 }, dtype), { chunks = 3 })
          local count = delayed(function(a) return a.size .. a.dtype end)
          local c, xs, bs = lask.compute(count(x), x, x:to_delayed(), opts)
          assert.equal("7" .. dtype, c)
          H.same(H.vals(xs), H.vals(da.asarray({ 1, 0, 3, 4, 0, 6, 7 }, dtype)).flat)
          assert.equal(3, #bs)
          H.same(H.vals(bs[3]), H.vals(da.asarray({ 7 }, dtype)).flat)
          assert.equal(dtype, bs[2].dtype)
          local t = lask.compute({ a = x, b = { x:max(), "kept" } }, opts) -- tables are given back computed
          H.same(H.vals(t.a), H.vals(xs).flat)
          H.same(H.vals(t.b[1]), H.vals(da.asarray({ 7 }, dtype)).flat)
          assert.equal("kept", t.b[2])
        end
      end)
    end)
  end

  it("refuses what it cannot do, saying why", function()
    assert.error_matches(function() delayed(print, { pur = true }) end, "did you mean 'pure'")
    assert.error_matches(function() delayed(print, { nout = -1 }) end, "nout must be a non%-negative integer")
    local d = delayed(1)
    assert.error_matches(function() return d < 2 end, "use d:lt%(v%)")
    assert.error_matches(function() return #d end, "unknown length")
    assert.error_matches(function() d.x = 1 end, "immutable")
    local boom = delayed(function() error("boom") end)()
    local ok, err = pcall(boom.compute, boom)
    assert.is_false(ok)
    assert.equal(boom.key, err.key)
    assert.matches("boom", tostring(err))
  end)

  it("keeps its graph in .dask: every task, arrays' included", function()
    local x = da.arange(4, { chunks = 2 })
    local d = delayed(function(a, b) return a end)(x, delayed(2))
    local dsk = d.dask
    assert.is_not_nil(dsk[d.key])
    assert.is_not_nil(dsk[lask.key(x.name, 1)])
    assert.is_not_nil(dsk[lask.key("finalize-" .. x.name)])
    assert.same({ 0, 1, 2, 3 }, lask.get(dsk, d.key):totable())
  end)
end)

describe("delayed arrays", function()
  it("x:to_delayed() gives the blocks in a grid; from_delayed makes arrays of delayed values", function()
    for _, dtype in ipairs { "float64", "float32", "int64", "bool" } do
      local ref = H.grid({ 5, 7 }, function(i, j) return (i * 7 + j) % 3 end)
      local a = da.asarray(ref, nil):reshape({ 5, 7 }):astype(dtype)
      local x = da.from_array(a, { chunks = { 2, 3 } })
      local grid = x:to_delayed()
      assert.equal(3, #grid)
      assert.equal(3, #grid[1])
      assert.same(lask.key(x.name, 2, 1), grid[3][2].key)
      local rows = {}
      for i = 1, 3 do
        local row = {}
        for j = 1, 3 do
          local b = grid[i][j]
          row[j] = da.from_delayed(b, { x.chunks[1][i], x.chunks[2][j] }, { dtype = dtype })
        end
        rows[i] = da.concatenate(row, 2)
      end
      local back = da.concatenate(rows, 1)
      assert.equal(dtype, back.dtype)
      for _, sc in ipairs(SCHEDULERS) do H.same(H.get(back, sc.opts), H.vals(a).flat) end
    end
  end)

  it("from_delayed converts numbers and Lua lists, and names a wrong shape", function()
    local make = delayed(function(n) return { n, n * 2, n * 3 } end)
    local x = da.from_delayed(make(2), { 3 }, { dtype = "int64" })
    H.same(H.get(x + 1), { 3, 5, 7 })
    local z = da.from_delayed(delayed(4.5), {})
    H.same(H.get(z), { 4.5 })
    local bad = da.from_delayed(make(1), { 4 })
    assert.error_matches(function() bad:compute() end,
      "from_delayed: 'make%-%x+' computed to an array of shape %(3,%), but shape %(4,%) was declared")
    assert.error_matches(function() da.from_delayed(make(1), { 3 }, { dtype = "complex" }) end, "unknown dtype")
  end)

  it("to_delayed of a 0-d array is one delayed value", function()
    local s = da.arange(5, { chunks = 2 }):sum()
    local d = s:to_delayed()
    assert.equal(10, d:compute():item())
  end)
end)
