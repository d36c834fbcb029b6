-- Run under mpirun -np N (N >= 2) by tests/spec/mpi_spec.lua: rank 1 is killed
-- (SIGKILL) while the others wait for its value; mpirun must end the job.
local mpi = require "lask.mpi"
local d = {
  x = { function()
    if mpi.rank == 1 then
      local pid = io.open("/proc/self/stat"):read("n")
      os.execute("kill -KILL " .. math.tointeger(pid))
    end
    return 1
  end },
  y = { function(x) return x + 1 end, "x" },
}
print("rank " .. mpi.rank .. " started")
io.stdout:flush()
mpi.get(d, "y", { owner = function(k) return k == "x" and 1 or 0 end })
print("not reached")
