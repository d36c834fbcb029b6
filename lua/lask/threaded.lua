-- lask.threaded: the engine's work-stealing threads. Native kernels run on every
-- worker in parallel; Lua tasks run on the calling Lua state, one at a time.
return { get = require("lask.getter").make_get("threaded") }
