-- lask.mpi: the test scripts in tests/mpi run under mpirun with 1, 2, 3 and 4
-- ranks (more ranks than cores: --oversubscribe; --bind-to none, or two ranks
-- would share one core); each rank prints what it checked.
local S = dofile("tests/spec/spec_helpers.lua")

local BUILD = os.getenv("BUILD") or "build"
local CPATH = S.absolute(BUILD .. "/lib") .. "/?.so;;"
local SEED = tostring(os.time())
-- under make asan: Open MPI's own allocations kept until exit are not leaks of ours
-- (tests/mpi/lsan.supp), found through full unwinding (Open MPI has no frame pointers)
local LSAN = "suppressions=" .. S.absolute("tests/mpi/lsan.supp") .. ":print_suppressions=0:fast_unwind_on_malloc=0"
-- intercept_tls_get_addr=0: LeakSanitizer's own tracking of dynamic TLS (Open MPI's
-- dlopen'ed plugins have some) records a bogus range after a while and its tracer
-- then crashes at exit ("Tracer caught signal 11", seen on 4 ranks of traffic.lua)
local ASAN = ((os.getenv("ASAN_OPTIONS") or "") .. ":fast_unwind_on_malloc=0:intercept_tls_get_addr=0"):gsub("^:", "")
-- make tsan: Open MPI's own lock order (tests/mpi/tsan.supp), forwarded to every rank
local TSAN = ((os.getenv("TSAN_OPTIONS") or "") .. " suppressions=" .. S.absolute("tests/mpi/tsan.supp")):gsub("^ ", "")

-- Runs `cmd` through the shell; gives its output and exit status.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"status $?\""))
  local out = p:read("a")
  p:close()
  local status = tonumber(out:match("status (%d+)\n$"))
  return out:gsub("status %d+\n$", ""), status
end

local have_mpirun = sh("command -v mpirun") ~= ""

-- Runs script under mpirun with np ranks (killed after seconds); output and status.
local function mpirun(np, script, seconds)
  return sh(("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 LUA_CPATH='%s' LASK_MPI_SEED=%s "
    .. "LSAN_OPTIONS='%s' ASAN_OPTIONS='%s' TSAN_OPTIONS='%s' timeout -s KILL %d mpirun --oversubscribe --bind-to none -np %d "
    .. "-x LUA_CPATH -x LASK_MPI_SEED -x LSAN_OPTIONS -x ASAN_OPTIONS -x TSAN_OPTIONS %s %s"):format(CPATH, SEED, LSAN, ASAN, TSAN,
    seconds, np, S.BIN, script))
end

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

describe("lask.mpi", function()
  if not have_mpirun then
    pending("mpirun is not installed (vendor/packages.txt: openmpi-bin)")
    return
  end

  it("is a module of its own: the lask program and core.so do not link MPI", function()
    local out = sh("ldd " .. S.BIN .. " " .. BUILD .. "/lib/lask/core.so")
    assert.is_nil(out:find("libmpi"), out)
    out = sh("ldd " .. BUILD .. "/lib/lask/mpi.so")
    assert.truthy(out:find("libmpi"), out)
  end)

  it("runs without mpirun as one rank (singleton MPI_Init)", function()
    local out, status = sh(("LSAN_OPTIONS='%s' ASAN_OPTIONS='%s' TSAN_OPTIONS='%s' LUA_CPATH='%s' timeout -s KILL 60 %s -e '%s'"):format(LSAN,
      ASAN, TSAN, CPATH, S.BIN,
      [[local mpi = require "lask.mpi" print(mpi.rank, mpi.size, mpi.get({a = 1, b = {function(x) return x + 1 end, "a"}}, "b"))]]))
    assert.are.equal(0, status, out)
    assert.truthy(out:find("0\t1\t2"), out)
  end)

  for np = 1, 4 do
    it(("gives every rank the result lask.sync gives, on %d rank(s) (random DAGs, seed %s; values of every kind)")
      :format(np, SEED), function()
      local out, status = mpirun(np, "tests/mpi/graphs.lua", 240)
      assert.are.equal(0, status, out)
      assert.are.equal(9 * np, count(out, "ok rank"), out)
    end)

    it(("computes arrays with scheduler = \"mpi\" as one process does, on %d rank(s) (elementwise, reductions, "
      .. "persist, qr, svd, svd_compressed; float64 and float32; uneven blocks)"):format(np), function()
      local out, status = mpirun(np, "tests/mpi/arrays.lua", 240)
      assert.are.equal(0, status, out)
      assert.are.equal(9 * np, count(out, "ok rank"), out)
    end)

    it(("counts what crosses ranks on %d rank(s): TSQR/SVD send 2(P-1) n×n blocks up and down a tree (even, uneven, "
      .. "fewer blocks than ranks), a 64 MiB array crosses with no copy, a strided one is packed once; root"):format(np),
      function()
      local out, status = mpirun(np, "tests/mpi/traffic.lua", 240)
      assert.are.equal(0, status, out)
      assert.are.equal(9 * np, count(out, "ok rank"), out)
    end)

    it(("raises the same error on every rank, and the next get works, on %d rank(s)"):format(np), function()
      local out, status = mpirun(np, "tests/mpi/errors.lua", 120)
      assert.are.equal(0, status, out)
      assert.are.equal(2 * np, count(out, "key=bad err%.rank=" .. (np - 1) .. " message=[^\n]*boom 2 traceback=yes"), out)
      if np > 1 then assert.are.equal(np, count(out, "key=f0 err%.rank=0"), out) end
      assert.are.equal(np, count(out, "ok next"), out)
    end)
  end

  it("sums a 1 GiB array across 4 ranks, each in bounded memory (peak RSS under 512 MiB)", function()
    local out, status = mpirun(4, "tests/mpi/bigsum.lua", 240)
    assert.are.equal(0, status, out)
    assert.are.equal(4, count(out, "ok rank %d/4 sum peak"), out)
  end)

  for _, np in ipairs { 2, 3, 4 } do
    it(("ends the job within 10 s when a rank is killed, nothing left running (%d ranks)"):format(np), function()
      -- the job's own mark on its command lines, so that other runs of this spec on
      -- the machine (another build's make test) are not taken for its leftovers
      local mark = ("killed-job-%d-%d"):format(os.time(), math.random(1, 1e9))
      local t0 = os.time()
      local out, status = mpirun(np, "tests/mpi/killed.lua " .. mark, 60)
      assert.is_true(os.time() - t0 <= 10, out)
      assert.are_not.equal(0, status, out)
      assert.is_nil(out:find("not reached"), out)
      local left = sh(("sleep 1; pgrep -f '[k]%s' || true"):format(mark:sub(2)))
      assert.are.equal("", left)
    end)
  end
end)
