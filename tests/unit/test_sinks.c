/* test_sinks.c - unit tests for sink_json, sink_console, sink_sqlite and the sink set (sink.h). */
/*
 * Sessions are built by hand with user names and secrets no client should send: quotes,
 * backslashes, NUL bytes, invalid UTF-8 (a lone 0xff, truncated sequences, overlong forms,
 * UTF-16 surrogates encoded in UTF-8, code points past U+10FFFF), control characters and an
 * ANSI colour sequence. Each JSON line must parse with the strict checker below (RFC 8259
 * with RFC 3629 UTF-8) and carry the exact escaped bytes; each console line must be plain
 * printable ASCII; the database must hold the bytes exactly as sent. Files go to a fresh
 * directory under TMPDIR (or /tmp) that is removed at the end, so modes can be checked on
 * files the sinks create themselves. The sink set is tested with the real sinks on real files:
 * fan-out, the order of the outputs, and the failure policy (a JSON file on /dev/full, a
 * database row written before its run) with the failing sink's name and message.
 */
#include "sink.h"
#include "sink_console.h"
#include "sink_json.h"
#include "sink_sqlite.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "finding.h"
#include "test.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

/* A user name with every kind of trouble, and its JSON and console renderings. */
#define HOSTILE_USER                                                                               \
    "q\"b\\s"                                                                                      \
    "\0"                                                                                           \
    "z"                                                                                            \
    "\xff"                                                                                         \
    "\xe2\x82!"                                                                                    \
    "\xc0\xaf"                                                                                     \
    "\xe0\x80\xaf"                                                                                 \
    "\xed\xa0\x80"                                                                                 \
    "\x01\x1f\x7f"                                                                                 \
    "\x1b[31m"                                                                                     \
    "\xc3\xa9"                                                                                     \
    "\xe2\x82\xac"                                                                                 \
    "\xf0\x9f\x98\x80"                                                                             \
    "\xf4\x90\x80\x80"                                                                             \
    "\r\n\t"                                                                                       \
    "\xf0\x9f\x98"
#define HOSTILE_USER_JSON                                                                          \
    "q\\\"b\\\\s"                                                                                  \
    "\\u0000"                                                                                      \
    "z"                                                                                            \
    "\\u00ff"                                                                                      \
    "\\u00e2\\u0082!"                                                                              \
    "\\u00c0\\u00af"                                                                               \
    "\\u00e0\\u0080\\u00af"                                                                        \
    "\\u00ed\\u00a0\\u0080"                                                                        \
    "\\u0001\\u001f\\u007f"                                                                        \
    "\\u001b[31m"                                                                                  \
    "\xc3\xa9"                                                                                     \
    "\xe2\x82\xac"                                                                                 \
    "\xf0\x9f\x98\x80"                                                                             \
    "\\u00f4\\u0090\\u0080\\u0080"                                                                 \
    "\\r\\n\\t"                                                                                    \
    "\\u00f0\\u009f\\u0098"
/* From after the quote (quotes are test_console_quote_forgery's subject). */
#define HOSTILE_USER_CONSOLE                                                                       \
    "b\\\\s\\x00z\\xff\\xe2\\x82!\\xc0\\xaf\\xe0\\x80\\xaf\\xed\\xa0\\x80\\x01\\x1f\\x7f"          \
    "\\x1b[31m\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80\\xf4\\x90\\x80\\x80\\x0d\\x0a\\x09"    \
    "\\xf0\\x9f\\x98"
#define HOSTILE_SECRET         "pa\"ss\\\x1b[0m\xff\0x"
#define HOSTILE_SECRET_JSON    "pa\\\"ss\\\\\\u001b[0m\\u00ff\\u0000x"
#define HOSTILE_SECRET_CONSOLE "pa\\x22ss\\\\\\x1b[0m\\xff\\x00x"
#define APOP_CHALLENGE         "<1896.697170952@dbc.mtview.ca.us>"
#define APOP_RESPONSE          "c4c9334bac560ecc979e58001b3e22fb"

static const uint8_t test_key[FINDING_KEY_LEN] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                   12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                   23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

/* An exposed POP3 session: a hostile USER/PASS, an APOP, and a PLAIN without a user name. */
static struct session *hostile_session(const uint8_t key[FINDING_KEY_LEN])
{
    static const uint8_t cip[16] = { 192, 0, 2, 10 };
    static const uint8_t sip[16] = { 198, 51, 100, 1 };
    struct session *s = finding_new();
    s->ts_start_usec = 1700000000123456u;
    s->ts_end_usec = 1700000001000000u;
    s->ip_version = 4;
    memcpy(s->client_ip, cip, 16);
    memcpy(s->server_ip, sip, 16);
    s->client_port = 40000;
    s->server_port = 110;
    s->protocol = "pop3";
    s->tls = FINDING_TLS_NONE;
    s->starttls = FINDING_STARTTLS_OFFERED_NOT_USED;
    s->end_reason = FINDING_END_FIN;
    s->packets = 12;
    s->bytes_client = 40;
    s->bytes_server = 60;
    struct credential *c = finding_add_credential(s, "USER/PASS");
    finding_set_username(c, LIT(HOSTILE_USER));
    finding_set_secret(c, LIT(HOSTILE_SECRET));
    c->result = FINDING_RESULT_SUCCESS;
    c = finding_add_credential(s, "APOP");
    finding_set_username(c, LIT("mrose"));
    finding_set_challenge(c, LIT(APOP_CHALLENGE));
    finding_set_response(c, LIT(APOP_RESPONSE));
    c->result = FINDING_RESULT_FAILURE;
    c = finding_add_credential(s, "PLAIN");
    finding_set_secret(c, LIT("x"));
    finding_finalize(s, key);
    return s;
}

/* A session over IPv6 that went to TLS 1.0 after STLS, with no credential. */
static struct session *tls_session(void)
{
    static const uint8_t cip[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10
    };
    static const uint8_t sip[16] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
    };
    struct session *s = finding_new();
    s->ts_start_usec = 1700000100000000u;
    s->ts_end_usec = 1700000100500000u;
    s->ip_version = 6;
    memcpy(s->client_ip, cip, 16);
    memcpy(s->server_ip, sip, 16);
    s->client_port = 50000;
    s->server_port = 110;
    s->vlan = 7;
    s->protocol = "pop3";
    s->tls = FINDING_TLS_STARTTLS;
    s->tls_version = 0x0301;
    s->starttls = FINDING_STARTTLS_UNKNOWN;
    s->end_reason = FINDING_END_RST;
    s->creds_dropped = 3;
    s->injected_commands = 2;
    finding_set_context(s, FINDING_CONTEXT_BANNER, LIT("+OK \"hi\"\x1b[0m"));
    finding_set_context(s, FINDING_CONTEXT_SNI, LIT("pop.example.test"));
    finding_set_context_text(s, FINDING_CONTEXT_CERT_SUBJECT, "CN=pop.example.test,O=A\\, B");
    return s;
}

/* ---- files ---- */

static char tmp_dir[512];

static bool tmp_setup(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    snprintf(tmp_dir, sizeof tmp_dir, "%s/plainsight-test-sinks-XXXXXX", base);
    return mkdtemp(tmp_dir) != NULL;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_dir, name);
}

static void tmp_cleanup(void)
{
    DIR *d = opendir(tmp_dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    CHECK(rmdir(tmp_dir) == 0);
}

/* Returns the file's bytes (owned, NUL-terminated past len), or NULL. */
static uint8_t *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096;
    size_t n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (buf == NULL) {
        return NULL;
    }
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *more = realloc(buf, 2 * cap + 1);
            if (more == NULL) {
                free(buf);
                return NULL;
            }
            buf = more;
            cap *= 2;
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static uint8_t *read_path(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = read_all(f, len);
    fclose(f);
    return buf;
}

static unsigned file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return 0xffffu;
    }
    return (unsigned)(st.st_mode & 07777);
}

static bool has_bytes(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n > len) {
        return false;
    }
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static size_t count_bytes(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    size_t count = 0;
    for (size_t i = 0; n > 0 && i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) {
            count++;
        }
    }
    return count;
}

/* ---- a strict JSON checker (RFC 8259; strings must be RFC 3629 UTF-8) ---- */

struct jp {
    const uint8_t *p;
    size_t len, off;
};

static void j_ws(struct jp *j)
{
    while (j->off < j->len && (j->p[j->off] == ' ' || j->p[j->off] == '\t' ||
                               j->p[j->off] == '\n' || j->p[j->off] == '\r')) {
        j->off++;
    }
}

static bool j_lit(struct jp *j, const char *lit)
{
    size_t n = strlen(lit);
    if (j->len - j->off < n || memcmp(j->p + j->off, lit, n) != 0) {
        return false;
    }
    j->off += n;
    return true;
}

static bool is_hex(uint8_t b)
{
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

/* One UTF-8 sequence starting at a byte >= 0x80: shortest form, no surrogate, <= U+10FFFF. */
static bool j_utf8(struct jp *j)
{
    uint8_t b = j->p[j->off];
    size_t n;
    uint32_t cp, min;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2, cp = b & 0x1fu, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3, cp = b & 0x0fu, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4, cp = b & 0x07u, min = 0x10000;
    } else {
        return false;
    }
    if (j->len - j->off < n) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        uint8_t c = j->p[j->off + i];
        if ((c & 0xc0) != 0x80) {
            return false;
        }
        cp = cp << 6 | (c & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return false;
    }
    j->off += n;
    return true;
}

static bool j_string(struct jp *j)
{
    if (!j_lit(j, "\"")) {
        return false;
    }
    while (j->off < j->len) {
        uint8_t b = j->p[j->off];
        if (b == '"') {
            j->off++;
            return true;
        }
        if (b < 0x20) {
            return false;
        }
        if (b == '\\') {
            if (j->len - j->off < 2) {
                return false;
            }
            uint8_t e = j->p[j->off + 1];
            if (e == 'u') {
                if (j->len - j->off < 6) {
                    return false;
                }
                for (size_t i = 2; i < 6; i++) {
                    if (!is_hex(j->p[j->off + i])) {
                        return false;
                    }
                }
                j->off += 6;
            } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                j->off += 2;
            } else {
                return false;
            }
        } else if (b >= 0x80) {
            if (!j_utf8(j)) {
                return false;
            }
        } else {
            j->off++;
        }
    }
    return false;
}

