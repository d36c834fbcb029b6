# lask — build, test and install. `make demo` and `make test` do all set-up on a
# fresh Debian machine (vendor/install.sh installs what is missing).

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
# -DLASK_CHECKS turns on the engine's internal invariant checks (engine/core/check.h);
# make asan and make tsan set it, normal builds compile the checks out.
CHECKS  ?=
PKGS     = lua5.4 openblas lapacke
# -Werror for the project's own builds; packagers and luarocks build with WERROR=.
WERROR  ?= -Werror
# Lua's headers: LUA_INCDIR when given (luarocks passes it), else pkg-config's.
LUA_INCDIR ?=
LUA_CFLAGS = $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(shell pkg-config --cflags lua5.4))
# The version, read from its one place (engine/core/version.h).
VERSION := $(shell awk '/define LASK_VERSION_(MAJOR|MINOR|PATCH) / {printf "%s%s", sep, $$3; sep = "."}' engine/core/version.h)
# The engine compiles without Lua's include path: a file under engine/ that
# includes lua.h fails to build (the layering rule "the engine never includes Lua").
CFLAGS_BASE   = -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -fPIC -pthread $(OPT) $(SAN) $(CHECKS) -Iengine
ENGINE_CFLAGS = $(CFLAGS_BASE) $(shell pkg-config --cflags openblas lapacke) $(CFLAGS)
CFLAGS_ALL    = $(CFLAGS_BASE) -Ilua/binding $(LUA_CFLAGS) $(shell pkg-config --cflags openblas lapacke) $(CFLAGS)
LIBS          = $(shell pkg-config --libs $(PKGS)) -lm -lpthread $(LDFLAGS)

ENGINE_SRC  = $(wildcard engine/core/*.c engine/array/*.c)
BINDING_SRC = $(wildcard lua/binding/*.c)
HEADERS     = $(wildcard engine/*.h engine/*/*.h lua/binding/*.h)
# The public headers: installed under include/lask/, and what liblask.so exports.
PUBLIC_CORE = api.h engine.h err.h eval.h graph.h kernel.h run.h run_opts.h trace.h value.h version.h
PUBLIC_HEADERS = engine/lask.h $(PUBLIC_CORE:%=engine/core/%) engine/array/scalar.h engine/array/ndarray.h
SOVERSION   = $(firstword $(subst ., ,$(VERSION)))
SHLIB       = $(BUILD)/liblask.so.$(VERSION)
LUA_MODULES = $(shell find lua/lask -name '*.lua' | sort)
# The modules installed (make install, luarocks): the library's, not the demo graphs.
LIB_LUA_MODULES = $(filter-out lua/lask/diagnostics/demo.lua,$(LUA_MODULES))
ENGINE_OBJ  = $(ENGINE_SRC:%.c=$(BUILD)/obj/%.o)
BINDING_OBJ = $(BINDING_SRC:%.c=$(BUILD)/obj/%.o)
CTEST_SRC   = $(wildcard tests/c/test_*.c)
CTEST_BIN   = $(CTEST_SRC:tests/c/%.c=$(BUILD)/tests/%)

.PHONY: all lib deps deps-bench demo test check asan tsan fuzz fuzz-run bench doc install rock-install uninstall clean format print-version

all: $(BUILD)/lask $(BUILD)/lib/lask/core.so $(BUILD)/lib/lask/mpi.so $(BUILD)/liblask.a $(SHLIB) $(BUILD)/embed-host $(BUILD)/embed-host-cxx $(CTEST_BIN)

lib: $(BUILD)/lask $(BUILD)/lib/lask/core.so $(BUILD)/liblask.a $(SHLIB)

deps:
	@vendor/install.sh

deps-bench:
	@vendor/install.sh bench

$(BUILD)/obj/engine/%.o: engine/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ENGINE_CFLAGS) -c $< -o $@

$(BUILD)/obj/lua/%.o: lua/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/obj/preload.o: $(BUILD)/preload.c
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/liblask.a: $(ENGINE_OBJ) $(BINDING_OBJ) $(BUILD)/obj/preload.o
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# liblask.so exports exactly the functions and classes the public headers declare
# (a version script made from them), under the soname liblask.so.MAJOR.
$(BUILD)/liblask.map: $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	{ echo 'LASK_$(SOVERSION) {'; echo '  global:'; \
	  sed -n -e 's/^[a-z][^(]*[ *]\(lask_[a-z0-9_]*\)(.*/    \1;/p' \
	    -e 's/^extern const [a-z_]* \(lask_[a-z0-9_]*\);.*/    \1;/p' $^ | sort -u; \
	  echo '  local: *;'; echo '};'; } > $@

