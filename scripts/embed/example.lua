-- example.lua — the script scripts/embed/host.c runs in the Lua state it opened on
-- its own engine: the talk's graph again, now as a Lua table, on lask.threaded.
-- Output lines start with "#" so that the host's TAP stays valid.
local lask = require "lask"
local threaded = require "lask.threaded"

local K = lask.kernels -- native kernels: they run on the host's worker threads

local d = { x = 1, y = { K.inc, "x" }, z = { K.add, "y", 10 } }
local z = threaded.get(d, "z")
if z ~= 12 then error(("expected z = 12, got %s"):format(tostring(z))) end
print("# Lua: z = " .. z)

-- Lua functions mix with native kernels; they run on this (the host's) thread.
local function double(v) return 2 * v end
d.w = { double, "z" }
d.total = { K.sum, { "x", "y", "z", "w" } }
local w, total = table.unpack(threaded.get(d, { "w", "total" }))
if w ~= 24 or total ~= 39 then error(("expected w = 24, total = 39, got %s, %s"):format(w, total)) end
print("# Lua: w = " .. w .. ", total = " .. total)
