-- Writes the reference manual's generated topics (make doc runs it with lua5.4):
--   lua5.4 lua/doc/topics.lua OUTDIR README.md HEADER...
-- OUTDIR/dask.md: README.md's "Differences from Dask" section, as it is;
-- OUTDIR/c_api.md: the C API, from the public headers as they are (each opens
-- with a comment on what it holds), lask.h first.
local outdir, readme = arg[1], arg[2]
assert(outdir and readme, "usage: topics.lua OUTDIR README.md HEADER...")

local function slurp(path)
  local f = assert(io.open(path, "r"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- The README section titled `title`: from its heading to the next one of its level.
local function section(text, title)
  local start = text:find("\n## " .. title .. "\n", 1, true)
  assert(start, "README.md has no section '## " .. title .. "'")
  local body = text:sub(start + #title + 5)
  local stop = body:find("\n## ", 1, true)
  return stop and body:sub(1, stop) or body
end

spit(outdir .. "/dask.md", "# Differences from Dask\n\nlask follows Dask's API and behaviour except where listed below "
  .. "(this page is README.md's section of the same name).\n" .. section(slurp(readme), "Differences from Dask"))

-- A header as markdown: a section with the header as it is (its opening comment
-- says what it holds), the include guard and the extern "C" brackets left out.
local function header_md(path)
  local lines = {}
  for line in (slurp(path) .. "\n"):gmatch("(.-)\n") do
    if not (line:match("^#ifndef [%w_]+_H$") or line:match("^#define [%w_]+_H$") or line:match("^#endif")
        or line:match("^LASK_BEGIN_DECLS") or line:match("^LASK_END_DECLS")) then
      lines[#lines + 1] = line
    end
  end
  local code = table.concat(lines, "\n"):gsub("^%s+", ""):gsub("%s+$", ""):gsub("\n\n\n+", "\n\n")
  local name = path:match("engine/(.*)$") or path
  return ("## lask/%s\n\n    %s\n"):format(name, (code:gsub("\n", "\n    ")))
end

local parts = { [[
# The C API

A host program links lask's engine and runs task graphs of native kernels from C
(or C++: every public header compiles as both). Include `<lask/lask.h>` (installed by
`make install`; in the source tree `engine/lask.h`) and build with pkg-config:

    cc host.c $(pkg-config --cflags --libs lask)

The headers below are the whole API: what they do not declare is not API.
`scripts/embed/host.c` is a complete host.
]] }
for i = 3, #arg do parts[#parts + 1] = header_md(arg[i]) end
spit(outdir .. "/c_api.md", table.concat(parts, "\n"))
