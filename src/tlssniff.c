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
 * pre-standard TLS 1.3 draft versions (0x7fxx) are outside 0x0300..0x0304 and read as NOT_TLS.
 *
 * The same reader serves the session's context. At TLS 1.2 and older the server's Certificate
 * (RFC 5246 section 7.4.2) follows in the clear: after the ServerHello the sniffer stays DONE
 * and goes on, with a budget of its own, to that message's first TLSSNIFF_MAX_BYTES, and reads
 * the first certificate's issuer and subject (RFC 5280 section 4.1) from its DER (X.690) far
 * enough to render them in RFC 4514 form; any other message, a ChangeCipherSpec (a resumed
 * session) or an alert ends that phase with no names. A client sniffer (tlssniff_new_client)
 * reads the client's stream alike for a ClientHello (RFC 8446 section 4.1.2) and its
 * server_name (RFC 6066 section 3). The names are read here rather than by GnuTLS or libtasn1:
 * the message is often cut at the buffer's end and only two fields are wanted, while those
 * libraries parse a whole certificate, and plainsight would gain a dependency for it. */
#include "tlssniff.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
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
#define TLSSNIFF_HS_CLIENT_HELLO        1
#define TLSSNIFF_HS_SERVER_HELLO        2
#define TLSSNIFF_HS_CERTIFICATE         11
#define TLSSNIFF_EXT_SERVER_NAME        0
#define TLSSNIFF_SNI_HOST_NAME          0
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
    size_t hs_need;   /* TLSSNIFF_HS_HDR + body length once the header is read */
    size_t seen;      /* stream bytes read before the verdict */
    bool has_hrr;     /* a HelloRetryRequest was passed over */
    bool is_client;   /* reads the client's ClientHello, not the server's ServerHello */
    bool is_cert;     /* DONE at TLS 1.2 or older, still reading the server's Certificate */
    size_t cert_seen; /* stream bytes read in that phase */
    uint8_t sni[TLSSNIFF_MAX_SNI];     /* the ClientHello's host_name, cut */
    size_t sni_len;                    /* 0: none */
    char subject[TLSSNIFF_MAX_DN + 1]; /* "" until a certificate is read */
    char issuer[TLSSNIFF_MAX_DN + 1];
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

struct tlssniff *tlssniff_new_client(void)
{
    struct tlssniff *t = tlssniff_new();
    t->is_client = true;
    return t;
}

size_t tlssniff_sni(const struct tlssniff *t, const uint8_t **name)
{
    *name = t->sni;
    return t->status == TLSSNIFF_DONE ? t->sni_len : 0;
}

bool tlssniff_wants_cert(const struct tlssniff *t)
{
    return t->is_cert;
}

const char *tlssniff_cert_subject(const struct tlssniff *t)
{
    return t->subject[0] != '\0' ? t->subject : NULL;
}

