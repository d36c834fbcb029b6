-- lask.diagnostics and lask.visualize: profilers (complete and consistent results
-- on every scheduler), the profile page (self-contained, and drawn by a real
-- headless browser: every worker row and every task bar), the progress bar under
-- a pseudo-terminal, Graphviz output, resource sampling.
-- Runs under `busted --lua=build/lask`; subprocesses run $LASK_BIN.
local lask = require "lask"
local diag = require "lask.diagnostics"
local demo = require "lask.diagnostics.demo"
local sync = require "lask.sync"
local threaded = require "lask.threaded"
local K = lask.kernels

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local S = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "spec_helpers.lua")
local BIN, read_file, write_file = S.BIN, S.read_file, S.write_file

local tmpdir
setup(function()
  local p = assert(io.popen("mktemp -d"))
  tmpdir = p:read("*l")
  p:close()
end)
teardown(function()
  if tmpdir then os.execute("rm -rf " .. shell_quote(tmpdir)) end
end)

-- Runs a shell command; returns stdout, stderr and the exit status.
local function sh(cmd)
  local err = tmpdir .. "/stderr"
  local p = assert(io.popen("(" .. cmd .. ") </dev/null 2>" .. shell_quote(err)))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, read_file(err), code
end

local function have(program) return os.execute("command -v " .. program .. " >/dev/null 2>&1") == true end

-- A lask script in a file, for subprocesses.
local function script(name, code)
  local path = tmpdir .. "/" .. name
  write_file(path, code)
  return path
end

