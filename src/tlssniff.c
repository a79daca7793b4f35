/* tlssniff.c - the negotiated TLS version, read from the server's ServerHello.
 *
 * A byte-at-a-time reader of the server's first TLS records (RFC 8446 section 5.1, RFC 5246
 * section 6.2, RFC 6101 section 5.2 for SSLv3: the same 5-byte header): content type 20..23,
 * legacy record version 0x0300..0x0304, length at most 2^14 + 2048 (the TLS 1.2 ciphertext
 * bound). Handshake records are gathered, across record boundaries, into one buffer until the
 * first handshake message is whole; it must be a ServerHello (RFC 8446 section 4.1.3, RFC 5246
 * section 7.4.1.3), whose supported_versions extension (RFC 8446 section 4.2.1) overrides its
 * legacy_version. A HelloRetryRequest (a ServerHello carrying the RFC 8446 magic random) is
 * passed over for the ServerHello that follows it; ChangeCipherSpec and other records before
 * the ServerHello are skipped. Each header field is checked as soon as its byte arrives, so a
 * plaintext reply such as "+OK" is NOT_TLS at once and the verdict is the same however the
 * stream is cut. An alert before the ServerHello means the handshake failed: NOT_TLS, as is
 * anything not reaching a ServerHello within TLSSNIFF_MAX_BYTES of stream. Known limitation:
 * pre-standard TLS 1.3 draft versions (0x7fxx) are outside 0x0300..0x0304 and read as NOT_TLS. */
#include "tlssniff.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "proto.h"
#include "ps.h"
#include "rd.h"
#include "tunables.h"

#define TLSSNIFF_REC_HDR                5              /* type, version (2), length (2) */
#define TLSSNIFF_MAX_RECORD             (16384 + 2048) /* RFC 5246 6.2.3: TLSCiphertext bound */
#define TLSSNIFF_HS_HDR                 4              /* msg_type, length (3) */
#define TLSSNIFF_HS_SERVER_HELLO        2
#define TLSSNIFF_EXT_SUPPORTED_VERSIONS 43
#define TLSSNIFF_RANDOM_LEN             32
#define TLSSNIFF_MAX_SESSION_ID         32

