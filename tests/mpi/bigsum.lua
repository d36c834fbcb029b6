-- Run under mpirun -np 4 by tests/spec/mpi_spec.lua: a 1 GiB float64 array (made
-- block by block where its blocks live) summed across the ranks in bounded memory:
-- each rank's peak RSS stays far below the array's size.
local da = require "lask.array"
local mpi = require "lask.mpi"
local n = 2 ^ 27 // 1 -- 2^27 elements of 8 bytes = 1 GiB
local x = da.arange(n, { chunks = 2 ^ 22 // 1 }) -- 32 blocks of 32 MiB, each made on its owner
local s = (x * 2):sum():compute { scheduler = "mpi" }
assert(s:item() == n * (n - 1), "sum " .. tostring(s:item())) -- exact: below 2^53
local hwm
for line in io.lines("/proc/self/status") do hwm = hwm or tonumber(line:match("^VmHWM:%s*(%d+)")) end
print(("ok rank %d/%d sum peak %d MiB"):format(mpi.rank, mpi.size, hwm // 1024))
assert(hwm < 512 * 1024, "peak RSS " .. hwm .. " kB on rank " .. mpi.rank)
