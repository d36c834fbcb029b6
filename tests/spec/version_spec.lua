-- The version, one number everywhere: lask.version and lask._VERSION in Lua, the
-- program's -v, and the Makefile's (read from engine/core/version.h).
local S = dofile("tests/spec/spec_helpers.lua")

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

describe("version", function()
  local lask = require "lask"

  it("is MAJOR.MINOR.PATCH in lask.version, and lask._VERSION names it as Lua's does", function()
    assert.matches("^%d+%.%d+%.%d+$", lask.version)
    assert.are.equal("lask " .. lask.version, lask._VERSION)
  end)

  it("is the same in the program's -v and in the Makefile", function()
    assert.are.equal(lask.version .. "\n", sh("make -s --no-print-directory print-version"))
    assert.matches("^lask " .. lask.version:gsub("%.", "%%.") .. " ", sh(S.BIN .. " -v"))
  end)
end)
