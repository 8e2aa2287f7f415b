# pcbdiff — plain GNU make. `make demo` and `make test` set the machine up first.
# Other targets: all, check (tests without set-up), bench, samples, valgrind, asan, format, lint, clean.

BUILD    ?= build
ifneq ($(SAN),)
BUILD    := build-san
CC       := clang
CXX      := clang++
SANFLAGS := -O1 -g -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
CFLAGS   += $(SANFLAGS)
CXXFLAGS += $(SANFLAGS)
LDFLAGS  += -fsanitize=$(SAN)
OPT      :=
CXXOPT   :=
HOTOPT   :=
endif

PKGS     := glib-2.0 gio-2.0 json-glib-1.0 libpng libturbojpeg libcrypto
CV_LIBS  := -lopencv_calib3d -lopencv_features2d -lopencv_flann -lopencv_video -lopencv_imgproc -lopencv_core

WARN_C   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
            -Wwrite-strings -Wformat=2 -Wundef -Wvla
WARN_C   += $(if $(findstring clang,$(CC)),,-Wjump-misses-init)
WARN_CXX := -Wall -Wextra -Wpointer-arith -Wformat=2 -Wnon-virtual-dtor

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
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN_C) -Werror $(PKG_CFLAGS)
CXXFLAGS += -std=c++17 $(CXXOPT) $(WARN_CXX) -Werror -I/usr/include/opencv4
LDLIBS   += $(PKG_LIBS) $(CV_LIBS) -lm -lpthread

$(BUILD)/src/diff/%.o $(BUILD)/src/findings/shift_test.o $(BUILD)/src/findings/regions.o \
    $(BUILD)/src/findings/parallax_match.o $(BUILD)/src/findings/parallax_zn.o \
    $(BUILD)/src/findings/parallax_test.o \
    $(BUILD)/src/warp/warp.o: \
    OPT = $(HOTOPT)
# the Lab conversion's selects vectorise only when comparisons may not trap
$(BUILD)/src/diff/lab.o: CFLAGS += -fno-trapping-math
# the review page's HTML template, embedded as a string
$(BUILD)/gen/review_page.h: src/report/review.html scripts/embed-text.sh
	@mkdir -p $(@D)
	scripts/embed-text.sh review_page $< > $@.tmp && mv $@.tmp $@
$(BUILD)/src/report/review.o: $(BUILD)/gen/review_page.h
$(BUILD)/src/report/review.o: CPPFLAGS += -I$(BUILD)/gen

LIB_C    := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
LIB_CXX  := $(sort $(wildcard src/cv/*.cpp))
CLI_C    := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_C:%.c=$(BUILD)/%.o) $(LIB_CXX:%.cpp=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_C:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libpcbdiff.a
BIN      := $(BUILD)/pcbdiff
TEST_SRC := $(sort $(wildcard tests/unit/test-*.c tests/cli/test-*.c))
TESTS    := $(TEST_SRC:%.c=$(BUILD)/%)
TEST_LIB := $(BUILD)/tests/testutil.o
SYNTH    := $(BUILD)/tools/synthboard
SYNTH_C  := $(sort $(wildcard tests/tools/synthboard/*.c))
SYNTH_OBJ := $(SYNTH_C:%.c=$(BUILD)/%.o)
DECODET  := $(BUILD)/tools/decodetime

.PHONY: all demo test check deps bench samples valgrind asan format lint clean
all: $(BIN) $(SYNTH) $(DECODET)

deps:
	@scripts/install-deps.sh

# The README's two commands.
demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BIN)
test: deps
	@$(MAKE) --no-print-directory check

# tests/browser: the review page in headless Chromium (chromedriver, Python's standard library)
BROWSER_TESTS := $(sort $(wildcard tests/browser/test-*.py))
check: $(BIN) $(TESTS)
	PCBDIFF=$(abspath $(BIN)) SRCDIR=$(CURDIR) prove -j2 $(TESTS) $(BROWSER_TESTS)

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(BIN)

# Regenerates reference-boards/demo and samples/ with the project's own generator.
samples: $(SYNTH) $(BIN)
	scripts/make-samples.sh $(SYNTH)

valgrind: $(BIN) $(TESTS)
	scripts/valgrind.sh $(TESTS)

asan:
	$(MAKE) check SAN=address,undefined

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp')
lint:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' '*.cpp')

clean:
	rm -rf build build-san

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^
$(BIN): $(CLI_OBJ) $(LIB)
	$(CXX) $(LDFLAGS) $^ $(LDLIBS) -o $@
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
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
