/* fuzz_parser.c - the harness shared by the protocol parser targets (fuzz_pop3, fuzz_smtp,
 * fuzz_imap, fuzz_managesieve, fuzz_socks, fuzz_httpconnect), driving a parser through proto.h as
 * flow.c does.
 *
 * The input is a list of segments, each a 2-byte header and its bytes:
 *   flags   bit 0 direction (0 client, 1 server), bit 1 a gap of the stream comes before this
 *           segment, bit 2 implicit TLS (PARSE_F_IMPLICIT_TLS), bit 3 begun mid-session
 *           (PARSE_F_MIDSTREAM); bits 2 and 3 are honoured on the first segment only, since
 *           the flags are fixed when the parser is made
 *   len     1 byte, then len bytes of the stream (cut short where the input ends)
 * Like flow.c, the harness stops feeding after PARSE_ERROR and always calls end and free.
 *
 * The session is parsed twice: once with each segment fed whole, once with each cut into
 * pieces at its first byte and its middle. How the bytes of one direction are chunked must not
 * change anything (proto.h: parsers see byte streams), so both records and both parse_stats
 * must be equal. The first record then goes through finding_finalize with a fixed key, the
 * name and exposure functions, and sink_json, whose line must be valid JSON. */
#include "fuzz_parser.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "fuzz_util.h"
#include "proto.h"
#include "registry.h"
#include "sink_json.h"

#define FUZZ_F_SERVER       0x01u
#define FUZZ_F_GAP          0x02u
#define FUZZ_F_IMPLICIT_TLS 0x04u
#define FUZZ_F_MIDSTREAM    0x08u

struct run {
    struct session *s;
    struct parse_stats st;
    bool is_dead; /* the parser returned PARSE_ERROR */
};

/* Feeds piece[0..len) and checks the feed contract. Returns false on PARSE_ERROR. */
static bool feed(const struct parser_ops *ops, void *p, enum parse_dir dir, const uint8_t *piece,
                 size_t len)
{
    size_t consumed = (size_t)-1;
    enum parse_status ps = ops->feed(p, dir, piece, len, &consumed);
    FUZZ_CHECK(ps == PARSE_OK || ps == PARSE_NEED_MORE || ps == PARSE_ERROR);
    if (ps != PARSE_ERROR) {
        FUZZ_CHECK(consumed == len);
    } else {
        FUZZ_CHECK(consumed <= len);
    }
    return ps != PARSE_ERROR;
}

static void run_session(const struct fuzz_parser *fp, const uint8_t *data, size_t size,
                        bool is_split, struct run *out)
{
    const struct parser_ops *ops = fp->ops;
    memset(out, 0, sizeof *out);
    out->s = finding_new();
    out->s->protocol = fp->protocol;
    out->s->ip_version = 4;
    out->s->client_ip[0] = 192;
    out->s->client_ip[1] = 0;
    out->s->client_ip[2] = 2;
    out->s->client_ip[3] = 1;
    out->s->server_ip[0] = 192;
    out->s->server_ip[1] = 0;
    out->s->server_ip[2] = 2;
    out->s->server_ip[3] = 10;
    out->s->client_port = 41234;
    out->s->server_port = fp->server_port;

    unsigned flags = size >= 1 && (data[0] & FUZZ_F_IMPLICIT_TLS) != 0 ? PARSE_F_IMPLICIT_TLS : 0;
    if (size >= 1 && (data[0] & FUZZ_F_MIDSTREAM) != 0) {
        flags |= PARSE_F_MIDSTREAM;
    }
    struct parse_ctx ctx = { out->s, &out->st, flags, registry_parser_for_port,
                             registry_wrapper_opening };
    void *p = parse_open(ops, &ctx);
    FUZZ_CHECK(p != NULL);

    size_t off = 0;
    while (off + 2 <= size && !out->is_dead) {
        uint8_t f = data[off];
        size_t len = data[off + 1];
        off += 2;
        if (len > size - off) {
            len = size - off;
        }
        const uint8_t *seg = data + off;
        off += len;
        enum parse_dir dir = (f & FUZZ_F_SERVER) != 0 ? PARSE_DIR_SERVER : PARSE_DIR_CLIENT;
        if ((f & FUZZ_F_GAP) != 0) {
            ops->gap(p, dir, (uint64_t)len + 1);
        }
        if (len == 0) {
            continue;
        }
        if (!is_split) {
            out->is_dead = !feed(ops, p, dir, seg, len);
            continue;
        }
        size_t cuts[3] = { 0, 1, len / 2 > 1 ? len / 2 : 1 };
        for (int i = 0; i < 3 && !out->is_dead; i++) {
            size_t start = cuts[i];
            size_t end = i < 2 ? cuts[i + 1] : len;
            if (end > start) {
                out->is_dead = !feed(ops, p, dir, seg + start, end - start);
            }
        }
    }
    parse_end(ops, p, out->s, flags, &out->st);
    ops->free_parser(p);
}

static bool bytes_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    if ((a == NULL) != (b == NULL) || a_len != b_len) {
        return false;
    }
    return a_len == 0 || memcmp(a, b, a_len) == 0;
}

