# tests/fuzz/fuzz.mk - libFuzzer targets, included by the top-level Makefile.
#
#   make fuzz-build                 every target into build/fuzz/
#   make fuzz [FUZZ_SECONDS=60]     each target in turn for FUZZ_SECONDS, on a copy of its seeds
#   make fuzz FUZZ_ONLY="pop3 reasm"   only those targets
#   make fuzz-smoke                 about 2 s per target plus every tests/fuzz/crashers/ input
#                                   (run by tests/e2e/test_fuzz.sh inside "make check")
#   make fuzz-seeds                 regenerate the derived seeds from captures/
#
# The library is built a fourth time, with clang, ASan, UBSan and libFuzzer's coverage
# instrumentation (asserts on), from the same sources and warnings as the other flavours, always
# with clang (FUZZ_CC) whatever CC is. From the Makefile: BASE_CFLAGS, PKG_LIBS, LIB_SRC,
# FUZZ_SECONDS, the deps-test target and the rule that makes gen/schema_sql.c and .h.

FUZZ_CC       ?= clang
FUZZ_B        := build/fuzz
FUZZ_DIR      := tests/fuzz
FUZZ_NAMES    := decode reasm pop3 smtp imap managesieve ftp socks sasl tlssniff line capture
FUZZ_ONLY     ?= $(FUZZ_NAMES)
FUZZ_BINS     := $(addprefix $(FUZZ_B)/fuzz_,$(FUZZ_NAMES))
# Per target: the longest input (-max_len). Packets fit in 2 KiB with all their headers; the
# parsers need room past LINE_MAX_LEN (8192) for overlong lines and tlssniff past
# TLSSNIFF_MAX_BYTES (16384); capture files hold a few dozen packets.
FUZZ_MAXLEN_decode   := 2048
FUZZ_MAXLEN_reasm    := 8192
FUZZ_MAXLEN_pop3     := 20000
FUZZ_MAXLEN_smtp     := 20000
FUZZ_MAXLEN_socks    := 20000
FUZZ_MAXLEN_imap     := 20000
FUZZ_MAXLEN_managesieve := 20000
FUZZ_MAXLEN_ftp      := 20000
FUZZ_MAXLEN_sasl     := 12000
FUZZ_MAXLEN_tlssniff := 20000
FUZZ_MAXLEN_line     := 20000
FUZZ_MAXLEN_capture  := 65536
FUZZ_SMOKE_SECONDS   ?= 2
FUZZ_SMOKE_RUNS      ?= 2000000

FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# BASE_CFLAGS without the -I of the other flavour's generated files.
FUZZ_CFLAGS    = $(filter-out -I$(B)/gen,$(BASE_CFLAGS)) -I$(FUZZ_B)/gen -g -O1 $(FUZZ_SAN)
FUZZ_LIB_OBJ  := $(patsubst src/%.c,$(FUZZ_B)/obj/lib/%.o,$(LIB_SRC)) $(FUZZ_B)/obj/lib/schema_sql.o
FUZZ_OBJ      := $(patsubst %,$(FUZZ_B)/obj/fuzz_%.o,$(FUZZ_NAMES) util parser)
FUZZ_RUN_LIST  = $(foreach n,$(FUZZ_ONLY),fuzz_$(n):$(FUZZ_MAXLEN_$(n)))

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-seeds fuzz-clean
# The targets' objects are made by a chain of pattern rules; keep them for the next build.
.SECONDARY: $(FUZZ_OBJ)

fuzz-build: $(FUZZ_BINS)

# The dependencies are installed before anything is built, not beside it under make -j.
fuzz: deps-test
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_B=$(FUZZ_B) sh $(FUZZ_DIR)/run-fuzz.sh fuzz $(FUZZ_SECONDS) 0 $(FUZZ_RUN_LIST)

fuzz-smoke: fuzz-build
	@FUZZ_B=$(FUZZ_B) sh $(FUZZ_DIR)/run-fuzz.sh fuzz-smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_SMOKE_RUNS) $(FUZZ_RUN_LIST)

fuzz-seeds:
	python3 $(FUZZ_DIR)/make-seeds.py

fuzz-clean:
	rm -rf $(FUZZ_B)

# src/ builds clean under clang with the project's warnings, so no exception is needed here.
FUZZ_LIB_WARN :=

$(FUZZ_B)/obj/lib/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LIB_WARN) -fsanitize=fuzzer-no-link -c -o $@ $<

# The schema: $(FUZZ_B)/gen/schema_sql.c and .h come from the Makefile's one rule.
$(FUZZ_B)/obj/lib/sink_sqlite.o: $(FUZZ_B)/gen/schema_sql.h

$(FUZZ_B)/obj/lib/schema_sql.o: $(FUZZ_B)/gen/schema_sql.c $(FUZZ_B)/gen/schema_sql.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/libplainsight.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_B)/obj/fuzz_%.o: $(FUZZ_DIR)/fuzz_%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -I$(FUZZ_DIR) -c -o $@ $<

# Every target links the shared helpers; fuzz_parser.o serves the protocol parser targets.
$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/fuzz_%.o $(FUZZ_B)/obj/fuzz_util.o $(FUZZ_B)/obj/fuzz_parser.o \
                  $(FUZZ_B)/libplainsight.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS) -lm

-include $(wildcard $(FUZZ_B)/obj/*.d $(FUZZ_B)/obj/lib/*.d)
