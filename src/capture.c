/* capture.c - packets from libpcap: capture files (pcap, pcapng, standard input) and live
 * interfaces.
 *
 * The only file that includes pcap.h. The file is opened with fopen (or is standard input for
 * "-") and handed to pcap_fopen_offline, which reads both formats, so a failure to open and a
 * failure to read a capture get their own error codes without reading libpcap's text; the BPF
 * filter is compiled against the source's link type (a bad one is PS_ERR_FILTER). A file damaged
 * past some point (truncated last record, broken pcapng block) yields the packets before it
 * and then CAPTURE_DAMAGED with libpcap's text, so nothing read is thrown away.
 *
 * Live sources use pcap_create/pcap_activate, so that the snap length, the kernel buffer,
 * promiscuous mode and the packet buffer timeout are set before the socket exists
 * (pcap(3PCAP)). They are not in immediate mode, for throughput: on Linux, libpcap then uses
 * TPACKET_V3, a memory-mapped ring of blocks into which the kernel packs packets at their
 * captured size and which it hands over a block at a time, when the block is full or the packet
 * buffer timeout has passed; immediate mode would use TPACKET_V2, one fixed frame of about the
 * snap length per packet, so the same buffer would hold a few hundred packets instead of tens
 * of thousands, and each packet would be a wake-up of its own. tcpdump -w captures the same way
 * (immediate mode only when printing to a terminal). The handle is non-blocking: the caller
 * polls with capture_wait, whose timeout is its own (the packet buffer timeout does not bound a
 * wait on an idle link, pcap(3PCAP)), so its clock (commits, expiry, statistics, signals) keeps
 * ticking, and then reads what is there with capture_dispatch, which walks the mapped ring
 * with no system call per packet. */
#include "capture.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "tunables.h"

struct capture {
    pcap_t *p;
    bool is_live;
    int fd;                /* live: the descriptor to poll */
    struct pcap_stat last; /* pcap_stats at the previous call, to widen its counters */
    uint64_t recv64, drop64, ifdrop64;
    enum decode_link link;
    bool is_regular;       /* file: a regular file, whose position and size are known */
    uint64_t size_bytes;   /* file: its size when is_regular */
    uint64_t record_bytes; /* file: captured lengths plus record headers read so far */
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

static enum ps_err set_filter(pcap_t *p, const char *bpf, const char *what, char *err,
                              size_t errcap);

enum ps_err capture_open_file(const char *path, const char *bpf, struct capture **out, char *err,
                              size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    *out = NULL;
    /* The file is opened here, not by pcap_open_offline, so that the error code says which
     * step failed: the file system's (errno) or libpcap's reading of it. The message is the one
     * libpcap would give. */
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (fp == NULL) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return PS_ERR_IO;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (p == NULL) {
        if (!is_stdin) {
            fclose(fp);
        }
        snprintf(err, errcap, "%s: %s", path, ebuf[0] != '\0' ? ebuf : "cannot open");
        return PS_ERR_FORMAT;
    }
    enum ps_err e = set_filter(p, bpf, path, err, errcap);
    if (e != PS_OK) {
        pcap_close(p);
        return e;
    }
    /* Only this thread reads the file: stdio need not lock the stream around each of the
     * two freads libpcap makes per packet. */
    __fsetlocking(fp, FSETLOCKING_BYCALLER);
    struct capture *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->link = map_link(pcap_datalink(p));
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
        c->is_regular = true;
        c->size_bytes = (uint64_t)st.st_size;
    }
    *out = c;
    return PS_OK;
}

/* Compiles and installs bpf on p; what names the source in messages. */
static enum ps_err set_filter(pcap_t *p, const char *bpf, const char *what, char *err,
                              size_t errcap)
{
    if (bpf == NULL || bpf[0] == '\0') {
        return PS_OK;
    }
    struct bpf_program prog;
    if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errcap, "invalid filter expression \"%s\": %s", bpf, pcap_geterr(p));
        return PS_ERR_FILTER;
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, errcap, "%s: cannot set filter: %s", what, pcap_geterr(p));
        return PS_ERR_FILTER;
    }
    return PS_OK;
}

/* The reason pcap_activate failed with rc, for the operator: what to do about a permission
 * (the capabilities and the setcap line, with this binary's path), a wrong name said once
 * (libpcap's class and detail repeat each other: "No such device exists: No such device
 * exists"), and otherwise libpcap's class of failure and its details. */