$(SHLIB): $(ENGINE_OBJ) $(BINDING_OBJ) $(BUILD)/obj/preload.o $(BUILD)/liblask.map
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,liblask.so.$(SOVERSION) -Wl,--version-script,$(BUILD)/liblask.map \
	  -o $@ $(ENGINE_OBJ) $(BINDING_OBJ) $(BUILD)/obj/preload.o $(LIBS)
	ln -sf liblask.so.$(VERSION) $(BUILD)/liblask.so.$(SOVERSION)
	ln -sf liblask.so.$(SOVERSION) $(BUILD)/liblask.so

$(BUILD)/lib/lask/core.so: $(ENGINE_OBJ) $(BINDING_OBJ) $(BUILD)/obj/preload.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -shared -o $@ $^ $(shell pkg-config --libs openblas lapacke) -lm -lpthread

# lask.mpi: its own module, the only code linked with libmpi (Open MPI), loaded
# only by scripts that require it; core.so and the lask program never need MPI.
MPI_CFLAGS = $(shell pkg-config --cflags ompi-c)
MPI_LIBS   = $(shell pkg-config --libs ompi-c)
$(BUILD)/lib/lask/mpi.so: lua/mpi/lmpi.c lua/binding/messenger.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(MPI_CFLAGS) -shared -o $@ $< $(MPI_LIBS) -ldl

$(BUILD)/preload.c: lua/tools/gen_preload.lua $(LUA_MODULES)
	@mkdir -p $(dir $@)
	lua5.4 lua/tools/gen_preload.lua lua $(LUA_MODULES) > $@

$(BUILD)/lask: lua/program/main.c $(BUILD)/liblask.a
	$(CC) $(CFLAGS_ALL) -o $@ lua/program/main.c $(BUILD)/liblask.a $(LIBS) -lreadline

$(BUILD)/embed-host: scripts/embed/host.c $(BUILD)/liblask.a
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/liblask.a $(LIBS)

# The lask side of scripts/bench/native.lua (the peers are built by the script).
$(BUILD)/bench/lask_graphs: scripts/bench/native/lask_graphs.c $(BUILD)/liblask.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/liblask.a $(LIBS)

# The same host compiled as C++: the public headers must serve C++ hosts as they are.
$(BUILD)/embed-host-cxx: scripts/embed/host.c $(BUILD)/liblask.a
	$(CXX) -std=c++17 -Wall -Wextra -Wpedantic -Werror -pthread $(OPT) $(SAN) -Iengine \
	  $(shell pkg-config --cflags lua5.4) -x c++ $< -x none -o $@ $(BUILD)/liblask.a $(LIBS)

# test_alloc_fail fails the engine's allocations one by one: it wraps malloc,
# calloc and realloc at link time (only liblask.a's calls are wrapped).
$(BUILD)/tests/test_alloc_fail: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

