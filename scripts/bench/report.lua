-- report.lua: what every benchmark of scripts/bench shares. Loaded with
-- dofile(dir .. "report.lua"); works on stock lua5.4 and on build/lask.
--
--   R.clock()            wall seconds, monotonic (lask.clock; /proc/uptime as a fallback)
--   R.status(field)      a field of /proc/self/status in kB (VmRSS, VmHWM), or nil
--   R.reset_peak()       resets VmHWM to the current RSS (Linux >= 4.0); true if it could
--   R.emit(t)            prints one "RESULT k=v ..." line: what a measuring child gives back
--   R.run(cmd)           runs a child, returns the table of its RESULT line (or nil, output)
--   R.best(reps, f)      the least wall seconds of reps calls of f (a collection before each),
--                        and what the last call returned
--   R.table(cols, rows)  prints rows (lists of strings) aligned under the column titles
--   R.num(x, digits)     a number for a table cell ("-" when nil)
--   R.ratio(a, b)        a / b as "12.3x" ("-" when either is missing)
local R = {}

local ok, lask = pcall(require, "lask")
local clock = ok and lask.clock
if not clock then
  -- Fallback: the kernel's uptime has 10 ms resolution, enough for timed sections of
  -- 50 ms and more (every section measured here at 100k tasks and beyond).
  clock = function()
    local f = io.open("/proc/uptime")
    local s = f and f:read("n")
    if f then f:close() end
    return s or os.time()
  end
end
R.clock = clock
R.precise_clock = ok and lask.clock ~= nil

function R.status(field)
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local v
  for line in f:lines() do
    v = line:match("^" .. field .. ":%s*(%d+)")
    if v then break end
  end
  f:close()
  return tonumber(v)
end

-- The load average (1, 5 and 15 minutes) as /proc/loadavg gives it, or "?".
function R.loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end

function R.reset_peak()
  local f = io.open("/proc/self/clear_refs", "w")
  if not f then return false end
  local done = f:write("5")
  f:close()
  return done ~= nil
end

function R.emit(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(t[k]) end
  print("RESULT " .. table.concat(parts, " "))
  io.stdout:flush()
end

-- s quoted for the shell.
function R.shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The command that runs a Lua script with lask loadable, for child processes: LASK
-- (set by run.sh), else the interpreter running this script.
function R.interpreter()
  if os.getenv("LASK") then return os.getenv("LASK") end
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return R.shell_quote(arg[i])
end

function R.run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  local line = out:match("RESULT ([^\n]*)")
  if not line then return nil, out end
  local t = {}
  for k, v in line:gmatch("(%S+)=(%S+)") do t[k] = tonumber(v) or v end
  return t
end

-- The size a script is asked for in its arguments args: default, or quick with
-- --quick, or the whole number after flag (script names the script in errors).
function R.size_option(script, args, default, quick, flag)
  local n, i = default, 1
  while args[i] do
    if args[i] == "--quick" then
      n = quick
    elseif args[i] == flag then
      i = i + 1
      n = math.tointeger(tonumber(args[i])) or error(script .. ": " .. flag .. " needs a whole number")
    else
      error(script .. ": unknown option " .. args[i] .. " (valid: --quick, " .. flag .. " N)")
    end
    i = i + 1
  end
  return n
end

-- Runs the measurement cmd in a child process with progress on stderr (label, then
-- the per-unit figure per(t)): its RESULT as a table, or nil when it failed or gave a
-- wrong result (ok ~= 1), said on stderr with its output.
function R.measure(label, cmd, per)
  io.stderr:write(label .. " ... ")
  local t, output = R.run(cmd)
  if not t or t.ok ~= 1 then
    io.stderr:write((t and "WRONG RESULT\n" or "FAILED\n") .. (output or "") .. "\n")
    return nil
  end
  io.stderr:write(per(t) .. "\n")
  return t
end

function R.best(reps, f)
  local t, v = math.huge, nil
  for _ = 1, reps do
    v = nil
    collectgarbage()
    local t0 = clock()
    v = f()
    t = math.min(t, clock() - t0)
  end
  return t, v
end

function R.num(x, digits)
  if x == nil then return "-" end
  if digits == 0 or math.abs(x) >= 100 then return string.format("%.0f", x) end
  return string.format("%." .. (digits or 2) .. "f", x)
end

function R.ratio(a, b)
  if not a or not b or b == 0 then return "-" end
  return string.format("%.1fx", a / b)
end

-- utf8.len, so that "µs" counts as two columns.
local function width(s) return utf8.len(s) or #s end

function R.table(cols, rows)
  local w = {}
  for i, c in ipairs(cols) do w[i] = width(c) end
  for _, r in ipairs(rows) do
    for i, c in ipairs(r) do w[i] = math.max(w[i] or 0, width(c)) end
  end
  local function line(r)
    local out = {}
    for i = 1, #cols do
      local c = r[i] or ""
      local pad = string.rep(" ", w[i] - width(c))
      -- text left, numbers right
      out[i] = c:match("^%-?[%d%.]+x?$") and pad .. c or c .. pad
    end
    print((table.concat(out, "  "):gsub("%s+$", "")))
  end
  line(cols)
  local rule = {}
  for i = 1, #cols do rule[i] = string.rep("-", w[i]) end
  print(table.concat(rule, "  "))
  for _, r in ipairs(rows) do line(r) end
  io.stdout:flush()
end

return R
