# bench/bench.mk - throughput and memory benchmarks, included by the top-level Makefile.
#
#   make bench          bench-data, then the table (floor, plainsight, --ports-only, ndpiReader,
#                       tshark) and the flow flood; see bench/README.md
#   make bench-data     generate the cached capture build/bench/mix-$(BENCH_SIZE)-s$(BENCH_SEED).pcap
#   make bench-flood    the floods alone: half-open connections, then first IP fragments
#   make bench-mail     all-mail captures: BENCH_MAIL_SIZE at the usual concurrency, and
#                       BENCH_CONC_SIZE with BENCH_CONC sessions open at once (part of make bench)
#   make bench-tunnels  the mix of BENCH_TUNNEL_SIZE with every frame in VXLAN, then in ERSPAN II:
#                       the floor, plainsight and the recall (part of "make bench")
#   make bench-live     live capture on a veth pair in a namespace of its own: kernel drops of
#                       tcpdump and plainsight at top speed and the highest rate held without a
#                       drop (needs root; skipped with a note otherwise)
#
# Knobs: BENCH_SIZE (1G), BENCH_SEED (1), BENCH_RUNS (3), BENCH_TSHARK_SIZE (64M),
# BENCH_TSHARK_TIMEOUT (600 s), BENCH_FLOOD (1000000), BENCH_MEMCAP (64M); for bench-live
# BENCH_LIVE_SIZE (64M), BENCH_LIVE_RUNS (3), BENCH_LIVE_START_PPS (10000), BENCH_LIVE_BISECT (2),
# BENCH_LIVE_BUDGET (60 s per capturer), BENCH_LIVE_SECONDS (4 s a replay),
# BENCH_LIVE_BUFFER_KIB (65536).
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
BENCH_TUNNEL_SIZE    ?= 256M
BENCH_MAIL_SIZE      ?= 256M
BENCH_CONC_SIZE      ?= 512M
BENCH_CONC           ?= 100000
BENCH_LIVE_SIZE      ?= 64M
BENCH_LIVE_RUNS      ?= 3
BENCH_LIVE_START_PPS ?= 10000
BENCH_LIVE_BISECT    ?= 2
BENCH_LIVE_BUDGET    ?= 60
BENCH_LIVE_SECONDS   ?= 4
BENCH_LIVE_BUFFER_KIB ?= 65536

BENCH_BIN    := build/rel/plainsight
BENCH_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(WARN) -O2 -g
BENCH_MIX    := $(BENCH_DIR)/mix-$(BENCH_SIZE)-s$(BENCH_SEED).pcap
BENCH_SMALL  := $(BENCH_DIR)/mix-$(BENCH_TSHARK_SIZE)-s$(BENCH_SEED).pcap
BENCH_FLOODF := $(BENCH_DIR)/flood-$(BENCH_FLOOD)-s$(BENCH_SEED).pcap
BENCH_FRAGF  := $(BENCH_DIR)/fragflood-$(BENCH_FLOOD)-s$(BENCH_SEED).pcap
BENCH_TINY   := $(BENCH_DIR)/tiny-s$(BENCH_SEED).pcap
BENCH_MAILS := $(BENCH_DIR)/mail-$(BENCH_MAIL_SIZE)-s$(BENCH_SEED).pcap \
  $(BENCH_DIR)/conc-$(BENCH_CONC)-$(BENCH_CONC_SIZE)-s$(BENCH_SEED).pcap
# The plain mix of that size first, as the baseline beside the wrapped ones.
BENCH_TUNNELS := $(BENCH_DIR)/mix-$(BENCH_TUNNEL_SIZE)-s$(BENCH_SEED).pcap \
  $(foreach w,vxlan erspan2,$(BENCH_DIR)/wrap-$(w)-mix-$(BENCH_TUNNEL_SIZE)-s$(BENCH_SEED).pcap)
BENCH_LIVE_MIX := $(BENCH_DIR)/mix-$(BENCH_LIVE_SIZE)-s$(BENCH_SEED).pcap

.PHONY: bench bench-data bench-flood bench-live bench-tools bench-rel bench-tunnels bench-mail

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

