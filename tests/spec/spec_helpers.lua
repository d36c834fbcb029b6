-- spec_helpers.lua: what the specs that run the lask binary share (loaded with
-- dofile; not a spec).
--   S.BIN                 the lask binary (LASK_BIN, default build/lask), absolute
--   S.absolute(path)      path made absolute from the current directory
--   S.read_file(path), S.write_file(path, text)
--   S.exists(path), S.listdir(dir) (sorted names), S.tmpdir() (a new directory)
--   S.sh(cmd)             runs a shell command; gives its output (stdout and stderr,
--                         then a line "exit=N") and its exit status N
--   S.interrupt(code, n [, after])  runs Lua code in the lask binary and sends it
--                         SIGINT n times, each when it has printed "ready" once
--                         more; gives what the shell printed ("status N", then what
--                         the shell code `after` prints; $pid is the process) and
--                         the program's own output
--   S.run(code, seconds [, vmem_kb [, env]])  runs Lua code in the lask binary
--                         (env: "NAME=value ..." for its environment), killed
--                         after seconds (a hang fails instead of stalling the suite),
--                         its address space limited to vmem_kb if given (a real "out
--                         of memory"); gives its output (stdout and stderr) and exit
--                         status (137: killed at the time limit)
local S = {}

-- A random DAG of n keys (string keys and tuple keys, "n" .. i), as a list of keys in
-- order and the graph: a tenth of them (and the first) literals, the others a task
-- made by one of tasks (chosen at random), each a function(dep, rng) -> task where
-- dep() names an earlier key. rng is math.random or alike.
function S.random_graph(rng, n, tasks)
  local lask = require "lask"
  local d, keys = {}, {}
  local function dep() return keys[rng(#keys)] end
  for i = 1, n do
    local k = rng(4) == 1 and lask.key("n", i) or ("n" .. i)
    d[k] = (#keys == 0 or rng(10) == 1) and rng(100) or tasks[rng(#tasks)](dep, rng)
    keys[#keys + 1] = k
  end
  return d, keys
end

-- Is there a file (or directory) at path?
function S.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The names in dir (hidden ones too), sorted.
function S.listdir(dir)
  local p = io.popen("ls -A " .. dir)
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  table.sort(out)
  return out
end

-- Runs a shell command: its output (stdout and stderr, then a line "exit=N") and N.
function S.sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

-- A new empty directory under /tmp (the caller removes it).
function S.tmpdir()
  local p = assert(io.popen("mktemp -d /tmp/lask-spec-XXXXXX"))
  local d = p:read("l")
  p:close()
  return d
end

function S.absolute(path)
  if path:sub(1, 1) == "/" then return path end
  local p = assert(io.popen("pwd"))
  local cwd = p:read("*l")
  p:close()
  return cwd .. "/" .. path
end

S.BIN = S.absolute(os.getenv("LASK_BIN") or "build/lask")

function S.read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function S.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function S.interrupt(code, n, after)
  local script, out = os.tmpname(), os.tmpname()
  S.write_file(script, code)
  local p = io.popen(("%s %s > %s 2>&1 & pid=$!; for i in $(seq %d); do k=0; "
    .. "while [ $(grep -c ready %s) -lt $i ] && [ $k -lt 100 ]; do sleep 0.1; k=$((k+1)); done; "
    .. "sleep 0.5; kill -INT $pid; done; wait $pid; echo status $?; %s"):format(S.BIN, script, out, n, out,
    after or ""))
  local status = p:read("a")
  p:close()
  local text = S.read_file(out)
  os.remove(script)
  os.remove(out)
  return status, text
end

function S.run(code, seconds, vmem_kb, env)
  local script = os.tmpname()
  S.write_file(script, code)
  local limit = (vmem_kb and ("ulimit -v %d; OPENBLAS_NUM_THREADS=1 "):format(vmem_kb) or "") .. (env or "") .. " "
  local p = assert(io.popen(("(%stimeout -s KILL %d %s %s) 2>&1; echo \"status $?\""):format(limit, seconds, S.BIN,
    script)))
  local out = p:read("a")
  p:close()
  os.remove(script)
  local text, status = out:match("^(.-)status (%d+)\n$")
  return text, tonumber(status)
end

return S
