# kiln: one Makefile. `make` builds lib/libkiln.a and bin/kiln.
# Settings (override on the command line: make CC=clang OPT=-O2)
CC      ?= gcc
OPT     ?= -O3 -march=native
PREFIX  ?= /usr/local
# Output root: "." for the normal build, build/debug for `make debug`.
O       ?= .
PKG     ?= pkg-config

WARN    = -Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wredundant-decls \
          -Wdouble-promotion -Wmissing-declarations -Wmissing-prototypes \
          -Wstrict-prototypes -Wold-style-definition -Wno-unused-parameter
CSTD    = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OMP     = -fopenmp
SAN     ?=
EXTRA_CFLAGS ?=
HDF5_CFLAGS := $(shell $(PKG) --cflags hdf5 2>/dev/null)
HDF5_LIBS   := $(shell $(PKG) --libs hdf5 2>/dev/null)
LUA_CFLAGS  := $(shell $(PKG) --cflags lua5.4 2>/dev/null)
LUA_LIBS    := $(shell $(PKG) --libs lua5.4 2>/dev/null)
NUM_LIBS    := -lfftw3f_omp -lfftw3_omp $(shell $(PKG) --libs fftw3f fftw3 lapacke openblas 2>/dev/null)

# The core is compiled WITHOUT any Lua include path: this enforces the layering.
CORE_CFLAGS = $(CSTD) $(OPT) $(OMP) $(SAN) $(WARN) -Iinclude -Isrc $(HDF5_CFLAGS) $(EXTRA_CFLAGS)
LUA_CFLAGS_ALL = $(CSTD) $(OPT) $(OMP) $(SAN) $(WARN) -Iinclude -Ilua $(LUA_CFLAGS) $(EXTRA_CFLAGS)
LIBS    = $(HDF5_LIBS) $(NUM_LIBS) -lm
LDFLAGS = $(OMP) $(SAN)

CORE_SRC  := $(sort $(wildcard src/*/*.c))
CORE_OBJ  := $(patsubst %.c,$(O)/build/obj/%.o,$(CORE_SRC))
LUA_SRC   := $(sort $(wildcard lua/*.c))
LUA_OBJ   := $(patsubst %.c,$(O)/build/obj/%.o,$(LUA_SRC))
CTEST_SRC := $(sort $(wildcard tests/c/test_*.c))
CTEST_BIN := $(patsubst tests/c/%.c,$(O)/build/tests/%,$(CTEST_SRC))
HDRS      := $(wildcard include/kiln/*.h src/*.h src/*/*.h)

LIB = $(O)/lib/libkiln.a
BIN = $(O)/bin/kiln

.PHONY: all deps check check-c check-lua check-ref check-examples debug check-debug demo \
        install layering clean bench regen-ref
all: layering $(LIB) $(BIN) $(CTEST_BIN)

$(O)/build/obj/src/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

$(O)/build/obj/lua/%.o: lua/%.c $(HDRS) $(wildcard lua/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(LUA_CFLAGS_ALL) -DKILN_STDLIB_DIR='"$(PREFIX)/share/kiln/stdlib"' -c $< -o $@

$(LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(LUA_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(LUA_OBJ) $(LIB) $(LUA_LIBS) -lreadline $(LIBS)

$(O)/build/tests/%: tests/c/%.c tests/c/check.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -Itests/c -o $@ $< $(LIB) $(LIBS) $(LDFLAGS)

layering:
	@sh scripts/check_layering.sh

# Debian packages, installed only when missing (run as root, or with sudo available).
DEB_PKGS = build-essential liblua5.4-dev libfftw3-dev libopenblas-dev liblapacke-dev libhdf5-dev \
           libreadline-dev pkg-config gnuplot-nox lammps lammps-data python3-ase \
           python3-phonopy cp2k cp2k-data
deps:
	@sh scripts/install_deps.sh $(DEB_PKGS)

# Every test tier; the last line is "N passed, N failed".
check: all
	@sh scripts/run_checks.sh $(O)
check-c: all
	@sh scripts/run_checks.sh $(O) c
check-lua: all
	@sh scripts/run_checks.sh $(O) lua
check-ref: all
	@sh scripts/run_checks.sh $(O) ref
check-examples: all
	@sh scripts/run_checks.sh $(O) examples

# AddressSanitizer + UndefinedBehaviorSanitizer build in build/debug, then its tests.
debug:
	$(MAKE) O=build/debug OPT="-O1 -g -fno-omit-frame-pointer" SAN="-fsanitize=address,undefined" \
	        EXTRA_CFLAGS="-DKILN_DEBUG" all
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  KILN_SHORT=1 sh scripts/run_checks.sh build/debug

# the quickstart's files (H5MD trajectory, extxyz snapshot, PNG plot) go to build/demo/
demo: all
	@mkdir -p build/demo
	KILN_OUTDIR=build/demo $(BIN) examples/quickstart.lua

bench: all
	sh scripts/bench-md.sh

regen-ref: all
	/usr/bin/python3 tests/ref/gen_lammps_ref.py $(STYLE)

install: all
	install -d $(PREFIX)/bin $(PREFIX)/lib $(PREFIX)/include/kiln $(PREFIX)/share/kiln/stdlib/kiln
	install -m 755 $(BIN) $(PREFIX)/bin/kiln
	install -m 644 $(LIB) $(PREFIX)/lib/libkiln.a
	install -m 644 include/kiln/*.h $(PREFIX)/include/kiln/
	cd stdlib && find kiln -type d -exec install -d $(PREFIX)/share/kiln/stdlib/{} \; && \
	  find kiln -type f \( -name '*.lua' -o -name '*.md' \) \
	    -exec install -m 644 {} $(PREFIX)/share/kiln/stdlib/{} \;

clean:
	rm -rf build lib bin