static bool j_digits(struct jp *j)
{
    size_t start = j->off;
    while (j->off < j->len && j->p[j->off] >= '0' && j->p[j->off] <= '9') {
        j->off++;
    }
    return j->off > start;
}

static bool j_number(struct jp *j)
{
    if (j->off < j->len && j->p[j->off] == '-') {
        j->off++;
    }
    if (j->off < j->len && j->p[j->off] == '0') {
        j->off++;
    } else if (!j_digits(j)) {
        return false;
    }
    if (j->off < j->len && j->p[j->off] == '.') {
        j->off++;
        if (!j_digits(j)) {
            return false;
        }
    }
    if (j->off < j->len && (j->p[j->off] == 'e' || j->p[j->off] == 'E')) {
        j->off++;
        if (j->off < j->len && (j->p[j->off] == '+' || j->p[j->off] == '-')) {
            j->off++;
        }
        if (!j_digits(j)) {
            return false;
        }
    }
    return true;
}

static bool j_value(struct jp *j, int depth);

static bool j_container(struct jp *j, int depth, char close, bool is_object)
{
    j->off++; /* the opening bracket */
    j_ws(j);
    if (j->off < j->len && j->p[j->off] == (uint8_t)close) {
        j->off++;
        return true;
    }
    for (;;) {
        j_ws(j);
        if (is_object) {
            if (!j_string(j)) {
                return false;
            }
            j_ws(j);
            if (!j_lit(j, ":")) {
                return false;
            }
        }
        if (!j_value(j, depth + 1)) {
            return false;
        }
        j_ws(j);
        if (j->off >= j->len) {
            return false;
        }
        if (j->p[j->off] == ',') {
            j->off++;
            continue;
        }
        if (j->p[j->off] == (uint8_t)close) {
            j->off++;
            return true;
        }
        return false;
    }
}

static bool j_value(struct jp *j, int depth)
{
    if (depth > 32) {
        return false;
    }
    j_ws(j);
    if (j->off >= j->len) {
        return false;
    }
    switch (j->p[j->off]) {
    case '{':
        return j_container(j, depth, '}', true);
    case '[':
        return j_container(j, depth, ']', false);
    case '"':
        return j_string(j);
    case 't':
        return j_lit(j, "true");
    case 'f':
        return j_lit(j, "false");
    case 'n':
        return j_lit(j, "null");
    default:
        return j_number(j);
    }
}

/* True when p[0..len) is exactly one JSON object (whitespace around it allowed). */
static bool json_valid(const uint8_t *p, size_t len)
{
    struct jp j = { p, len, 0 };
    if (!j_value(&j, 0)) {
        return false;
    }
    j_ws(&j);
    return j.off == len && len > 0 && p[0] == '{';
}

/* Splits buf into lines ending in LF; checks each is valid JSON. Returns the line count. */
static size_t json_lines_valid(const uint8_t *buf, size_t len)
{
    size_t lines = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            CHECK(json_valid(buf + start, i - start));
            lines++;
            start = i + 1;
        }
    }
    CHECK_EQ_U(start, len); /* the last line ends in LF too */
    return lines;
}

static void test_json_checker(void)
{
    /* The checker itself: it must refuse what the sink must never write. */
    CHECK(json_valid(LIT("{\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\\n\"],\"b\":{}}")));
    CHECK(json_valid(LIT("{\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\x01\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\xff\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\xc0\xaf\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\xed\xa0\x80\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\xf4\x90\x80\x80\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\xe2\x82\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"\\x41\"}")));
    CHECK(!json_valid(LIT("{\"s\":\"abc}")));
    CHECK(!json_valid(LIT("{\"a\":1,}")));
    CHECK(!json_valid(LIT("{\"a\":01}")));
    CHECK(!json_valid(LIT("{\"a\":1}x")));
}

/* ---- JSON ---- */

static void test_json_hide_secrets(void)
{
    char path[600], err[256];
    tmp_path(path, sizeof path, "hide.json");
    struct session *s = hostile_session(test_key);
    struct session *t = tls_session();
    struct sink_json *j = NULL;
    mode_t old = umask(0); /* the mode must come from the sink, not from the umask */
    enum ps_err e = sink_json_open(path, false, &j, err, sizeof err);
    umask(old);
    CHECK_EQ_U(e, PS_OK);
    if (e != PS_OK) {
        finding_free(s);
        finding_free(t);
        return;
    }
    CHECK_EQ_U(file_mode(path), 0600);
    CHECK_EQ_U(sink_json_session(j, s), PS_OK);
    CHECK_EQ_U(sink_json_session(j, t), PS_OK);
    CHECK_EQ_U(sink_json_flush(j), PS_OK);
    sink_json_close(j);

    size_t len = 0;
    uint8_t *buf = read_path(path, &len);
    CHECK(buf != NULL);
    if (buf != NULL) {
        CHECK_EQ_U(json_lines_valid(buf, len), 2);
        CHECK(has_bytes(buf, len, "\"username\":\"" HOSTILE_USER_JSON "\""));
        char want[256];
        snprintf(want, sizeof want,
                 "\"secret\":null,\"secret_len\":%zu,\"secret_fingerprint\":\"%s\"",
                 sizeof HOSTILE_SECRET - 1, s->creds[0]->fingerprint);
        CHECK(has_bytes(buf, len, want));
        CHECK(!has_bytes(buf, len, "pa\\\"ss"));
        CHECK(!has_bytes(buf, len, "\x1b"));
        CHECK(has_bytes(buf, len,
                        "{\"mechanism\":\"APOP\",\"username\":\"mrose\",\"secret\":null,"
                        "\"secret_len\":null,\"secret_fingerprint\":null,\"challenge\":null,"
                        "\"response\":null,\"result\":\"failure\",\"truncated\":false,"
                        "\"anonymous\":false,\"incomplete\":false}"));
        CHECK(!has_bytes(buf, len, APOP_RESPONSE));
        CHECK(has_bytes(buf, len, "{\"mechanism\":\"PLAIN\",\"username\":null,\"secret\":null,"));
        CHECK(has_bytes(buf, len, "\"result\":\"success\""));
        CHECK(has_bytes(buf, len, "\"result\":\"unknown\""));
        CHECK(
            has_bytes(buf, len,
                      "\"banner\":\"+OK \\\"hi\\\"\\\\x1b[0m\",\"client_name\":null,"
                      "\"sni\":\"pop.example.test\",\"cert_subject\":\"CN=pop.example.test,O=A\\\\,"
                      " B\",\"cert_issuer\":null,\"proxy_target\":null"));
        /* Session fields of the first line. */
        static const char *const fields[] = {
            "{\"event_type\":\"session\",\"uid\":null,",
            "\"ts_start\":\"2023-11-14T22:13:20.123456Z\"",
            "\"ts_end\":\"2023-11-14T22:13:21.000000Z\"",
            "\"client_ip\":\"192.0.2.10\"",
            "\"client_port\":40000",
            "\"server_ip\":\"198.51.100.1\"",
            "\"server_port\":110",
            "\"vlan\":null",
            "\"protocol\":\"pop3\"",
            "\"tls\":\"none\"",
            "\"tls_version\":null",
            "\"tls_weak\":false",
            "\"starttls\":\"offered-not-used\"",
            "\"exposure\":\"credentials\"",
            "\"end_reason\":\"fin\"",
            "\"packets\":12",
            "\"bytes_client\":40",
            "\"bytes_server\":60",
            "\"gaps\":0",
            "\"gap_bytes\":0",
            "\"injected_commands\":0",
            "\"credentials_dropped\":0",
            "\"credentials\":[{",
            /* The second line. */
            "\"client_ip\":\"2001:db8::10\"",
            "\"server_ip\":\"2001:db8::1\"",
            "\"vlan\":7",
            "\"tls\":\"starttls\"",
            "\"tls_version\":\"TLSv1.0\"",
            "\"tls_weak\":true",
            "\"starttls\":null",
            "\"exposure\":\"none\"",
            "\"end_reason\":\"rst\"",
            "\"injected_commands\":2",
            "\"credentials_dropped\":3",
            "\"credentials\":[]}\n",
        };
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            CHECK(has_bytes(buf, len, fields[i]));
        }
        free(buf);
    }

    /* Opening again appends. */
    e = sink_json_open(path, false, &j, err, sizeof err);
    CHECK_EQ_U(e, PS_OK);
    if (e == PS_OK) {
        CHECK_EQ_U(sink_json_session(j, t), PS_OK);
        sink_json_close(j);
    }
    buf = read_path(path, &len);
    CHECK(buf != NULL);
    if (buf != NULL) {
        CHECK_EQ_U(json_lines_valid(buf, len), 3);
        free(buf);
    }
    finding_free(s);
    finding_free(t);
}

static void test_json_reveal(void)
{
    char path[600], err[256];
    tmp_path(path, sizeof path, "reveal.json");
    struct session *s = hostile_session(test_key);
    struct sink_json *j = NULL;
    CHECK_EQ_U(sink_json_open(path, true, &j, err, sizeof err), PS_OK);
    if (j == NULL) {
        finding_free(s);
        return;
    }
    CHECK_EQ_U(sink_json_session(j, s), PS_OK);
    sink_json_close(j);
    size_t len = 0;
    uint8_t *buf = read_path(path, &len);
    CHECK(buf != NULL);
    if (buf != NULL) {
        CHECK_EQ_U(json_lines_valid(buf, len), 1);
        char want[256];
        snprintf(want, sizeof want,
                 "\"secret\":\"" HOSTILE_SECRET_JSON
                 "\",\"secret_len\":%zu,\"secret_fingerprint\":\"%s\"",
                 sizeof HOSTILE_SECRET - 1, s->creds[0]->fingerprint);
        CHECK(has_bytes(buf, len, want));
        CHECK(has_bytes(buf, len, "\"username\":\"" HOSTILE_USER_JSON "\""));
        CHECK(has_bytes(buf, len,
                        "\"challenge\":\"" APOP_CHALLENGE "\",\"response\":\"" APOP_RESPONSE "\""));
        CHECK(has_bytes(buf, len, "{\"mechanism\":\"PLAIN\",\"username\":null,\"secret\":\"x\""));
        CHECK(!has_bytes(buf, len, "\x1b"));
        free(buf);
    }
    finding_free(s);
}

