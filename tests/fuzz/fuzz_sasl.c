/* fuzz_sasl.c - libFuzzer target for SASL decoding: whole exchanges and the base64 decoder.
 *
 * Byte 0 chooses:
 * - bit 7 set: sasl_b64_decode alone. Byte 1 is the output capacity (0..255, the buffer is
 *   exactly that large so ASan sees a write past it); the rest is the base64 text. The result
 *   is compared with a plain reference decoder written from sasl.h's contract.
 * - bit 7 clear: an exchange. Bits 0-3 pick the mechanism name from the list below; past the
 *   end of the list the first line of the rest is the name. Bit 4: the exchange ends with
 *   sasl_finish (bit 5 the verdict) instead of sasl_abort. The rest is split at LF into lines:
 *   the initial response (an empty line: none), then server challenge and client response
 *   alternately, as a protocol parser would pass them (lines past LINE_MAX_LEN are dropped,
 *   as line.c does).
 * Checked besides memory safety: every credential stays within its limits and shows a user or
 * a secret (sasl.h: "a credential is added only when a message showed a user or a secret"),
 * the finished exchange holds no challenge, and the record finalises. */
#include "sasl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "finding.h"
#include "fuzz_util.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const mechs[] = {
    "PLAIN",         "LOGIN",       "CRAM-MD5", "DIGEST-MD5",       "XOAUTH2", "OAUTHBEARER",
    "SCRAM-SHA-256", "SCRAM-SHA-1", "GSSAPI",   "scram-sha-1-plus", "plain",
};
#define FUZZ_N_MECHS (sizeof mechs / sizeof mechs[0])

static int ref_value(uint8_t c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; i++) {
        if ((uint8_t)alphabet[i] == c) {
            return i;
        }
    }
    return -1;
}

/* sasl.h's contract, written plainly: padded to a multiple of 4 with at most two "=" at the
 * end, or unpadded with 2 or 3 characters past a multiple of 4; "" and "=" are empty; pad bits
 * are ignored; false when the output would pass cap. */
static bool ref_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (len == 0 || (len == 1 && in[0] == '=')) {
        *out_len = 0;
        return true;
    }
    size_t pad = 0;
    while (pad < len && in[len - 1 - pad] == '=') {
        pad++;
    }
    if (pad > 0 && (len % 4 != 0 || pad > 2)) {
        return false;
    }
    size_t body = len - pad;
    if (body % 4 == 1) {
        return false;
    }
    size_t n = body / 4 * 3 + (body % 4 == 0 ? 0 : body % 4 - 1);
    if (n > cap) {
        return false;
    }
    uint32_t bits = 0;
    unsigned nbits = 0;
    size_t o = 0;
    for (size_t i = 0; i < body; i++) {
        int v = ref_value(in[i]);
        if (v < 0) {
            return false;
        }
        bits = (bits << 6 | (uint32_t)v) & 0xffffffu;
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            if (o < n) {
                out[o] = (uint8_t)(bits >> nbits);
            }
            o++;
        }
    }
    if (o != n) {
        return false;
    }
    *out_len = n;
    return true;
}

static void fuzz_b64(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return;
    }
    size_t cap = data[1];
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    uint8_t *out = malloc(cap);
    uint8_t *ref = malloc(cap > 0 ? cap : 1);
    FUZZ_CHECK((out != NULL || cap == 0) && ref != NULL);
    size_t out_len = (size_t)-1, ref_len = (size_t)-1;
    bool ok = sasl_b64_decode(in, len, out, cap, &out_len);
    bool ref_ok = ref_decode(in, len, ref, cap, &ref_len);
    FUZZ_CHECK(ok == ref_ok);
    if (ok) {
        FUZZ_CHECK(out_len <= cap);
        FUZZ_CHECK(out_len == ref_len);
        FUZZ_CHECK(out_len == 0 || memcmp(out, ref, out_len) == 0);
    }
    free(out);
    free(ref);
}

/* Next LF-terminated line of data[*off..size) (the last one may lack its LF). */
static bool next_line(const uint8_t *data, size_t size, size_t *off, const uint8_t **line,
                      size_t *len)
{
    if (*off >= size) {
        return false;
    }
    const uint8_t *p = data + *off;
    const uint8_t *lf = memchr(p, '\n', size - *off);
    *line = p;
    *len = lf != NULL ? (size_t)(lf - p) : size - *off;
    *off += *len + (lf != NULL ? 1 : 0);
    return true;
}

static void check_credential(const struct credential *c)
{
    FUZZ_CHECK(memchr(c->mechanism, '\0', sizeof c->mechanism) != NULL);
    FUZZ_CHECK(c->username_len <= FINDING_MAX_USER);
    FUZZ_CHECK(c->secret_len <= FINDING_MAX_SECRET);
    FUZZ_CHECK(c->challenge_len <= FINDING_MAX_CHALLENGE);
    FUZZ_CHECK(c->response_len <= FINDING_MAX_CHALLENGE);
    FUZZ_CHECK(c->has_username || c->secret != NULL);
}

static void fuzz_exchange(const uint8_t *data, size_t size)
{
    uint8_t sel = data[0];
    size_t off = 1;
    const uint8_t *mech;
    size_t mech_len;
    size_t idx = (size_t)(sel & 0x0fu);
    if (idx < FUZZ_N_MECHS) {
        mech = (const uint8_t *)mechs[idx];
        mech_len = strlen(mechs[idx]);
    } else if (!next_line(data, size, &off, &mech, &mech_len)) {
        return;
    }

    struct session *s = finding_new();
    struct parse_stats st;
    memset(&st, 0, sizeof st);
    struct sasl x;
    memset(&x, 0, sizeof x);

    const uint8_t *line = NULL;
    size_t len = 0;
    bool has_ir = next_line(data, size, &off, &line, &len) && len > 0 && len <= LINE_MAX_LEN;
    sasl_start(&x, s, &st, mech, mech_len, has_ir ? line : NULL, has_ir ? len : 0, has_ir);
    FUZZ_CHECK(x.is_active);

    bool is_server = true;
    bool is_active = true;
    while (is_active && next_line(data, size, &off, &line, &len)) {
        if (len <= LINE_MAX_LEN) {
            if (is_server) {
                sasl_server(&x, line, len);
                FUZZ_CHECK(x.challenge_len <= sizeof x.challenge);
            } else {
                is_active = sasl_client(&x, line, len);
            }
        }
        is_server = !is_server;
    }
    if ((sel & 0x10u) != 0) {
        sasl_finish(&x, (sel & 0x20u) != 0);
    } else {
        sasl_abort(&x);
    }
    FUZZ_CHECK(!x.is_active);
    FUZZ_CHECK(x.challenge_len == 0);
    sasl_wipe(&x);

    FUZZ_CHECK(s->n_creds <= FINDING_MAX_CREDS);
    for (size_t i = 0; i < s->n_creds; i++) {
        check_credential(s->creds[i]);
    }
    static const uint8_t key[FINDING_KEY_LEN] = "plainsight fuzz fingerprint key";
    finding_finalize(s, key);
    (void)finding_exposure(s);
    finding_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if ((data[0] & 0x80u) != 0) {
        fuzz_b64(data, size);
    } else {
        fuzz_exchange(data, size);
    }
    return 0;
}