static void live_error(pcap_t *p, int rc, const char *name, char *err, size_t errcap)
{
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) {
        char exe[256];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) {
            snprintf(exe, sizeof exe, "plainsight");
        } else {
            exe[n] = '\0';
        }
        snprintf(err, errcap,
                 "%s: permission denied: run as root, or give the binary CAP_NET_RAW and "
                 "CAP_NET_ADMIN: setcap cap_net_raw,cap_net_admin=eip %s",
                 name, exe);
        return;
    }
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
        snprintf(err, errcap, "%s: no such interface (plainsight -D lists them)", name);
        return;
    }
    const char *detail = pcap_geterr(p);
    const char *what = pcap_statustostr(rc);
    bool has_detail = detail != NULL && detail[0] != '\0' && strcmp(detail, what) != 0;
    snprintf(err, errcap, "%s: %s%s%s", name, what, has_detail ? ": " : "",
             has_detail ? detail : "");
}

enum ps_err capture_open_live(const char *name, const struct capture_live_opts *opts,
                              const char *bpf, struct capture **out, char *err, size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    *out = NULL;
    pcap_t *p = pcap_create(name, ebuf);
    if (p == NULL) {
        snprintf(err, errcap, "%s: %s", name, ebuf);
        return PS_ERR_IO;
    }
    pcap_set_snaplen(p, opts->snaplen > 0 ? opts->snaplen : CAPTURE_DEFAULT_SNAPLEN);
    pcap_set_promisc(p, opts->is_promisc);
    pcap_set_timeout(p, opts->timeout_ms > 0 ? opts->timeout_ms : CAPTURE_BUFFER_MSEC);
    pcap_set_buffer_size(p, opts->buffer_bytes > 0 ? opts->buffer_bytes
                                                   : CAPTURE_DEFAULT_BUFFER_BYTES);
    int rc = pcap_activate(p);
    if (rc < 0) {
        live_error(p, rc, name, err, errcap);
        pcap_close(p);
        return rc == PCAP_ERROR_PROMISC_PERM_DENIED || rc == PCAP_ERROR_PERM_DENIED ||
                       rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_IFACE_NOT_UP
                   ? PS_ERR_IO
                   : PS_ERR_ARG;
    }
    enum ps_err e = set_filter(p, bpf, name, err, errcap);
    if (e != PS_OK) {
        pcap_close(p);
        return e;
    }
    /* Non-blocking reads and a poll of our own (capture_wait): a blocking read may wait
     * forever on an idle link, whatever the timeout, and the caller's clock must tick. */
    int fd = pcap_get_selectable_fd(p);
    if (fd < 0 || pcap_setnonblock(p, 1, ebuf) != 0) {
        snprintf(err, errcap, "%s: cannot read without blocking: %s", name,
                 fd < 0 ? "no selectable descriptor" : ebuf);
        pcap_close(p);
        return PS_ERR_IO;
    }
    struct capture *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->fd = fd;
    c->is_live = true;
    c->link = map_link(pcap_datalink(p));
    *out = c;
    return PS_OK;
}

enum ps_err capture_live_stats(struct capture *c, struct capture_stats *out)
{
    struct pcap_stat ps;
    if (!c->is_live || pcap_stats(c->p, &ps) != 0) {
        return PS_ERR_IO;
    }
    /* The counters are 32-bit and wrap on a busy link over weeks: widen by tracking wraps. */
    c->recv64 += (uint32_t)(ps.ps_recv - c->last.ps_recv);
    c->drop64 += (uint32_t)(ps.ps_drop - c->last.ps_drop);
    c->ifdrop64 += (uint32_t)(ps.ps_ifdrop - c->last.ps_ifdrop);
    c->last = ps;
    out->kernel_received = c->recv64;
    out->kernel_dropped = c->drop64;
    out->interface_dropped = c->ifdrop64;
    return PS_OK;
}

enum ps_err capture_list_interfaces(FILE *out, char *err, size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *all = NULL;
    if (pcap_findalldevs(&all, ebuf) != 0) {
        snprintf(err, errcap, "cannot list interfaces: %s", ebuf);
        return PS_ERR_IO;
    }
    int i = 1;
    for (pcap_if_t *d = all; d != NULL; d = d->next, i++) {
        fprintf(out, "%d.%s", i, d->name);
        if (d->description != NULL) {
            fprintf(out, " (%s)", d->description);
        }
        fprintf(out, "%s\n", (d->flags & PCAP_IF_UP) != 0 ? "" : " [down]");
    }
    pcap_freealldevs(all);
    return PS_OK;
}

static void fill_pkt(const struct pcap_pkthdr *h, const u_char *data, struct capture_pkt *out)
{
    out->data = data;
    /* libpcap already refuses caplen > snaplen; caplen never exceeds the buffer. */
    out->caplen = h->caplen;
    out->wirelen = h->len;
    uint64_t sec = h->ts.tv_sec < 0 ? 0 : (uint64_t)h->ts.tv_sec;
    uint64_t usec = h->ts.tv_usec < 0 ? 0 : (uint64_t)h->ts.tv_usec;
    out->ts_usec = sec * PS_USEC_PER_SEC + usec;
}