/* Every field at its limit, every byte value: still one valid line. */
static void test_json_all_bytes(void)
{
    char path[600], err[256];
    tmp_path(path, sizeof path, "bytes.json");
    struct session *s = finding_new();
    s->ip_version = 4;
    for (int i = 0; i < FINDING_MAX_CREDS + 2; i++) {
        struct credential *c = finding_add_credential(s, "PLAIN");
        if (c == NULL) {
            continue;
        }
        uint8_t user[FINDING_MAX_USER + 1], secret[FINDING_MAX_SECRET];
        for (size_t k = 0; k < sizeof user; k++) {
            user[k] = (uint8_t)(k * 31u + (unsigned)i);
        }
        for (size_t k = 0; k < sizeof secret; k++) {
            secret[k] = (uint8_t)(k * 17u + (unsigned)i);
        }
        finding_set_username(c, user, sizeof user);
        finding_set_secret(c, secret, sizeof secret);
        finding_set_challenge(c, secret, FINDING_MAX_CHALLENGE);
        finding_set_response(c, user, sizeof user);
    }
    finding_finalize(s, test_key);
    struct sink_json *j = NULL;
    CHECK_EQ_U(sink_json_open(path, true, &j, err, sizeof err), PS_OK);
    if (j != NULL) {
        CHECK_EQ_U(sink_json_session(j, s), PS_OK);
        sink_json_close(j);
    }
    size_t len = 0;
    uint8_t *buf = read_path(path, &len);
    CHECK(buf != NULL);
    if (buf != NULL) {
        CHECK_EQ_U(json_lines_valid(buf, len), 1);
        CHECK(has_bytes(buf, len, "\"credentials_dropped\":2"));
        CHECK(has_bytes(buf, len, "\"truncated\":true"));
        CHECK(!has_bytes(buf, len, "\"truncated\":false"));
        free(buf);
    }
    finding_free(s);
}

static void test_json_open_fails(void)
{
    char path[600], err[256];
    tmp_path(path, sizeof path, "no-such-dir/x.json");
    struct sink_json *j = (struct sink_json *)(uintptr_t)1; /* must be cleared */
    err[0] = '\0';
    CHECK_EQ_U(sink_json_open(path, false, &j, err, sizeof err), PS_ERR_IO);
    CHECK(j == NULL);
    CHECK(strstr(err, path) != NULL);
    sink_json_close(NULL);
}

/* Log rotation: the file is moved away, reopen starts a new one at the path. */
static void test_json_reopen(void)
{
    char path[600], moved[600], err[256];
    tmp_path(path, sizeof path, "rot.json");
    tmp_path(moved, sizeof moved, "rot.json.1");
    struct session *t = tls_session();
    struct sink_json *j = NULL;
    CHECK_EQ_U(sink_json_open(path, false, &j, err, sizeof err), PS_OK);
    if (j == NULL) {
        finding_free(t);
        return;
    }
    CHECK_EQ_U(sink_json_session(j, t), PS_OK);
    CHECK(rename(path, moved) == 0);
    mode_t old = umask(0);
    CHECK_EQ_U(sink_json_reopen(j, err, sizeof err), PS_OK);
    umask(old);
    CHECK_EQ_U(sink_json_session(j, t), PS_OK);
    CHECK_EQ_U(sink_json_session(j, t), PS_OK);
    sink_json_close(j);
    CHECK_EQ_U(file_mode(path), 0600);
    size_t len = 0;
    uint8_t *buf = read_path(moved, &len);
    CHECK(buf != NULL);
    if (buf != NULL) {
        CHECK_EQ_U(json_lines_valid(buf, len), 1); /* flushed at the reopen */
        free(buf);
    }
    buf = read_path(path, &len);
    CHECK(buf != NULL);
    if (buf != NULL) {
        CHECK_EQ_U(json_lines_valid(buf, len), 2);
        free(buf);
    }
    finding_free(t);
}

/* ---- console ---- */

/* Prints s and returns the output (owned), checked to be printable ASCII ending in one LF. */
static uint8_t *console_line(const struct session *s, bool is_reveal, size_t *len)
{
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f == NULL) {
        return NULL;
    }
    sink_console_session(f, s, is_reveal);
    rewind(f);
    uint8_t *buf = read_all(f, len);
    fclose(f);
    CHECK(buf != NULL);
    if (buf == NULL || *len == 0) {
        return buf;
    }
    CHECK_EQ_U(buf[*len - 1], '\n');
    for (size_t i = 0; i + 1 < *len; i++) {
        if (buf[i] < 0x20 || buf[i] >= 0x7f) {
            fprintf(stderr, "console byte 0x%02x at %zu\n", buf[i], i);
            CHECK(buf[i] >= 0x20 && buf[i] < 0x7f);
            break;
        }
    }
    return buf;
}

static void test_console_hide_secrets(void)
{
    struct session *s = hostile_session(test_key);
    size_t len = 0;
    uint8_t *buf = console_line(s, false, &len);
    if (buf != NULL) {
        CHECK(has_bytes(buf, len,
                        "2023-11-14T22:13:20.123456Z pop3 192.0.2.10:40000 -> 198.51.100.1:110 "
                        "credentials tls=none starttls=offered-not-used | USER/PASS user=\""));
        CHECK(has_bytes(buf, len, "\\x1b[31m"));
        CHECK(has_bytes(buf, len, HOSTILE_USER_CONSOLE "\" secret=<13 bytes> success"));
        CHECK(has_bytes(buf, len, " | APOP user=\"mrose\" failure"));
        CHECK(has_bytes(buf, len, " | PLAIN user=\"?\" secret=<1 bytes> unknown\n"));
        CHECK(!has_bytes(buf, len, "pa\"ss"));
        CHECK(!has_bytes(buf, len, APOP_RESPONSE));
        free(buf);
    }
    finding_free(s);
}

static void test_console_reveal(void)
{
    struct session *s = hostile_session(test_key);
    size_t len = 0;
    uint8_t *buf = console_line(s, true, &len);
    if (buf != NULL) {
        CHECK(has_bytes(buf, len, " secret=\"" HOSTILE_SECRET_CONSOLE "\" success"));
        CHECK(has_bytes(buf, len, " secret=\"x\" unknown\n"));
        CHECK(!has_bytes(buf, len, "bytes>"));
        free(buf);
    }
    finding_free(s);
}

/* With --reveal-secrets a secret is shown whole however long, each byte escaped. */
static void test_console_reveal_long(void)
{
    uint8_t secret[FINDING_MAX_SECRET];
    for (size_t i = 0; i < sizeof secret; i++) {
        secret[i] = i % 7 == 0 ? 0x1b : (uint8_t)('a' + i % 26);
    }
    struct session *s = hostile_session(test_key);
    finding_set_secret(s->creds[2], secret, sizeof secret);
    CHECK(!s->creds[2]->is_truncated);
    size_t len = 0;
    uint8_t *buf = console_line(s, true, &len);
    if (buf != NULL) {
        const char *start = strstr((const char *)buf, "PLAIN user=\"?\" secret=\"");
        CHECK(start != NULL);
        if (start != NULL) {
            const char *p = start + strlen("PLAIN user=\"?\" secret=\"");
            size_t escapes = (sizeof secret + 6) / 7;
            size_t want = sizeof secret + 3 * escapes; /* \x1b is 4 characters for 1 byte */
            CHECK(strlen(p) == want + strlen("\" unknown\n"));
            CHECK(strncmp(p + want, "\" unknown\n", 10) == 0);
            CHECK(strncmp(p, "\\x1bbcdefg\\x1bijklmn", 20) == 0);
        }
        CHECK(!has_bytes(buf, len, "..."));
        free(buf);
    }
    finding_free(s);
}

static void test_console_other_sessions(void)
{
    /* Not exposed (TLS, no credential): no line at all. */
    struct session *t = tls_session();
    size_t len = 0;
    uint8_t *buf = console_line(t, true, &len);
    CHECK_EQ_U(len, 0);
    free(buf);

    /* Cleartext without credentials, IPv6 in brackets, dropped credentials counted. */
    t->tls = FINDING_TLS_NONE;
    t->tls_version = 0;
    buf = console_line(t, false, &len);
    if (buf != NULL) {
        CHECK(has_bytes(buf, len,
                        " pop3 [2001:db8::10]:50000 -> [2001:db8::1]:110 cleartext tls=none "
                        "starttls=unknown | +3 more credentials\n"));
        free(buf);
    }
    finding_free(t);

    /* The longest user name, all bytes escaped, is not cut; a long secret stays on one line. */
    struct session *s = finding_new();
    s->ip_version = 4;
    struct credential *c = finding_add_credential(s, "LOGIN");
    uint8_t user[FINDING_MAX_USER];
    memset(user, 0x9b, sizeof user); /* the 8-bit CSI */
    finding_set_username(c, user, sizeof user);
    uint8_t secret[FINDING_MAX_SECRET];
    for (size_t i = 0; i < sizeof secret; i++) {
        secret[i] = (uint8_t)(i & 0x7fu); /* control bytes, and no 0x9b to count */
    }
    finding_set_secret(c, secret, sizeof secret);
    buf = console_line(s, true, &len);
    if (buf != NULL) {
        CHECK_EQ_U(count_bytes(buf, len, "\\x9b"), FINDING_MAX_USER);
        CHECK_EQ_U(count_bytes(buf, len, "\n"), 1);
        free(buf);
    }
    finding_free(s);
}

/* A quote in a user name must not end the quoted field: the line would show a credential
 * that was never sent (here one for "root"). */
static void test_console_quote_forgery(void)
{
    struct session *s = finding_new();
    s->ip_version = 4;
    struct credential *c = finding_add_credential(s, "USER/PASS");
    finding_set_username(c, LIT("x\" secret=<4 bytes> failure | USER/PASS user=\"root"));
    finding_set_secret(c, LIT("pw"));
    c->result = FINDING_RESULT_FAILURE;
    size_t len = 0;
    uint8_t *buf = console_line(s, false, &len);
    if (buf != NULL) {
        if (count_bytes(buf, len, "user=\"") != 1) {
            fprintf(stderr, "forged console line: %s", (const char *)buf);
        }
        CHECK_EQ_U(count_bytes(buf, len, "user=\""), 1);
        CHECK(!has_bytes(buf, len, "user=\"root\""));
        free(buf);
    }
    finding_free(s);
}

/* ---- SQLite ---- */

static struct run_record run_record_for(const char *status)
{
    struct run_record r;
    memset(&r, 0, sizeof r);
    r.source = "test.pcap";
    r.mode = "offline";
    r.sensor = "sensor-a";
    r.status = status;
    r.started_usec = 1700000200000000u;
    r.ended_usec = 1700000201000000u;
    r.first_pkt_usec = 1700000000123456u;
    r.last_pkt_usec = 1700000100500000u;
    r.packets = 30;
    r.bytes = 4000;
    r.sessions = 2;
    r.exposed = 1;
    return r;
}