const char *tlssniff_cert_issuer(const struct tlssniff *t)
{
    return t->issuer[0] != '\0' ? t->issuer : NULL;
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

/* Ends the Certificate phase (the version verdict stands). */
static void cert_over(struct tlssniff *t)
{
    t->is_cert = false;
    drop_buffer(t);
}

/* The stream is not what was expected: NOT_TLS before the verdict, the end of the Certificate
 * phase after it. */
static void fail(struct tlssniff *t)
{
    if (t->status == TLSSNIFF_MORE) {
        verdict(t, TLSSNIFF_NOT_TLS);
    } else {
        cert_over(t);
    }
}

/* Still reading: before the verdict, or in the Certificate phase. */
static bool is_reading(const struct tlssniff *t)
{
    return t->status == TLSSNIFF_MORE || t->is_cert;
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
    if (version <= 0x0303) {
        /* TLS 1.2 and older send the Certificate in the clear next (RFC 5246 7.4.2). */
        t->status = TLSSNIFF_DONE;
        t->is_cert = true;
        t->hs_len = 0;
        t->hs_need = 0;
        return;
    }
    verdict(t, TLSSNIFF_DONE);
}

/* Reads the server_name extension's body b[0..len) (RFC 6066 section 3): the first host_name. */
static void read_server_name(struct tlssniff *t, const uint8_t *b, size_t len)
{
    struct rd r = rd_make(b, len);
    uint16_t list = rd_be16(&r);
    if (r.bad || list != rd_left(&r)) {
        return;
    }
    while (rd_left(&r) > 0) {
        uint8_t type = rd_u8(&r);
        uint16_t n = rd_be16(&r);
        const uint8_t *name = rd_take(&r, n);
        if (r.bad) {
            return;
        }
        if (type == TLSSNIFF_SNI_HOST_NAME && n > 0) {
            t->sni_len = n < TLSSNIFF_MAX_SNI ? n : TLSSNIFF_MAX_SNI;
            memcpy(t->sni, name, t->sni_len);
            return;
        }
    }
}

/* Reads the ClientHello in t->hs[0..hs_need) (RFC 8446 section 4.1.2, RFC 5246 section
 * 7.4.1.2) for its server_name. DONE with the legacy_version, or NOT_TLS when malformed. */
static void read_client_hello(struct tlssniff *t)
{
    struct rd r = rd_make(t->hs + TLSSNIFF_HS_HDR, t->hs_need - TLSSNIFF_HS_HDR);
    uint16_t version = rd_be16(&r);
    rd_skip(&r, TLSSNIFF_RANDOM_LEN);
    uint8_t sid_len = rd_u8(&r);
    rd_skip(&r, sid_len);
    rd_skip(&r, rd_be16(&r)); /* cipher_suites */
    rd_skip(&r, rd_u8(&r));   /* legacy_compression_methods */
    if (r.bad || sid_len > TLSSNIFF_MAX_SESSION_ID || !is_version(version)) {
        verdict(t, TLSSNIFF_NOT_TLS);
        return;
    }
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
                t->sni_len = 0;
                verdict(t, TLSSNIFF_NOT_TLS);
                return;
            }
            if (type == TLSSNIFF_EXT_SERVER_NAME && t->sni_len == 0) {
                read_server_name(t, body, len);
            }
        }
    }
    t->version = version;
    verdict(t, TLSSNIFF_DONE);
}

/* Reads the first certificate of the Certificate message gathered in t->hs[0..hs_len), whole
 * or its first TLSSNIFF_MAX_BYTES (RFC 5246 section 7.4.2: a 3-byte list length, then each
 * certificate's 3-byte length and DER), and ends the phase. */
static void read_certificate(struct tlssniff *t)
{
    struct rd r = rd_make(t->hs + TLSSNIFF_HS_HDR, t->hs_len - TLSSNIFF_HS_HDR);
    rd_be24(&r); /* certificate_list length: the list may be cut here */
    size_t len = rd_be24(&r);
    if (!r.bad && len > 0) {
        size_t have = rd_left(&r) < len ? rd_left(&r) : len;
        if (!tlssniff_cert_names(r.p + r.off, have, t->subject, t->issuer, sizeof t->subject)) {
            t->subject[0] = '\0';
            t->issuer[0] = '\0';
        }
    }
    cert_over(t);
}

/* The handshake message type expected next. */
static uint8_t expected_type(const struct tlssniff *t)
{
    if (t->is_client) {
        return TLSSNIFF_HS_CLIENT_HELLO;
    }
    return t->is_cert ? TLSSNIFF_HS_CERTIFICATE : TLSSNIFF_HS_SERVER_HELLO;
}

/* A handshake message is gathered (or, in the Certificate phase, its first part). */
static void read_message(struct tlssniff *t)
{
    if (t->is_client) {
        read_client_hello(t);
    } else if (t->is_cert) {
        read_certificate(t);
    } else {
        read_server_hello(t);
    }
}

/* Gathers handshake bytes p[0..n) (the body of handshake records, in order). Stops early
 * once there is a verdict. */
