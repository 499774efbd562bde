# pastream-lua: a flat Makefile, like Lua's.
#   make            build pastream-lua and the Lua module
#   make check      install missing packages, build, start the test rig, run every test
#   make demo       play a tone through the default device and record it back
#   make install    PREFIX=/usr/local DESTDIR=  (programs, modules, recipes, man pages, bash completion)

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
SHAREDIR = $(PREFIX)/share
LUADIR   = $(SHAREDIR)/lua/5.4
CMODDIR  = $(PREFIX)/lib/lua/5.4
LUACDIR  = $(PREFIX)/lib/pastream-lua/luac

CC      ?= cc
PKGS     = portaudio-2.0 sndfile samplerate lua5.4 libuv kissfft-float libpng
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fPIC -pthread
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LUV_LIBS   = $(shell pkg-config --libs lua5.4-luv 2>/dev/null)
ALL_CFLAGS = $(CFLAGS) $(PKG_CFLAGS) -Isrc -DPS_SHAREDIR='"$(SHAREDIR)"' -DPS_CMODDIR='"$(CMODDIR)"'
LIBS     = $(PKG_LIBS) -lm -pthread -ldl
# The host links Lua, luv and libuv only: it finds the C core, and with it
# PortAudio and libsndfile, as pastream/core.so on package.cpath when a
# script requires it (the build tree's $(B)/, the installed $(CMODDIR)/).
HOST_LIBS = $(LUV_LIBS) $(shell pkg-config --libs lua5.4 libuv 2>/dev/null) -lm

B = build
CORE_SRC = src/ringbuf.c src/wake.c src/sample.c src/copy.c src/engine.c src/device.c src/jackwatch.c src/disk.c src/sfformat.c src/sigchain.c \
           src/lbuffer.c src/lstream.c src/lstream_io.c src/lstream_props.c src/lwholefile.c src/lsoundfile.c src/lcore.c src/ldsp.c \
           src/image.c src/lpicture.c