/* RFC 8446 section 4.1.3: the random of a HelloRetryRequest, SHA-256("HelloRetryRequest"). */
static const uint8_t hrr_random[TLSSNIFF_RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

struct tlssniff {
    enum tlssniff_status status;
    uint16_t version; /* valid when DONE */
    uint8_t rec_hdr[TLSSNIFF_REC_HDR];
    size_t rec_hdr_len; /* header bytes of the current record read so far */
    size_t rec_left;    /* body bytes of the current record still to come */
    uint8_t *hs;        /* owned; the handshake message being gathered, or NULL */
    size_t hs_len;
    size_t hs_need; /* TLSSNIFF_HS_HDR + body length once the header is read */
    size_t seen;    /* stream bytes read before the verdict */
    bool has_hrr;   /* a HelloRetryRequest was passed over */
};

bool tlssniff_is_record(const uint8_t *p, size_t len)
{
    /* SSL 3.0 to TLS 1.3 records. */
    return len >= 3 && p[0] >= TLSSNIFF_CT_CHANGE_CIPHER_SPEC &&
           p[0] <= TLSSNIFF_CT_APPLICATION_DATA && p[1] == 3 && p[2] <= 4;
}

struct tlssniff *tlssniff_new(void)
{
    return xcalloc(1, sizeof(struct tlssniff));
}

static void drop_buffer(struct tlssniff *t)
{
    free(t->hs);
    t->hs = NULL;
    t->hs_len = 0;
    t->hs_need = 0;
}

void tlssniff_free(struct tlssniff *t)
{
    if (t == NULL) {
        return;
    }
    drop_buffer(t);
    free(t);
}

static void verdict(struct tlssniff *t, enum tlssniff_status status)
{
    t->status = status;
    drop_buffer(t);
}

static bool is_version(uint16_t v)
{
    return v >= 0x0300 && v <= 0x0304;
}

/* Reads the ServerHello in t->hs[0..hs_need). Sets the verdict, or forgets a
 * HelloRetryRequest so that the next handshake message is read in its place. */
static void read_server_hello(struct tlssniff *t)
{
    struct rd r = rd_make(t->hs + TLSSNIFF_HS_HDR, t->hs_need - TLSSNIFF_HS_HDR);
    uint16_t version = rd_be16(&r);
    const uint8_t *random = rd_take(&r, TLSSNIFF_RANDOM_LEN);
    uint8_t sid_len = rd_u8(&r);
    rd_skip(&r, sid_len);
    rd_be16(&r); /* cipher_suite */
    rd_u8(&r);   /* legacy_compression_method */
    if (r.bad || sid_len > TLSSNIFF_MAX_SESSION_ID || !is_version(version)) {
        verdict(t, TLSSNIFF_NOT_TLS);
        return;
    }
    /* Extensions are optional (SSLv3, and TLS servers with nothing to say); when present they
     * fill the rest of the message exactly. */
    if (rd_left(&r) > 0) {
        uint16_t ext_total = rd_be16(&r);
        if (r.bad || ext_total != rd_left(&r)) {
            verdict(t, TLSSNIFF_NOT_TLS);
            return;
        }
        while (rd_left(&r) > 0) {
            uint16_t type = rd_be16(&r);
            uint16_t len = rd_be16(&r);
            const uint8_t *body = rd_take(&r, len);
            if (r.bad) {
                verdict(t, TLSSNIFF_NOT_TLS);
                return;
            }
            if (type == TLSSNIFF_EXT_SUPPORTED_VERSIONS) {
                /* In a ServerHello this is selected_version alone (RFC 8446 4.2.1). */
                if (len != 2) {
                    verdict(t, TLSSNIFF_NOT_TLS);
                    return;
                }
                version = (uint16_t)((uint16_t)body[0] << 8 | body[1]);
            }
        }
        if (!is_version(version)) {
            verdict(t, TLSSNIFF_NOT_TLS);
            return;
        }
    }
    if (memcmp(random, hrr_random, TLSSNIFF_RANDOM_LEN) == 0) {
        /* RFC 8446 4.1.4: a second HelloRetryRequest ends the handshake. */
        if (t->has_hrr) {
            verdict(t, TLSSNIFF_NOT_TLS);
            return;
        }
        t->has_hrr = true;
        t->hs_len = 0;
        t->hs_need = 0;
        return;
    }
    t->version = version;
    verdict(t, TLSSNIFF_DONE);
}

/* Gathers handshake bytes p[0..n) (the body of handshake records, in order). Stops early
 * once there is a verdict. */
static void feed_handshake(struct tlssniff *t, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n && t->status == TLSSNIFF_MORE) {
        if (t->hs == NULL) {
            t->hs = xmalloc(TLSSNIFF_MAX_BYTES);
        }
        if (t->hs_len < TLSSNIFF_HS_HDR) {
            t->hs[t->hs_len++] = p[off++];
            if (t->hs_len == 1 && t->hs[0] != TLSSNIFF_HS_SERVER_HELLO) {
                verdict(t, TLSSNIFF_NOT_TLS);
                return;
            }
            if (t->hs_len < TLSSNIFF_HS_HDR) {
                continue;
            }
            size_t body = (size_t)t->hs[1] << 16 | (size_t)t->hs[2] << 8 | t->hs[3];
            if (body > TLSSNIFF_MAX_BYTES - TLSSNIFF_HS_HDR) {
                verdict(t, TLSSNIFF_NOT_TLS);
                return;
            }
            t->hs_need = TLSSNIFF_HS_HDR + body;
        } else {
            size_t k = t->hs_need - t->hs_len;
            if (k > n - off) {
                k = n - off;
            }
            memcpy(t->hs + t->hs_len, p + off, k);
            t->hs_len += k;
            off += k;
        }
        if (t->hs_len == t->hs_need) {
            read_server_hello(t);
        }
    }
}