/* Writes the two sessions into a new database at path. */
static bool write_db(const char *path, bool is_reveal, uint8_t key_out[FINDING_KEY_LEN],
                     char *fp_out)
{
    char err[512];
    struct sink_sqlite *db = NULL;
    struct finding_key key = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&key), PS_OK);
    mode_t old = umask(0);
    enum ps_err e = sink_sqlite_open(
        path, is_reveal, &(struct sink_sqlite_key){ &key, NULL, false }, &db, err, sizeof err);
    umask(old);
    CHECK_EQ_U(e, PS_OK);
    if (e != PS_OK) {
        fprintf(stderr, "%s\n", err);
        return false;
    }
    CHECK(key.is_set);
    memcpy(key_out, key.bytes, FINDING_KEY_LEN);
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_sqlite_run_begin(db, &run), PS_OK);
    struct session *s = hostile_session(key.bytes);
    struct session *t = tls_session();
    memcpy(fp_out, s->creds[0]->fingerprint, FINDING_FP_HEX + 1);
    CHECK_EQ_U(sink_sqlite_session(db, s), PS_OK);
    CHECK_EQ_U(sink_sqlite_session(db, t), PS_OK);
    CHECK_EQ_U(sink_sqlite_commit(db, 1700000200500000u, true), PS_OK);
    /* While it is open: WAL files, and every file private. */
    char side[700];
    snprintf(side, sizeof side, "%s-wal", path);
    CHECK_EQ_U(file_mode(side), 0600);
    run = run_record_for("ok");
    struct ps_counter counters[2] = { { "flow.late_packets", 5 }, { "decode.bad_tcp", 0 } };
    run.counters = counters;
    run.n_counters = 2;
    CHECK_EQ_U(sink_sqlite_run_update(db, &run), PS_OK);
    sink_sqlite_close(db);
    finding_free(s);
    finding_free(t);
    return true;
}

static bool col_is(sqlite3_stmt *st, int col, const char *want)
{
    if (want == NULL) {
        return sqlite3_column_type(st, col) == SQLITE_NULL;
    }
    const unsigned char *got = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    return got != NULL && n >= 0 && (size_t)n == strlen(want) && memcmp(got, want, (size_t)n) == 0;
}

static bool col_bytes_are(sqlite3_stmt *st, int col, const void *want, size_t want_len)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT) {
        return false;
    }
    const unsigned char *got = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    return got != NULL && n >= 0 && (size_t)n == want_len && memcmp(got, want, want_len) == 0;
}

static sqlite3_stmt *query(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    CHECK_EQ_U(rc, SQLITE_OK);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(h));
    }
    return st;
}

static void check_db(const char *path, bool is_reveal, const char *fp)
{
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = query(h, "PRAGMA user_version");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW &&
          sqlite3_column_int(st, 0) == SINK_SQLITE_SCHEMA_VERSION);
    sqlite3_finalize(st);
    st = query(h, "PRAGMA journal_mode");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW && col_is(st, 0, "wal"));
    sqlite3_finalize(st);

    st = query(h, "SELECT seq, mechanism, username, secret, secret_len, secret_fingerprint,"
                  " challenge, response, result, truncated, anonymous FROM credentials"
                  " ORDER BY seq");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW);
    CHECK_EQ_U(sqlite3_column_int(st, 0), 0);
    CHECK(col_is(st, 1, "USER/PASS"));
    CHECK(col_bytes_are(st, 2, HOSTILE_USER, sizeof HOSTILE_USER - 1));
    if (is_reveal) {
        CHECK(col_bytes_are(st, 3, HOSTILE_SECRET, sizeof HOSTILE_SECRET - 1));
    } else {
        CHECK_EQ_U(sqlite3_column_type(st, 3), SQLITE_NULL);
    }
    CHECK_EQ_U(sqlite3_column_int64(st, 4), sizeof HOSTILE_SECRET - 1);
    CHECK(col_is(st, 5, fp));
    CHECK(col_is(st, 6, NULL));
    CHECK(col_is(st, 7, NULL));
    CHECK(col_is(st, 8, "success"));
    CHECK_EQ_U(sqlite3_column_int(st, 9), 0);
    CHECK_EQ_U(sqlite3_column_int(st, 10), 0);

    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(col_is(st, 1, "APOP"));
    CHECK(col_is(st, 2, "mrose"));
    CHECK(col_is(st, 3, NULL));
    CHECK(col_is(st, 4, NULL));
    CHECK(col_is(st, 5, NULL));
    CHECK(col_is(st, 6, is_reveal ? APOP_CHALLENGE : NULL));
    CHECK(col_is(st, 7, is_reveal ? APOP_RESPONSE : NULL));
    CHECK(col_is(st, 8, "failure"));

    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(col_is(st, 1, "PLAIN"));
    CHECK(col_is(st, 2, NULL));
    CHECK(col_is(st, 3, is_reveal ? "x" : NULL));
    CHECK_EQ_U(sqlite3_column_int64(st, 4), 1);
    CHECK(col_is(st, 8, "unknown"));
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);

    st = query(h, "SELECT ts_start, ts_end, client_ip, client_port, server_ip, server_port, vlan,"
                  " protocol, tls, tls_version, tls_weak, starttls, exposure, end_reason, packets,"
                  " injected_commands, credentials_dropped FROM sessions ORDER BY id");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW);
    CHECK(col_is(st, 0, "2023-11-14T22:13:20.123456Z"));
    CHECK(col_is(st, 1, "2023-11-14T22:13:21.000000Z"));
    CHECK(col_is(st, 2, "192.0.2.10"));
    CHECK_EQ_U(sqlite3_column_int(st, 3), 40000);
    CHECK(col_is(st, 4, "198.51.100.1"));
    CHECK_EQ_U(sqlite3_column_int(st, 5), 110);
    CHECK(col_is(st, 6, NULL));
    CHECK(col_is(st, 7, "pop3"));
    CHECK(col_is(st, 8, "none"));
    CHECK(col_is(st, 9, NULL));
    CHECK_EQ_U(sqlite3_column_int(st, 10), 0);
    CHECK(col_is(st, 11, "offered-not-used"));
    CHECK(col_is(st, 12, "credentials"));
    CHECK(col_is(st, 13, "fin"));
    CHECK_EQ_U(sqlite3_column_int(st, 14), 12);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(col_is(st, 2, "2001:db8::10"));
    CHECK_EQ_U(sqlite3_column_int(st, 6), 7);
    CHECK(col_is(st, 8, "starttls"));
    CHECK(col_is(st, 9, "TLSv1.0"));
    CHECK_EQ_U(sqlite3_column_int(st, 10), 1);
    CHECK(col_is(st, 11, NULL));
    CHECK(col_is(st, 12, "none"));
    CHECK(col_is(st, 13, "rst"));
    CHECK_EQ_U(sqlite3_column_int(st, 15), 2);
    CHECK_EQ_U(sqlite3_column_int(st, 16), 3);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);

    st = query(h, "SELECT banner, client_name, sni, cert_subject, cert_issuer, proxy_target"
                  " FROM sessions ORDER BY id");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW);
    for (int i = 0; i < 6; i++) {
        CHECK(col_is(st, i, NULL));
    }
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(col_is(st, 0, "+OK \"hi\"\\x1b[0m"));
    CHECK(col_is(st, 1, NULL));
    CHECK(col_is(st, 2, "pop.example.test"));
    CHECK(col_is(st, 3, "CN=pop.example.test,O=A\\, B"));
    CHECK(col_is(st, 4, NULL));
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);

    st = query(h, "SELECT status, source, mode, packets, sessions, exposed, first_packet,"
                  " (SELECT value FROM run_counters WHERE name = 'flow.late_packets')"
                  " FROM runs");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW);
    CHECK(col_is(st, 0, "ok"));
    CHECK(col_is(st, 1, "test.pcap"));
    CHECK(col_is(st, 2, "offline"));
    CHECK_EQ_U(sqlite3_column_int(st, 3), 30);
    CHECK_EQ_U(sqlite3_column_int(st, 4), 2);
    CHECK_EQ_U(sqlite3_column_int(st, 5), 1);
    CHECK(col_is(st, 6, "2023-11-14T22:13:20.123456Z"));
    CHECK_EQ_U(sqlite3_column_int(st, 7), 5);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_sqlite_roundtrip(void)
{
    test_case_failed = 0;
    for (int reveal = 0; reveal < 2; reveal++) {
        char path[600];
        tmp_path(path, sizeof path, reveal ? "reveal.db" : "hide.db");
        uint8_t key[FINDING_KEY_LEN];
        char fp[FINDING_FP_HEX + 1];
        if (write_db(path, reveal != 0, key, fp)) {
            CHECK_EQ_U(file_mode(path), 0600);
            /* The fingerprint in the row is the one made with the database's key. */
            struct session *s = hostile_session(key);
            CHECK(strcmp(fp, s->creds[0]->fingerprint) == 0);
            finding_free(s);
            check_db(path, reveal != 0, fp);
        }
        CASE_DONE(reveal ? "sqlite round trip, reveal" : "sqlite round trip, hidden");
    }
}

