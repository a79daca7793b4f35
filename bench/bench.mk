# bench/bench.mk - throughput and memory benchmarks, included by the top-level Makefile.
#
#   make bench          bench-data, then the table (floor, plainsight, --ports-only, ndpiReader,
#                       tshark) and the flow flood; see bench/README.md
#   make bench-data     generate the cached capture build/bench/mix-$(BENCH_SIZE)-s$(BENCH_SEED).pcap
#   make bench-flood    the flow flood alone
#
# Knobs: BENCH_SIZE (1G), BENCH_SEED (1), BENCH_RUNS (3), BENCH_TSHARK_SIZE (64M),
# BENCH_TSHARK_TIMEOUT (600 s), BENCH_FLOOD (1000000), BENCH_MEMCAP (64M).
# The release binary is always build/rel/plainsight, whatever SAN, DEBUG or CLANG say.
#
#   make bench-tools    the release binary, gen and floor, without generating or running
#                       anything (run by "make check" as its bench-build test)

BENCH_DIR            := build/bench
BENCH_SIZE           ?= 1G
BENCH_SEED           ?= 1
BENCH_RUNS           ?= 3
BENCH_TSHARK_SIZE    ?= 64M
BENCH_TSHARK_TIMEOUT ?= 600
BENCH_FLOOD          ?= 1000000
BENCH_MEMCAP         ?= 64M

BENCH_BIN    := build/rel/plainsight
BENCH_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(WARN) -O2 -g
BENCH_MIX    := $(BENCH_DIR)/mix-$(BENCH_SIZE)-s$(BENCH_SEED).pcap
BENCH_SMALL  := $(BENCH_DIR)/mix-$(BENCH_TSHARK_SIZE)-s$(BENCH_SEED).pcap
BENCH_FLOODF := $(BENCH_DIR)/flood-$(BENCH_FLOOD)-s$(BENCH_SEED).pcap
BENCH_TINY   := $(BENCH_DIR)/tiny-s$(BENCH_SEED).pcap

.PHONY: bench bench-data bench-flood bench-tools bench-rel

$(BENCH_DIR)/gen: bench/gen.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

$(BENCH_DIR)/floor: bench/floor.c | deps-check
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libpcap)) -o $@ $< \
	  $(shell pkg-config --libs libpcap)

# Captures are generated once and kept: the same arguments give the same bytes. Each is written
# under a temporary name and renamed, so an interrupted run leaves no half file behind.
$(BENCH_DIR)/mix-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --size $* --seed $(BENCH_SEED) -o $@.tmp -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_DIR)/flood-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --flood $* --seed $(BENCH_SEED) -o $@.tmp -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_TINY): | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --size 64K --concurrency 20 --seed $(BENCH_SEED) -o $@.tmp \
	  -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

bench-rel:
	@$(MAKE) --no-print-directory SAN= DEBUG= CLANG= $(BENCH_BIN)

bench-tools: bench-rel $(BENCH_DIR)/gen $(BENCH_DIR)/floor

bench-data: $(BENCH_MIX)

# Both parts run even when the first fails a check; the status says whether either did.
bench: bench-tools $(BENCH_MIX) $(BENCH_SMALL) $(BENCH_FLOODF) $(BENCH_TINY)
	@s=0; \
	BENCH_RUNS=$(BENCH_RUNS) BENCH_TSHARK_TIMEOUT=$(BENCH_TSHARK_TIMEOUT) \
	  sh bench/bench.sh mix $(BENCH_DIR) $(BENCH_BIN) $(BENCH_MIX) $(BENCH_SMALL) || s=1; \
	sh bench/bench.sh flood $(BENCH_DIR) $(BENCH_BIN) $(BENCH_FLOODF) $(BENCH_TINY) \
	  $(BENCH_MEMCAP) || s=1; \
	exit $$s

bench-flood: bench-tools $(BENCH_FLOODF) $(BENCH_TINY)
	@sh bench/bench.sh flood $(BENCH_DIR) $(BENCH_BIN) $(BENCH_FLOODF) $(BENCH_TINY) $(BENCH_MEMCAP)
