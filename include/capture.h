/* capture.h - packets from libpcap: capture files (pcap, pcapng, standard input) and live
 * interfaces.
 *
 * The only module that includes pcap.h. A struct capture is one source, opened from a file or
 * from an interface; both are read in batches with capture_dispatch. A live source never
 * blocks: capture_wait waits for any of several sources to have packets, so one loop can read
 * one interface or several, and its clock keeps ticking on a quiet link. */
#ifndef PLAINSIGHT_CAPTURE_H
#define PLAINSIGHT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "ps.h"

struct capture;

/* One packet. data borrows libpcap's buffer: valid until the next capture_next call, or during
 * the capture_dispatch callback that got it. */
struct capture_pkt {
    const uint8_t *data;
    size_t caplen;
    size_t wirelen;
    uint64_t ts_usec;
};

enum capture_status {
    CAPTURE_PACKET = 0, /* *out holds a packet */
    CAPTURE_END,        /* end of file */
    CAPTURE_DAMAGED,    /* the file is damaged past this point (truncated record, bad block),
                           or the interface failed: capture_error says how; the packets before
                           it were good */
    CAPTURE_TIMEOUT,    /* live only: no packet is waiting (capture_next, capture_dispatch) or
                           none came before the timeout (capture_wait); call again */
};

/* Live capture settings, as tcpdump users know them. */
struct capture_live_opts {
    int snaplen;      /* bytes kept per packet (-s); 0 for the libpcap maximum */
    int buffer_bytes; /* kernel buffer (-B), 0 for libpcap's default */
    int is_promisc;   /* promiscuous mode (off with -p) */
    int timeout_ms;   /* packet buffer timeout: the longest a packet waits in the kernel for
                         its block to fill (0 for CAPTURE_BUFFER_MSEC) */
};

/* The capture counters of a run, one X(field, doc) each: struct capture_stats is made from
 * this list, and so are the run record's "capture.<field>" counters (counters.h). */
#define CAPTURE_STATS(X)                                                                           \
    X(damaged_files, "capture files that ended in damage (counted by the run loop)")               \
    X(kernel_received, "live: packets the kernel handed to the filter (pcap_stats)")               \
    X(kernel_dropped, "live: packets dropped for lack of buffer space (the kernel's drops)")       \
    X(interface_dropped, "live: packets the interface or its driver dropped")
#define CAPTURE_STATS_FIELD(name, doc) uint64_t name;
struct capture_stats {
    CAPTURE_STATS(CAPTURE_STATS_FIELD)
};

/* Opens a capture file ("-" for standard input) and applies the BPF expression bpf (NULL or ""
 * for none). On failure returns PS_ERR_IO (the file system would not open it), PS_ERR_FORMAT
 * (it opened, but libpcap reads no capture from it) or PS_ERR_FILTER (bad BPF), with a
 * one-line reason in err[0..errcap). On success *out is owned (close with capture_close). */
enum ps_err capture_open_file(const char *path, const char *bpf, struct capture **out, char *err,
                              size_t errcap);

/* Opens interface name for live capture, non-blocking, with opts and the BPF expression bpf.
 * Not in immediate mode: the kernel fills its buffer in blocks that it hands over when full or
 * after the packet buffer timeout (opts->timeout_ms), as tcpdump -w does, so a busy link costs
 * one wake-up per block rather than one per packet, and a packet is held back at most that
 * timeout. Returns PS_ERR_IO (no such interface, no permission, interface down: the reason
 * names the interface), PS_ERR_FILTER (bad filter) or PS_ERR_ARG (any other refusal of the
 * settings by libpcap). *out is owned (close with capture_close). */
enum ps_err capture_open_live(const char *name, const struct capture_live_opts *opts,
                              const char *bpf, struct capture **out, char *err, size_t errcap);

/* Reads the live source's kernel counters into the kernel_* and interface_dropped fields of
 * *out (damaged_files is left alone); returns PS_ERR_IO for a file source or on failure. */
enum ps_err capture_live_stats(struct capture *c, struct capture_stats *out);

/* Prints the interfaces libpcap can capture on, one per line ("1.eth0 (description)"), as
 * tcpdump -D does. Returns PS_ERR_IO with the reason in err when the list cannot be had. */
enum ps_err capture_list_interfaces(FILE *out, char *err, size_t errcap);

/* Reads the next packet that passes the filter; a live source returns CAPTURE_TIMEOUT at once
 * when none is waiting. */
enum capture_status capture_next(struct capture *c, struct capture_pkt *out);

/* Waits until one of the live sources cs[0..n) has packets to read, timeout_ms passes (0: only
 * looks) or a signal arrives, so that the caller sees the signal at once; sets is_ready[i] for
 * each source that has some. Returns CAPTURE_PACKET when one is ready, CAPTURE_TIMEOUT when
 * none is, CAPTURE_DAMAGED when a source failed (its capture_error says how: the interface
 * went away). n is at most CAPTURE_WAIT_MAX; cs and is_ready are borrowed. */
enum capture_status capture_wait(struct capture *const *cs, size_t n, int timeout_ms,
                                 bool *is_ready);

/* Called for each packet capture_dispatch reads; pkt is valid during the call only. */
typedef void (*capture_fn)(void *user, const struct capture_pkt *pkt);

/* Reads up to max packets that pass the filter and hands each to fn, inside libpcap's own
 * loop (pcap_dispatch): no per-packet call into libpcap, and on a live source no system call
 * per packet (the kernel's buffer is mapped into the process). *n_read is set to the number
 * handed over. Returns CAPTURE_PACKET when at least one packet was read and more may follow,
 * CAPTURE_END at the end of a file, CAPTURE_TIMEOUT (live) when none was waiting (it never
 * blocks), CAPTURE_DAMAGED as capture_next does (the packets handed over before it were
 * good). */
enum capture_status capture_dispatch(struct capture *c, size_t max, capture_fn fn, void *user,
                                     size_t *n_read);

/* How far a file source has been read, for a progress line: *pos_bytes is the file position
 * when the file can be seeked (a regular file), otherwise the bytes of the records read so far
 * (captured lengths plus a 16-byte record header each: close to the bytes read from a pipe);
 * *size_bytes is the file's size when it is a regular file, 0 when unknown (standard input, a
 * pipe). A live source gives 0 and 0. */
void capture_file_progress(const struct capture *c, uint64_t *pos_bytes, uint64_t *size_bytes);

/* The link type of the source, mapped for decode (DECODE_LINK_UNKNOWN if decode lacks it). */
enum decode_link capture_link(const struct capture *c);
/* libpcap's name for the link type ("EN10MB"), for messages. */
const char *capture_link_name(const struct capture *c);

/* libpcap's text for the last CAPTURE_DAMAGED. */
const char *capture_error(const struct capture *c);

/* Closes c; NULL does nothing. */
void capture_close(struct capture *c);

/* libpcap's version string. */
const char *capture_lib_version(void);

#endif
