/* classify.c - which mail protocol a TCP flow speaks: ports first, then nDPI.
 *
 * The IANA ports: SMTP 25 (RFC 5321), submission 587 (RFC 6409) and the common alternative
 * 2525; POP3 110 (RFC 1939); IMAP 143 (RFC 9051); implicit TLS on 465 (RFC 8314), 995 and 993.
 * When both ports are mail ports the lower one is taken as the server's.
 *
 * Other ports go to nDPI, following the call sequence of its example reader: one detection
 * module per run, one ndpi_flow_struct per flow, ndpi_detection_process_packet with the IP
 * packet of either direction until it names a protocol, ndpi_detection_giveup when we stop
 * asking. nDPI's POP3/IMAP/SMTP dissectors recognise the server's greeting and the client's
 * commands, which is what makes mail on a non-standard port visible. */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "decode.h"
#include "imap.h"
#include "log.h"
#include "pop3.h"
#include "ps.h"
#include "smtp.h"
#include "socks.h"

/* The nDPI API changes between releases (module and flow set-up, protocol ids); this file was
 * written against 4.2, the version Debian 12 ships. */
_Static_assert(NDPI_MAJOR == 4 && NDPI_MINOR == 2, "classify.c is written for nDPI 4.2");

struct port_entry {
    uint16_t port;
    enum finding_proto protocol;
    bool is_implicit_tls;
};

/* Indexed by find(): keep the two in step. */
static const struct port_entry ports[] = {
    { 25, FINDING_PROTO_SMTP, false },   { 587, FINDING_PROTO_SMTP, false },
    { 2525, FINDING_PROTO_SMTP, false }, { 465, FINDING_PROTO_SMTP, true },
    { 110, FINDING_PROTO_POP3, false },  { 995, FINDING_PROTO_POP3, true },
    { 143, FINDING_PROTO_IMAP, false },  { 993, FINDING_PROTO_IMAP, true },
};

struct classify {
    struct ndpi_detection_module_struct *ndpi; /* NULL until set up */
    bool is_ndpi;                              /* nDPI is wanted: set up, or when first needed */
    struct classify_stats st;
};

struct classify_flow {
    struct ndpi_flow_struct *nf;
};

/* The parser for a protocol. */
static const struct parser_ops *parser_for(enum finding_proto p)
{
    switch (p) {
    case FINDING_PROTO_POP3:
        return &pop3_parser_ops;
    case FINDING_PROTO_IMAP:
        return &imap_parser_ops;
    case FINDING_PROTO_SMTP:
        return &smtp_parser_ops;
    case FINDING_PROTO_UNKNOWN:
        break;
    }
    return NULL;
}

static const struct port_entry *find(uint16_t port)
{
    switch (port) {
    case 25:
        return &ports[0];
    case 587:
        return &ports[1];
    case 2525:
        return &ports[2];
    case 465:
        return &ports[3];
    case 110:
        return &ports[4];
    case 995:
        return &ports[5];
    case 143:
        return &ports[6];
    case 993:
        return &ports[7];
    default:
        return NULL;
    }
}

bool classify_is_mail_port(uint16_t port)
{
    return find(port) != NULL;
}

bool classify_port(uint16_t sport, uint16_t dport, struct classify_result *out)
{
    const struct port_entry *d = find(dport);
    const struct port_entry *s = find(sport);
    const struct port_entry *e = d;
    bool is_server_dst = true;
    if (s != NULL && (d == NULL || sport < dport)) {
        e = s;
        is_server_dst = false;
    }
    if (e == NULL) {
        out->protocol = FINDING_PROTO_UNKNOWN;
        out->ops = NULL;
        return false;
    }
    out->protocol = e->protocol;
    out->is_implicit_tls = e->is_implicit_tls;
    out->is_server_dst = is_server_dst;
    out->ops = parser_for(e->protocol);
    return true;
}

static bool starts_with_ci(const uint8_t *p, size_t len, const char *w)
{
    size_t n = strlen(w);
    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'a' && c <= 'z') {
            c = (uint8_t)(c - 'a' + 'A');
        }
        if (c != (uint8_t)w[i]) {
            return false;
        }
    }
    return true;
}

enum classify_greeting classify_greeting(const uint8_t *p, size_t len)
{
    if (len < 4) {
        return CLASSIFY_GREETING_SHORT;
    }
    if (p[0] == '+' && starts_with_ci(p, len, "+OK")) {
        return CLASSIFY_GREETING_POP3;
    }
    if (starts_with_ci(p, len, "* OK") || starts_with_ci(p, len, "* PREAUTH") ||
        starts_with_ci(p, len, "* BYE")) {
        return CLASSIFY_GREETING_IMAP;
    }
    if (p[0] == '2' && p[1] == '2' && p[2] == '0' && (p[3] == ' ' || p[3] == '-')) {
        return CLASSIFY_GREETING_SMTP;
    }
    return CLASSIFY_GREETING_NONE;
}

bool classify_is_tls_record(const uint8_t *p, size_t len)
{
    /* change_cipher_spec, alert, handshake, application_data; SSL 3.0 to TLS 1.3 records. */
    return len >= 3 && p[0] >= 20 && p[0] <= 23 && p[1] == 3 && p[2] <= 4;
}

bool classify_is_smtp_hello(const uint8_t *p, size_t len)
{
    return starts_with_ci(p, len, "EHLO") || starts_with_ci(p, len, "HELO");
}

void classify_for_socks(struct classify_result *out)
{
    out->protocol = FINDING_PROTO_UNKNOWN;
    out->is_implicit_tls = false;
    out->is_server_dst = true;
    out->ops = &socks_parser_ops;
}

