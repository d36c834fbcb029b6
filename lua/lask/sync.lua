-- lask.sync: runs a graph in one thread, in `order` priority order. For debugging,
-- and the reference the parallel schedulers are tested against.
return { get = require("lask.getter").make_get("sync") }
