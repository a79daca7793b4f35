/* capture.h - packets from libpcap: capture files (pcap, pcapng, standard input).
 *
 * The only module that includes pcap.h. A struct capture is one source; live interfaces will
 * be a second constructor for the same type, so the packet loop does not fork. */
#ifndef PLAINSIGHT_CAPTURE_H
#define PLAINSIGHT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "ps.h"

struct capture;

/* One packet. data borrows libpcap's buffer: valid until the next capture_next call. */
struct capture_pkt {
    const uint8_t *data;
    size_t caplen;
    size_t wirelen;
    uint64_t ts_usec;
};

enum capture_status {
    CAPTURE_PACKET = 0, /* *out holds a packet */
    CAPTURE_END,        /* end of file */
    CAPTURE_DAMAGED,    /* the file is damaged past this point (truncated record, bad block):
                           capture_error says how; the packets before it were good */
};

/* Opens a capture file ("-" for standard input) and applies the BPF expression bpf (NULL or ""
 * for none). On failure returns PS_ERR_IO (cannot open/read), PS_ERR_FORMAT (not a capture
 * file) or PS_ERR_ARG (bad BPF), with a one-line reason in err[0..errcap). On success *out is
 * owned (close with capture_close). */
enum ps_err capture_open_file(const char *path, const char *bpf, struct capture **out, char *err,
                              size_t errcap);

/* Reads the next packet that passes the filter. */
enum capture_status capture_next(struct capture *c, struct capture_pkt *out);

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