bool classify_for_protocol(enum finding_proto protocol, struct classify_result *out)
{
    out->protocol = protocol;
    out->is_implicit_tls = false;
    out->is_server_dst = true;
    out->ops = parser_for(protocol);
    return out->ops != NULL;
}

/* Sets nDPI's module up, once; false when that failed (now or before). */
static bool start_ndpi(struct classify *c)
{
    if (c->ndpi != NULL || c->st.ndpi_failed != 0) {
        return c->ndpi != NULL;
    }
    /* Tor hosts and libgcrypt serve verdicts plainsight does not ask for; skipping them makes
     * start-up cheaper. */
    c->ndpi = ndpi_init_detection_module(ndpi_dont_load_tor_hosts | ndpi_dont_init_libgcrypt);
    if (c->ndpi == NULL) {
        c->st.ndpi_failed = 1;
        log_warn("cannot set up nDPI: flows on other ports seen mid-stream are taken as not "
                 "mail");
        return false;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
    ndpi_finalize_initialization(c->ndpi);
    c->st.ndpi_started = 1;
    return true;
}

struct classify *classify_new(bool is_ndpi)
{
    struct classify *c = xcalloc(1, sizeof *c);
    c->is_ndpi = is_ndpi;
    if (is_ndpi && !start_ndpi(c)) {
        free(c);
        return NULL;
    }
    return c;
}

struct classify *classify_new_lazy(void)
{
    struct classify *c = xcalloc(1, sizeof *c);
    c->is_ndpi = true;
    return c;
}

void classify_free(struct classify *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ndpi != NULL) {
        ndpi_exit_detection_module(c->ndpi);
    }
    free(c);
}

bool classify_is_active(const struct classify *c)
{
    return c->is_ndpi;
}

size_t classify_flow_size(void)
{
    return sizeof(struct classify_flow) + ndpi_detection_get_sizeof_ndpi_flow_struct();
}

struct classify_flow *classify_flow_new(struct classify *c)
{
    if (!c->is_ndpi || !start_ndpi(c)) {
        return NULL;
    }
    struct classify_flow *cf = xcalloc(1, sizeof *cf);
    cf->nf = xcalloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
    c->st.flows++;
    return cf;
}

void classify_flow_free(struct classify_flow *cf)
{
    if (cf == NULL) {
        return;
    }
    ndpi_free_flow_data(cf->nf);
    free(cf->nf);
    free(cf);
}

static enum classify_verdict verdict(struct classify *c, ndpi_protocol proto,
                                     struct classify_result *out)
{
    uint16_t ids[2] = { proto.app_protocol, proto.master_protocol };
    for (size_t i = 0; i < 2; i++) {
        enum finding_proto fp = FINDING_PROTO_UNKNOWN;
        switch (ids[i]) {
        case NDPI_PROTOCOL_MAIL_POP:
        case NDPI_PROTOCOL_MAIL_POPS:
            fp = FINDING_PROTO_POP3;
            break;
        case NDPI_PROTOCOL_MAIL_IMAP:
        case NDPI_PROTOCOL_MAIL_IMAPS:
            fp = FINDING_PROTO_IMAP;
            break;
        case NDPI_PROTOCOL_MAIL_SMTP:
        case NDPI_PROTOCOL_MAIL_SMTPS:
            fp = FINDING_PROTO_SMTP;
            break;
        default:
            continue;
        }
        out->protocol = fp;
        /* The parsers see for themselves when a client starts with a TLS record. */
        out->is_implicit_tls = false;
        out->is_server_dst = true;
        out->ops = parser_for(fp);
        if (out->ops == NULL) {
            c->st.unsupported++;
            return CLASSIFY_NOT_MAIL;
        }
        c->st.mail++;
        return CLASSIFY_MAIL;
    }
    if (proto.app_protocol == NDPI_PROTOCOL_UNKNOWN &&
        proto.master_protocol == NDPI_PROTOCOL_UNKNOWN) {
        return CLASSIFY_MORE;
    }
    c->st.not_mail++;
    return CLASSIFY_NOT_MAIL;
}

enum classify_verdict classify_packet(struct classify *c, struct classify_flow *cf,
                                      const struct pkt *p, struct classify_result *out)
{
    if (cf == NULL || p->l3 == NULL || p->l3_len == 0) {
        return CLASSIFY_MORE;
    }
    c->st.packets++;
    /* nDPI takes an unsigned short length: an IP packet is at most 65535 bytes anyway. */
    unsigned short len = p->l3_len > 0xffffu ? 0xffffu : (unsigned short)p->l3_len;
    ndpi_protocol proto =
        ndpi_detection_process_packet(c->ndpi, cf->nf, p->l3, len, p->ts_usec / 1000u);
    return verdict(c, proto, out);
}

enum classify_verdict classify_giveup(struct classify *c, struct classify_flow *cf,
                                      struct classify_result *out)
{
    if (cf == NULL) {
        return CLASSIFY_NOT_MAIL;
    }
    uint8_t guessed = 0;
    ndpi_protocol proto = ndpi_detection_giveup(c->ndpi, cf->nf, 0, &guessed);
    enum classify_verdict v = verdict(c, proto, out);
    return v == CLASSIFY_MAIL ? v : CLASSIFY_NOT_MAIL;
}

const struct classify_stats *classify_get_stats(const struct classify *c)
{
    return &c->st;
}

const char *classify_lib_version(void)
{
    return ndpi_revision();
}
