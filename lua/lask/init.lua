-- lask: parallel task graphs for Lua. See ../shared/API.md for the contract.
local core = require "lask.core"

local lask = {}
lask.key = core.key
lask.iskey = core.iskey
lask.quote = core.quote
return lask