static void feed_handshake(struct tlssniff *t, const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n && is_reading(t)) {
        if (t->hs == NULL) {
            t->hs = xmalloc(TLSSNIFF_MAX_BYTES);
        }
        if (t->hs_len < TLSSNIFF_HS_HDR) {
            t->hs[t->hs_len++] = p[off++];
            if (t->hs_len == 1 && t->hs[0] != expected_type(t)) {
                fail(t);
                return;
            }
            if (t->hs_len < TLSSNIFF_HS_HDR) {
                continue;
            }
            size_t body = (size_t)t->hs[1] << 16 | (size_t)t->hs[2] << 8 | t->hs[3];
            if (body > TLSSNIFF_MAX_BYTES - TLSSNIFF_HS_HDR) {
                if (!t->is_cert) {
                    verdict(t, TLSSNIFF_NOT_TLS);
                    return;
                }
                body = TLSSNIFF_MAX_BYTES - TLSSNIFF_HS_HDR; /* its first part holds the names */
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
            read_message(t);
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
        /* After the ServerHello only handshake records may carry the Certificate: a
         * ChangeCipherSpec means a resumed session, which sends none. */
        if (b < TLSSNIFF_CT_CHANGE_CIPHER_SPEC || b > TLSSNIFF_CT_APPLICATION_DATA ||
            b == TLSSNIFF_CT_ALERT || (t->is_cert && b != TLSSNIFF_CT_HANDSHAKE)) {
            fail(t);
        }
        break;
    case 1:
        if (b != 0x03) {
            fail(t);
        }
        break;
    case 2:
        if (b > 0x04) {
            fail(t);
        }
        break;
    case 4:
        t->rec_left = (size_t)t->rec_hdr[3] << 8 | t->rec_hdr[4];
        if (t->rec_left > TLSSNIFF_MAX_RECORD) {
            fail(t);
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
    while (off < len && is_reading(t)) {
        /* Each phase has its budget; reaching it ends the phase below, so some budget is
         * always left here. */
        size_t *seen = t->status == TLSSNIFF_MORE ? &t->seen : &t->cert_seen;
        assert(*seen < TLSSNIFF_MAX_BYTES);
        size_t budget = TLSSNIFF_MAX_BYTES - *seen;
        if (t->rec_hdr_len < TLSSNIFF_REC_HDR) {
            feed_header_byte(t, data[off]);
            off++;
            (*seen)++;
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
            *seen += n;
            t->rec_left -= n;
            if (t->rec_left == 0) {
                t->rec_hdr_len = 0;
            }
        }
        if (t->status == TLSSNIFF_MORE && t->seen >= TLSSNIFF_MAX_BYTES) {
            verdict(t, TLSSNIFF_NOT_TLS);
        } else if (t->is_cert && t->cert_seen >= TLSSNIFF_MAX_BYTES) {
            /* The budget ends the phase: read what part of a Certificate there is. */
            if (t->hs_len > TLSSNIFF_HS_HDR && t->hs[0] == TLSSNIFF_HS_CERTIFICATE) {
                read_certificate(t);
            } else {
                cert_over(t);
            }
        }
    }
    if (t->status == TLSSNIFF_DONE) {
        *version = t->version;
    }
    return t->status;
}

void tlssniff_gap(struct tlssniff *t)
{
    if (is_reading(t)) {
        fail(t);
    }
}

/* X.509 names (RFC 5280 section 4.1.2.4), read from DER (X.690) and written in RFC 4514 form.
 * Only what a name needs: single-byte tags, definite lengths of up to 4 bytes. */

#define DER_SEQUENCE     0x30
#define DER_SET          0x31
#define DER_OID          0x06
#define DER_INTEGER      0x02
#define DER_VERSION_TAG  0xa0 /* [0] EXPLICIT Version */
#define DER_MAX_RDNS     64   /* RDNs in a name; a longer one is not read */
#define DER_MAX_LEN_SIZE 4

/* Reads a tag and a definite length. False (r bad) on a high tag number or a malformed length;
 * the content is not checked to be there. */
static bool der_header(struct rd *r, uint8_t *tag, size_t *len)
{
    *tag = rd_u8(r);
    uint8_t b = rd_u8(r);
    if (r->bad || (*tag & 0x1f) == 0x1f) {
        r->bad = true;
        return false;
    }
    if (b < 0x80) {
        *len = b;
        return true;
    }
    size_t n = b & 0x7f;
    if (n == 0 || n > DER_MAX_LEN_SIZE) {
        r->bad = true; /* indefinite (BER only) or absurd */
        return false;
    }
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        *len = *len << 8 | rd_u8(r);
    }
    return !r->bad;
}

/* Reads a whole element: its tag, and its content in *body (checked to be there). */
static bool der_take(struct rd *r, uint8_t *tag, const uint8_t **body, size_t *len)
{
    if (!der_header(r, tag, len)) {
        return false;
    }
    *body = rd_take(r, *len);
    return !r->bad;
}

/* Bounded text output: a name past its cap is cut at an escape's boundary and ends in "...". */
struct dn_out {
    char *p;
    size_t cap, len; /* cap >= 8 */
    bool is_cut;
};

static void out_put(struct dn_out *o, const char *s, size_t n)
{
    if (o->is_cut || o->len + n + 4 > o->cap) {
        o->is_cut = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void out_hex(struct dn_out *o, const char *prefix, uint8_t b)
{
    static const char hex[] = "0123456789ABCDEF";
    char buf[3] = { prefix[0], hex[b >> 4], hex[b & 0xf] };
    if (prefix[0] == '\0') {
        out_put(o, buf + 1, 2);
    } else {
        out_put(o, buf, 3);
    }
}

/* An OID's short name (RFC 4514 section 3), or NULL. */
static const char *oid_name(const uint8_t *oid, size_t len)
{
    static const uint8_t dc[] = { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 };
    static const uint8_t uid[] = { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01 };
    if (len == 3 && oid[0] == 0x55 && oid[1] == 0x04) {
        switch (oid[2]) {
        case 3:
            return "CN";
        case 6:
            return "C";
        case 7:
            return "L";
        case 8:
            return "ST";
        case 9:
            return "STREET";
        case 10:
            return "O";
        case 11:
            return "OU";
        default:
            return NULL;
        }
    }
    if (len == sizeof dc && memcmp(oid, dc, len) == 0) {
        return "DC";
    }
    if (len == sizeof uid && memcmp(oid, uid, len) == 0) {
        return "UID";
    }
    return NULL;
}

/* Writes an OID in dotted decimal. False when its encoding is malformed. */
static bool out_oid(struct dn_out *o, const uint8_t *oid, size_t len)
{
    uint64_t arc = 0;
    bool is_first = true;
    for (size_t i = 0; i < len; i++) {
        if (arc > (UINT64_MAX >> 7)) {
            return false;
        }
        arc = arc << 7 | (oid[i] & 0x7f);
        if ((oid[i] & 0x80) != 0) {
            continue;
        }
        char buf[48];
        int k;
        if (is_first) {
            uint64_t x = arc < 80 ? arc / 40 : 2;
            k = snprintf(buf, sizeof buf, "%llu.%llu", (unsigned long long)x,
                         (unsigned long long)(arc - x * 40));
        } else {
            k = snprintf(buf, sizeof buf, ".%llu", (unsigned long long)arc);
        }
        out_put(o, buf, (size_t)k);
        is_first = false;
        arc = 0;
    }
    return len > 0 && (oid[len - 1] & 0x80) == 0;
}

/* True for the string types whose bytes are written as text (UTF8String, PrintableString,
 * TeletexString, IA5String, VisibleString); others are written as '#' and their BER in hex. */
static bool is_text_tag(uint8_t tag)
{
    return tag == 12 || tag == 19 || tag == 20 || tag == 22 || tag == 26;
}

/* Writes a string value with RFC 4514 section 2.4 escapes; every byte outside printable ASCII
 * as a hex pair, so the text stays printable ASCII. */
static void out_value(struct dn_out *o, const uint8_t *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = v[i];
        bool is_special = b == '"' || b == '+' || b == ',' || b == ';' || b == '<' || b == '>' ||
                          b == '\\' || (i == 0 && (b == '#' || b == ' ')) ||
                          (i + 1 == len && b == ' ');
        if (b < 0x20 || b > 0x7e) {
            out_hex(o, "\\", b);
        } else if (is_special) {
            char e[2] = { '\\', (char)b };
            out_put(o, e, 2);
        } else {
            char c = (char)b;
            out_put(o, &c, 1);
        }
    }
}

/* Writes one AttributeTypeAndValue (its SEQUENCE's content a[0..len)). */
static bool out_ava(struct dn_out *o, const uint8_t *a, size_t len)
{
    struct rd r = rd_make(a, len);
    uint8_t tag, vtag;
    const uint8_t *oid, *val;
    size_t oid_len, val_len;
    size_t val_off = 0;
    if (!der_take(&r, &tag, &oid, &oid_len) || tag != DER_OID) {
        return false;
    }
    val_off = r.off;
    if (!der_take(&r, &vtag, &val, &val_len) || rd_left(&r) != 0) {
        return false;
    }
    const char *name = oid_name(oid, oid_len);
    if (name != NULL) {
        out_put(o, name, strlen(name));
    } else if (!out_oid(o, oid, oid_len)) {
        return false;
    }
    out_put(o, "=", 1);
    if (name != NULL && is_text_tag(vtag)) {
        out_value(o, val, val_len);
    } else {
        out_put(o, "#", 1);
        for (size_t i = val_off; i < len; i++) {
            out_hex(o, "", a[i]);
        }
    }
    return true;
}

bool tlssniff_dn_format(const uint8_t *der, size_t len, char *out, size_t cap)
{
    struct rd r = rd_make(der, len);
    uint8_t tag;
    const uint8_t *name;
    size_t name_len;
    if (cap < 8 || !der_take(&r, &tag, &name, &name_len) || tag != DER_SEQUENCE) {
        return false;
    }
    /* RFC 4514 section 2.1: the RDNs last first. */
    struct {
        const uint8_t *p;
        size_t len;
    } rdns[DER_MAX_RDNS];
    size_t n = 0;
    struct rd rn = rd_make(name, name_len);
    while (rd_left(&rn) > 0) {
        if (n == DER_MAX_RDNS || !der_take(&rn, &tag, &rdns[n].p, &rdns[n].len) || tag != DER_SET ||
            rdns[n].len == 0) {
            return false;
        }
        n++;
    }
    struct dn_out o = { out, cap, 0, false };
    for (size_t i = n; i > 0; i--) {
        if (i != n) {
            out_put(&o, ",", 1);
        }
        struct rd ra = rd_make(rdns[i - 1].p, rdns[i - 1].len);
        for (bool is_first = true; rd_left(&ra) > 0; is_first = false) {
            const uint8_t *ava;
            size_t ava_len;
            if (!der_take(&ra, &tag, &ava, &ava_len) || tag != DER_SEQUENCE) {
                return false;
            }
            if (!is_first) {
                out_put(&o, "+", 1);
            }
            if (!out_ava(&o, ava, ava_len)) {
                return false;
            }
        }
    }
    if (o.is_cut) {
        memcpy(out + o.len, "...", 3);
        o.len += 3;
    }
    out[o.len] = '\0';
    return true;
}

/* Writes the span of a whole element at r (its header and content) into *p, *len. */
static bool der_span(struct rd *r, uint8_t want, const uint8_t **p, size_t *len)
{
    size_t start = r->off;
    uint8_t tag;
    const uint8_t *body;
    size_t body_len;
    if (!der_take(r, &tag, &body, &body_len) || tag != want) {
        return false;
    }
    *p = r->p + start;
    *len = r->off - start;
    return true;
}

bool tlssniff_cert_names(const uint8_t *der, size_t len, char *subject, char *issuer, size_t cap)
{
    struct rd r = rd_make(der, len);
    uint8_t tag;
    size_t n;
    /* Certificate and tbsCertificate: only their headers, the rest may be cut. */
    if (!der_header(&r, &tag, &n) || tag != DER_SEQUENCE || !der_header(&r, &tag, &n) ||
        tag != DER_SEQUENCE) {
        return false;
    }
    const uint8_t *p;
    size_t plen;
    if (rd_left(&r) > 0 && r.p[r.off] == DER_VERSION_TAG &&
        !der_span(&r, DER_VERSION_TAG, &p, &plen)) {
        return false;
    }
    const uint8_t *iss, *sub;
    size_t iss_len, sub_len;
    if (!der_span(&r, DER_INTEGER, &p, &plen) || !der_span(&r, DER_SEQUENCE, &p, &plen) ||
        !der_span(&r, DER_SEQUENCE, &iss, &iss_len) || !der_span(&r, DER_SEQUENCE, &p, &plen) ||
        !der_span(&r, DER_SEQUENCE, &sub, &sub_len)) {
        return false;
    }
    return tlssniff_dn_format(sub, sub_len, subject, cap) &&
           tlssniff_dn_format(iss, iss_len, issuer, cap);
}

/* What a sniffer costs the heap at most: itself and its handshake buffer. */
static size_t leg_charge(void)
{
    return PS_HEAP_COST(sizeof(struct tlssniff)) + PS_HEAP_COST(TLSSNIFF_MAX_BYTES);
}

/* Frees the sniffer *t, if any, and releases its charge. */
static void leg_release(struct tlssniff **t, struct parse_stats *st)
{
    if (*t != NULL) {
        tlssniff_free(*t);
        *t = NULL;
        st->tls_mem -= leg_charge();
    }
}

/* Nothing more to learn: the version (and certificate) are in or never will be. The client's
 * reader goes too: its ClientHello came before the server's answer. */
static void leg_over(struct tlssniff_leg *l, struct session *s, struct parse_stats *st)
{
    l->is_over = true;
    l->is_client_over = true;
    s->is_parse_done = true;
    leg_release(&l->t, st);
    leg_release(&l->c, st);
}

/* The Certificate phase ended: its names into the record. */
static void leg_cert(struct tlssniff_leg *l, struct session *s)
{
    const char *subject = tlssniff_cert_subject(l->t);
    const char *issuer = tlssniff_cert_issuer(l->t);
    if (subject != NULL && issuer != NULL) {
        finding_set_context_text(s, FINDING_CONTEXT_CERT_SUBJECT, subject);
        finding_set_context_text(s, FINDING_CONTEXT_CERT_ISSUER, issuer);
    }
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
        l->has_version = true;
        if (tlssniff_wants_cert(l->t)) {
            return; /* TLS 1.2 or older: its Certificate follows in the clear */
        }
        leg_cert(l, s);
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
        if (!l->has_version) {
            st->tls_not_found++;
        }
        leg_over(l, s, st);
    }
}

void tlssniff_leg_client(struct tlssniff_leg *l, struct session *s, struct parse_stats *st,
                         const uint8_t *data, size_t len)
{
    if (l->is_client_over) {
        return;
    }
    if (l->c == NULL) {
        l->c = tlssniff_new_client();
        st->tls_mem += leg_charge();
    }
    uint16_t v = 0;
    enum tlssniff_status ts = tlssniff_feed(l->c, data, len, &v);
    if (ts == TLSSNIFF_DONE) {
        const uint8_t *name = NULL;
        size_t n = tlssniff_sni(l->c, &name);
        if (n > 0) {
            finding_set_context(s, FINDING_CONTEXT_SNI, name, n);
        }
    }
    if (ts != TLSSNIFF_MORE) {
        l->is_client_over = true;
        leg_release(&l->c, st);
    }
}

void tlssniff_leg_client_lost(struct tlssniff_leg *l, struct parse_stats *st)
{
    l->is_client_over = true;
    leg_release(&l->c, st);
}

void tlssniff_leg_free(struct tlssniff_leg *l, struct parse_stats *st)
{
    leg_release(&l->t, st);
    leg_release(&l->c, st);
}