static void check_credential(const struct credential *c)
{
    FUZZ_CHECK(memchr(c->mechanism, '\0', sizeof c->mechanism) != NULL);
    FUZZ_CHECK(c->username_len <= FINDING_MAX_USER);
    FUZZ_CHECK(c->has_username || c->username_len == 0);
    FUZZ_CHECK(c->secret_len <= FINDING_MAX_SECRET);
    FUZZ_CHECK(c->challenge_len <= FINDING_MAX_CHALLENGE);
    FUZZ_CHECK(c->response_len <= FINDING_MAX_CHALLENGE);
    FUZZ_CHECK(c->secret != NULL || c->secret_len == 0);
    FUZZ_CHECK(c->result == FINDING_RESULT_UNKNOWN || c->result == FINDING_RESULT_SUCCESS ||
               c->result == FINDING_RESULT_FAILURE);
}

static void compare(const struct run *a, const struct run *b)
{
    const struct session *x = a->s, *y = b->s;
    FUZZ_CHECK(a->is_dead == b->is_dead);
    FUZZ_CHECK(memcmp(&a->st, &b->st, sizeof a->st) == 0);
    FUZZ_CHECK(x->tls == y->tls);
    FUZZ_CHECK(x->tls_version == y->tls_version);
    FUZZ_CHECK(x->starttls == y->starttls);
    FUZZ_CHECK(x->injected_commands == y->injected_commands);
    FUZZ_CHECK(x->creds_dropped == y->creds_dropped);
    FUZZ_CHECK(x->is_parse_done == y->is_parse_done);
    FUZZ_CHECK(x->n_creds == y->n_creds);
    for (size_t i = 0; i < x->n_creds; i++) {
        const struct credential *c = x->creds[i], *d = y->creds[i];
        FUZZ_CHECK(strcmp(c->mechanism, d->mechanism) == 0);
        FUZZ_CHECK(c->has_username == d->has_username);
        FUZZ_CHECK(bytes_equal(c->username, c->username_len, d->username, d->username_len));
        FUZZ_CHECK(bytes_equal(c->secret, c->secret_len, d->secret, d->secret_len));
        FUZZ_CHECK(bytes_equal(c->challenge, c->challenge_len, d->challenge, d->challenge_len));
        FUZZ_CHECK(bytes_equal(c->response, c->response_len, d->response, d->response_len));
        FUZZ_CHECK(c->is_truncated == d->is_truncated);
        FUZZ_CHECK(c->result == d->result);
    }
}

static void check_session(struct session *s)
{
    FUZZ_CHECK(s->n_creds <= FINDING_MAX_CREDS);
    for (size_t i = 0; i < s->n_creds; i++) {
        FUZZ_CHECK(s->creds[i] != NULL);
        check_credential(s->creds[i]);
    }
    if (s->tls == FINDING_TLS_IMPLICIT) {
        FUZZ_CHECK(s->starttls == FINDING_STARTTLS_NA);
    }

    static const uint8_t key[FINDING_KEY_LEN] = "plainsight fuzz fingerprint key";
    finding_finalize(s, key);
    for (size_t i = 0; i < s->n_creds; i++) {
        const struct credential *c = s->creds[i];
        FUZZ_CHECK(strlen(c->fingerprint) == (c->secret != NULL ? FINDING_FP_HEX : 0u));
    }
    const char *e = finding_exposure(s);
    FUZZ_CHECK(strcmp(e, "credentials") == 0 || strcmp(e, "challenge-response") == 0 ||
               strcmp(e, "cleartext") == 0 || strcmp(e, "none") == 0);
    FUZZ_CHECK(finding_is_exposed(s) == (strcmp(e, "none") != 0));
    FUZZ_CHECK(s->n_creds == 0 || finding_is_exposed(s));
    char buf[64];
    FUZZ_CHECK(finding_proto_name(s->protocol) != NULL);
    FUZZ_CHECK(finding_tls_name(s->tls) != NULL);
    FUZZ_CHECK(finding_end_name(s->end_reason) != NULL);
    FUZZ_CHECK((finding_starttls_name(s->starttls) == NULL) ==
               (s->starttls == FINDING_STARTTLS_UNKNOWN));
    FUZZ_CHECK((finding_tls_version_name(s->tls_version, buf, sizeof buf) == NULL) ==
               (s->tls_version == 0));
    (void)finding_tls_version_is_weak(s->tls_version);
    for (size_t i = 0; i < s->n_creds; i++) {
        FUZZ_CHECK(finding_result_name(s->creds[i]->result) != NULL);
    }
    FUZZ_CHECK(sink_json_session(fuzz_json_sink(), s) == PS_OK);
    FUZZ_CHECK(fuzz_json_check() == 1);
}

void fuzz_parser_one(const struct fuzz_parser *fp, const uint8_t *data, size_t size)
{
    struct run whole, split;
    run_session(fp, data, size, false, &whole);
    run_session(fp, data, size, true, &split);
    compare(&whole, &split);
    check_session(whole.s);
    finding_free(whole.s);
    finding_free(split.s);
}
