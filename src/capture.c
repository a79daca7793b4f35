/* capture.c - packets from libpcap capture files (pcap, pcapng, standard input).
 *
 * The only file that includes pcap.h. pcap_open_offline reads both formats and "-" for
 * standard input; the BPF filter is compiled against the file's link type. A file damaged past
 * some point (truncated last record, broken pcapng block) yields the packets before it and then
 * CAPTURE_DAMAGED with libpcap's text, so nothing read is thrown away. */
#include "capture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

struct capture {
    pcap_t *p;
    enum decode_link link;
    char err[PCAP_ERRBUF_SIZE + 64];
};

static enum decode_link map_link(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return DECODE_LINK_ETHERNET;
    case DLT_RAW:
        return DECODE_LINK_RAW;
    case DLT_IPV4:
        return DECODE_LINK_IPV4;
    case DLT_IPV6:
        return DECODE_LINK_IPV6;
    case DLT_NULL:
        return DECODE_LINK_NULL;
    case DLT_LOOP:
        return DECODE_LINK_LOOP;
    case DLT_LINUX_SLL:
        return DECODE_LINK_SLL;
    case DLT_LINUX_SLL2:
        return DECODE_LINK_SLL2;
    default:
        return DECODE_LINK_UNKNOWN;
    }
}

enum ps_err capture_open_file(const char *path, const char *bpf, struct capture **out, char *err,
                              size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    *out = NULL;
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (p == NULL) {
        /* libpcap says "unknown file format" for what is not a capture; anything else is the
         * file system's complaint. */
        bool is_format = strstr(ebuf, "format") != NULL || strstr(ebuf, "truncated") != NULL ||
                         strstr(ebuf, "version") != NULL || strstr(ebuf, "block") != NULL ||
                         strstr(ebuf, "bad") != NULL || strstr(ebuf, "snaplen") != NULL;
        /* libpcap names the file in some messages and not in others. */
        if (strncmp(ebuf, path, strlen(path)) == 0) {
            snprintf(err, errcap, "%s", ebuf);
        } else {
            snprintf(err, errcap, "%s: %s", path, ebuf[0] != '\0' ? ebuf : "cannot open");
        }
        return is_format ? PS_ERR_FORMAT : PS_ERR_IO;
    }
    if (bpf != NULL && bpf[0] != '\0') {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errcap, "invalid filter expression \"%s\": %s", bpf, pcap_geterr(p));
            pcap_close(p);
            return PS_ERR_ARG;
        }
        int rc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (rc != 0) {
            snprintf(err, errcap, "%s: cannot set filter: %s", path, pcap_geterr(p));
            pcap_close(p);
            return PS_ERR_ARG;
        }
    }
    struct capture *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->link = map_link(pcap_datalink(p));
    *out = c;
    return PS_OK;
}

enum capture_status capture_next(struct capture *c, struct capture_pkt *out)
{
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(c->p, &h, &data);
        if (rc == 1) {
            out->data = data;
            /* libpcap already refuses caplen > snaplen; caplen never exceeds the buffer. */
            out->caplen = h->caplen;
            out->wirelen = h->len;
            uint64_t sec = h->ts.tv_sec < 0 ? 0 : (uint64_t)h->ts.tv_sec;
            uint64_t usec = h->ts.tv_usec < 0 ? 0 : (uint64_t)h->ts.tv_usec;
            out->ts_usec = sec * 1000000u + usec;
            return CAPTURE_PACKET;
        }
        if (rc == PCAP_ERROR_BREAK) {
            return CAPTURE_END;
        }
        if (rc == 0) {
            continue; /* live timeout; files never return it */
        }
        snprintf(c->err, sizeof c->err, "%s", pcap_geterr(c->p));
        return CAPTURE_DAMAGED;
    }
}

enum decode_link capture_link(const struct capture *c)
{
    return c->link;
}

const char *capture_link_name(const struct capture *c)
{
    const char *n = pcap_datalink_val_to_name(pcap_datalink(c->p));
    return n != NULL ? n : "unknown";
}

const char *capture_error(const struct capture *c)
{
    return c->err;
}

void capture_close(struct capture *c)
{
    if (c == NULL) {
        return;
    }
    pcap_close(c->p);
    free(c);
}

const char *capture_lib_version(void)
{
    return pcap_lib_version();
}