/* meta's text value for name in the database at path into out (cap bytes); false if none. */
static bool meta_text(const char *path, const char *name, char *out, size_t cap)
{
    sqlite3 *h = NULL;
    bool found = false;
    CHECK_EQ_U(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(out, cap, "%.*s", sqlite3_column_bytes(st, 0),
                     (const char *)sqlite3_column_blob(st, 0));
            found = true;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return found;
}

/* Opens (and closes) path with key k and the drop flag; returns open's answer. */
static enum ps_err open_with(const char *path, const struct finding_key *k, bool is_drop, char *err,
                             size_t errcap)
{
    struct sink_sqlite *db = NULL;
    struct sink_sqlite_key sk = { k, "the.key", is_drop };
    enum ps_err e = sink_sqlite_open(path, false, &sk, &db, err, errcap);
    sink_sqlite_close(db);
    return e;
}

/* The database records the key's id, never the key; it refuses another key. */
static void test_sqlite_key_id(void)
{
    char a[600], err[512], got[128];
    tmp_path(a, sizeof a, "key-a.db");
    struct finding_key k1 = { .is_set = false }, k2 = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&k1), PS_OK);
    CHECK_EQ_U(finding_key_random(&k2), PS_OK);
    char id1[FINDING_KEY_ID_HEX + 1], id2[FINDING_KEY_ID_HEX + 1];
    finding_key_id(&k1, id1);
    finding_key_id(&k2, id2);
    CHECK(strlen(id1) == FINDING_KEY_ID_HEX && strcmp(id1, id2) != 0);
    CHECK_EQ_U(open_with(a, &k1, false, err, sizeof err), PS_OK);
    CHECK(meta_text(a, "fingerprint_key_id", got, sizeof got) && strcmp(got, id1) == 0);
    CHECK(!meta_text(a, "fingerprint_key", got, sizeof got));
    CHECK_EQ_U(open_with(a, &k1, false, err, sizeof err), PS_OK); /* the same key again */
    err[0] = '\0';
    CHECK_EQ_U(open_with(a, &k2, false, err, sizeof err), PS_ERR_DB);
    CHECK(strstr(err, id1) != NULL && strstr(err, "--key-file") != NULL);
    CHECK_EQ_U(open_with(a, &k2, true, err, sizeof err), PS_ERR_DB); /* dropping is for old keys */
    CHECK(meta_text(a, "fingerprint_key_id", got, sizeof got) && strcmp(got, id1) == 0);
    /* What peek sees, changing nothing. */
    struct sink_key_state ks;
    memset(&ks, 0, sizeof ks);
    CHECK_EQ_U(sink_sqlite_peek_key(a, &ks, err, sizeof err), PS_OK);
    CHECK(ks.has_key_id && !ks.has_old_key && strcmp(ks.key_id, id1) == 0);
    memset(&ks, 0, sizeof ks);
    tmp_path(a, sizeof a, "key-none.db");
    CHECK_EQ_U(sink_sqlite_peek_key(a, &ks, err, sizeof err), PS_OK);
    CHECK(!ks.has_key_id && !ks.has_old_key);
    CHECK(access(a, F_OK) != 0); /* peek made no file */
    finding_key_wipe(&k1);
    finding_key_wipe(&k2);
}

/* Reads every byte of the file at path into *out (owned); false when it cannot. */
static bool slurp(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *out = NULL;
    *len = 0;
    if (f == NULL) {
        return false;
    }
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        *out = xrealloc(*out, *len + n);
        memcpy(*out + *len, buf, n);
        *len += n;
    }
    fclose(f);
    return true;
}

/* True when the bytes of key stand anywhere in the file at path. */
static bool file_holds(const char *path, const uint8_t key[FINDING_KEY_LEN])
{
    uint8_t *b = NULL;
    size_t n = 0;
    bool found = false;
    if (slurp(path, &b, &n)) {
        for (size_t i = 0; i + FINDING_KEY_LEN <= n && !found; i++) {
            found = memcmp(b + i, key, FINDING_KEY_LEN) == 0;
        }
    }
    free(b);
    return found;
}

/* A database of an earlier release (schema 1, the key in meta) at path, with key k. */
static void make_old_db(const char *path, const struct finding_key *k)
{
    struct finding_key other = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&other), PS_OK);
    char err[512];
    CHECK_EQ_U(open_with(path, &other, false, err, sizeof err), PS_OK);
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK_EQ_U(sqlite3_exec(h, "DELETE FROM meta; PRAGMA user_version = 1", NULL, NULL, NULL),
               SQLITE_OK);
    CHECK_EQ_U(
        sqlite3_prepare_v2(h, "INSERT INTO meta VALUES ('fingerprint_key', ?1)", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, k->bytes, FINDING_KEY_LEN, SQLITE_STATIC);
    CHECK_EQ_U(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
    finding_key_wipe(&other);
}

/* An earlier release's key leaves the database, and no byte of it is left in its files. */
static void test_sqlite_old_key(void)
{
    char a[600], wal[620], err[512], got[128];
    tmp_path(a, sizeof a, "old.db");
    snprintf(wal, sizeof wal, "%s-wal", a);
    struct finding_key old = { .is_set = false }, other = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&old), PS_OK);
    CHECK_EQ_U(finding_key_random(&other), PS_OK);
    make_old_db(a, &old);
    CHECK(file_holds(a, old.bytes) || file_holds(wal, old.bytes));
    struct sink_key_state ks;
    memset(&ks, 0, sizeof ks);
    CHECK_EQ_U(sink_sqlite_peek_key(a, &ks, err, sizeof err), PS_OK);
    CHECK(ks.has_old_key && memcmp(ks.old_key.bytes, old.bytes, FINDING_KEY_LEN) == 0);
    finding_key_wipe(&ks.old_key);
    /* Another key is refused while the old one is there, unless it is dropped. */
    err[0] = '\0';
    CHECK_EQ_U(open_with(a, &other, false, err, sizeof err), PS_ERR_DB);
    CHECK(strstr(err, "--drop-old-key") != NULL);
    CHECK(meta_text(a, "fingerprint_key", got, sizeof got));
    /* Its own key (moved to the key file by the wiring) removes it. */
    CHECK_EQ_U(open_with(a, &old, false, err, sizeof err), PS_OK);
    CHECK(!meta_text(a, "fingerprint_key", got, sizeof got));
    char id[FINDING_KEY_ID_HEX + 1];
    finding_key_id(&old, id);
    CHECK(meta_text(a, "fingerprint_key_id", got, sizeof got) && strcmp(got, id) == 0);
    CHECK(!file_holds(a, old.bytes));
    CHECK(!file_holds(wal, old.bytes));
    /* Dropped: another database of the earlier release, opened with a new key. */
    tmp_path(a, sizeof a, "old-dropped.db");
    snprintf(wal, sizeof wal, "%s-wal", a);
    make_old_db(a, &old);
    CHECK_EQ_U(open_with(a, &other, true, err, sizeof err), PS_OK);
    CHECK(!meta_text(a, "fingerprint_key", got, sizeof got));
    CHECK(!file_holds(a, old.bytes) && !file_holds(wal, old.bytes));
    finding_key_wipe(&old);
    finding_key_wipe(&other);
}

static void test_sqlite_newer_schema(void)
{
    char path[600], err[512];
    tmp_path(path, sizeof path, "newer.db");
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open(path, &h), SQLITE_OK);
    CHECK_EQ_U(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    struct sink_sqlite *db = NULL;
    err[0] = '\0';
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    CHECK_EQ_U(sink_sqlite_open(path, false, &(struct sink_sqlite_key){ &key, NULL, false }, &db,
                                err, sizeof err),
               PS_ERR_SCHEMA);
    CHECK(db == NULL);
    CHECK(strstr(err, "newer") != NULL);
    CHECK(strstr(err, path) != NULL);
    sink_sqlite_close(db);
    /* Nothing was written into it. */
    CHECK_EQ_U(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_stmt *st = query(h, "SELECT count(*) FROM sqlite_master");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
    sqlite3_finalize(st);
    st = query(h, "PRAGMA user_version");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 99);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_sqlite_bad_paths(void)
{
    char path[600], err[512];
    tmp_path(path, sizeof path, "no-such-dir/x.db");
    struct sink_sqlite *db = NULL;
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    err[0] = '\0';
    CHECK_EQ_U(sink_sqlite_open(path, false, &(struct sink_sqlite_key){ &key, NULL, false }, &db,
                                err, sizeof err),
               PS_ERR_DB);
    CHECK(db == NULL);
    CHECK(strstr(err, path) != NULL);

    /* A file that is not a database. */
    tmp_path(path, sizeof path, "not-a.db");
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f != NULL) {
        for (int i = 0; i < 64; i++) {
            fputs("this is not an SQLite database\n", f);
        }
        fclose(f);
    }
    err[0] = '\0';
    CHECK_EQ_U(sink_sqlite_open(path, false, &(struct sink_sqlite_key){ &key, NULL, false }, &db,
                                err, sizeof err),
               PS_ERR_DB);
    CHECK(db == NULL);
    CHECK(strstr(err, path) != NULL);
    sink_sqlite_close(NULL);
}

/* Sessions wait for the batch or the time limit; a forced commit writes them. */
static void test_sqlite_batching(void)
{
    char path[600], err[512];
    tmp_path(path, sizeof path, "batch.db");
    struct sink_sqlite *db = NULL;
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    CHECK_EQ_U(sink_sqlite_open(path, false, &(struct sink_sqlite_key){ &key, NULL, false }, &db,
                                err, sizeof err),
               PS_OK);
    if (db == NULL) {
        return;
    }
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_sqlite_run_begin(db, &run), PS_OK);
    uint64_t now = 1700000300000000u;
    CHECK_EQ_U(sink_sqlite_commit(db, now, false), PS_OK); /* nothing pending: sets the clock */
    struct session *t = tls_session();
    CHECK_EQ_U(sink_sqlite_session(db, t), PS_OK);
    CHECK_EQ_U(sink_sqlite_commit(db, now + SINK_SQLITE_COMMIT_USEC - 1, false), PS_OK);

    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = query(h, "SELECT count(*) FROM sessions");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
    sqlite3_reset(st);
    CHECK_EQ_U(sink_sqlite_commit(db, now + SINK_SQLITE_COMMIT_USEC, false), PS_OK);
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    sqlite3_close(h);
    sink_sqlite_close(db);
    finding_free(t);
}

/* A capture may carry timestamps of zero (some generators write them): such a session is
 * still written, with the epoch as its time, as the JSON sink does. */
static void test_sqlite_epoch_zero(void)
{
    char path[600], err[512];
    tmp_path(path, sizeof path, "epoch.db");
    struct sink_sqlite *db = NULL;
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    CHECK_EQ_U(sink_sqlite_open(path, false, &(struct sink_sqlite_key){ &key, NULL, false }, &db,
                                err, sizeof err),
               PS_OK);
    if (db == NULL) {
        return;
    }
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_sqlite_run_begin(db, &run), PS_OK);
    struct session *s = hostile_session(key.bytes);
    s->ts_start_usec = 0;
    s->ts_end_usec = 0;
    enum ps_err e = sink_sqlite_session(db, s);
    CHECK_EQ_U(e, PS_OK);
    if (e != PS_OK) {
        fprintf(stderr, "sink_sqlite_session: %s\n", sink_sqlite_error(db));
    }
    CHECK_EQ_U(sink_sqlite_commit(db, 0, true), PS_OK);
    sink_sqlite_close(db);
    finding_free(s);

    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = query(h, "SELECT ts_start FROM sessions");
    CHECK(st != NULL && sqlite3_step(st) == SQLITE_ROW &&
          col_is(st, 0, "1970-01-01T00:00:00.000000Z"));
    sqlite3_finalize(st);
    sqlite3_close(h);
}

