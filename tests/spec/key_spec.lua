-- Tuple keys (lask.key), quotes and native kernels as Lua values.
local lask = require "lask"

describe("lask.key", function()
  it("interns: the same parts give the same object", function()
    assert.are.equal(lask.key("x", 0), lask.key("x", 0))
    assert.is_true(rawequal(lask.key("x", 0, 1), lask.key("x", 0, 1)))
    assert.are_not.equal(lask.key("x", 0), lask.key("x", 1))
    assert.are_not.equal(lask.key("x", 0), lask.key("x", "0"))
    assert.are.equal(lask.key("x", 0), lask.key("x", 0.0))
    assert.are_not.equal(lask.key("x", 2), lask.key("x", 2.5))
    assert.are.equal("('x', 2.5)", tostring(lask.key("x", 2.5)))
  end)

  it("works as a table key", function()
    local t = { [lask.key("x", 0)] = "a" }
    assert.are.equal("a", t[lask.key("x", 0)])
  end)

  it("prints like a Python tuple", function()
    assert.are.equal("('x', 0)", tostring(lask.key("x", 0)))
    assert.are.equal("('tsqr', 1, 0)", tostring(lask.key("tsqr", 1, 0)))
    assert.are.equal("('s',)", tostring(lask.key("s")))
  end)

  it("reads its parts and is immutable", function()
    local k = lask.key("x", 3, 4)
    assert.are.equal("x", k[1])
    assert.are.equal(4, k[3])
    assert.are.equal(3, #k)
    assert.has_error(function() k[1] = "y" end)
    assert.is_true(lask.iskey(k))
    assert.is_false(lask.iskey("x"))
  end)

  it("orders part by part", function()
    assert.is_true(lask.key("x", 1) < lask.key("x", 2))
    assert.is_true(lask.key("x", 2) < lask.key("x", 10))
    assert.is_true(lask.key("a", 9) < lask.key("b", 0))
  end)

  it("rejects parts that are not strings, numbers or booleans", function()
    assert.has_error(function() lask.key("x", {}) end)
    assert.has_error(function() lask.key() end)
  end)

  it("survives garbage collection while referenced", function()
    local k = lask.key("gc", 1)
    collectgarbage()
    assert.is_true(rawequal(k, lask.key("gc", 1)))
  end)
end)

describe("native kernels", function()
  local K = lask.kernels

  it("print by name and can be called from Lua", function()
    assert.are.equal("add", tostring(K.add))
    assert.are.equal(5, K.add(2, 3))
    assert.are.equal(2.5, K.add(2, 0.5))
    assert.are.equal(0.5, K.div(1, 2))
    assert.are.equal(-4, K.neg(4))
    assert.are.equal(6, K.sum({ 1, 2, 3 }))
    assert.are.equal("s", K.identity("s"))
    assert.are.equal(8, K.mul(2, 4))
    assert.are.equal(-1, K.sub(2, 3))
    assert.are.equal(3, K.inc(2))
  end)

  it("raise clear errors on bad arguments", function()
    assert.has_error(function() K.add(1) end, "add expects 2 arguments, got 1")
    assert.has_error(function() K.inc("x") end, "inc: argument 1 is a string, not a number")
  end)
end)