# The mix inside a mirror tunnel, with its own truth (the outer headers take room: fewer
# frames make the size).
$(BENCH_DIR)/wrap-vxlan-mix-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --size $* --seed $(BENCH_SEED) --wrap vxlan -o $@.tmp \
	  -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_DIR)/wrap-erspan2-mix-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --size $* --seed $(BENCH_SEED) --wrap erspan2 -o $@.tmp \
	  -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_DIR)/flood-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --flood $* --seed $(BENCH_SEED) -o $@.tmp -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_DIR)/mail-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --size $* --seed $(BENCH_SEED) --mail-share 1.0 -o $@.tmp \
	  -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_DIR)/conc-$(BENCH_CONC)-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --size $* --seed $(BENCH_SEED) --mail-share 1.0 \
	  --concurrency $(BENCH_CONC) -o $@.tmp -t $(@:.pcap=.truth.json).tmp
	mv $(@:.pcap=.truth.json).tmp $(@:.pcap=.truth.json)
	mv $@.tmp $@

$(BENCH_DIR)/fragflood-%-s$(BENCH_SEED).pcap: | $(BENCH_DIR)/gen
	$(BENCH_DIR)/gen --flood $* --frags --seed $(BENCH_SEED) -o $@.tmp \
	  -t $(@:.pcap=.truth.json).tmp
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
bench: bench-tools $(BENCH_MIX) $(BENCH_SMALL) $(BENCH_FLOODF) $(BENCH_FRAGF) $(BENCH_TINY) \
       $(BENCH_TUNNELS) $(BENCH_MAILS)
	@s=0; \
	BENCH_RUNS=$(BENCH_RUNS) BENCH_TSHARK_TIMEOUT=$(BENCH_TSHARK_TIMEOUT) \
	  sh bench/bench.sh mix $(BENCH_DIR) $(BENCH_BIN) $(BENCH_MIX) $(BENCH_SMALL) || s=1; \
	BENCH_RUNS=$(BENCH_RUNS) sh bench/bench.sh tunnels $(BENCH_DIR) $(BENCH_BIN) $(BENCH_TUNNELS) \
	  || s=1; \
	BENCH_RUNS=$(BENCH_RUNS) sh bench/bench.sh mail $(BENCH_DIR) $(BENCH_BIN) $(BENCH_MAILS) \
	  || s=1; \
	sh bench/bench.sh flood $(BENCH_DIR) $(BENCH_BIN) $(BENCH_FLOODF) $(BENCH_TINY) \
	  $(BENCH_MEMCAP) || s=1; \
	sh bench/bench.sh flood $(BENCH_DIR) $(BENCH_BIN) $(BENCH_FRAGF) $(BENCH_TINY) \
	  $(BENCH_MEMCAP) || s=1; \
	exit $$s

bench-mail: bench-tools $(BENCH_MAILS)
	@BENCH_RUNS=$(BENCH_RUNS) sh bench/bench.sh mail $(BENCH_DIR) $(BENCH_BIN) $(BENCH_MAILS)

bench-tunnels: bench-tools $(BENCH_TUNNELS)
	@BENCH_RUNS=$(BENCH_RUNS) sh bench/bench.sh tunnels $(BENCH_DIR) $(BENCH_BIN) $(BENCH_TUNNELS)

bench-flood: bench-tools $(BENCH_FLOODF) $(BENCH_FRAGF) $(BENCH_TINY)
	@s=0; \
	sh bench/bench.sh flood $(BENCH_DIR) $(BENCH_BIN) $(BENCH_FLOODF) $(BENCH_TINY) \
	  $(BENCH_MEMCAP) || s=1; \
	sh bench/bench.sh flood $(BENCH_DIR) $(BENCH_BIN) $(BENCH_FRAGF) $(BENCH_TINY) \
	  $(BENCH_MEMCAP) || s=1; \
	exit $$s

# Live capture under load (bench/live.sh): needs root and network namespaces, skips otherwise.
bench-live: bench-tools $(BENCH_LIVE_MIX)
	@BENCH_LIVE_RUNS=$(BENCH_LIVE_RUNS) BENCH_LIVE_START_PPS=$(BENCH_LIVE_START_PPS) \
	  BENCH_LIVE_BISECT=$(BENCH_LIVE_BISECT) BENCH_LIVE_BUDGET=$(BENCH_LIVE_BUDGET) \
	  BENCH_LIVE_BUFFER_KIB=$(BENCH_LIVE_BUFFER_KIB) BENCH_LIVE_SECONDS=$(BENCH_LIVE_SECONDS) \
	  sh bench/live.sh $(BENCH_DIR) $(BENCH_BIN) $(BENCH_LIVE_MIX)