/* ---- the sink set ---- */

static struct sink_config set_config(const char *db, const char *json, bool is_live)
{
    struct sink_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.db_path = db;
    cfg.has_json = json != NULL;
    cfg.json_path = json;
    cfg.is_quiet = true;
    cfg.is_live = is_live;
    return cfg;
}

static int db_count(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    int n = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = query(h, sql);
        if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

static size_t json_file_lines(const char *path)
{
    size_t len = 0;
    uint8_t *buf = read_path(path, &len);
    size_t n = buf != NULL ? json_lines_valid(buf, len) : 0;
    free(buf);
    return n;
}

struct seen_files {
    char paths[8][700];
    bool is_optional[8];
    size_t n;
};

static void note_file(void *ctx, const char *path, bool is_optional)
{
    struct seen_files *f = ctx;
    if (f->n < 8) {
        snprintf(f->paths[f->n], sizeof f->paths[f->n], "%s", path);
        f->is_optional[f->n] = is_optional;
    }
    f->n++;
}

static void test_set_registry(void)
{
    CHECK_EQ_U(sink_registry_count(), 4);
    CHECK(strcmp(sink_registry_get(0)->name, "sqlite") == 0);
    CHECK(strcmp(sink_registry_get(1)->name, "json") == 0);
    CHECK(strcmp(sink_registry_get(2)->name, "syslog") == 0);
    CHECK(strcmp(sink_registry_get(3)->name, "console") == 0);
    CHECK(sink_registry_get(4) == NULL);
    for (size_t i = 0; i < sink_registry_count(); i++) {
        const struct sink_ops *o = sink_registry_get(i);
        CHECK(o->open != NULL && o->session != NULL && o->close != NULL);
    }
}

/* Every call reaches every open output; the files are named. */
static void test_set_fan_out(void)
{
    char db[600], json[600], err[512];
    tmp_path(db, sizeof db, "set.db");
    tmp_path(json, sizeof json, "set.json");
    struct sink_config cfg = set_config(db, json, false);
    cfg.is_quiet = false; /* the console too: the sessions below are not exposed, so it is mute */
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    if (set == NULL) {
        return;
    }
    CHECK_EQ_U(sink_set_count(set), 3);
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_set_run_begin(set, &run), PS_OK);
    struct session *t = tls_session();
    CHECK_EQ_U(sink_set_session(set, t), PS_OK);
    CHECK_EQ_U(sink_set_session(set, t), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000000u, false), PS_OK);
    run = run_record_for("ok");
    CHECK_EQ_U(sink_set_run_update(set, &run), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000001u, true), PS_OK);
    CHECK(!sink_set_has_failed(set));
    CHECK(sink_set_failure(set, NULL) == NULL);
    struct seen_files f;
    memset(&f, 0, sizeof f);
    sink_set_files(set, note_file, &f);
    CHECK_EQ_U(f.n, 4);
    CHECK(strcmp(f.paths[0], db) == 0 && f.is_optional[0]);
    CHECK(strstr(f.paths[1], "-wal") != NULL && strstr(f.paths[2], "-shm") != NULL);
    CHECK(strcmp(f.paths[3], json) == 0 && !f.is_optional[3]);
    /* Written before the close: the forced tick committed and flushed. */
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions"), 2);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE status = 'ok'"), 1);
    CHECK_EQ_U(json_file_lines(json), 2);
    sink_set_close(set);

    /* The same database opens again with the same key, and is refused with another. */
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    sink_set_close(set);
    struct finding_key other = { .is_set = false };
    CHECK_EQ_U(finding_key_random(&other), PS_OK);
    set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &other, &set, err, sizeof err), PS_ERR_DB);
    CHECK(set == NULL);
    finding_free(t);
}

/* The key given (the key file's) is named in a new database by its id, and never stored. */
static void test_set_key_given(void)
{
    char db[600], err[512];
    tmp_path(db, sizeof db, "given.db");
    struct sink_config cfg = set_config(db, NULL, false);
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    CHECK_EQ_U(sink_set_count(set), 1);
    sink_set_close(set);
    char id[FINDING_KEY_ID_HEX + 1], got[128];
    finding_key_id(&key, id);
    CHECK(meta_text(db, "fingerprint_key_id", got, sizeof got) && strcmp(got, id) == 0);
    CHECK(!meta_text(db, "fingerprint_key", got, sizeof got));
    CHECK(!file_holds(db, test_key));
    finding_key_wipe(&key);
    CHECK(!key.is_set);
}

/* The database opens first: a bad -w fails before any JSON file is made. */
static void test_set_open_fails(void)
{
    char db[600], json[600], err[512];
    tmp_path(db, sizeof db, "no-such-dir/set.db");
    tmp_path(json, sizeof json, "never.json");
    struct sink_config cfg = set_config(db, json, false);
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    err[0] = '\0';
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_ERR_DB);
    CHECK(set == NULL);
    CHECK(strstr(err, db) != NULL);
    CHECK(access(json, F_OK) != 0);
    sink_set_close(NULL);
}

/* JSON on a full disk: offline, the run fails and the database is left alone from then on;
 * live, the database goes on; the last, forced tick fails either way. */
static void json_full_disk(bool is_live)
{
    char db[600], err[512];
    tmp_path(db, sizeof db, is_live ? "full-live.db" : "full-offline.db");
    struct sink_config cfg = set_config(db, "/dev/full", is_live);
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    if (set == NULL) {
        return;
    }
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_set_run_begin(set, &run), PS_OK);
    struct session *t = tls_session();
    CHECK_EQ_U(sink_set_session(set, t), PS_OK);     /* buffered */
    CHECK_EQ_U(sink_set_tick(set, 1, false), PS_OK); /* the flush fails, unreported */
    enum ps_err e = sink_set_session(set, t);        /* ... until the next write */
    CHECK_EQ_U(e, is_live ? PS_OK : PS_ERR_IO);
    CHECK(sink_set_has_failed(set) == !is_live);
    CHECK_EQ_U(sink_set_session(set, t), is_live ? PS_OK : PS_ERR_IO);
    const char *name = NULL;
    const char *why = sink_set_failure(set, &name);
    if (!is_live) {
        CHECK(why != NULL && strcmp(why, "/dev/full: cannot write JSON") == 0);
        CHECK(name != NULL && strcmp(name, "json") == 0);
    }
    CHECK_EQ_U(sink_set_tick(set, 2, true), PS_ERR_IO);
    CHECK(sink_set_has_failed(set));
    why = sink_set_failure(set, &name);
    CHECK(why != NULL &&
          strcmp(why, is_live ? "cannot write JSON output" : "/dev/full: cannot write JSON") == 0);
    sink_set_close(set);
    /* Offline the database took the session the JSON failed on (it is written first) and no
     * more; live, all three. */
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions"), is_live ? 3 : 2);
    finding_free(t);
}

static void test_set_json_fails_offline(void)
{
    json_full_disk(false);
}

static void test_set_json_fails_live(void)
{
    json_full_disk(true);
}

/* A database failure stops any run, names the database, and the database is not called again;
 * the other outputs still are. */
static void test_set_db_fails(void)
{
    char db[600], json[600], err[512];
    tmp_path(db, sizeof db, "fail.db");
    tmp_path(json, sizeof json, "fail.json");
    struct sink_config cfg = set_config(db, json, true);
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    if (set == NULL) {
        return;
    }
    /* The run's row is updated before it was begun: SQLite has no row to update. */
    struct run_record run = run_record_for("ok");
    CHECK_EQ_U(sink_set_run_update(set, &run), PS_ERR_DB);
    CHECK(sink_set_has_failed(set));
    const char *name = NULL;
    const char *why = sink_set_failure(set, &name);
    CHECK(name != NULL && strcmp(name, "sqlite") == 0);
    CHECK(why != NULL && strncmp(why, db, strlen(db)) == 0 &&
          strstr(why, ": cannot record the run: ") != NULL);
    struct session *t = tls_session();
    CHECK_EQ_U(sink_set_session(set, t), PS_OK); /* JSON only: the database is left alone */
    CHECK_EQ_U(sink_set_run_begin(set, &run), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 3, true), PS_OK);
    sink_set_close(set);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions"), 0);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs"), 0);
    CHECK_EQ_U(json_file_lines(json), 1);
    finding_free(t);
}

/* Credential events: the row is there at once (end reason "open"), brought up to date with the
 * result, and the session's end replaces it; JSON says each event on a line of its own. */
static void test_credential_events(void)
{
    char db[600], json[600], err[512];
    tmp_path(db, sizeof db, "events.db");
    tmp_path(json, sizeof json, "events.json");
    struct sink_config cfg = set_config(db, json, false);
    cfg.is_live = true;
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    if (set == NULL) {
        return;
    }
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_set_run_begin(set, &run), PS_OK);
    struct session *s = hostile_session(test_key);
    finding_set_uid(s, "sensor-a");
    CHECK(s->uid[0] == 'C' && strlen(s->uid) == FINDING_UID_LEN);
    finding_set_community_id(s, 0);
    char cid_field[64];
    snprintf(cid_field, sizeof cid_field, "\"community_id\":\"%s\"", s->community_id);
    s->end_reason = FINDING_END_FIN;
    enum finding_result final = s->creds[0]->result;
    s->creds[0]->result = FINDING_RESULT_UNKNOWN;
    finding_finalize(s, test_key);
    s->is_published = true;
    CHECK_EQ_U(sink_set_credential(set, s, 0), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000000u, false), PS_OK); /* committed at the tick */
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions WHERE end_reason = 'open'"), 1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials WHERE result = 'unknown'"), 1);
    s->creds[0]->result = final;
    CHECK_EQ_U(sink_set_credential(set, s, 0), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000001u, false), PS_OK);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials"), 1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials WHERE result = 'unknown'"), 0);
    /* The end: one row for the session, its final credentials, none twice. */
    CHECK_EQ_U(sink_set_session(set, s), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000002u, true), PS_OK);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions"), 1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions WHERE end_reason = 'fin'"), 1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials"), (int)s->n_creds);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions WHERE community_id LIKE '1:%'"
                            " AND length(community_id) = 30"),
               1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions WHERE sensor = 'sensor-a'"), 1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE sensor = 'sensor-a'"), 1);
    sink_set_close(set);
    char *text = NULL;
    size_t len = 0;
    CHECK(slurp(json, (uint8_t **)&text, &len));
    int events = 0, sessions = 0;
    for (size_t at = 0; text != NULL && at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
        events += has_bytes((const uint8_t *)text + at, n, "\"event_type\":\"credential\"");
        sessions += has_bytes((const uint8_t *)text + at, n, "\"event_type\":\"session\"");
        CHECK(has_bytes((const uint8_t *)text + at, n, s->uid));
        CHECK(has_bytes((const uint8_t *)text + at, n, cid_field)); /* in every line's head */
        CHECK(has_bytes((const uint8_t *)text + at, n, "\"sensor\":\"sensor-a\""));
        at += n + 1;
    }
    CHECK_EQ_U(events, 2);
    CHECK_EQ_U(sessions, 1);
    free(text);
    finding_free(s);
    finding_key_wipe(&key);
}

