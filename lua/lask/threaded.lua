-- lask.threaded: the engine's work-stealing threads. Native kernels run on every
-- worker in parallel. Lua tasks run on the calling Lua state one at a time (opts.lua
-- = "caller", the default), or with opts.lua = "parallel" on every worker, each on a
-- Lua state of its own, the functions and their upvalues copied in (tasks are pure,
-- as in Dask); opts.strict = true makes a task that cannot be copied an error
-- instead of a task on the calling state. See the README's section.
return { get = require("lask.getter").make_get("threaded") }
