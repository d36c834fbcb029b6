-- An LDoc filter (ldoc --filter dump.filter): prints what LDoc parsed as a Lua chunk
-- returning {{name =, kind =, usage =, items = {{name =, kind =, usage =, params =}}}}:
-- tests/spec/doc_spec.lua compares it with the modules' tables and runs the usages.
local M = {}

local function str(s) return ("%q"):format(tostring(s)):gsub("\\\n", "\\n") end

local function list(t)
  local out = {}
  for _, v in ipairs(t or {}) do out[#out + 1] = str(v) end
  return "{" .. table.concat(out, ", ") .. "}"
end

local function usages(u)
  if type(u) == "string" then return list({ u }) end
  return list(u)
end

function M.filter(modules)
  local out = { "return {" }
  for _, m in ipairs(modules) do
    out[#out + 1] = ("{name = %s, kind = %s, usage = %s, items = {"):format(str(m.name), str(m.type), usages(m.usage))
    for item in m.items:iter() do
      out[#out + 1] = ("  {name = %s, kind = %s, usage = %s, params = %s},"):format(str(item.name), str(item.type),
        usages(item.usage), list(item.params))
    end
    out[#out + 1] = "}},"
  end
  out[#out + 1] = "}"
  io.write(table.concat(out, "\n"), "\n")
end

return M