/* An anonymous login (FTP's USER anonymous): recorded with its flag in every output, through
 * the credential event's upsert and the session's insert alike, and the session's exposure is
 * "cleartext", not "credentials". */
static void test_anonymous_credential(void)
{
    char db[600], json[600], err[512];
    tmp_path(db, sizeof db, "anon.db");
    tmp_path(json, sizeof json, "anon.json");
    struct sink_config cfg = set_config(db, json, false);
    cfg.is_live = true;
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_set *set = NULL;
    CHECK_EQ_U(sink_set_open(&cfg, &key, &set, err, sizeof err), PS_OK);
    if (set == NULL) {
        return;
    }
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_set_run_begin(set, &run), PS_OK);
    struct session *s = hostile_session(test_key);
    while (s->n_creds > 0) {
        finding_drop_credential(s, s->creds[0]);
    }
    s->protocol = "ftp";
    s->server_port = 21;
    struct credential *c = finding_add_credential(s, "USER/PASS");
    finding_set_username(c, LIT("anonymous"));
    finding_set_secret(c, LIT("guest@example.org"));
    finding_set_anonymous(c);
    c->result = FINDING_RESULT_SUCCESS;
    finding_set_uid(s, NULL);
    finding_finalize(s, test_key);
    s->is_published = true;
    CHECK_EQ_U(sink_set_credential(set, s, 0), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000000u, false), PS_OK);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials WHERE anonymous = 1"), 1);
    CHECK_EQ_U(sink_set_session(set, s), PS_OK);
    CHECK_EQ_U(sink_set_tick(set, 1700000300000001u, true), PS_OK);
    sink_set_close(set);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials WHERE anonymous = 1"
                            " AND username = 'anonymous' AND secret_len = 17"),
               1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM credentials WHERE anonymous = 0"), 0);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM sessions WHERE exposure = 'cleartext'"), 1);
    size_t len = 0;
    uint8_t *buf = NULL;
    CHECK(slurp(json, &buf, &len));
    if (buf != NULL) {
        CHECK_EQ_U(
            count_bytes(buf, len, "\"truncated\":false,\"anonymous\":true,\"incomplete\":false}"),
            2);
        CHECK(has_bytes(buf, len, "\"exposure\":\"cleartext\""));
        CHECK(!has_bytes(buf, len, "\"exposure\":\"credentials\""));
        free(buf);
    }
    buf = console_line(s, false, &len);
    if (buf != NULL) {
        CHECK(has_bytes(buf, len,
                        " ftp 192.0.2.10:40000 -> 198.51.100.1:21 cleartext tls=none "
                        "starttls=offered-not-used | USER/PASS user=\"anonymous\" "
                        "secret=<17 bytes> success anonymous\n"));
        free(buf);
    }
    finding_free(s);
    finding_key_wipe(&key);
}

/* A database of version 1 gets the columns added since (version 2's, community_id, sensor, the
 * context columns: SQLite cannot drop the table's last one, proxy_target, which the list adds
 * alike); a run a
 * killed process left 'running' is marked interrupted when the database is next opened, and only
 * such a run. */
static void test_sqlite_migrate_and_recover(void)
{
    char db[600], err[512];
    tmp_path(db, sizeof db, "v1.db");
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    CHECK_EQ_U(open_with(db, &key, false, err, sizeof err), PS_OK);
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open(db, &h), SQLITE_OK);
    CHECK_EQ_U(sqlite3_exec(h,
                            "DROP VIEW exposed_accounts; DROP VIEW cleartext_servers;"
                            " DROP VIEW exposed_credentials;"
                            " DROP INDEX sessions_uid; ALTER TABLE sessions DROP COLUMN uid;"
                            " ALTER TABLE runs DROP COLUMN pid; ALTER TABLE runs DROP COLUMN host;"
                            " ALTER TABLE credentials DROP COLUMN anonymous;"
                            " DROP INDEX sessions_community_id;"
                            " ALTER TABLE sessions DROP COLUMN community_id;"
                            " ALTER TABLE sessions DROP COLUMN sensor;"
                            " ALTER TABLE runs DROP COLUMN sensor;"
                            " ALTER TABLE sessions DROP COLUMN banner;"
                            " ALTER TABLE sessions DROP COLUMN client_name;"
                            " ALTER TABLE sessions DROP COLUMN sni;"
                            " ALTER TABLE sessions DROP COLUMN cert_subject;"
                            " ALTER TABLE sessions DROP COLUMN cert_issuer;"
                            " PRAGMA user_version = 1;"
                            " INSERT INTO runs (version, mode, source, status, started)"
                            " VALUES ('0.1.0', 'live', 'eth1', 'running', '2020-01-01T00:00:00Z'),"
                            " ('0.1.0', 'live', 'eth1', 'running', '2999-01-01T00:00:00Z')",
                            NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(h);
    CHECK_EQ_U(open_with(db, &key, false, err, sizeof err), PS_OK);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM pragma_table_info('sessions')"
                            " WHERE name IN ('uid', 'community_id', 'sensor')"),
               3);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM pragma_table_info('sessions')"
                            " WHERE name IN ('banner', 'client_name', 'sni', 'cert_subject',"
                            " 'cert_issuer', 'proxy_target')"),
               6);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM pragma_table_info('runs')"
                            " WHERE name IN ('pid', 'host', 'sensor')"),
               3);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM pragma_table_info('credentials')"
                            " WHERE name = 'anonymous' AND \"notnull\" = 1 AND dflt_value = '0'"),
               1);
    CHECK_EQ_U(db_count(db, "PRAGMA user_version"), SINK_SQLITE_SCHEMA_VERSION);
    /* Without a pid: stale (years old) is interrupted, a recent one is left alone. */
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE status = 'interrupted'"
                            " AND started LIKE '2020%'"),
               1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE status = 'running'"
                            " AND started LIKE '2999%'"),
               1);
    /* With a pid on this host: a process that is gone, and one that lives (this one). */
    pid_t kid = fork();
    if (kid == 0) {
        _exit(0);
    }
    waitpid(kid, NULL, 0);
    char host[256];
    CHECK(gethostname(host, sizeof host) == 0);
    host[sizeof host - 1] = '\0';
    CHECK_EQ_U(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK_EQ_U(sqlite3_prepare_v2(h,
                                  "INSERT INTO runs (version, mode, source, status, started, pid,"
                                  " host) VALUES ('0.1.0', 'live', ?3, 'running',"
                                  " '2999-01-01T00:00:00Z', ?1, ?2)",
                                  -1, &st, NULL),
               SQLITE_OK);
    sqlite3_bind_int64(st, 1, kid);
    sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, "gone", -1, SQLITE_STATIC);
    CHECK_EQ_U(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, getpid());
    sqlite3_bind_text(st, 3, "alive", -1, SQLITE_STATIC);
    CHECK_EQ_U(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, kid);
    sqlite3_bind_text(st, 2, "another-host.example", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, "elsewhere", -1, SQLITE_STATIC);
    CHECK_EQ_U(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
    CHECK_EQ_U(open_with(db, &key, false, err, sizeof err), PS_OK);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE source = 'gone'"
                            " AND status = 'interrupted'"),
               1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE source = 'alive'"
                            " AND status = 'running'"),
               1);
    CHECK_EQ_U(db_count(db, "SELECT count(*) FROM runs WHERE source = 'elsewhere'"
                            " AND status = 'running'"),
               1);
    finding_key_wipe(&key);
}

/* prune: the cutoff is now less the days, against each session's last packet; the credentials
 * go with their sessions, and a finished run goes once it ended before the cutoff and has no
 * session left. */
static void test_sqlite_prune(void)
{
    char path[600], err[512], fp[FINDING_FP_HEX + 1];
    uint8_t key[FINDING_KEY_LEN];
    tmp_path(path, sizeof path, "prune.db");
    CHECK(write_db(path, false, key, fp));
    struct sink_sqlite_prune_stats st;
    /* A cutoff before every packet: nothing goes. */
    CHECK_EQ_U(sink_sqlite_prune(path, 1, 1700000000000000u, &st, err, sizeof err), PS_OK);
    CHECK_EQ_U(st.sessions, 0);
    CHECK_EQ_U(st.runs, 0);
    CHECK(strcmp(st.cutoff, "2023-11-13T22:13:20.000000Z") == 0);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM sessions"), 2);
    /* Ten days after: both sessions, their credentials, the run and its counters. */
    int creds = db_count(path, "SELECT count(*) FROM credentials");
    CHECK(creds > 0);
    CHECK_EQ_U(sink_sqlite_prune(path, 10, 1700000000000000u + 20 * 86400ull * 1000000u, &st, err,
                                 sizeof err),
               PS_OK);
    CHECK_EQ_U(st.sessions, 2);
    CHECK_EQ_U(st.credentials, (unsigned)creds);
    CHECK_EQ_U(st.runs, 1);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM credentials"), 0);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM run_counters"), 0);
    /* VACUUMed, the WAL emptied. A database this small gives back no page: VACUUM lays the
     * schema's own table out anew, and with the schema's text as long as it is now that can take
     * one page more than it did. */
    CHECK(st.bytes_after <= st.bytes_before + 4096);
    CHECK_EQ_U(db_count(path, "PRAGMA freelist_count"), 0);
    /* A run still running (recent: not taken for one a killed process left) stays, even with
     * days 0. */
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open(path, &h), SQLITE_OK);
    CHECK_EQ_U(sqlite3_exec(h,
                            "INSERT INTO runs (version, mode, source, status, started)"
                            " VALUES ('0', 'live', 'eth1', 'running', '2999-01-01T00:00:00Z')",
                            NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(h);
    CHECK_EQ_U(sink_sqlite_prune(path, 0, 1700000000000000u, &st, err, sizeof err), PS_OK);
    CHECK(st.cutoff[0] == '\0');
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);
}

