-- lask.multiprocessing: Lua tasks in parallel, in worker processes forked for each
-- get (they inherit the graph and every function). Values cross as bytes; a task
-- that raises, a result that cannot cross, and a worker that dies are errors on
-- that task's key. See lua/binding/lmp.c.
return { get = require("lask.getter").make_get("multiprocessing") }
