--- The synchronous scheduler: runs a graph in one thread, in `lask.order`'s order.
-- For debugging (a task's error and its traceback come from the calling thread, in
-- a predictable order), and the reference the parallel schedulers are tested
-- against. Choose it with `lask.sync.get`, or with `compute`'s `scheduler =
-- "sync"` (Dask's "synchronous" and "single-threaded" are accepted).
-- @module lask.sync
-- @usage local d = {x = 1, y = {lask.kernels.inc, "x"}}
-- assert(require("lask.sync").get(d, "y") == 2)
local M = {}

--- Runs a graph in the calling thread and gives the values of keys.
-- Takes `lask.get`'s arguments and options (`num_workers` is accepted and has no
-- effect; `lua = "parallel"` runs as `lua = "caller"`).
-- @function get
-- @param dsk table: the graph
-- @param keys a key or a (nested) list of keys
-- @param[opt] opts table: as `lask.get`'s
-- @return the values, in the shape of keys
-- @raise as `lask.get`
-- @usage local sync = require "lask.sync"
-- assert(sync.get({a = {lask.kernels.add, 1, 2}}, "a") == 3)
M.get = require("lask.getter").make_get("sync")

return M