/* merge from a database of schema version 1 (no uid, sensor, anonymous...): its columns are
 * found by name, the missing ones take their defaults, and sessions without a uid are known again
 * by their times and endpoints: merging it twice adds nothing. */
static void test_sqlite_merge_v1(void)
{
    char from[600], into[600], err[512], fp[FINDING_FP_HEX + 1];
    uint8_t key[FINDING_KEY_LEN];
    tmp_path(from, sizeof from, "merge-v1.db");
    tmp_path(into, sizeof into, "merge-into.db");
    CHECK(write_db(from, false, key, fp));
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open(from, &h), SQLITE_OK);
    CHECK_EQ_U(sqlite3_exec(h,
                            "DROP VIEW exposed_accounts; DROP VIEW cleartext_servers;"
                            " DROP VIEW exposed_credentials; DROP VIEW sessions_without_tls;"
                            " DROP INDEX sessions_uid; ALTER TABLE sessions DROP COLUMN uid;"
                            " ALTER TABLE credentials DROP COLUMN anonymous;"
                            " ALTER TABLE credentials DROP COLUMN fingerprint_key_id;"
                            " DROP INDEX sessions_community_id;"
                            " ALTER TABLE sessions DROP COLUMN community_id;"
                            " ALTER TABLE sessions DROP COLUMN sensor;"
                            " ALTER TABLE runs DROP COLUMN sensor;"
                            " ALTER TABLE runs DROP COLUMN merged_from;"
                            " ALTER TABLE runs DROP COLUMN merged_run_id;"
                            " ALTER TABLE sessions DROP COLUMN tunnel;"
                            " ALTER TABLE sessions DROP COLUMN interface;"
                            " ALTER TABLE credentials DROP COLUMN incomplete;"
                            " PRAGMA user_version = 1;",
                            NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(h);
    const char *const srcs[] = { from };
    struct sink_sqlite_merge_stats st;
    CHECK_EQ_U(sink_sqlite_merge(into, srcs, 1, false, &st, err, sizeof err), PS_OK);
    CHECK_EQ_U(st.sessions, 2);
    CHECK_EQ_U(st.runs, 1);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM credentials WHERE anonymous = 0"),
               (int)st.credentials);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM credentials WHERE incomplete = 0"),
               (int)st.credentials);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM sessions WHERE tunnel IS NULL"
                              " AND interface IS NULL"),
               2);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM run_counters"), 2);
    CHECK_EQ_U(db_count(from, "PRAGMA user_version"), 1);
    CHECK_EQ_U(sink_sqlite_merge(into, srcs, 1, false, &st, err, sizeof err), PS_OK);
    CHECK_EQ_U(st.sessions, 0);
    CHECK_EQ_U(st.sessions_known, 2);
    CHECK_EQ_U(st.runs_known, 1);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM sessions"), 2);
}

/* A version 2 database with credentials.incomplete (written before version 3 made credentials
 * go with their session): the rebuilt credentials table keeps each row's incomplete. */
static void test_sqlite_migrate_incomplete(void)
{
    char path[600], err[512];
    tmp_path(path, sizeof path, "v2-incomplete.db");
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_sqlite *db = NULL;
    mode_t old = umask(0);
    enum ps_err e = sink_sqlite_open(path, false, &(struct sink_sqlite_key){ &key, NULL, false },
                                     &db, err, sizeof err);
    umask(old);
    CHECK_EQ_U(e, PS_OK);
    if (e != PS_OK) {
        return;
    }
    struct run_record run = run_record_for("ok");
    CHECK_EQ_U(sink_sqlite_run_begin(db, &run), PS_OK);
    struct session *s = hostile_session(key.bytes);
    struct credential *c = finding_add_credential(s, "LOGIN");
    finding_set_username(c, LIT("cut"));
    CHECK_EQ_U(sink_sqlite_session(db, s), PS_OK);
    sink_sqlite_close(db);
    finding_free(s);
    int n_creds = db_count(path, "SELECT count(*) FROM credentials");
    CHECK_EQ_U(n_creds, 4);
    /* Back to version 2's credentials table: no cascade, no fingerprint_key_id. */
    sqlite3 *h = NULL;
    CHECK_EQ_U(sqlite3_open(path, &h), SQLITE_OK);
    CHECK_EQ_U(sqlite3_exec(h,
                            "DROP VIEW exposed_accounts; DROP VIEW cleartext_servers;"
                            " DROP VIEW exposed_credentials;"
                            " ALTER TABLE credentials RENAME TO c3;"
                            " DROP INDEX credentials_session_seq; DROP INDEX credentials_user;"
                            " CREATE TABLE credentials (id INTEGER PRIMARY KEY,"
                            " session_id INTEGER NOT NULL REFERENCES sessions(id),"
                            " seq INTEGER NOT NULL, mechanism TEXT NOT NULL, username TEXT,"
                            " secret TEXT, secret_len INTEGER, secret_fingerprint TEXT,"
                            " challenge TEXT, response TEXT, result TEXT NOT NULL,"
                            " truncated INTEGER NOT NULL,"
                            " anonymous INTEGER NOT NULL DEFAULT 0,"
                            " incomplete INTEGER NOT NULL DEFAULT 0);"
                            " INSERT INTO credentials SELECT id, session_id, seq, mechanism,"
                            " username, secret, secret_len, secret_fingerprint, challenge,"
                            " response, result, truncated, anonymous, incomplete FROM c3;"
                            " DROP TABLE c3; PRAGMA user_version = 2;",
                            NULL, NULL, NULL),
               SQLITE_OK);
    sqlite3_close(h);
    CHECK_EQ_U(open_with(path, &key, false, err, sizeof err), PS_OK);
    CHECK_EQ_U(db_count(path, "PRAGMA user_version"), SINK_SQLITE_SCHEMA_VERSION);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM pragma_foreign_key_list('credentials')"
                              " WHERE on_delete = 'CASCADE'"),
               1);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM credentials"), n_creds);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM credentials WHERE incomplete = 1"
                              " AND mechanism = 'LOGIN' AND username = 'cut'"),
               1);
    CHECK_EQ_U(db_count(path, "SELECT count(*) FROM credentials WHERE incomplete = 1"), 1);
    finding_key_wipe(&key);
}

/* merge copies every column of a session and its credentials: the tunnel, the interfaces and a
 * login cut before its secret (incomplete) among them. */
static void test_sqlite_merge_columns(void)
{
    char from[600], into[600], err[512];
    tmp_path(from, sizeof from, "merge-cols.db");
    tmp_path(into, sizeof into, "merge-cols-into.db");
    struct finding_key key = { .is_set = false };
    finding_key_set(&key, test_key);
    struct sink_sqlite *db = NULL;
    mode_t old = umask(0);
    enum ps_err e = sink_sqlite_open(from, false, &(struct sink_sqlite_key){ &key, NULL, false },
                                     &db, err, sizeof err);
    umask(old);
    CHECK_EQ_U(e, PS_OK);
    if (e != PS_OK) {
        return;
    }
    struct run_record run = run_record_for("running");
    CHECK_EQ_U(sink_sqlite_run_begin(db, &run), PS_OK);
    struct session *s = hostile_session(key.bytes);
    finding_set_tunnel(s, "vlan id=10, gre 192.0.2.1>198.51.100.9");
    s->interfaces = "eth1,eth2";
    struct credential *c = finding_add_credential(s, "LOGIN");
    finding_set_username(c, LIT("cut"));
    CHECK(finding_credential_is_incomplete(c));
    CHECK_EQ_U(sink_sqlite_session(db, s), PS_OK);
    run = run_record_for("ok");
    CHECK_EQ_U(sink_sqlite_run_update(db, &run), PS_OK);
    sink_sqlite_close(db);
    s->interfaces = NULL;
    finding_free(s);
    const char *const srcs[] = { from };
    struct sink_sqlite_merge_stats st;
    CHECK_EQ_U(sink_sqlite_merge(into, srcs, 1, false, &st, err, sizeof err), PS_OK);
    CHECK_EQ_U(st.sessions, 1);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM sessions"
                              " WHERE tunnel = 'vlan id=10, gre 192.0.2.1>198.51.100.9'"
                              " AND interface = 'eth1,eth2'"),
               1);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM credentials WHERE incomplete = 1"
                              " AND mechanism = 'LOGIN' AND username = 'cut'"),
               1);
    CHECK_EQ_U(db_count(into, "SELECT count(*) FROM credentials WHERE incomplete = 0"),
               db_count(from, "SELECT count(*) FROM credentials WHERE incomplete = 0"));
    finding_key_wipe(&key);
}

int main(void)
{
    if (!tmp_setup()) {
        perror("mkdtemp");
        test_failed++;
        return TEST_SUMMARY();
    }
    RUN(test_json_checker);
    RUN(test_json_hide_secrets);
    RUN(test_json_reveal);
    RUN(test_json_all_bytes);
    RUN(test_json_open_fails);
    RUN(test_json_reopen);
    RUN(test_console_hide_secrets);
    RUN(test_console_reveal);
    RUN(test_console_reveal_long);
    RUN(test_console_other_sessions);
    RUN(test_console_quote_forgery);
    test_sqlite_roundtrip();
    RUN(test_sqlite_key_id);
    RUN(test_sqlite_old_key);
    RUN(test_sqlite_newer_schema);
    RUN(test_sqlite_bad_paths);
    RUN(test_sqlite_batching);
    RUN(test_sqlite_epoch_zero);
    RUN(test_credential_events);
    RUN(test_anonymous_credential);
    RUN(test_sqlite_migrate_and_recover);
    RUN(test_sqlite_prune);
    RUN(test_sqlite_merge_v1);
    RUN(test_sqlite_merge_columns);
    RUN(test_sqlite_migrate_incomplete);
    RUN(test_set_registry);
    RUN(test_set_fan_out);
    RUN(test_set_key_given);
    RUN(test_set_open_fails);
    RUN(test_set_json_fails_offline);
    RUN(test_set_json_fails_live);
    RUN(test_set_db_fails);
    test_case_failed = 0;
    tmp_cleanup();
    CASE_DONE("temporary files removed");
    return TEST_SUMMARY();
}
