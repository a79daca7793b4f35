# plainsight - build, test, bench, fuzz, install. GNU make; every output under build/.
#
#   make            release build: build/rel/plainsight (checks the build dependencies and
#                   prints the apt-get command for any that are missing; installs nothing)
#   make run        install missing dependencies, build, analyse the bundled captures
#   make check      install missing dependencies, then every test under ASan+UBSan, the
#                   release build under gcc and clang, the bench tools and the include graph
#   make bench      throughput against the bare libpcap read loop
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make install    PREFIX=/usr/local DESTDIR= (checks, never installs, the dependencies)
#   make CLANG=1    the release build with clang (CLANG_CC), into build/clang

CC       ?= cc
CLANG_CC ?= clang
PREFIX   ?= /usr/local
DESTDIR  ?=
PKGS     := libpcap libndpi sqlite3 nettle
FUZZ_SECONDS ?= 60

# A target whose recipe fails leaves no output behind that a later make would take as done.
.DELETE_ON_ERROR:

# pkg-config runs lazily (=) so "make deps" works before the libraries are there. -I becomes
# -isystem: Debian's nDPI headers do not pass -Wpedantic.
PKG_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wpointer-arith -Wvla -Wcast-align -Wconversion
BASE_CFLAGS = -std=c11 -D_DEFAULT_SOURCE $(WARN) -Iinclude -I$(B)/gen $(PKG_CFLAGS) -MMD -MP

# Release: fortified, stack protector, PIE, and the GOT read-only after start-up (full RELRO:
# relro with every symbol bound at load time).
REL_CFLAGS  := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -DNDEBUG
REL_LDFLAGS := -pie -Wl,-z,relro -Wl,-z,now

ifeq ($(SAN),1)
  B := build/san
  FLAV_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer
  FLAV_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(DEBUG),1)
  B := build/dbg
  FLAV_CFLAGS := -O0 -g3
  FLAV_LDFLAGS :=
else ifeq ($(CLANG),1)
  # The release flavour under clang, beside the gcc one: "make check" builds both.
  override CC := $(CLANG_CC)
  B := build/clang
  FLAV_CFLAGS := $(REL_CFLAGS)
  FLAV_LDFLAGS := $(REL_LDFLAGS)
else
  B := build/rel
  FLAV_CFLAGS := $(REL_CFLAGS)
  FLAV_LDFLAGS := $(REL_LDFLAGS)
endif