enum capture_status capture_next(struct capture *c, struct capture_pkt *out)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(c->p, &h, &data);
    if (rc == 1) {
        fill_pkt(h, data, out);
        return CAPTURE_PACKET;
    }
    if (rc == PCAP_ERROR_BREAK) {
        return CAPTURE_END;
    }
    if (rc == 0) {
        return CAPTURE_TIMEOUT; /* live only: nothing waiting, and the handle never blocks */
    }
    snprintf(c->err, sizeof c->err, "%s", pcap_geterr(c->p));
    return CAPTURE_DAMAGED;
}

enum capture_status capture_wait(struct capture *const *cs, size_t n, int timeout_ms,
                                 bool *is_ready)
{
    struct pollfd pfd[CAPTURE_WAIT_MAX];
    assert(n > 0 && n <= CAPTURE_WAIT_MAX);
    if (n > CAPTURE_WAIT_MAX) {
        n = CAPTURE_WAIT_MAX;
    }
    for (size_t i = 0; i < n; i++) {
        pfd[i] = (struct pollfd){ cs[i]->fd, POLLIN, 0 };
        is_ready[i] = false;
    }
    /* A signal ends the wait early (EINTR), so that the caller sees it at once. */
    int k = poll(pfd, (nfds_t)n, timeout_ms < 0 ? 0 : timeout_ms);
    if (k <= 0) {
        return CAPTURE_TIMEOUT;
    }
    enum capture_status st = CAPTURE_TIMEOUT;
    for (size_t i = 0; i < n; i++) {
        if ((pfd[i].revents & (POLLERR | POLLNVAL | POLLHUP)) != 0) {
            snprintf(cs[i]->err, sizeof cs[i]->err, "the interface went away");
            return CAPTURE_DAMAGED;
        }
        if ((pfd[i].revents & POLLIN) != 0) {
            is_ready[i] = true;
            st = CAPTURE_PACKET;
        }
    }
    return st;
}

struct dispatch_ctx {
    capture_fn fn;
    void *user;
    size_t n;
    uint64_t bytes; /* captured lengths plus record headers */
};

/* A pcap record header's size; a pcapng block's is close (28 bytes for an enhanced packet
 * block, and padding), near enough for a progress line on a pipe. */
#define CAPTURE_RECORD_HDR_BYTES 16u

static void dispatch_one(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    struct dispatch_ctx *d = (struct dispatch_ctx *)(void *)user;
    struct capture_pkt cp;
    fill_pkt(h, data, &cp);
    d->n++;
    d->bytes += cp.caplen + CAPTURE_RECORD_HDR_BYTES;
    d->fn(d->user, &cp);
}

enum capture_status capture_dispatch(struct capture *c, size_t max, capture_fn fn, void *user,
                                     size_t *n_read)
{
    struct dispatch_ctx d = { fn, user, 0, 0 };
    int cnt = max > (size_t)CAPTURE_DISPATCH_MAX ? CAPTURE_DISPATCH_MAX : (int)max;
    *n_read = 0;
    if (cnt <= 0) {
        return CAPTURE_PACKET;
    }
    int rc = pcap_dispatch(c->p, cnt, dispatch_one, (u_char *)(void *)&d);
    *n_read = d.n;
    c->record_bytes += d.bytes;
    if (rc > 0) {
        return CAPTURE_PACKET;
    }
    if (rc == 0) {
        /* A file returns 0 only at its end; a live source (non-blocking) when none waited. */
        return c->is_live ? CAPTURE_TIMEOUT : CAPTURE_END;
    }
    if (rc == PCAP_ERROR_BREAK) {
        return d.n > 0 ? CAPTURE_PACKET : CAPTURE_END;
    }
    snprintf(c->err, sizeof c->err, "%s", pcap_geterr(c->p));
    return CAPTURE_DAMAGED;
}

void capture_file_progress(const struct capture *c, uint64_t *pos_bytes, uint64_t *size_bytes)
{
    *pos_bytes = 0;
    *size_bytes = 0;
    if (c->is_live) {
        return;
    }
    *pos_bytes = c->record_bytes;
    if (c->is_regular) {
        /* ftello counts what stdio has buffered as not yet read: the bytes libpcap has taken. */
        off_t pos = ftello(pcap_file(c->p));
        if (pos >= 0) {
            *pos_bytes = (uint64_t)pos;
        }
        *size_bytes = c->size_bytes;
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
