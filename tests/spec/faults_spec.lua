-- Faults tried on purpose (issue 19): runaway recursion, special files, absurd
-- shapes, out of memory, nesting beyond any sane depth. Each must end promptly with
-- a clear error on the key, or a clean result, never a hang or a crash.
local lask = require "lask"
local S = dofile("tests/spec/spec_helpers.lua")

describe("a Lua task that recurses without end", function()
  -- Before the fix the task error handler counted the stack level by level (the
  -- square of the depth): a real stack overflow ran for more than 15 minutes.
  for _, sched in ipairs { "lask.sync", "lask.threaded", "lask.multiprocessing" } do
    it("reports 'stack overflow' on its key at once (" .. sched .. ")", function()
      local out, status = S.run(([[
        local function f(n) return 1 + f(n + 1) end
        local ok, err = pcall(require(%q).get, { a = { function() return f(0) end } }, "a")
        print(ok, err.key, err.message)
      ]]):format(sched), 30)
      assert.are.equal(0, status, out)
      assert.matches("^false\ta\t.*stack overflow", out)
    end)
  end

  it("keeps the task's frames in the traceback of an error 50,000 frames deep", function()
    local function deep(n) if n == 0 then error("bottom") end return 1 + deep(n - 1) end
    local ok, err = pcall(lask.get, { a = { function() return deep(50000) end } }, "a")
    assert.is_false(ok)
    assert.matches("bottom", err.message)
    assert.matches("in upvalue 'deep'", err.traceback)
    assert.matches("%.%.%.", err.traceback) -- luaL_traceback's elision of the middle
    assert.not_matches("busted", err.traceback)
  end)
end)
