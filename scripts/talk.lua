-- The seed talk, "dask.core: dead simple task scheduling", step by step in lask.
-- Run it with `make demo` or `build/lask scripts/talk.lua`.
local lask = require "lask"

local function section(title) print(("\n### %s\n"):format(title)) end

section "What is a graph? A table of tasks"
local function inc(i) return i + 1 end
local function add(a, b) return a + b end
-- Normal Lua:  x = 1; y = inc(x); z = add(y, 10)
local d = { x = 1, y = { inc, "x" }, z = { add, "y", 10 } }
print(lask.tostring(d))

section "get(d, 'z') with the threaded scheduler"
print(("require('lask.threaded').get(d, 'z')  --> %s"):format(require("lask.threaded").get(d, "z")))
print(("require('lask.sync').get(d, 'z')      --> %s"):format(require("lask.sync").get(d, "z")))
print(("lask.get(d, {'x', {'y', 'z'}})        --> {%s, {%s, %s}}"):format(
  table.unpack((function(r) return { r[1], r[2][1], r[2][2] } end)(lask.get(d, { "x", { "y", "z" } })))))

section "Tuple keys, list arguments and native kernels (x.sum().dask, by hand)"
local K = lask.kernels
local key = lask.key
local s = {}
for i = 0, 2 do
  s[key("x", i)] = { K.identity, i * 5 }            -- stand-ins for np.arange(i*5, i*5+5)
  s[key("s", i)] = { K.mul, key("x", i), 5 }
end
s[key("s")] = { K.sum, { key("s", 0), key("s", 1), key("s", 2) } }  -- a list argument
print(lask.tostring(s))
print(("lask.get(dsk, lask.key('s'))  --> %s"):format(lask.get(s, key("s"))))

section "Nested tasks run inline"
local nested = { x = 1, z = { add, { inc, "x" }, { K.mul, "x", 10 } } }
print(lask.tostring(nested))
print(("lask.get(dsk, 'z')  --> %s"):format(lask.get(nested, "z")))

section "Errors name the task and the cause"
local ok, err = pcall(lask.get, { a = { add, "b", 1 }, b = { add, "a", 1 } }, "a")
print(ok, tostring(err))
ok, err = pcall(lask.get, { x = "1", y = { function(v) return v + {} end, "x" } }, "y")
print(ok, tostring(err))
print("err.key = " .. tostring(err.key))

section "Graph utilities, as in dask.core and dask.optimization"
print("toposort:", table.concat(lask.toposort(d), " "))
local deps = lask.get_dependencies(d, "z")
print("get_dependencies(d, 'z'):", next(deps))
local culled = lask.cull({ x = 1, y = { inc, "x" }, z = { add, "y", 10 }, unused = { inc, 5 } }, { "z" })
print("cull(..., {'z'}):", lask.tostring(culled))
print("fuse(d, {'z'}):", lask.tostring((lask.fuse(d, { "z" }))))

section "dask.array: numpy-ish code turns into graphs"
local da = require "lask.array"
local x = da.arange(15, { chunks = 5 })
print(x)
print("x.dask =", lask.tostring(x.dask))
print("x:sum().dask =", lask.tostring(x:sum().dask))
print("x:sum():compute() =", x:sum():compute())
local y = (2 * x + 1) ^ 3
print("((2*x + 1) ^ 3):sum() =", y:sum():compute(), " -- one fused kernel per block")

section "Parallel, out-of-core SVD (TSQR) and randomized SVD"
local la = require "lask.array.linalg"
local ones = da.ones({ 5000, 1000 }, { chunks = { 1000, 1000 } })
local u, s, v = la.svd(ones)
print("s.dask (first keys) =", lask.tostring(s.dask):sub(1, 300) .. " ...")
print("largest singular value:", s:compute():get(1), "(sqrt(5000 * 1000) = " .. math.sqrt(5e6) .. ")")
local u2, s2, v2 = la.svd_compressed(ones, 100, { n_power_iter = 2, seed = 0 })
print("svd_compressed: u", table.concat(u2.shape, "x"), " s", table.concat(s2.shape, "x"), " v", table.concat(v2.shape, "x"))
local S2 = s2:compute()
print("its largest singular value:", S2:get(1), " (the next:", S2:get(2), "- the matrix has rank one)")