local schedulers = { "sync", "threaded" }
if pcall(require, "lask.multiprocessing") then schedulers[#schedulers + 1] = "multiprocessing" end

-- Checks that results hold every key of keys exactly `times` times, with valid
-- workers, ordered times, no two tasks at once on one worker, and every task
-- started after its dependencies finished (within one get).
local function check_profile(results, dsk, keys, times, nworkers)
  local count = {}
  for _, r in ipairs(results) do
    count[r.key] = (count[r.key] or 0) + 1
    assert.is_true(math.type(r.worker) == "integer" and r.worker >= 0 and r.worker < nworkers,
      "worker " .. tostring(r.worker) .. " of " .. nworkers)
    assert.is_true(r.start <= r.finish, "start after finish for " .. tostring(r.key))
  end
  for _, k in ipairs(keys) do assert.are.equal(times, count[k], "times " .. tostring(k) .. " ran") end
  assert.are.equal(#keys * times, #results)
  local by_worker = {}
  for _, r in ipairs(results) do
    by_worker[r.worker] = by_worker[r.worker] or {}
    table.insert(by_worker[r.worker], r)
  end
  for w, list in pairs(by_worker) do
    table.sort(list, function(a, b) return a.start < b.start end)
    for i = 2, #list do
      assert.is_true(list[i - 1].finish <= list[i].start + 1e-6,
        ("worker %d runs %s and %s at once"):format(w, tostring(list[i - 1].key), tostring(list[i].key)))
    end
  end
  local n = #keys
  for g = 0, times - 1 do -- results come get by get
    local finish = {}
    for i = g * n + 1, (g + 1) * n do finish[results[i].key] = results[i].finish end
    for i = g * n + 1, (g + 1) * n do
      local r = results[i]
      for dep in pairs(lask.get_dependencies(dsk, r.key)) do -- data keys have no times
        assert.is_true(finish[dep] == nil or finish[dep] <= r.start + 1e-6,
          ("%s started before its dependency %s finished"):format(tostring(r.key), tostring(dep)))
      end
    end
  end
end

-- The keys of dsk's tasks (data and aliases run no function: not profiled).
local function keys_of(dsk)
  local keys = {}
  for k, v in pairs(dsk) do
    if lask.istask(v) then keys[#keys + 1] = k end
  end
  return keys
end

-- A graph mixing native kernels, Lua functions, nested tasks, literals and aliases.
local function mixed_graph(n)
  local function lua_add(a, b) return a + b end
  local d = { a0 = 1, b0 = 2 }
  for i = 1, n do
    d["a" .. i] = { K.spin, { K.add, "a" .. (i - 1), "b" .. (i - 1) }, 200 }
    d["b" .. i] = { lua_add, "a" .. (i - 1), 1 }
  end
  d.alias = "a" .. n
  d.total = { K.sum, { "alias", "b" .. n } }
  return d, "total"
end

describe("diagnostics.Profiler", function()
  for _, name in ipairs(schedulers) do
    it("records every task once, consistently, with " .. name, function()
      local get = require("lask." .. name).get
      local d, out = mixed_graph(40)
      local svd, svd_out = demo.svd_graph { us = 2000 }
      local want = sync.get(d, out)
      local prof <close> = diag.Profiler()
      local before = lask.clock()
      assert.are.equal(want, get(d, out))
      get(d, out)
      get(svd, svd_out)
      local after = lask.clock()
      local results = prof.results
      local nd = #keys_of(d)
      assert.are.equal(2 * nd + 20, #results)
      local nworkers = 0
      for _, run in ipairs(prof._runs) do nworkers = math.max(nworkers, run.nworkers) end
      local first = table.move(results, 1, 2 * nd, 1, {})
      check_profile(first, d, keys_of(d), 2, nworkers)
      check_profile(table.move(results, 2 * nd + 1, #results, 1, {}), svd, keys_of(svd), 1, nworkers)
      -- successive gets line up on one clock, inside the window they ran in
      for _, r in ipairs(results) do
        assert.is_true(r.start >= before - 1e-6 and r.finish <= after + 1e-6, "task outside its get")
      end
      local first_end, second_start = -math.huge, math.huge
      for i = 1, nd do first_end = math.max(first_end, results[i].finish) end
      for i = nd + 1, 2 * nd do second_start = math.min(second_start, results[i].start) end
      assert.is_true(first_end <= second_start + 1e-6, "the second get overlaps the first")
      -- func is the task's function
      for _, r in ipairs(results) do
        if r.key == "a1" then assert.are.equal(K.spin, r.func) end
        assert.are_not.equal("a0", r.key)
        assert.are_not.equal("alias", r.key)
      end
    end)
  end

  it("builds results only when they are looked at", function()
    local d, out = demo.chain(1000)
    local prof <close> = diag.Profiler()
    lask.get(d, out)
    assert.are.equal(0, rawlen(prof.results)) -- nothing built yet
    assert.are.equal(1000, prof:count())
    assert.are.equal(1000, #prof.results)
    assert.is_nil(getmetatable(prof.results)) -- now a plain list
    assert.are.equal(1000, rawlen(prof.results))
    lask.get(d, out) -- appends
    assert.are.equal(2000, #prof.results)
    local seen = 0
    for _, r in pairs(prof.results) do seen = seen + (r.key == "k1000" and 1 or 0) end
    assert.are.equal(2, seen)
    prof:clear()
    assert.are.equal(0, #prof.results)
  end)

  it("works in a <close> block as documented, and stops recording after it", function()
    local function inc(i) return i + 1 end
    local function add(a, b) return a + b end
    local d = { x = 1, y = { inc, "x" }, z = { add, "y", 10 } }
    local html, svg = tmpdir .. "/profile.html", tmpdir .. "/graph.svg"
    local prof
    do
      prof = diag.Profiler()
      local p <close> = prof
      local bar <close> = diag.ProgressBar()
      assert.are.equal(12, lask.get(d, "z"))
      p:visualize(html)
    end
    if have("dot") then lask.visualize(d, svg) end
    lask.get(d, "z")
    assert.are.equal(2, #prof.results) -- y and z: x is data
    local page = read_file(html)
    assert.truthy(page:find('"inc"', 1, true), "Lua functions are named")
    assert.truthy(page:find('"add"', 1, true))
    if have("dot") then assert.truthy(read_file(svg):find("<svg", 1, true)) end
  end)

  it("sees the tasks of nested gets", function()
    local inner = { p = 1, q = { K.inc, "p" } }
    local function run_inner() return require("lask.sync").get(inner, "q") end
    local d = { a = { run_inner }, b = { K.inc, "a" } }
    local prof <close> = diag.Profiler()
    assert.are.equal(3, lask.get(d, "b"))
    local keys = {}
    for _, r in ipairs(prof.results) do keys[#keys + 1] = r.key end
    table.sort(keys)
    assert.are.same({ "a", "b", "q" }, keys)
  end)
end)

describe("activation", function()
  local callbacks = require "lask.callbacks"
  local d = { x = 1, y = { K.inc, "x" }, z = { K.add, "y", 10 } }

  it("constructing registers nothing: 200 stray CacheProfilers are not called and record nothing", function()
    local stray = {}
    for i = 1, 200 do stray[i] = diag.CacheProfiler() end
    for _ = 1, 50 do diag.Profiler(); diag.ProgressBar(); diag.ResourceProfiler() end
    assert.is_nil(callbacks.active(), "a get starting here calls no callback")
    local chain, out = demo.chain(2000)
    for _, get in ipairs { sync.get, threaded.get } do assert.are.equal(2000, get(chain, out)) end
    for i = 1, 200 do assert.are.same({}, stray[i].results) end
  end)

  it("a <close> variable activates one for its scope, on every scheduler, and nothing records after it", function()
    for _, name in ipairs(schedulers) do
      local get = require("lask." .. name).get
      local prof, cprof = diag.Profiler(), diag.CacheProfiler()
      get(d, "z")
      assert.are.equal(0, #prof.results, name)
      do
        local p <close> = prof
        local c <close> = cprof
        assert.are.same({ prof, cprof }, callbacks.active())
        assert.are.equal(12, get(d, "z"))
      end
      assert.are.equal(2, #prof.results, name)
      local ncache = #cprof.results
      assert.is_true(ncache >= 3, name) -- start, two posttasks (x is data), finish
      get(d, "z")
      assert.are.equal(2, #prof.results, name)
      assert.are.equal(ncache, #cprof.results, name)
      assert.is_nil(callbacks.active())
    end
  end)

  it("sees <close> variables of calling functions, and gets made by compute", function()
    local prof = diag.Profiler()
    local function inner() return lask.get(d, "z") end
    local function outer()
      local p <close> = prof
      return inner()
    end
    assert.are.equal(12, outer())
    assert.are.equal(2, #prof.results)
    local da = require "lask.array"
    do
      local p <close> = prof
      da.ones({ 4 }, { chunks = 2 }):sum():compute()
    end
    assert.is_true(#prof.results > 2)
  end)

  it("a plain local does not activate; register() does until unregister(); an error closes", function()
    local prof = diag.Profiler()
    local plain = diag.Profiler()
    lask.get(d, "z")
    assert.are.equal(0, #plain.results)
    prof:register()
    lask.get(d, "z")
    prof:unregister()
    lask.get(d, "z")
    assert.are.equal(2, #prof.results)
    local ok = pcall(function()
      local p <close> = prof:register()
      error("boom")
    end)
    assert.is_false(ok)
    lask.get(d, "z")
    assert.are.equal(2, #prof.results, "closing ended the registration")
  end)

  it("a plain local reusing the slot of a closed <close> variable does not activate", function()
    local prof, plain = diag.Profiler(), diag.Profiler()
    local function run()
      do
        local p <close> = prof
        lask.get(d, "z")
      end
      local q = plain -- the slot p had
      lask.get(d, "z")
      do
        local many <close> = diag.Profiler()
        local deeper <close> = prof
        lask.get(d, "z")
      end
      return q
    end
    run()
    assert.are.equal(4, #prof.results)
    assert.are.equal(0, #plain.results)
  end)

  it("in a function without debug information a get still works; its <close> variables are not seen, register() is", function()
    local prof, reg = diag.Profiler(), diag.Profiler()
    local body = string.dump(function(dd, p, r)
      local lask_ = require "lask"
      local c <close> = p -- no names in a stripped function: not seen
      r:register()
      local v = lask_.get(dd, "z")
      r:unregister()
      return v
    end, true)
    assert.are.equal(12, load(body, "=stripped", "b")(d, prof, reg))
    assert.are.equal(0, #prof.results)
    assert.are.equal(2, #reg.results)
  end)

  it("sees <close> variables in functions with constants, nested functions and many locals", function()
    local prof = diag.Profiler()
    local function busy(n)
      local a, b, c = 1.5, "text", { n }
      local function inner() return a, b, c end
      local big = 2 ^ 62
      local p <close> = prof
      local s = "a long string constant that is stored as a long string in the dump ................"
      lask.get(d, "z")
      return inner, big, s
    end
    busy(1)
    assert.are.equal(2, #prof.results)
  end)

  it("calls an object active several ways once", function()
    local n = 0
    local cb = callbacks.Callback { posttask = function() n = n + 1 end }
    cb:register()
    do
      local c <close> = cb
      lask.get(d, "z")
    end
    assert.are.equal(2, n)
  end)

  it("visualize() without a file name writes a page of the active profilers, returns its path and opens nothing", function()
    local bin = tmpdir .. "/fakebin"
    os.execute("mkdir -p " .. shell_quote(bin))
    for _, b in ipairs { "xdg-open", "sensible-browser", "x-www-browser", "firefox", "chromium", "open" } do
      write_file(bin .. "/" .. b, "#!/bin/sh\ntouch " .. shell_quote(tmpdir .. "/opened") .. "\n")
      os.execute("chmod +x " .. shell_quote(bin .. "/" .. b))
    end
    local path = script("vis.lua", [[
local lask = require "lask"
local diag = require "lask.diagnostics"
local d = { x = 1, y = { lask.kernels.inc, "x" } }
local prof <close> = diag.Profiler()
lask.get(d, "y")
print(diag.visualize())
print(prof:visualize())
]])
    local out, err, code = sh("PATH=" .. shell_quote(bin) .. ":$PATH BROWSER=xdg-open " .. shell_quote(BIN) .. " "
      .. shell_quote(path))
    assert.are.equal(0, code, err)
    local p1, p2 = out:match("^(%S+)\n(%S+)\n$")
    assert.truthy(p1 and p2 and p1 ~= p2, out)
    for _, p in ipairs { p1, p2 } do
      assert.truthy(p:match("%.html$"), p)
      assert.truthy(read_file(p):find('"tasks":{', 1, true))
      os.remove(p)
    end
    assert.is_nil(io.open(tmpdir .. "/opened"), "nothing was opened")
    assert.has_error(function() diag.visualize() end,
      "visualize: no profiler given and none is active (hold one in a <close> variable or register it)")
  end)
end)

describe("the profile page", function()
  local function profile_svd(path, title)
    local d, out = demo.svd_graph { us = 5000 }
    local prof <close> = diag.Profiler()
    threaded.get(d, out)
    diag.visualize(prof, path, { title = title })
    return prof
  end

  it("is one self-contained file holding the data", function()
    local path = tmpdir .. "/svd.html"
    local prof = profile_svd(path, "SVD <&> test")
    local page = read_file(path)
    assert.truthy(page:match("^<!DOCTYPE html>"))
    for _, bad in ipairs { 'src="http', "src='http", 'href="http', "href='http", "<script src", "<link", "@import",
      "url(" } do
      assert.is_nil(page:find(bad, 1, true), "the page must not load " .. bad)
    end
    assert.truthy(page:find("<canvas", 1, true))
    assert.truthy(page:find("SVD &lt;&amp;&gt; test", 1, true))
    for _, r in ipairs(prof.results) do
      -- keys are in the JSON data, with < > & escaped so no key can end the script
      local k = tostring(r.key):gsub("[<>&]", function(c) return ("\\u%04x"):format(c:byte()) end)
      assert.truthy(page:find('"' .. k .. '"', 1, true), "the page holds key " .. k)
    end
    assert.truthy(page:find('"spin"', 1, true) and page:find('"identity"', 1, true) and page:find('"sum"', 1, true))
  end)

  it("escapes keys that could break out of the script", function()
    local d = { ["</script><b>x"] = 1, ['y"\\'] = { K.inc, "</script><b>x" } }
    local prof <close> = diag.Profiler()
    lask.get(d, 'y"\\')
    local page = diag.html(prof)
    assert.are.equal(2, select(2, page:gsub("</script>", "")))
  end)

  -- Loads the page in headless chromium and gives the DOM after its script ran.
  local function browser_dom(path)
    local profile_dir = tmpdir .. "/chromium-profile"
    local cmd = table.concat({
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run",
      "--disable-background-networking --disable-component-update --disable-sync",
      "--user-data-dir=" .. shell_quote(profile_dir), "--window-size=1200,900",
      "--virtual-time-budget=10000 --dump-dom", shell_quote("file://" .. path),
    }, " ")
    local dom, err, code = sh(cmd)
    os.execute("rm -rf " .. shell_quote(profile_dir))
    assert.are.equal(0, code, "chromium failed: " .. err)
    return dom
  end

  local function unescape(s)
    return (s:gsub("&quot;", '"'):gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&#39;", "'"):gsub("&amp;", "&"))
  end

  local function render_stats(dom)
    local tag = dom:match('<div id="lask%-render"[^>]*>')
    assert.truthy(tag, "the page's script wrote no render stats")
    local stats = {}
    for name, value in tag:gmatch('data%-([%w%-]+)="([^"]*)"') do stats[name] = value end
    assert.is_nil(stats.error, "the page's script failed: " .. tostring(stats.error))
    return stats
  end

  it("renders in a real browser: every worker row and every task bar of an SVD-like profile", function()
    if not have("chromium") then
      pending("chromium is not installed (vendor/packages.txt lists it; vendor/install.sh installs it)")
    end
    local path = tmpdir .. "/svd-browser.html"
    local prof = profile_svd(path, "SVD-like graph")
    local results = prof.results
    local nworkers = prof._runs[1].nworkers
    local dom = browser_dom(path)
    local stats = render_stats(dom)
    assert.are.equal("1", stats.renders)
    assert.are.equal(tostring(nworkers), stats.rows)
    assert.are.equal(tostring(#results), stats.tasks)
    assert.are.equal(tostring(#results), stats.bars)
    -- one row per worker, with its count of bars
    local per_worker = {}
    for _, r in ipairs(results) do per_worker[r.worker] = (per_worker[r.worker] or 0) + 1 end
    local rows = 0
    for w, bars in dom:gmatch('<li data%-worker="(%d+)" data%-bars="(%d+)"></li>') do
      rows = rows + 1
      assert.are.equal(per_worker[tonumber(w)] or 0, tonumber(bars), "bars on worker " .. w)
    end
    assert.are.equal(nworkers, rows)
    -- one bar per task, on its worker, with its function
    local want = {}
    for _, r in ipairs(results) do
      local id = tostring(r.key) .. "|" .. r.worker .. "|" .. tostring(r.func)
      want[id] = (want[id] or 0) + 1
    end
    local drawn = 0
    for key, w, fn in dom:gmatch('<li data%-key="([^"]*)" data%-worker="(%d+)" data%-fn="([^"]*)"></li>') do
      local id = unescape(key) .. "|" .. w .. "|" .. unescape(fn)
      assert.is_true((want[id] or 0) > 0, "unexpected bar " .. id)
      want[id] = want[id] - 1
      drawn = drawn + 1
    end
    assert.are.equal(#results, drawn)
    -- the summary and legend were written too
    assert.truthy(dom:find(#results .. "</b> tasks", 1, true))
    assert.truthy(dom:find("spin", 1, true))
  end)

  it("answers hover, wheel, drag and double-click in a real browser", function()
    if not have("chromium") then pending("chromium is not installed") end
    local path = tmpdir .. "/svd-interaction.html"
    profile_svd(path, "interaction")
    local here = debug.getinfo(1, "S").source:match("^@(.*/)spec/[^/]*$") or "tests/"
    local driver = read_file(here .. "browser/interaction.js")
    local page = read_file(path):gsub("</body>", function() return "<script>\n" .. driver .. "</script>\n</body>" end)
    write_file(path, page)
    local json = browser_dom(path):match('<pre id="interaction%-result">([^<]*)</pre>')
    assert.truthy(json, "the driver wrote no result")
    json = unescape(json)
    assert.is_nil(json:find('"error"', 1, true), json)
    local function field(name) return json:match('"' .. name .. '":"?([^,"}]*)') end
    assert.are.equal("true", field("tip_shown"), json)
    local tip, key = json:match('"tip_text":"(.-)","tip_key":"(.-)"')
    assert.truthy(tip:find(key, 1, true), "the tooltip names the key: " .. json)
    assert.truthy(tip:find("function: spin", 1, true) and tip:find("duration: ", 1, true), json)
    assert.are.equal("20", field("bars_full"))
    assert.is_true(tonumber(field("bars_zoomed")) < 20, "zooming in leaves fewer bars in view: " .. json)
    assert.are.equal("true", field("zoom_changed_view"))
    assert.are.equal("true", field("pan_changed_view"))
    assert.are.equal("20", field("bars_reset"), "double-click shows everything again")
    assert.is_true(tonumber(field("renders")) > 10)
  end)

  it("stays small and draws 100,000 tasks (aggregated) in a real browser", function()
    if not have("chromium") then pending("chromium is not installed") end
    local d, out = demo.chain(100000)
    local prof <close> = diag.Profiler()
    lask.get(d, out)
    local rprof <close> = diag.ResourceProfiler { dt = 0.01 }
    local cprof <close> = diag.CacheProfiler()
    lask.get(demo.svd_graph { us = 3000 })
    local path = tmpdir .. "/chain.html"
    diag.visualize({ prof, rprof, cprof }, path)
    local size = #read_file(path)
    assert.is_true(size < 100 * 200002, "page of " .. size .. " bytes") -- under 100 bytes a task
    local t0 = lask.clock()
    local stats = render_stats(browser_dom(path))
    assert.are.equal("100020", stats.tasks)
    assert.are.equal("100020", stats.bars)
    assert.is_true(tonumber(stats.aggregated) > 90000, "tiny bars are aggregated")
    assert.are.equal(tostring(#rprof.results), stats["resource-samples"])
    assert.are.equal(tostring(#cprof.results), stats["cache-samples"])
    assert.is_true(lask.clock() - t0 < 60)
  end)
end)

describe("diagnostics.ResourceProfiler", function()
  it("samples CPU and memory about every dt during a 0.5 s spin graph", function()
    local d, keys = {}, {}
    for i = 1, 10 do
      d["s" .. i] = { K.spin, i, 100000 } -- 10 x 0.1 s on the workers: ~0.5 s on two cores
      keys[i] = "s" .. i
    end
    local dt = 0.05
    local rprof <close> = diag.ResourceProfiler { dt = dt }
    local t0 = lask.clock()
    threaded.get(d, keys)
    local t1 = lask.clock()
    local r = rprof.results
    local expect = (t1 - t0) / dt
    assert.is_true(#r >= expect * 0.5 and #r <= expect + 3, ("%d samples in %.2f s"):format(#r, t1 - t0))
    local gaps = {}
    for i = 2, #r do gaps[#gaps + 1] = r[i].time - r[i - 1].time end
    table.sort(gaps)
    local median = gaps[(#gaps + 1) // 2]
    assert.is_true(median > dt * 0.5 and median < dt * 2, "median interval " .. median)
    local top = 0
    for _, s in ipairs(r) do
      assert.is_true(s.time >= t0 and s.time <= t1 + dt)
      assert.is_true(s.cpu >= 0 and s.cpu < 100 * 64, "cpu " .. s.cpu)
      assert.is_true(s.mem > 1 and s.mem < 1e6, "mem " .. s.mem .. " MB")
      top = math.max(top, s.cpu)
    end
    assert.is_true(top > 40, "spinning workers show CPU use, got at most " .. top .. "%")
    -- sampling stops with the get: nothing is added while idle
    local n = #r
    local t = lask.clock()
    while lask.clock() - t < 3 * dt do end
    assert.are.equal(n, #rprof.results)
  end)

  it("is drawn with the tasks on one time axis", function()
    local prof <close> = diag.Profiler()
    local rprof <close> = diag.ResourceProfiler { dt = 0.01 }
    lask.get(demo.svd_graph { us = 5000 })
    local page = diag.html({ prof, rprof })
    assert.truthy(page:find('"resources":{"t":[', 1, true))
    assert.truthy(page:find('"tasks":{', 1, true))
  end)
end)

describe("diagnostics.CacheProfiler", function()
  it("counts the results held over time", function()
    local d, keys = { total = nil }, {}
    for i = 1, 10 do
      d["p" .. i] = { K.inc, i }
      keys[i] = "p" .. i
    end
    d.total = { K.sum, keys }
    local chain, out = demo.chain(50)
    local cprof <close> = diag.CacheProfiler()
    sync.get(d, "total")
    local most = 0
    for _, r in ipairs(cprof.results) do most = math.max(most, r.held) end
    assert.are.equal(10, most)
    assert.are.equal(0, cprof.results[#cprof.results].held)
    cprof:clear()
    threaded.get(chain, out)
    most = 0
    for i, r in ipairs(cprof.results) do
      most = math.max(most, r.held)
      if i > 1 then assert.is_true(r.time >= cprof.results[i - 1].time) end
    end
    assert.is_true(most <= 2, "a chain holds one or two results, held " .. most)
    assert.are.equal(0, cprof.results[#cprof.results].held)
  end)
end)

describe("diagnostics.ProgressBar", function()
  it("draws its line", function()
    assert.are.equal("[#####     ] | 52% Completed | 3.1 s", diag.format_bar(10, 0.52, 3.14))
    assert.are.equal("[##########] | 100% Completed | 0.0 s", diag.format_bar(10, 1, 0))
  end)

  local graph_code = [[
local lask = require "lask"
local diag = require "lask.diagnostics"
local d, keys = {}, {}
for i = 1, 50 do
  d["s" .. i] = { lask.kernels.spin, i, 20000 }
  keys[i] = "s" .. i
end
]]

  local function pty(path)
    if not have("script") then pending("script (util-linux) is not installed") end
    return sh("script -qfec " .. shell_quote(shell_quote(BIN) .. " " .. shell_quote(path)) .. " /dev/null")
  end

  it("reaches 100% on a terminal", function()
    local path = script("bar.lua", graph_code .. [[
local bar <close> = diag.ProgressBar()
require("lask.sync").get(d, keys)
print("done")
]])
    local out = pty(path)
    assert.truthy(out:find("| 100% Completed |", 1, true), out)
    assert.truthy(out:find("\r[", 1, true), "redraws in place")
    local partial = out:match("%] | (%d+)%% Completed")
    assert.truthy(partial and tonumber(partial) < 100, "shows progress before the end: " .. out)
    assert.truthy(out:find("100%% Completed | [%d.]+ s\r?\ndone"), "the final line ends: " .. out)
  end)

  it("prints plain progress lines, no \\r animation, when stdout is not a terminal", function()
    local path = script("bar-pipe.lua", graph_code .. [[
local bar <close> = diag.ProgressBar { minimum = 0 }
require("lask.threaded").get(d, keys)
io.write("done")
]])
    local out, err, code = sh(shell_quote(BIN) .. " " .. shell_quote(path))
    assert.are.equal(0, code, err)
    assert.falsy(out:find("\r", 1, true), out)
    local lines, last = 0, -1
    for pct in out:gmatch("%] | (%d+)%% Completed | [%d.]+ s\n") do
      lines = lines + 1
      assert.is_true(tonumber(pct) > last, "percentages grow: " .. out)
      last = tonumber(pct)
    end
    assert.are.equal(100, last, out)
    assert.is_true(lines >= 2 and lines <= 11, "one line a tenth at most, and the last: " .. out)
    assert.truthy(out:find("100%% Completed | [%d.]+ s\ndone$"), out)
  end)

  it("prints nothing for a get shorter than its minimum", function()
    local path = script("bar-quick.lua", [[
local lask = require "lask"
local bar <close> = require("lask.diagnostics").ProgressBar()
lask.get({ a = 1, b = { lask.kernels.inc, "a" } }, "b")
io.write("done")
]])
    local out = pty(path)
    assert.are.equal("done", out)
  end)

  it("ends its line where an error stopped the get", function()
    local path = script("bar-error.lua", graph_code .. [[
d.boom = { function() error("boom") end, { "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10" } }
keys[#keys + 1] = "boom"
local bar <close> = diag.ProgressBar()
local ok, err = pcall(require("lask.sync").get, d, keys)
print(ok, err.key)
]])
    local out = pty(path)
    local last = out:match("(%d+)%% Completed | [%d.]+ s\r?\nfalse\tboom")
    assert.truthy(last, out)
    assert.is_true(tonumber(last) < 100)
    assert.is_nil(out:find("100% Completed", 1, true))
  end)

  it("ends its line on Ctrl-C", function()
    local path = script("bar-sigint.lua", graph_code .. [[
local pid = io.open("/proc/self/stat"):read("n")
os.execute(("(sleep 0.3; kill -INT %d) &"):format(pid))
local ok, err
do
  local bar <close> = diag.ProgressBar()
  ok, err = pcall(require("lask.sync").get, d, keys)
end
print(ok, tostring(err):match("interrupted"))
]])
    local out = pty(path)
    local last = out:match("(%d+)%% Completed | [%d.]+ s\r?\nfalse\tinterrupted")
    assert.truthy(last, out)
    assert.is_true(tonumber(last) < 100)
  end)
end)

describe("lask.visualize", function()
  local function inc(i) return i + 1 end
  local function add(a, b) return a + b end
  local d = { x = 1, y = { inc, "x" }, z = { add, "y", 10 }, w = "z", n = { K.sum, { "x", { inc, "y" } } } }

  it("draws functions as circles and data as boxes, with Dask's edges", function()
    assert(inc and add) -- names in scope here (as upvalues) name the functions
    local dot = lask.visualize(d)
    assert.truthy(dot:find("rankdir=\"BT\"", 1, true))
    -- each task: its function node, an edge to its box, edges from its dependencies
    local id = {}
    for node, label in dot:gmatch('(n%d+) %[label="([^"]*)", shape="box"%]') do id[label] = node end
    for _, k in ipairs { "x", "y", "z", "w", "n" } do assert.truthy(id[k], "a box for " .. k) end
    local fn = {}
    for node, label in dot:gmatch('(f%d+) %[label="([^"]*)", shape="circle"%]') do fn[label] = node end
    assert.truthy(fn.inc and fn.add and fn["sum(...)"], dot)
    local function edge(a, b) return dot:find("  " .. a .. " -> " .. b .. "\n", 1, true) ~= nil end
    assert.is_true(edge(fn.inc, id.y) and edge(id.x, fn.inc))
    assert.is_true(edge(fn.add, id.z) and edge(id.y, fn.add))
    assert.is_true(edge(id.z, id.w), "an alias is an edge from the key it names")
    assert.is_true(edge(fn["sum(...)"], id.n) and edge(id.x, fn["sum(...)"]) and edge(id.y, fn["sum(...)"]))
    assert.is_nil(dot:find("f%d+ %[label=\"w\""))
  end)

  it("writes .dot that Graphviz parses, and .svg and .png through dot", function()
    if not have("dot") then pending("Graphviz (dot) is not installed") end
    local svd = demo.svd_graph()
    local dotfile = lask.visualize(svd, tmpdir .. "/svd.dot", { color = "order" })
    local _, err, code = sh("dot -Tsvg " .. shell_quote(dotfile) .. " -o " .. shell_quote(tmpdir .. "/parsed.svg"))
    assert.are.equal(0, code, err)
    assert.truthy(read_file(tmpdir .. "/parsed.svg"):find("<svg", 1, true))
    assert.are.equal(tmpdir .. "/g.svg", lask.visualize(d, tmpdir .. "/g.svg", { rankdir = "LR" }))
    assert.truthy(read_file(tmpdir .. "/g.svg"):find("<svg", 1, true))
    lask.visualize({ dask = svd }, tmpdir .. "/g.png")
    assert.are.equal("\137PNG", read_file(tmpdir .. "/g.png"):sub(1, 4))
  end)

  it("colours by order", function()
    local dot = lask.visualize(demo.svd_graph(), nil, { color = "order" })
    local order = lask.order(demo.svd_graph())
    local n = 0
    for label, fill in dot:gmatch('label="(%d+)", shape="circle", style="filled"') do n = n + 1 end
    assert.are.equal(20, n)
    assert.truthy(dot:find('fillcolor="#0d0887"', 1, true), "the first task is the first colour")
    assert.truthy(dot:find('fillcolor="#f0f921"', 1, true), "the last, the last colour")
    local count = 0
    for _ in pairs(order) do count = count + 1 end
    assert.are.equal(20, count)
    assert.has_error(function() lask.visualize(d, nil, { color = "age" }) end)
  end)

  it("takes anything with a .dask graph", function()
    local collection = setmetatable({}, { __index = function(_, k) if k == "dask" then return d end end })
    assert.are.equal(lask.visualize(d), lask.visualize(collection))
    assert.has_error(function() lask.visualize(42) end)
  end)

  it("says clearly when dot is missing, and warns about large graphs", function()
    local path = script("nodot.lua", [[
local lask = require "lask"
local d = { a = 1, b = { lask.kernels.inc, "a" } }
local ok, err = pcall(lask.visualize, d, "out.svg")
print(ok, err)
lask.visualize(d, "out.dot")
require("lask.visualize").LARGE = 10
local big = { k0 = 0 }
for i = 1, 20 do big["k" .. i] = { lask.kernels.inc, "k" .. (i - 1) } end
lask.visualize(big, "big.dot")
print("wrote")
]])
    local out, err, code = sh("cd " .. shell_quote(tmpdir) .. " && env PATH=/nonexistent " .. shell_quote(BIN) ..
      " " .. shell_quote(path))
    assert.are.equal(0, code, err)
    assert.truthy(out:find("false", 1, true) and out:find("needs Graphviz's `dot` program", 1, true), out)
    assert.truthy(out:find("wrote", 1, true))
    assert.truthy(err:find("warning: the graph has 21 keys", 1, true), err)
    assert.truthy(read_file(tmpdir .. "/out.dot"):find("digraph", 1, true))
  end)

  it("draws profiles too", function()
    local prof <close> = diag.Profiler()
    lask.get(d, "z")
    local path = lask.visualize(prof)
    assert.truthy(read_file(path):find("<!DOCTYPE html>", 1, true))
    os.remove(path)
  end)
end)
