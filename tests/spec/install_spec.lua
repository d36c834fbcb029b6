-- `make install` gives what Lua and C users expect: stock lua5.4 can require lask,
-- and a host program builds against it with pkg-config.
local build = os.getenv("BUILD") or "build"

local sh = dofile("tests/spec/spec_helpers.lua").sh

describe("make install", function()
  -- Sanitizer builds cannot be loaded into the stock interpreter, which lacks their runtime.
  local sanitized = build ~= "build"
  local root = os.tmpname()
  os.remove(root)

  setup(function()
    local out, status = sh(("make --no-print-directory install BUILD=%s DESTDIR=%s PREFIX=/usr/local"):format(build, root))
    assert(status == 0, out)
  end)

  teardown(function() sh("rm -rf " .. root) end)

  local prefix = root .. "/usr/local"

  it("lets stock lua5.4 require lask", function()
    if sanitized then return pending("sanitizer build") end
    local out, status = sh(("LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua' LUA_CPATH='%s/lib/lua/5.4/?.so' "
      .. "lua5.4 -e 'local lask = require \"lask\"; print(lask.get({x = 1, y = {lask.kernels.inc, \"x\"}}, \"y\"))'")
      :format(prefix, prefix, prefix))
    assert.are.equal(0, status, out)
    assert.matches("^2\n", out)
  end)

  it("installs a pkg-config file a C host builds with", function()
    if sanitized then return pending("sanitizer build") end
    local src = root .. "/host.c"
    local f = assert(io.open(src, "w"))
    f:write([[
#include <lask/lask.h>
#include <stdio.h>
#include <string.h>
int main(void) {
  lask_err err;
  if (strcmp(lask_version(), LASK_VERSION) != 0) return printf("headers %s, library %s\n", LASK_VERSION, lask_version()), 1;
  printf("version %s (%d.%d.%d)\n", lask_version(), LASK_VERSION_MAJOR, LASK_VERSION_MINOR, LASK_VERSION_PATCH);
  lask_engine *e = lask_engine_new(2, &err);
  lask_graph_builder *b = lask_gb_new();
  uint32_t x = lask_gb_named(b, "x"), y = lask_gb_named(b, "y");
  lask_gb_begin(b, x), lask_gb_const(b, lask_int(41)), lask_gb_end(b);
  lask_gb_begin(b, y), lask_gb_const(b, lask_kernel_value(lask_kernel_find("inc")));
  lask_gb_key(b, x), lask_gb_call(b, 1), lask_gb_end(b);
  lask_graph *g = lask_gb_finish(b, &err);
  const char *want[] = {"y"};
  lask_value v;
  if (!g || lask_get(e, g, want, 1, &v, &err) != LASK_OK) return printf("%s\n", err.msg), 1;
  printf("y = %lld\n", (long long)v.as.i);
  lask_release(v), lask_graph_free(g), lask_engine_free(e);
  /* a kernel's view of an array: lask_ndarray (array/ndarray.h) */
  int64_t shape[2] = {2, 3};
  lask_ndarray *a = lask_ndarray_new(LASK_F64, 2, shape, &err);
  if (!a) return printf("%s\n", err.msg), 1;
  for (int64_t i = 0; i < 2; i++)
    for (int64_t j = 0; j < 3; j++) *(double *)(a->data + i * a->strides[0] + j * a->strides[1]) = (double)(10 * i + j);
  int64_t at[2] = {1, 2};
  printf("a[1,2] = %g of %lld elements, %s\n", *(double *)lask_ndarray_ptr(a, at), (long long)lask_ndarray_size(a),
         lask_dtype_name(a->dtype));
  lask_release(lask_ndarray_value(a));
  return 0;
}
]])
    f:close()
    local pc = root .. "/pc"
    local pkg = ("PKG_CONFIG_PATH=%s pkg-config"):format(pc)
    local out, status = sh(("mkdir -p %s && sed 's|^prefix=.*|prefix=%s|' %s/lib/pkgconfig/lask.pc > %s/lask.pc && "
      .. "cc -std=c11 -o %s/host %s $(%s --cflags --libs lask) && LD_LIBRARY_PATH=%s/lib %s/host && "
      .. "echo modversion=$(%s --modversion lask)")
      :format(pc, prefix, prefix, pc, root, src, pkg, prefix, root, pkg))
    assert.are.equal(0, status, out)
    assert.matches("y = 42", out)
    assert.matches("a[1,2] = 12 of 6 elements, float64", out, 1, true)
    local v = out:match("version (%d+%.%d+%.%d+) %((%d+%.%d+%.%d+)%)")
    assert.truthy(v, out)
    assert.matches("version " .. v:gsub("%.", "%%.") .. " %(" .. v:gsub("%.", "%%.") .. "%)", out)
    assert.matches("modversion=" .. v:gsub("%.", "%%.") .. "\n", out)
    -- the same host linked statically (liblask.a and Libs.private), and compiled as C++
    out, status = sh(("cc -std=c11 -o %s/host_static %s $(%s --cflags lask) -L%s/lib -l:liblask.a "
      .. "$(%s --static --libs-only-l lask | sed 's/-llask //') && %s/host_static && "
      .. "c++ -std=c++17 -Wall -Wpedantic -Werror -x c++ -o %s/host_cxx %s -x none $(%s --cflags --libs lask) && "
      .. "LD_LIBRARY_PATH=%s/lib %s/host_cxx")
      :format(root, src, pkg, prefix, pkg, root, root, src, pkg, prefix, root))
    assert.are.equal(0, status, out)
    local _, n = out:gsub("y = 42", "")
    assert.are.equal(2, n, out)
    _, n = out:gsub("a%[1,2%] = 12 of 6 elements, float64", "")
    assert.are.equal(2, n, out)
  end)

  it("installs liblask.so.MAJOR exporting only the public lask_* API", function()
    if sanitized then return pending("sanitizer build") end
    local out, status = sh(("readelf -d %s/lib/liblask.so | grep SONAME; nm -D --defined-only %s/lib/liblask.so")
      :format(prefix, prefix))
    assert.are.equal(0, status, out)
    assert.matches("%[liblask%.so%.%d+%]", out)
    assert.matches(" T lask_get@@LASK_%d+\n", out)
    assert.matches(" T lask_lua_new_state@@LASK_%d+\n", out)
    for sym in out:gmatch("\n%x+ %a ([%w_@.]+)") do
      assert.truthy(sym:match("^lask_") or sym:match("^LASK_"), "exported: " .. sym)
    end
    assert.is_nil(out:match(" lask_state_init@"), "an internal function is exported")
  end)

  -- From a copy of the repository's files alone (as a fresh clone has them: no
  -- build/), with the command README.md gives, in a tree of its own.
  it("builds and installs with luarocks make as README.md writes it, and runs luarocks test", function()
    if sanitized then return pending("sanitizer build") end
    local readme = assert(io.open("README.md")):read("a")
    local cmd = readme:match("`(luarocks [^`]*make [^`]*%.rockspec)`")
    assert.truthy(cmd, "README.md gives no luarocks make command")
    local src, tree = root .. "/clone", root .. "/rocks"
    local out, status = sh(("mkdir -p %s && { git ls-files -z 2>/dev/null | xargs -0 tar cf - || tar cf - --exclude='./build*' .; } | tar xf - -C %s && test ! -d %s/build")
      :format(src, src, src))
    assert.are.equal(0, status, out)
    local incdir = sh("luarocks --lua-version 5.4 config variables.LUA_INCDIR"):match("^(%S+)")
    out, status = sh(("cd %s && %s"):format(src, cmd:gsub("^luarocks ", "luarocks --tree " .. tree .. " ")))
    assert.are.equal(0, status, out)
    assert.is_nil(out:match("%-Werror"), "users' builds must not use -Werror")
    assert.truthy(out:find("-I" .. incdir, 1, true), "LUA_INCDIR (" .. incdir .. ") is not passed to the compiler")
    out, status = sh(("LUA_PATH='%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua' LUA_CPATH='%s/lib/lua/5.4/?.so' "
      .. "lua5.4 -e 'local lask = require \"lask\"; print(lask.get({a = {lask.kernels.add, 1, 2}}, \"a\"))' && "
      .. "%s/bin/lask -e 'print(require(\"lask.array\").arange(4):sum():compute():item())'")
      :format(tree, tree, tree, tree))
    assert.are.equal(0, status, out)
    assert.matches("^3\n6\n", out)
    -- library modules only: no demo graphs, no benchmarks or scripts
    out = sh(("cd %s/share/lua/5.4 && find . -type f | sort"):format(tree))
    assert.truthy(out:match("%./lask/array/linalg%.lua"), out)
    assert.is_nil(out:match("demo"), out)
    assert.is_nil(out:match("bench"), out)
    out, status = sh(("cd %s && luarocks --tree %s --lua-version 5.4 test lask-*.rockspec -- tests/spec/key_spec.lua")
      :format(src, tree))
    assert.are.equal(0, status, out)
    assert.matches("%d+ successes / 0 failures / 0 errors", out)
  end)
end)
