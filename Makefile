# pcbdiff — plain GNU make. `make demo` and `make test` set the machine up first.
# Other targets: all, check (tests without set-up), install (PREFIX, DESTDIR), bench, samples,
# valgrind, asan, format, lint, clean.

BUILD    ?= build
comma    := ,
ifneq ($(SAN),)
BUILD    := build-san-$(subst $(comma),-,$(SAN))
CC       := clang
CXX      := clang++
SANFLAGS := -O1 -g -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   += $(SANFLAGS)
CXXFLAGS += $(SANFLAGS)
LDFLAGS  += -fsanitize=$(SAN)
# the sanitizer runtime comes with the executable: the shared library leaves it undefined
SO_CHECK :=
OPT      :=
CXXOPT   :=
HOTOPT   :=
endif

PKGS     := glib-2.0 gio-2.0 json-glib-1.0 libpng libturbojpeg libcrypto
# front-ends (src/batch, ...): linked into the pcbdiff program, not the library, with the
# libraries only they need (batch: SQLite for its results database)
FRONT_C  := $(sort $(wildcard src/batch/*.c))
FRONT_PKGS := sqlite3
CV_LIBS  := -lopencv_calib3d -lopencv_features2d -lopencv_flann -lopencv_video -lopencv_imgproc -lopencv_core

WARN_C   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
            -Wwrite-strings -Wformat=2 -Wundef -Wvla
WARN_C   += $(if $(findstring clang,$(CC)),,-Wjump-misses-init)
WARN_CXX := -Wall -Wextra -Wpointer-arith -Wformat=2 -Wnon-virtual-dtor
# libpcbdiff exports only what its public headers mark PCB_API (include/pcbdiff/api.h)
VISIBILITY := -fPIC -fvisibility=hidden

OPT      ?= -O2 -g
CXXOPT   ?= -O3 -g
# the per-pixel loops of differencing, the shift and parallax tests and the warp's coordinates:
# -O3 lets GCC
# vectorise them (SSE2 baseline; the differencing row kernels add an AVX2 clone)
HOTOPT   ?= -O3 -g
CPPFLAGS += -Iinclude -Isrc -DG_LOG_DOMAIN=\"pcbdiff\" \
            -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN_C) -Werror $(VISIBILITY) $(PKG_CFLAGS)
CXXFLAGS += -std=c++17 $(CXXOPT) $(WARN_CXX) -Werror $(VISIBILITY) -fvisibility-inlines-hidden \
            -I/usr/include/opencv4
LDLIBS   += $(PKG_LIBS) $(CV_LIBS) -lm -lpthread

$(BUILD)/src/diff/%.o $(BUILD)/src/findings/shift_test.o $(BUILD)/src/findings/regions.o \
    $(BUILD)/src/findings/parallax_match.o $(BUILD)/src/findings/parallax_zn.o \
    $(BUILD)/src/findings/parallax_test.o \
    $(BUILD)/src/warp/warp.o: \
    OPT = $(HOTOPT)
$(BUILD)/src/serve/%.o: CFLAGS += $(SERVE_CFLAGS)
# the Lab conversion's selects vectorise only when comparisons may not trap
$(BUILD)/src/diff/lab.o: CFLAGS += -fno-trapping-math
# the review page's HTML template, embedded as a string
$(BUILD)/gen/review_page.h: src/report/review.html scripts/embed-text.sh
	@mkdir -p $(@D)
	scripts/embed-text.sh review_page $< > $@.tmp && mv $@.tmp $@
$(BUILD)/src/report/review.o: $(BUILD)/gen/review_page.h
$(BUILD)/src/report/review.o: CPPFLAGS += -I$(BUILD)/gen
# pcbdiff db review: the batch index page's template, embedded the same way
$(BUILD)/gen/index_page.h: src/batch/index.html scripts/embed-text.sh
	@mkdir -p $(@D)
	scripts/embed-text.sh index_page $< > $@.tmp && mv $@.tmp $@
$(BUILD)/src/batch/index.o: $(BUILD)/gen/index_page.h
$(BUILD)/src/batch/index.o: CPPFLAGS += -I$(BUILD)/gen
# pcbdiff watch: its live page, embedded the same way; libsoup-3 (HTTP) for it alone
WATCH_PKGS := libsoup-3.0
$(BUILD)/gen/watch_page.h: src/watch/watch.html scripts/embed-text.sh
	@mkdir -p $(@D)
	scripts/embed-text.sh watch_page $< > $@.tmp && mv $@.tmp $@
$(BUILD)/src/watch/server.o: $(BUILD)/gen/watch_page.h
$(BUILD)/src/watch/%.o: CPPFLAGS += -I$(BUILD)/gen $(shell pkg-config --cflags $(WATCH_PKGS) 2>/dev/null)
# the "file is complete" check is tested on its own (it is not in the library)
$(BUILD)/tests/unit/test-settle: $(BUILD)/src/watch/settle.o

LIB_C    := $(sort $(filter-out src/cli/% src/watch/% src/serve/% $(FRONT_C),$(wildcard src/*/*.c)))
LIB_CXX  := $(sort $(wildcard src/cv/*.cpp))
CLI_C    := $(sort $(wildcard src/cli/*.c))
# pcbdiff watch (bench mode): a front-end in the CLI, not the library; only it needs libsoup
WATCH_C  := $(sort $(wildcard src/watch/*.c))
CLI_C    += $(WATCH_C)
# pcbdiff serve (src/serve/): libsoup-3 for HTTP, Qpid Proton C for AMQP 1.0; part of the
# binary, not of libpcbdiff (a line that links the library needs neither)
SERVE_C  := $(sort $(wildcard src/serve/*.c))
SERVE_PKGS := libsoup-3.0 libqpid-proton
SERVE_CFLAGS = $(shell pkg-config --cflags $(SERVE_PKGS) 2>/dev/null)
SERVE_LIBS   = $(shell pkg-config --libs $(SERVE_PKGS) 2>/dev/null)
CLI_C    += $(SERVE_C)
LIB_OBJ  := $(LIB_C:%.c=$(BUILD)/%.o) $(LIB_CXX:%.cpp=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_C:%.c=$(BUILD)/%.o) $(FRONT_C:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libpcbdiff.a
# the shared library: SONAME libpcbdiff.so.$(SOVER), bumped when the ABI breaks
VERSION  := $(shell sed -n 's/^\#define PCBDIFF_VERSION "\(.*\)"/\1/p' include/pcbdiff/pcbdiff.h)
SOVER    := 1
SO       := $(BUILD)/libpcbdiff.so.$(SOVER).0.0
SO_CHECK ?= -Wl,--no-undefined
BIN      := $(BUILD)/pcbdiff
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
TEST_SRC := $(sort $(wildcard tests/unit/test-*.c tests/cli/test-*.c))
TESTS    := $(TEST_SRC:%.c=$(BUILD)/%)
TEST_LIB := $(BUILD)/tests/testutil.o
SYNTH    := $(BUILD)/tools/synthboard
SYNTH_C  := $(sort $(wildcard tests/tools/synthboard/*.c))
SYNTH_OBJ := $(SYNTH_C:%.c=$(BUILD)/%.o)
DECODET  := $(BUILD)/tools/decodetime

.PHONY: all demo test check deps bench samples valgrind asan tsan fuzz fuzz-replay fuzz-lib replay-lib format lint clean \
        install
all: $(BIN) $(SO) $(LIB) $(SYNTH) $(DECODET)

deps:
	@scripts/install-deps.sh

# The README's two commands.
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BIN)
test: deps
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory fuzz-replay

STAGE    := $(BUILD)/stage
# tests/browser: the review page in headless Chromium (chromedriver, Python's standard library)
BROWSER_TESTS := $(sort $(wildcard tests/browser/test-*.py))
# tests/watch: pcbdiff watch on a real folder with its real HTTP page (Python's standard library)
BROWSER_TESTS += $(sort $(wildcard tests/watch/test-*.py))
# tests/serve: pcbdiff serve over HTTP with a real AMQP 1.0 broker (Qpid Proton's example broker)
SERVE_TESTS := $(sort $(wildcard tests/serve/test-*.py))
# tests/slurm: a real single-node Slurm runs a batch job array and its merge (as root)
SLURM_TESTS := $(sort $(wildcard tests/slurm/test-*.sh))
check: $(BIN) $(TESTS) $(STAGE)/bin/pcbdiff
	PCBDIFF=$(abspath $(BIN)) SRCDIR=$(CURDIR) PCBDIFF_STAGE=$(abspath $(STAGE)) \
	PCBDIFF_CC="$(CC)" PCBDIFF_CC_FLAGS="$(SANFLAGS) $(if $(SAN),-fsanitize-link-c++-runtime -lstdc++)" prove -j2 $(TESTS) \
	    $(BROWSER_TESTS) $(SERVE_TESTS) $(SLURM_TESTS)

# the batch tests generate their archive with synthboard and read the database with SQLite
check: $(SYNTH)
$(BUILD)/tests/cli/test-batch: LDLIBS += $(shell pkg-config --libs $(FRONT_PKGS) 2>/dev/null)

# what test-install checks: an install under a prefix, and one under DESTDIR
$(STAGE)/bin/pcbdiff: $(BIN) $(SO) $(LIB) src/pcbdiff.pc.in src/cli/pcbdiff.1 include/pcbdiff/*.h
	@$(MAKE) --no-print-directory install PREFIX=$(abspath $(STAGE)) >/dev/null
	@$(MAKE) --no-print-directory install PREFIX=/opt/pcbdiff DESTDIR=$(abspath $(BUILD)/destdir) >/dev/null

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(BIN)

# Regenerates reference-boards/demo and samples/ with the project's own generator.
samples: $(SYNTH) $(BIN)
	scripts/make-samples.sh $(SYNTH)

valgrind: $(BIN) $(TESTS) $(STAGE)/bin/pcbdiff
	PCBDIFF=$(abspath $(BIN)) SRCDIR=$(CURDIR) PCBDIFF_STAGE=$(abspath $(STAGE)) \
	    scripts/valgrind.sh $(TESTS)

asan:
	$(MAKE) check SAN=address,undefined
# ThreadSanitizer over the inspections that share one prepared reference on 4 threads
tsan:
	$(MAKE) --no-print-directory SAN=thread build-san-thread/tests/unit/test-prepared
	SRCDIR=$(CURDIR) TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	    prove build-san-thread/tests/unit/test-prepared

# ---- fuzzing: libFuzzer harnesses tests/fuzz/fuzz-NAME.c, seed corpora tests/fuzz/corpus/NAME
# (and a dictionary tests/fuzz/NAME.dict where there is one),
# every crash ever found kept in tests/fuzz/crashes/NAME (replayed by make test, under ASan+UBSan)
FUZZERS      := image board decisions request manifest
FUZZ_SECONDS ?= 60
FUZZ_LIB     := build-san-fuzzer-no-link-address-undefined/libpcbdiff.a
REPLAY_LIB   := build-san-address-undefined/libpcbdiff.a
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -Iinclude -Isrc $(PKG_CFLAGS)
# a harness of front-end code names the sources it needs on a " * fuzz-sources: " line
FUZZ_SRC      = $$(sed -n 's/^ \* fuzz-sources: //p' tests/fuzz/fuzz-$$f.c)

fuzz-lib:
	@$(MAKE) --no-print-directory SAN=fuzzer-no-link,address,undefined $(FUZZ_LIB) >/dev/null
replay-lib:
	@$(MAKE) --no-print-directory SAN=address,undefined $(REPLAY_LIB) >/dev/null

# make fuzz [FUZZ_SECONDS=60]: each harness coverage-guided for FUZZ_SECONDS; what it learns
# stays in build-fuzz/corpus-NAME (copy the useful inputs into tests/fuzz/corpus/NAME), a crash
# is written to build-fuzz/crash-NAME-*: fix it and keep it in tests/fuzz/crashes/NAME.
fuzz: fuzz-lib
	@mkdir -p build-fuzz
	@for f in $(FUZZERS); do \
	    clang $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -fsanitize-link-c++-runtime tests/fuzz/fuzz-$$f.c $(FUZZ_SRC) $(FUZZ_LIB) \
	        $(LDLIBS) -lstdc++ -o build-fuzz/fuzz-$$f || exit 1; \
	    mkdir -p build-fuzz/corpus-$$f; \
	    echo "== fuzz $$f for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $$(test -f tests/fuzz/$$f.dict && echo -dict=tests/fuzz/$$f.dict) \
	        -artifact_prefix=build-fuzz/crash-$$f- build-fuzz/corpus-$$f tests/fuzz/corpus/$$f \
	        2>&1 | grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units|cov:|ERROR|SUMMARY' | tail -4 \
	        || exit 1; \
	done

# every seed and every crash ever found, once each, under ASan and UBSan (no libFuzzer needed)
fuzz-replay: replay-lib
	@mkdir -p build-fuzz
	@for f in $(FUZZERS); do \
	    clang $(FUZZ_FLAGS) -fsanitize=address,undefined -fsanitize-link-c++-runtime -fno-sanitize-recover=all \
	        tests/fuzz/replay.c tests/fuzz/fuzz-$$f.c $(FUZZ_SRC) $(REPLAY_LIB) $(LDLIBS) -lstdc++ \
	        -o build-fuzz/replay-$$f || exit 1; \
	    printf 'fuzz-replay %-6s ' $$f; \
	    build-fuzz/replay-$$f tests/fuzz/corpus/$$f/* $$(ls tests/fuzz/crashes/$$f/* 2>/dev/null) \
	        || exit 1; \
	done

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')
lint:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf build build-san-* build-fuzz

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
$(SO): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) -shared -Wl,-soname,libpcbdiff.so.$(SOVER) $(SO_CHECK) $^ $(LDLIBS) -o $@
	ln -sf $(notdir $@) $(BUILD)/libpcbdiff.so.$(SOVER)
	ln -sf libpcbdiff.so.$(SOVER) $(BUILD)/libpcbdiff.so
# the CLI links the shared library, found beside it (build tree) or in ../lib (installed)
$(BIN): $(CLI_OBJ) $(SO)
	$(CXX) $(LDFLAGS) $(CLI_OBJ) -L$(BUILD) -lpcbdiff -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib' \
	    $(PKG_LIBS) $(shell pkg-config --libs $(WATCH_PKGS) $(SERVE_PKGS) $(FRONT_PKGS) 2>/dev/null) -lm -o $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the CLI and its man page, the headers, the shared
# and static libraries and pcbdiff.pc (pkg-config).
install: $(BIN) $(SO) $(LIB)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include/pcbdiff $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pcbdiff
	install -m 755 $(SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SO)) $(DESTDIR)$(LIBDIR)/libpcbdiff.so.$(SOVER)
	ln -sf libpcbdiff.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libpcbdiff.so
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 include/pcbdiff/*.h $(DESTDIR)$(PREFIX)/include/pcbdiff/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    src/pcbdiff.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/pcbdiff.pc
	install -m 644 src/cli/pcbdiff.1 $(DESTDIR)$(PREFIX)/share/man/man1/
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_LIB) $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(SYNTH): $(SYNTH_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/tests/testutil.o: tests/testutil.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) -MMD -MP -c $< -o $@
# objects follow the flags: a changed Makefile rebuilds them
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%.o: %.cpp Makefile
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
