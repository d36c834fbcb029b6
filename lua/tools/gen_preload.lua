-- Generates C that registers lask's Lua modules in package.preload, so the lask
-- program runs with no files beside it. Usage: lua5.4 gen_preload.lua ROOT FILE...
local root = arg[1]
local out = { "#include <string.h>", "#include <lua.h>", "#include <lauxlib.h>", "" }
local entries = {}
for i = 2, #arg do
  local path = arg[i]
  local rel = path:sub(#root + 2):gsub("%.lua$", "")
  local name = rel:gsub("/init$", ""):gsub("/", ".")
  local f = assert(io.open(path, "rb"))
  local src = f:read("a")
  f:close()
  local bytes = {}
  for j = 1, #src do bytes[#bytes + 1] = string.byte(src, j) end
  local id = "mod_" .. (#entries + 1)
  out[#out + 1] = ("static const char %s[] = {%s};"):format(id, table.concat(bytes, ","))
  entries[#entries + 1] = ("  {%q, %q, %s, sizeof %s},"):format(name, "@" .. path, id, id)
end
out[#out + 1] = "static const struct { const char *name, *chunk; const char *src; size_t len; } modules[] = {"
for _, e in ipairs(entries) do out[#out + 1] = e end
out[#out + 1] = "  {NULL, NULL, NULL, 0}};"
out[#out + 1] = [[

/* Registers every embedded module as a package.preload loader. */
void lask_preload_lua_modules(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (int i = 0; modules[i].name; i++) {
    if (luaL_loadbufferx(L, modules[i].src, modules[i].len, modules[i].chunk, "t") != LUA_OK)
      lua_error(L);
    lua_setfield(L, -2, modules[i].name);
  }
  lua_pop(L, 1);
}

/* The source text of the embedded module name (its length in *len), or NULL. */
const char *lask_preload_lua_source(const char *name, size_t *len) {
  for (int i = 0; modules[i].name; i++)
    if (strcmp(modules[i].name, name) == 0) return *len = modules[i].len, modules[i].src;
  return NULL;
}]]
print(table.concat(out, "\n"))