$(BUILD)/tests/%: tests/c/%.c $(wildcard tests/c/*.h) $(BUILD)/liblask.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/liblask.a $(LIBS) -lcmocka -lutil $(TEST_LDFLAGS)

demo: deps all
	$(BUILD)/lask scripts/talk.lua

test: deps all
	BUILD=$(BUILD) CC="$(CC)" ENGINE_CFLAGS="$(ENGINE_CFLAGS)" sh tests/run.sh

check: test

asan:
	$(MAKE) BUILD=build-asan CC=clang CXX=clang++ OPT="-O1 -g" CHECKS=-DLASK_CHECKS \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

# ThreadSanitizer cannot see inside OpenBLAS's own threads (an uninstrumented library
# synchronising with spin-waits): run it single-threaded there. Worker processes
# forked by lask.multiprocessing may start threads (a nested get), which glibc
# supports and TSan only refuses by default.
tsan:
	OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="die_after_fork=0 $(TSAN_OPTIONS)" \
	  $(MAKE) BUILD=build-tsan CC=clang CXX=clang++ OPT="-O1 -g" CHECKS=-DLASK_CHECKS SAN="-fsanitize=thread" test

# Fuzzing (tests/fuzz/README.md): libFuzzer targets built with clang, ASan and UBSan
# in build-fuzz, each run for FUZZ_TIME seconds over its committed seed corpus
# (new inputs go to a scratch directory; a crash leaves build-fuzz/fuzz/crash-*).
# make test runs it for 20 seconds a target (FUZZ_TIME=0 there skips it).
FUZZ_TIME    ?= 60
FUZZ_TARGETS  = npy graph

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang OPT="-O1 -g" CHECKS=-DLASK_CHECKS \
	  SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer -fno-sanitize-recover=undefined" fuzz-run

fuzz-run: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
	sh tests/fuzz/run.sh $(BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/liblask.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/liblask.a $(LIBS)

# The reference manual (lua/doc/README.md): LDoc comments of the public modules, the
# topics in lua/doc and those topics.lua makes from README.md and the public headers.
# Any LDoc warning fails it (tests/spec/doc_spec.lua runs it).
DOC_DIR ?= build/doc
doc: deps
	@rm -rf $(DOC_DIR) && mkdir -p build/doc-src
	lua5.4 lua/doc/topics.lua build/doc-src README.md $(PUBLIC_HEADERS)
	cd lua/doc && ldoc --fatalwarnings -d $(abspath $(DOC_DIR)) .

bench: deps-bench all
	BUILD=$(BUILD) sh scripts/bench/run.sh

format:
	clang-format -i engine/*.h engine/*/*.[ch] lua/*/*.[ch] tests/c/*.[ch] scripts/embed/*.c

install: $(BUILD)/lask $(BUILD)/lib/lask/core.so $(BUILD)/lib/lask/mpi.so $(BUILD)/liblask.a $(SHLIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/lib/lua/5.4/lask $(DESTDIR)$(PREFIX)/share/lua/5.4
	install -m 755 $(BUILD)/lask $(DESTDIR)$(PREFIX)/bin/lask
	install -m 644 $(BUILD)/liblask.a $(DESTDIR)$(PREFIX)/lib/liblask.a
	install -m 755 $(SHLIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf liblask.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/liblask.so.$(SOVERSION)
	ln -sf liblask.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/liblask.so
	install -m 755 $(BUILD)/lib/lask/core.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/lask/core.so
	install -m 755 $(BUILD)/lib/lask/mpi.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/lask/mpi.so
	for f in $(LIB_LUA_MODULES:lua/%=%); do install -D -m 644 lua/$$f $(DESTDIR)$(PREFIX)/share/lua/5.4/$$f || exit 1; done
	install -d $(DESTDIR)$(PREFIX)/include/lask
	install -d $(DESTDIR)$(PREFIX)/include/lask/core $(DESTDIR)$(PREFIX)/include/lask/array
	install -m 644 engine/lask.h $(DESTDIR)$(PREFIX)/include/lask/
	cd engine/core && install -m 644 $(PUBLIC_CORE) $(DESTDIR)$(PREFIX)/include/lask/core/
	install -m 644 engine/array/scalar.h engine/array/ndarray.h $(DESTDIR)$(PREFIX)/include/lask/array/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' lask.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lask.pc

# luarocks' "make" backend (lask-*.rockspec) passes LUADIR, LIBDIR and BINDIR.
rock-install: $(BUILD)/lask $(BUILD)/lib/lask/core.so
	install -d $(LIBDIR)/lask $(BINDIR)
	install -m 755 $(BUILD)/lib/lask/core.so $(LIBDIR)/lask/core.so
	for f in $(LIB_LUA_MODULES:lua/%=%); do install -D -m 644 lua/$$f $(LUADIR)/$$f || exit 1; done
	install -m 755 $(BUILD)/lask $(BINDIR)/lask

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/lask $(DESTDIR)$(PREFIX)/include/lask $(DESTDIR)$(PREFIX)/lib/liblask.a \
	  $(DESTDIR)$(PREFIX)/lib/liblask.so* \
	  $(DESTDIR)$(PREFIX)/lib/lua/5.4/lask $(DESTDIR)$(PREFIX)/share/lua/5.4/lask $(DESTDIR)$(PREFIX)/lib/pkgconfig/lask.pc

print-version:
	@echo $(VERSION)

clean:
	rm -rf build build-asan build-tsan build-fuzz
