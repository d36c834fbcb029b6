--- The threaded scheduler: the engine's work-stealing threads (`lask.get` is its get).
-- Native kernels run on every worker thread in parallel. Lua tasks run on the
-- calling Lua state one at a time (`lua = "caller"`, the default), or with `lua =
-- "parallel"` on every worker, each on a Lua state of its own, their functions and
-- upvalues copied in (tasks are pure, as in Dask); `strict = true` makes a task that
-- cannot be copied an error instead of a task on the calling state. The README's
-- section "Lua tasks on every core" says what is copied and when. Dask's name for it
-- in `compute`'s `scheduler` option is "threads".
-- @module lask.threaded
-- @usage local d = {x = 1, y = {lask.kernels.inc, "x"}}
-- assert(require("lask.threaded").get(d, "y", {num_workers = 2}) == 2)
local M = {}

--- Runs a graph on the engine's worker threads and gives the values of keys.
-- @function get
-- @param dsk table: the graph
-- @param keys a key or a (nested) list of keys
-- @param[opt] opts table: as `lask.get`'s (`num_workers`, `callbacks`, `optimize`, `lua`, `strict`)
-- @return the values, in the shape of keys
-- @raise as `lask.get`
-- @usage local function square(v) return v * v end
-- local d = {}
-- for i = 1, 8 do d["t" .. i] = {square, i} end
-- local v = require("lask.threaded").get(d, {"t2", "t8"}, {lua = "parallel"})
-- assert(v[1] == 4 and v[2] == 64)
M.get = require("lask.getter").make_get("threaded")

return M