CFLAGS_ALL  = $(BASE_CFLAGS) $(FLAV_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(FLAV_LDFLAGS) $(LDFLAGS)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRC)) $(B)/obj/schema_sql.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
HEADERS  := $(wildcard include/*.h)

.PHONY: all run check test deps deps-check deps-test bench fuzz install uninstall format \
        format-check check-headers check-includes check-includes-selftest check-functions deps-selftest \
        release-gcc release-clang clean units units-san
.DEFAULT_GOAL := all

all: $(B)/plainsight

# Dependencies (scripts/deps.sh). Building and installing only check: every object waits for
# deps-check, which prints the apt-get command for what is missing and fails. "make run" and
# "make check", the README's set-up commands, install what is missing (deps, deps-test) before
# they build.
deps-check:
	@CC="$(CC)" sh scripts/deps.sh check build

deps:
	@CC="$(CC)" sh scripts/deps.sh install run

deps-test:
	@CC="$(CC)" sh scripts/deps.sh install test

$(B)/plainsight: $(B)/obj/main.o $(B)/libplainsight.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lm

$(B)/libplainsight.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/obj/%.o: src/%.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# sql/schema.sql embedded as a C array, so the binary needs no file at run time. The one rule
# for every flavour, the fuzz build's included: a pattern rule with two targets is run once for
# both. src/sink_sqlite.c includes the header; its object names it here because on a first
# build there is no .d file yet to say so, and make -j would compile it too early.
%/gen/schema_sql.c %/gen/schema_sql.h: sql/schema.sql scripts/embed.sh
	sh scripts/embed.sh $< schema_sql $*/gen

$(B)/obj/sink_sqlite.o: $(B)/gen/schema_sql.h

$(B)/obj/schema_sql.o: $(B)/gen/schema_sql.c $(B)/gen/schema_sql.h | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/libplainsight.a tests/unit/test.h tests/unit/script.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(B)/libplainsight.a $(PKG_LIBS) -lm $(LDFLAGS_ALL) \
	    $(UNIT_LDFLAGS)

# test_flow counts the library's allocations (no allocation per packet on the fast path).
$(B)/tests/test_flow: UNIT_LDFLAGS = -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc

units: $(UNIT_BIN)

# The bundled captures (real servers and clients, captures/): analysed as one run into
# build/run.db, findings on the console, then an audit query. RUN_CAPTURE picks others.
RUN_CAPTURE ?= $(wildcard captures/*.pcap)
run: deps
	@$(MAKE) --no-print-directory all
	@rm -f build/run.db build/run.db-wal build/run.db-shm
	$(B)/plainsight $(addprefix -r ,$(RUN_CAPTURE)) -w build/run.db
	@echo
	@echo "Exposed accounts in build/run.db (sqlite3 build/run.db < sql/audit/exposed-accounts.sql):"
	@sqlite3 -header -column build/run.db < sql/audit/exposed-accounts.sql

# Every test against the ASan+UBSan build; the last line is "N passed, N failed, N skipped".
# tests/run.sh also runs the static checks below and the release builds, each as one test.
check: deps-test
	@$(MAKE) --no-print-directory SAN=1 build/san/plainsight units-san
	@sh tests/run.sh build/san

units-san:
	@$(MAKE) --no-print-directory SAN=1 units

test: check

# The release flavour under both compilers, warnings as errors; "make check" runs both.
release-gcc:
	@$(MAKE) --no-print-directory SAN= DEBUG= CLANG= CC=gcc build/rel/plainsight

release-clang:
	@$(MAKE) --no-print-directory SAN= DEBUG= CLANG=1 build/clang/plainsight

# The module include graph (scripts/check-includes.py): no cycle, no forbidden edge.
check-includes:
	@python3 scripts/check-includes.py

check-includes-selftest:
	@python3 scripts/check-includes.py --self-test

# No function in src/ over 100 lines (scripts/check-functions.py).
check-functions:
	@python3 scripts/check-functions.py

# scripts/deps.sh against stand-in pkg-config and apt-get: building checks, never installs.
deps-selftest:
	@sh scripts/test-deps.sh

check-headers:
	@mkdir -p build/hdr
	@for h in $(HEADERS); do \
	  printf '#include "%s"\ntypedef int check_headers_nonempty;\n' $$(basename $$h) \
	    > build/hdr/one.c; \
	  $(CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) -fsyntax-only build/hdr/one.c || exit 1; \
	done
	@echo "check-headers: $(words $(HEADERS)) headers compile on their own"

FORMAT_FILES = $(wildcard src/*.c include/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c bench/*.c)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) files formatted"

# Installs the binary, the man page, sql/ and the systemd unit under PREFIX (staged under
# DESTDIR for packaging).
BINDIR  = $(PREFIX)/bin
MAN8DIR = $(PREFIX)/share/man/man8
DATADIR = $(PREFIX)/share/plainsight
UNITDIR = $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN8DIR) $(DESTDIR)$(DATADIR)/sql/audit \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 $(B)/plainsight $(DESTDIR)$(BINDIR)/plainsight
	sed -e 's|/usr/local|$(PREFIX)|g' man/plainsight.8 > $(DESTDIR)$(MAN8DIR)/plainsight.8
	chmod 0644 $(DESTDIR)$(MAN8DIR)/plainsight.8
	install -m 0644 sql/schema.sql $(DESTDIR)$(DATADIR)/sql/schema.sql
	install -m 0644 sql/audit/*.sql $(DESTDIR)$(DATADIR)/sql/audit/
	sed -e 's|@BINDIR@|$(BINDIR)|g' contrib/plainsight@.service \
	    > $(DESTDIR)$(UNITDIR)/plainsight@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/plainsight@.service
	install -m 0644 contrib/plainsight.logrotate $(DESTDIR)$(DATADIR)/plainsight.logrotate

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/plainsight $(DESTDIR)$(MAN8DIR)/plainsight.8 \
	    $(DESTDIR)$(UNITDIR)/plainsight@.service
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

# Benchmarks: "make bench" (bench/bench.mk).
-include bench/bench.mk

# Fuzz targets (libFuzzer, clang): "make fuzz" and the short run inside "make check".
-include tests/fuzz/fuzz.mk

-include $(wildcard $(B)/obj/*.d $(B)/tests/*.d)