CORE_OBJ = $(CORE_SRC:src/%.c=$(B)/%.o)
HEADERS  = $(wildcard src/*.h)
FUZZ_TARGETS = buffer cli audiofile
TESTS    = $(B)/test_ringbuf $(B)/test_engine $(B)/test_disk $(B)/pa_probe $(B)/stall \
           $(FUZZ_TARGETS:%=$(B)/fuzz/replay_%)

.PHONY: all deps test-deps test check check-paths demo install uninstall clean

# The Lua modules precompiled (src/host.c's bytecode searcher): each
# .luac has its source's chunk name and, by touch -r, its modification
# time, which the host checks before it uses one.  The dump runs the host
# just built; DUMP_SRC, DUMP_NAME (the chunk name) and DUMP_OUT say what.
LUA_SRC  = $(wildcard lua/pastream/*.lua)
LUAC     = $(LUA_SRC:lua/%.lua=$(B)/luac/%.luac)
LUA_DUMP = ./pastream-lua -e 'local i = assert(io.open(os.getenv("DUMP_SRC"), "rb")) \
  local f = assert(load(i:read("a"), "@" .. os.getenv("DUMP_NAME"))) i:close() \
  local o = assert(io.open(os.getenv("DUMP_OUT"), "wb")) o:write(string.dump(f)) assert(o:close())'
all: pastream-lua bin/pastream $(B)/pastream/core.so $(LUAC) $(TESTS)

$(B)/luac/pastream/%.luac: lua/pastream/%.lua pastream-lua
	@mkdir -p $(@D)
	@DUMP_SRC=$< DUMP_NAME=$(CURDIR)/$< DUMP_OUT=$@ $(LUA_DUMP)
	@touch -r $< $@

# bin/pastream: the CLI without a shell in between.  The host run under the
# name pastream runs the bundled CLI itself (src/host.c), busybox-style;
# scripts/pastream stays the launcher that finds a host.  (Not ./pastream:
# luarocks builds into a pastream/ directory there.)
bin/pastream: pastream-lua
	mkdir -p bin
	ln -sf ../pastream-lua $@

deps:
	@scripts/install-deps.sh build
test-deps:
	@scripts/install-deps.sh test

$(B)/%.o: src/%.c $(HEADERS) | $(B)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B):
	mkdir -p $(B)/pastream

# (its own rule too: build/ may exist already, made by install-deps.sh for
# the unpacked ALSA plugins, without build/pastream)
$(B)/pastream:
	mkdir -p $(B)/pastream

pastream-lua: $(B)/host.o $(B)/sigchain.o | $(B)/pastream/core.so
	$(CC) $(CFLAGS) $^ -o $@ $(HOST_LIBS)

$(B)/pastream/core.so: $(CORE_OBJ) | $(B)/pastream
	$(CC) $(CFLAGS) -shared $^ -o $@ $(filter-out -llua5.4,$(LIBS))

$(B)/test_ringbuf: tests/test_ringbuf.c src/ringbuf.c src/ringbuf.h tests/check.h | $(B)
	$(CC) $(ALL_CFLAGS) -Itests tests/test_ringbuf.c src/ringbuf.c -o $@ -pthread

$(B)/test_engine: tests/test_engine.c $(B)/engine.o $(B)/copy.o $(B)/ringbuf.o $(B)/wake.o $(B)/sample.o tests/check.h | $(B)
	$(CC) $(ALL_CFLAGS) -Itests tests/test_engine.c $(B)/engine.o $(B)/copy.o $(B)/ringbuf.o $(B)/wake.o $(B)/sample.o -o $@ $(LIBS)

$(B)/test_disk: tests/test_disk.c $(B)/disk.o $(B)/ringbuf.o $(B)/wake.o $(B)/sample.o tests/check.h | $(B)
	$(CC) $(ALL_CFLAGS) -Itests tests/test_disk.c $(B)/disk.o $(B)/ringbuf.o $(B)/wake.o $(B)/sample.o -o $@ $(LIBS)

# stall: busy SCHED_FIFO threads that stall the machine now and then, for
# tests/sh/test_lowlatency.sh (the damage accounting under real stalls).
$(B)/stall: tests/stall.c | $(B)
	$(CC) $(ALL_CFLAGS) $< -o $@ -pthread

$(B)/pa_probe: tests/pa_probe.c | $(B)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(LIBS)

# The fuzz targets (tests/fuzz) with a plain main that replays files, so that
# the tests run every seed and regression input without libFuzzer.
FUZZ_DEFS = -DPS_LUADIR='"$(CURDIR)/lua"'

$(B)/fuzz:
	mkdir -p $(B)/fuzz

$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(CORE_OBJ) $(HEADERS) | $(B)/fuzz
	$(CC) $(ALL_CFLAGS) $(FUZZ_DEFS) $< tests/fuzz/replay.c $(CORE_OBJ) -o $@ $(LIBS)

# The packages are installed before anything reads pkg-config, so these
# recurse once the dependencies are there.
test: all
	@tests/run.sh

check: test-deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh

# The loopback checks on the other paths users' audio takes (ALSA through
# the JACK PCM plugin, netjack2 across two network namespaces, PipeWire's
# JACK library): tests/sh/test_paths.sh, about 2 minutes.  make check runs
# a short version of it (tests/sh/test_paths_quick.sh, about 50 s; and the soaks on those paths, tests/sh/test_soak_*.sh).
check-paths: test-deps
	@$(MAKE) --no-print-directory all
	@PS_PATHS=1 tests/run.sh test_paths

demo: test-deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

RECIPEDIR = $(SHAREDIR)/pastream-lua/scripts
MANDIR    = $(SHAREDIR)/man/man1
COMPDIR   = $(SHAREDIR)/bash-completion/completions
DOCDIR    = $(SHAREDIR)/doc/pastream-lua
MANPAGES  = pastream.1 pastream-lua.1

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUADIR)/pastream $(DESTDIR)$(CMODDIR)/pastream \
	           $(DESTDIR)$(RECIPEDIR)/hooks $(DESTDIR)$(MANDIR) $(DESTDIR)$(COMPDIR) \
	           $(DESTDIR)$(DOCDIR)
	install -m 755 pastream-lua $(DESTDIR)$(BINDIR)/pastream-lua
	ln -sf pastream-lua $(DESTDIR)$(BINDIR)/pastream
	install -p -m 644 lua/pastream/*.lua $(DESTDIR)$(LUADIR)/pastream/
	install -d $(DESTDIR)$(LUACDIR)/pastream
	for f in lua/pastream/*.lua; do n=$${f#lua/}; \
	  DUMP_SRC=$$f DUMP_NAME=$(LUADIR)/$$n DUMP_OUT=$(DESTDIR)$(LUACDIR)/$${n}c $(LUA_DUMP) && \
	  touch -r $$f $(DESTDIR)$(LUACDIR)/$${n}c || exit 1; done
	install -m 755 $(B)/pastream/core.so $(DESTDIR)$(CMODDIR)/pastream/core.so
	install -m 644 scripts/*.lua $(DESTDIR)$(RECIPEDIR)/
	install -m 644 scripts/hooks/*.lua $(DESTDIR)$(RECIPEDIR)/hooks/
	install -m 644 $(addprefix man/,$(MANPAGES)) $(DESTDIR)$(MANDIR)/
	install -m 644 completion/pastream.bash $(DESTDIR)$(COMPDIR)/pastream
	install -m 644 completion/pastream.bash $(DESTDIR)$(COMPDIR)/pastream-lua
	install -m 644 doc/API.md $(DESTDIR)$(DOCDIR)/API.md

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pastream-lua $(DESTDIR)$(BINDIR)/pastream $(DESTDIR)$(CMODDIR)/pastream/core.so
	rm -f $(addprefix $(DESTDIR)$(LUADIR)/pastream/,$(notdir $(wildcard lua/pastream/*.lua)))
	rm -f $(addprefix $(DESTDIR)$(LUACDIR)/pastream/,$(notdir $(LUAC)))
	rm -f $(addprefix $(DESTDIR)$(RECIPEDIR)/,$(notdir $(wildcard scripts/*.lua)))
	rm -f $(addprefix $(DESTDIR)$(RECIPEDIR)/hooks/,$(notdir $(wildcard scripts/hooks/*.lua)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(MANPAGES)) $(DESTDIR)$(COMPDIR)/pastream \
	      $(DESTDIR)$(COMPDIR)/pastream-lua $(DESTDIR)$(DOCDIR)/API.md
	-rmdir $(DESTDIR)$(LUADIR)/pastream $(DESTDIR)$(CMODDIR)/pastream $(DESTDIR)$(RECIPEDIR)/hooks \
	       $(DESTDIR)$(LUACDIR)/pastream $(DESTDIR)$(LUACDIR) $(DESTDIR)$(PREFIX)/lib/pastream-lua \
	       $(DESTDIR)$(RECIPEDIR) \
	       $(DESTDIR)$(SHAREDIR)/pastream-lua $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf $(B) pastream-lua bin

# ---- the README's pictures (issue 20): doc/spectrogram.png and
# doc/waveform.png drawn from a signal that doc/pictures.lua makes.
.PHONY: pictures
pictures: all
	./pastream-lua doc/pictures.lua doc

# ---- benchmarks (tests/bench; issue 7): one table of figures, ratios and
# goals, also written to tests/bench/results.md and results.tsv.  Not part
# of check; never fails on timing.  BENCH_QUICK=1 for a short run.
BENCH_BIN = $(B)/bench/bench_ring $(B)/bench/bench_callback $(B)/bench/bench_bufops $(B)/bench/runstat \
            $(B)/bench/bench_wake
JACK_LIBS = $(shell pkg-config --libs jack 2>/dev/null || echo -ljack)

.PHONY: bench bench-deps

bench-deps: test-deps
	@scripts/install-deps.sh bench

bench: bench-deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@tests/bench/run.sh

$(B)/bench:
	mkdir -p $(B)/bench

$(B)/bench/bench_ring: tests/bench/bench_ring.c $(B)/ringbuf.o src/ringbuf.h | $(B)/bench
	$(CC) $(ALL_CFLAGS) $< $(B)/ringbuf.o -o $@ -pthread $(JACK_LIBS)

$(B)/bench/bench_callback: tests/bench/bench_callback.c $(B)/engine.o $(B)/copy.o $(B)/ringbuf.o $(B)/wake.o $(B)/sample.o $(HEADERS) | $(B)/bench
	$(CC) $(ALL_CFLAGS) $< $(B)/engine.o $(B)/copy.o $(B)/ringbuf.o $(B)/wake.o $(B)/sample.o -o $@ $(LIBS)

$(B)/bench/bench_bufops: tests/bench/bench_bufops.c | $(B)/bench
	$(CC) $(ALL_CFLAGS) $< -o $@ -lm

$(B)/bench/runstat: tests/bench/runstat.c | $(B)/bench
	$(CC) $(ALL_CFLAGS) $< -o $@

$(B)/bench/bench_wake: tests/bench/bench_wake.c | $(B)/bench
	$(CC) $(ALL_CFLAGS) $< -o $@ -pthread

# ---- sanitizers (issue 8, point 1).  make asan: the C tests, pa_probe and a
# pastream-lua + core.so built with ASan+UBSan into build-asan/, then the
# whole tests/run.sh on them (the plain-lua5.4 and tests/sh runs need the
# default build and are skipped there).  make tsan: the ring buffer, engine
# and disk-thread tests under ThreadSanitizer in build-tsan/.  Both fail on
# any sanitizer report (tests/sanitize.sh; LSan suppressions: tests/lsan.supp).
# make gcstress: every Lua test with the collector running all the time
# (tests/gcstress.sh).  make valgrind: the Lua tests under memcheck
# (tests/valgrind.sh; suppressions for system libraries: tests/valgrind.supp).
# make soak: one hour of 48 kHz audio through loopback on a 384 kHz rig,
# every sample checked (tests/soak.sh; SOAK_SECONDS to change).
# make check-all = check + asan + tsan + gcstress + valgrind.  CFLAGS goes to
# the sub-make through the environment so that the += above still applies.
ASAN_B     = build-asan
TSAN_B     = build-tsan
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TSAN_FLAGS = -O1 -g -fsanitize=thread

.PHONY: asan tsan gcstress valgrind soak check-all

asan: test-deps
	@$(MAKE) --no-print-directory all   # tests/sh also use the default build (pa_probe, the launcher's own checks)
	@CFLAGS='$(ASAN_FLAGS)' $(MAKE) --no-print-directory B=$(ASAN_B) \
	  $(ASAN_B)/pastream-lua $(ASAN_B)/pastream/core.so $(TESTS:$(B)/%=$(ASAN_B)/%)
	@ln -sfn ../lua $(ASAN_B)/lua         # the host finds its modules in DIR/lua beside itself
	@ln -sfn ../scripts $(ASAN_B)/scripts # and the recipes in DIR/scripts
	@tests/sanitize.sh asan

tsan: test-deps
	@CFLAGS='$(TSAN_FLAGS)' $(MAKE) --no-print-directory B=$(TSAN_B) \
	  $(TSAN_B)/test_ringbuf $(TSAN_B)/test_engine $(TSAN_B)/test_disk
	@tests/sanitize.sh tsan

gcstress: test-deps
	@$(MAKE) --no-print-directory all
	@tests/gcstress.sh

valgrind: test-deps
	@scripts/install-deps.sh check-all
	@$(MAKE) --no-print-directory all
	@tests/valgrind.sh

soak: test-deps
	@$(MAKE) --no-print-directory all
	@tests/soak.sh

check-all: check
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory gcstress
	@$(MAKE) --no-print-directory valgrind

# The host inside a build directory (only the sanitizer builds use it): it
# takes the core.so beside it, $(B)/pastream/core.so.
$(B)/pastream-lua: $(B)/host.o $(B)/sigchain.o | $(B)/pastream/core.so
	$(CC) $(CFLAGS) $^ -o $@ $(HOST_LIBS)

# ---- fuzzing (issue 8, point 2).  make fuzz: the libFuzzer targets of
# tests/fuzz, built with clang (-fsanitize=fuzzer,address,undefined, the
# project's objects with fuzzer-no-link) into build-fuzz/, each run for
# FUZZ_SECONDS from its seed corpus and regression inputs (copied to a
# scratch directory, so that new inputs stay out of the tree); a crash fails
# (tests/fuzz/run.sh; findings go to tests/out/fuzz/).  Then the stateful fuzzer of
# the Lua API (tests/lua/test_sequences.lua) runs new seeds for FUZZ_SECONDS
# on a rig of its own (tests/seq/fuzz.sh; PS_SEQ_SEED to repeat a run).
FUZZ_B       = build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build fuzz-deps

fuzz-deps: test-deps
	@scripts/install-deps.sh fuzz

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-build
	@$(MAKE) --no-print-directory all
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' tests/fuzz/run.sh $(FUZZ_TARGETS); a=$$?; \
	  FUZZ_SECONDS='$(FUZZ_SECONDS)' tests/seq/fuzz.sh; b=$$?; [ $$a -eq 0 ] && [ $$b -eq 0 ]

fuzz-build:
	@CFLAGS='$(FUZZ_FLAGS)' $(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang \
	  $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz/fuzz_%)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_OBJ) $(HEADERS) | $(B)/fuzz
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(FUZZ_DEFS) $< $(CORE_OBJ) -o $@ $(LIBS)
