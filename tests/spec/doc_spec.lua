-- The reference manual (make doc, lua/doc): it builds without an LDoc warning, it
-- documents every public function of every public module (enumerated here at run
-- time and compared with what LDoc parsed), and every @usage example in it runs.
local sh = dofile("tests/spec/spec_helpers.lua").sh

local lask = require "lask"
local da = require "lask.array"
local la = require "lask.array.linalg"

-- The public modules and their exported names, as users reach them.
local function public_names()
  local names = {} -- module -> list of names ("get", "random.normal", "Array:sum")
  local function add(mod, name) names[mod] = names[mod] or {}; table.insert(names[mod], name) end
  -- lask's lazily loaded utilities: load each first (the names in init.lua's lazy table)
  local index = getmetatable(lask).__index
  for i = 1, math.huge do
    local n, v = debug.getupvalue(index, i)
    if not n then break end
    if n == "lazy" then for k in pairs(v) do local _ = lask[k] end end
  end
  for k in pairs(lask) do add("lask", k) end
  for _, m in ipairs { "lask.sync", "lask.threaded", "lask.multiprocessing", "lask.diagnostics", "lask.array.linalg" } do
    for k in pairs(require(m)) do add(m, k) end
  end
  for k in pairs(require "lask.kernels") do add("lask.kernels", k) end
  add("lask.callbacks", "Callback") -- (its active() is the schedulers' own)
  for k, v in pairs(da) do
    if k == "random" then
      for r in pairs(v) do add("lask.array", "random." .. r) end
    elseif k ~= "Array" then
      add("lask.array", k)
    end
  end
  add("lask.array", "Array")
  for k in pairs(da.Array) do add("lask.array", "Array:" .. k) end
  local diag = require "lask.diagnostics"
  for _, class in ipairs { "Profiler", "ResourceProfiler", "CacheProfiler", "ProgressBar" } do
    local obj = diag[class]()
    local mt = getmetatable(obj)
    local methods = mt and type(mt.__index) == "table" and mt.__index or {}
    for k, v in pairs(methods) do
      if type(v) == "function" and not k:match("^__") then add("lask.diagnostics", class .. ":" .. k) end
    end
    if obj.unregister then obj:unregister() end
  end
  local a = da.ones(2):compute()
  local _, methods = debug.getupvalue(getmetatable(a).__index, 1)
  for k in pairs(methods) do add("lask.ndarray", k) end
  for _, f in ipairs { "shape", "dtype", "ndim", "size", "strides" } do add("lask.ndarray", f) end
  return names
end

-- What LDoc parsed, through the filter lua/doc/dump.lua.
local function parsed()
  -- the warnings (on stderr) are the first test's concern
  local out, status = sh("cd lua/doc && LUA_PATH='./?.lua;;' ldoc --filter dump.filter . 2>/dev/null")
  assert(status == 0, out)
  out = ("\n" .. out:gsub("exit=%d+%s*$", "")):match("\nreturn {.*$") or out -- LDoc's warnings go to stdout first
  local chunk = assert(load(out, "=ldoc", "t"))
  return chunk()
end

-- The documented names of each public module: lask.array gathers lask.array.* (but
-- linalg), names lose their module's prefix, and fields of documented tables count.
local function documented(mods)
  local doc = {}
  for _, m in ipairs(mods) do
    local mod = m.name:match("^lask") and m.name or "lask." .. m.name
    if mod:match("^lask%.array%.") and mod ~= "lask.array.linalg" then mod = "lask.array" end
    doc[mod] = doc[mod] or {}
    for _, item in ipairs(m.items) do
      local name = item.name
      local prefix = m.name:match("^lask") and m.name or "lask." .. m.name
      if name:sub(1, #prefix + 1) == prefix .. "." or name:sub(1, #prefix + 1) == prefix .. ":" then
        name = name:sub(#prefix + 2)
      end
      doc[mod][name] = true
      local class = name:match("^(%u[%w_]*)[.:]") -- a class's field or method documents the class
      if class then doc[mod][class] = true end
      if item.kind == "table" then
        for _, p in ipairs(item.params) do doc[mod][p] = true; doc[mod][name .. "." .. p] = true end
      end
    end
  end
  return doc
end

describe("the reference manual", function()
  local dir = os.tmpname()
  os.remove(dir)
  teardown(function() sh("rm -rf " .. dir) end)

  it("builds with make doc, without a warning", function()
    local out, status = sh("make -s --no-print-directory doc DOC_DIR=" .. dir)
    assert.are.equal(0, status, out)
    for line in out:gmatch("[^\n]+") do
      if not (line:match("^reading configuration from") or line:match("^output written to") or line:match("^exit=")) then
        error("make doc printed: " .. line .. "\n" .. out)
      end
    end
    local f = io.open(dir .. "/index.html")
    assert.truthy(f, "no index.html")
    f:close()
    for _, page in ipairs { "modules/lask.html", "modules/lask.array.html", "classes/lask.ndarray.html",
      "topics/c_api.md.html", "topics/dask.md.html", "topics/program.md.html" } do
      f = io.open(dir .. "/" .. page)
      assert.truthy(f, "no " .. page)
      f:close()
    end
  end)

  it("documents every public function of every public module", function()
    local doc = documented(parsed())
    local missing = {}
    for mod, names in pairs(public_names()) do
      for _, name in ipairs(names) do
        local d = doc[mod] or {}
        local method = name:match("^Array:(.+)$")
        -- a method that is also a function of lask.array is documented there
        if not (d[name] or (method and d[method])) then missing[#missing + 1] = mod .. ": " .. name end
      end
    end
    table.sort(missing)
    if #missing > 0 then
      error(("%d public names have no LDoc comment (lua/doc/README.md says how to write one):\n  %s")
        :format(#missing, table.concat(missing, "\n  ")), 0)
    end
  end)

  describe("runs every @usage example", function()
    local ok, mods = pcall(parsed)
    if not ok then
      it("(LDoc failed)", function() error(mods) end)
      return
    end
    local n = 0
    for _, m in ipairs(mods) do
      local items = { { name = "(module)", usage = m.usage } }
      for _, item in ipairs(m.items) do items[#items + 1] = item end
      for _, item in ipairs(items) do
        for i, code in ipairs(item.usage) do
          n = n + 1
          local where = ("%s %s usage %d"):format(m.name, item.name, i)
          it(where, function()
            -- a fresh environment: the standard globals, lask, da and la
            local env = setmetatable({ lask = lask, da = da, la = la }, { __index = _G })
            local chunk, err = load(code, "=" .. where, "t", env)
            assert(chunk, err)
            local done, msg = xpcall(chunk, debug.traceback)
            assert(done, ("%s failed:\n%s\n--- the example:\n%s"):format(where, tostring(msg), code))
          end)
        end
      end
    end
    it("has examples", function() assert.is_true(n > 50, "only " .. n .. " examples") end)
  end)
end)
