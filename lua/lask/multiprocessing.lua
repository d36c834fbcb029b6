--- The multiprocessing scheduler: Lua tasks in parallel, in worker processes.
-- The workers are forked for each get, so they inherit the graph and every
-- function; values cross between processes as bytes. A task that raises, a result
-- that cannot cross (a coroutine, a userdata lask does not know) and a worker that
-- dies are errors on that task's key. Functions cross by identity, not by
-- pickling: a task may return a function that existed when the workers were
-- forked. Each worker reseeds `math.random` when it starts. Dask's name for it in
-- `compute`'s `scheduler` option is "processes".
-- @module lask.multiprocessing
-- @usage local d = {x = 1, y = {function(v) return v + 1 end, "x"}}
-- assert(require("lask.multiprocessing").get(d, "y") == 2)
local M = {}

--- Runs a graph on worker processes and gives the values of keys.
-- @function get
-- @param dsk table: the graph
-- @param keys a key or a (nested) list of keys
-- @param[opt] opts table: as `lask.get`'s (`num_workers` is the number of processes)
-- @return the values, in the shape of keys
-- @raise as `lask.get`; a worker that dies or is stopped for too long
-- (`LASK_MP_STOPPED_SECONDS`, 10 s) fails its task's key
-- @usage local mp = require "lask.multiprocessing"
-- local v = mp.get({a = {math.max, 3, 7}, b = {string.rep, "ab", 2}}, {"a", "b"}, {num_workers = 2})
-- assert(v[1] == 7 and v[2] == "abab")
M.get = require("lask.getter").make_get("multiprocessing")

return M