/* Takes in the header byte b at position t->rec_hdr_len, checking it at once. */
static void feed_header_byte(struct tlssniff *t, uint8_t b)
{
    size_t i = t->rec_hdr_len;
    t->rec_hdr[t->rec_hdr_len++] = b;
    switch (i) {
    case 0:
        if (b < TLSSNIFF_CT_CHANGE_CIPHER_SPEC || b > TLSSNIFF_CT_APPLICATION_DATA ||
            b == TLSSNIFF_CT_ALERT) {
            verdict(t, TLSSNIFF_NOT_TLS);
        }
        break;
    case 1:
        if (b != 0x03) {
            verdict(t, TLSSNIFF_NOT_TLS);
        }
        break;
    case 2:
        if (b > 0x04) {
            verdict(t, TLSSNIFF_NOT_TLS);
        }
        break;
    case 4:
        t->rec_left = (size_t)t->rec_hdr[3] << 8 | t->rec_hdr[4];
        if (t->rec_left > TLSSNIFF_MAX_RECORD) {
            verdict(t, TLSSNIFF_NOT_TLS);
        }
        break;
    default:
        break;
    }
}

enum tlssniff_status tlssniff_feed(struct tlssniff *t, const uint8_t *data, size_t len,
                                   uint16_t *version)
{
    size_t off = 0;
    while (off < len && t->status == TLSSNIFF_MORE) {
        /* Reaching the budget ends the sniff below, so some budget is always left here. */
        assert(t->seen < TLSSNIFF_MAX_BYTES);
        size_t budget = TLSSNIFF_MAX_BYTES - t->seen;
        if (t->rec_hdr_len < TLSSNIFF_REC_HDR) {
            feed_header_byte(t, data[off]);
            off++;
            t->seen++;
        } else {
            /* The body, or nothing for an empty record: either way the record ends here or
             * later, and the next byte starts a header. */
            size_t n = t->rec_left;
            if (n > len - off) {
                n = len - off;
            }
            if (n > budget) {
                n = budget;
            }
            if (t->rec_hdr[0] == TLSSNIFF_CT_HANDSHAKE) {
                feed_handshake(t, data + off, n);
            }
            off += n;
            t->seen += n;
            t->rec_left -= n;
            if (t->rec_left == 0) {
                t->rec_hdr_len = 0;
            }
        }
        if (t->status == TLSSNIFF_MORE && t->seen >= TLSSNIFF_MAX_BYTES) {
            verdict(t, TLSSNIFF_NOT_TLS);
        }
    }
    if (t->status == TLSSNIFF_DONE) {
        *version = t->version;
    }
    return t->status;
}

void tlssniff_gap(struct tlssniff *t)
{
    if (t->status == TLSSNIFF_MORE) {
        verdict(t, TLSSNIFF_NOT_TLS);
    }
}

/* What a sniffer costs the heap at most: itself and its handshake buffer. */
static size_t leg_charge(void)
{
    return PS_HEAP_COST(sizeof(struct tlssniff)) + PS_HEAP_COST(TLSSNIFF_MAX_BYTES);
}

/* Frees the leg's sniffer, if any, and releases its charge. */
static void leg_release(struct tlssniff_leg *l, struct parse_stats *st)
{
    if (l->t != NULL) {
        tlssniff_free(l->t);
        l->t = NULL;
        st->tls_mem -= leg_charge();
    }
}

static void leg_over(struct tlssniff_leg *l, struct session *s, struct parse_stats *st)
{
    l->is_over = true;
    s->is_parse_done = true;
    leg_release(l, st);
}

void tlssniff_leg_feed(struct tlssniff_leg *l, struct session *s, struct parse_stats *st,
                       const uint8_t *data, size_t len)
{
    if (l->is_over) {
        return;
    }
    if (l->t == NULL) {
        l->t = tlssniff_new();
        st->tls_mem += leg_charge();
    }
    uint16_t v = 0;
    enum tlssniff_status ts = tlssniff_feed(l->t, data, len, &v);
    if (ts == TLSSNIFF_DONE) {
        s->tls_version = v;
    } else if (ts == TLSSNIFF_NOT_TLS) {
        /* Also a server that answered a ClientHello on an implicit-TLS port with a
         * cleartext banner: failed implicit TLS, version unknown. */
        st->tls_not_found++;
    }
    if (ts != TLSSNIFF_MORE) {
        leg_over(l, s, st);
    }
}

void tlssniff_leg_lost(struct tlssniff_leg *l, struct session *s, struct parse_stats *st)
{
    if (!l->is_over) {
        st->tls_not_found++;
        leg_over(l, s, st);
    }
}

void tlssniff_leg_free(struct tlssniff_leg *l, struct parse_stats *st)
{
    leg_release(l, st);
}
