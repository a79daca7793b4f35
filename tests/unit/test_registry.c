/* test_registry.c - unit tests for the protocol registry: its rows, ports, greetings and client
 * words, asked directly rather than through classify and flow.
 *
 * The table itself is checked first (every row complete, names and ports unique, no greeting
 * that decides alone shared by two rows), then each lookup on tables of inputs: every port of
 * every row, every greeting whole and cut at every length, greetings that are not, the SMTP
 * client's first words, and the SOCKS5 client's opening. */
#include "registry.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "line.h"
#include "proto.h"
#include "test.h"
#include "tunables.h"

/* Both NULL, or the same text. */
static bool str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The row named name, or NULL. */
static const struct registry_proto *row_named(const char *name)
{
    for (size_t i = 0; i < registry_count(); i++) {
        if (strcmp(registry_at(i)->name, name) == 0) {
            return registry_at(i);
        }
    }
    return NULL;
}

/* The candidate bit of the row named name (0 when there is none). */
static uint32_t bit_of(const char *name)
{
    const struct registry_proto *r = row_named(name);
    return r != NULL ? 1u << registry_index(r) : 0;
}

/* The candidate mask of the space-separated row names (each must exist). */
static uint32_t mask_of(const char *names)
{
    uint32_t m = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", names);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
        uint32_t b = bit_of(t);
        CHECK(b != 0);
        m |= b;
    }
    return m;
}

/* The rows with a greeting that p[0..len) begins with. */
static uint32_t rows_begun(const uint8_t *p, size_t len)
{
    uint32_t m = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->greetings != NULL && r->greetings[k] != NULL; k++) {
            if (line_prefix(p, len, r->greetings[k]) == LINE_PREFIX_YES) {
                m |= 1u << i;
            }
        }
    }
    return m;
}

/* ---- the table ---- */

static void test_rows_complete(void)
{
    CHECK(registry_count() > 0);
    CHECK(registry_count() <= REGISTRY_MAX_PROTOS);
    CHECK(registry_at(registry_count()) == NULL);
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        CHECK(r != NULL);
        if (r == NULL) {
            continue;
        }
        CHECK_EQ_U(registry_index(r), i);
        CHECK(r->name != NULL && r->name[0] != '\0');
        CHECK(r->ports != NULL);
        CHECK(r->tls_ports != NULL);
        CHECK(r->ndpi_names != NULL);
        /* A row is found by its server's greeting or by its client's opening. */
        CHECK(r->greetings != NULL || r->client_opens != NULL);
        /* Client words confirm a greeting; without one they mean nothing. */
        CHECK(r->client_words == NULL || r->greetings != NULL);
        const struct parser_ops *ops = r->ops;
        CHECK(ops != NULL);
        if (ops == NULL) {
            fprintf(stderr, "  row %s has no ops\n", r->name);
            continue;
        }
        CHECK(ops->name != NULL && ops->name[0] != '\0');
        CHECK(ops->state_size > 0);
        CHECK(ops->new_parser != NULL);
        CHECK(ops->feed != NULL);
        CHECK(ops->gap != NULL);
        CHECK(ops->end != NULL);
        CHECK(ops->free_parser != NULL);
        /* A wrapper has an inner protocol; so may a parser that hands its session over to one
         * (HTTP's CONNECT). */
        CHECK(ops->inner != NULL || !r->is_wrapper);
    }
}

static void test_names_unique(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        for (size_t j = i + 1; j < registry_count(); j++) {
            if (strcmp(registry_at(i)->name, registry_at(j)->name) == 0) {
                fprintf(stderr, "  rows %zu and %zu are both %s\n", i, j, registry_at(i)->name);
                CHECK(false);
            }
        }
    }
}

/* How often port appears in all the rows' port lists. */
static size_t port_uses(uint16_t port)
{
    size_t n = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->ports[k] != 0; k++) {
            n += r->ports[k] == port;
        }
        for (size_t k = 0; r->tls_ports[k] != 0; k++) {
            n += r->tls_ports[k] == port;
        }
    }
    return n;
}

static void test_ports_unique(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->ports[k] != 0; k++) {
            CHECK_EQ_U(port_uses(r->ports[k]), 1);
        }
        for (size_t k = 0; r->tls_ports[k] != 0; k++) {
            CHECK_EQ_U(port_uses(r->tls_ports[k]), 1);
        }
    }
}

/* Does a begin with b, or b with a (ASCII, any case)? */
static bool prefixes_overlap(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    enum line_prefix m =
        la >= lb ? line_prefix((const uint8_t *)a, la, b) : line_prefix((const uint8_t *)b, lb, a);
    return m == LINE_PREFIX_YES;
}

/* A greeting that decides alone (its row has no client words) must be its row's alone: no
 * greeting of another row begins with it, or is begun by it. */
static void test_greetings_not_shared(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        if (r->greetings == NULL) {
            continue;
        }
        for (size_t j = 0; j < registry_count(); j++) {
            const struct registry_proto *o = registry_at(j);
            if (i == j || o->greetings == NULL ||
                (r->client_words != NULL && o->client_words != NULL)) {
                continue;
            }
            for (size_t a = 0; r->greetings[a] != NULL; a++) {
                for (size_t b = 0; o->greetings[b] != NULL; b++) {
                    if (prefixes_overlap(r->greetings[a], o->greetings[b])) {
                        fprintf(stderr, "  %s \"%s\" and %s \"%s\" overlap\n", r->name,
                                r->greetings[a], o->name, o->greetings[b]);
                        CHECK(false);
                    }
                }
            }
        }
    }
}

/* Rows that share a greeting are told apart by the client's first word: no word of one row may
 * begin with, or be begun by, a word of another, or the table's order would decide. */
static void test_client_words_not_shared(void)
{
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t j = i + 1; j < registry_count(); j++) {
            const struct registry_proto *o = registry_at(j);
            if (r->client_words == NULL || o->client_words == NULL) {
                continue;
            }
            for (size_t a = 0; r->client_words[a] != NULL; a++) {
                for (size_t b = 0; o->client_words[b] != NULL; b++) {
                    if (prefixes_overlap(r->client_words[a], o->client_words[b])) {
                        fprintf(stderr, "  %s \"%s\" and %s \"%s\" overlap\n", r->name,
                                r->client_words[a], o->name, o->client_words[b]);
                        CHECK(false);
                    }
                }
            }
        }
    }
}

/* Every client word fits the stream prefix classify reads, and confirms its row alone among
 * all the rows that have client words, whole and in lower case. */
static void test_client_words_confirm(void)
{
    uint32_t all = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        all |= registry_at(i)->client_words != NULL ? 1u << i : 0;
    }
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->client_words != NULL && r->client_words[k] != NULL; k++) {
            const char *w = r->client_words[k];
            size_t len = strlen(w);
            CHECK(len > 0 && len <= CLASSIFY_PREFIX_LEN);
            uint8_t low[CLASSIFY_PREFIX_LEN];
            for (size_t n = 0; n < len && n < sizeof low; n++) {
                low[n] = (uint8_t)(w[n] >= 'A' && w[n] <= 'Z' ? w[n] - 'A' + 'a' : w[n]);
            }
            const struct registry_proto *out = NULL;
            CHECK_EQ_U(registry_confirm(all, (const uint8_t *)w, len, &out), REGISTRY_YES);
            CHECK(out == r);
            CHECK_EQ_U(registry_confirm(all, low, len, &out), REGISTRY_YES);
            CHECK(out == r);
        }
    }
}

/* ---- ports ---- */

/* port (cleartext or TLS as is_tls says) of row r, through both lookups. */
static void check_port(const struct registry_proto *r, uint16_t port, bool is_tls)
{
    bool got_tls = !is_tls;
    CHECK(registry_by_port(port, &got_tls) == r);
    CHECK(got_tls == is_tls);
    const char *name = NULL;
    got_tls = !is_tls;
    const struct parser_ops *ops = registry_parser_for_port(port, &name, &got_tls);
    if (r->is_wrapper) {
        CHECK(ops == NULL);
        return;
    }
    CHECK(ops == r->ops);
    CHECK(str_eq(name, r->name));
    CHECK(got_tls == is_tls);
}

static void test_every_port(void)
{
    size_t n = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->ports[k] != 0; k++) {
            check_port(r, r->ports[k], false);
            n++;
        }
        for (size_t k = 0; r->tls_ports[k] != 0; k++) {
            check_port(r, r->tls_ports[k], true);
            n++;
        }
    }
    CHECK(n >= 11); /* 25 587 2525 465 110 995 143 993 4190 21 990 at the time of writing */
}

struct port_case {
    uint16_t port;
    const char *name; /* NULL: no row */
    bool is_tls;
    bool has_parser;
};

static const struct port_case port_cases[] = {
    { 25, "smtp", false, true },   { 587, "smtp", false, true },
    { 2525, "smtp", false, true }, { 465, "smtp", true, true },
    { 110, "pop3", false, true },  { 995, "pop3", true, true },
    { 143, "imap", false, true },  { 993, "imap", true, true },
    { 0, NULL, false, false },     { 4190, "managesieve", false, true },
    { 2000, NULL, false, false },  { 1080, NULL, false, false },
    { 8110, NULL, false, false },  { 80, "http", false, true },
    { 8080, "http", false, true }, { 65535, NULL, false, false },
    { 24, NULL, false, false },    { 26, NULL, false, false },
    { 21, "ftp", false, true },    { 990, "ftp", true, true },
    { 20, NULL, false, false },    { 389, "ldap", false, true },
    { 636, "ldap", true, true },   { 119, "nntp", false, true },
    { 563, "nntp", true, true },   { 5222, "xmpp", false, true },
    { 5223, "xmpp", true, true },  { 5269, NULL, false, false },
};

static void test_port_table(void)
{
    test_case_failed = 0;
    for (size_t i = 0; i < sizeof port_cases / sizeof port_cases[0]; i++) {
        const struct port_case *pc = &port_cases[i];
        bool is_tls = false;
        const struct registry_proto *r = registry_by_port(pc->port, &is_tls);
        CHECK(str_eq(r != NULL ? r->name : NULL, pc->name));
        if (r != NULL) {
            CHECK(is_tls == pc->is_tls);
        }
        const char *name = NULL;
        const struct parser_ops *ops = registry_parser_for_port(pc->port, &name, &is_tls);
        CHECK((ops != NULL) == pc->has_parser);
        if (ops != NULL) {
            CHECK(str_eq(name, pc->name));
            CHECK(is_tls == pc->is_tls);
        }
        if (test_case_failed) {
            fprintf(stderr, "  port %u\n", pc->port);
        }
        CASE_DONE("port table row");
    }
}

/* A wrapper row serves no parser: its inner protocol's is the one wanted. */
static void test_wrapper_no_parser(void)
{
    const struct registry_proto *w = row_named("socks5");
    CHECK(w != NULL && w->is_wrapper);
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        if (!r->is_wrapper) {
            continue;
        }
        for (size_t k = 0; r->ports[k] != 0; k++) {
            const char *name = NULL;
            bool is_tls = false;
            CHECK(registry_parser_for_port(r->ports[k], &name, &is_tls) == NULL);
        }
    }
}

/* ---- greetings ---- */

struct greeting_case {
    const char *text;
    size_t len;
    enum registry_match want;
    const char *rows; /* the matching rows on REGISTRY_YES, space-separated */
};

#define GREET(s, w, r)                                                                             \
    {                                                                                              \
        s, sizeof(s) - 1, w, r                                                                     \
    }

static const struct greeting_case greeting_cases[] = {
    GREET("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", REGISTRY_YES, "pop3"),
    GREET("+OK", REGISTRY_YES, "pop3"),
    GREET("+ok dovecot ready.\r\n", REGISTRY_YES, "pop3"),
    GREET("* OK IMAP4rev2 Service Ready\r\n", REGISTRY_YES, "imap"),
    GREET("* ok [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", REGISTRY_YES, "imap"),
    GREET("* PREAUTH IMAP4rev2 server logged in as Smith\r\n", REGISTRY_YES, "imap"),
    GREET("* preauth\r\n", REGISTRY_YES, "imap"),
    GREET("* BYE Autologout; idle for too long\r\n", REGISTRY_YES, "imap"),
    GREET("220 foo.com Simple Mail Transfer Service Ready\r\n", REGISTRY_YES, "smtp ftp"),
    GREET("220-mail.example.net ESMTP\r\n220 ready\r\n", REGISTRY_YES, "smtp ftp"),
    GREET("220 ", REGISTRY_YES, "smtp ftp"),
    GREET("220 (vsFTPd 3.0.3)\r\n", REGISTRY_YES, "smtp ftp"),
    GREET("\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n", REGISTRY_YES, "managesieve"),
    GREET("\"implementation\" \"Cyrus timsieved v3.6\"\r\n", REGISTRY_YES, "managesieve"),
    GREET("\"SASL\" \"PLAIN LOGIN\"\r\n", REGISTRY_YES, "managesieve"),
    GREET("\"StartTLS\"\r\n", REGISTRY_YES, "managesieve"),
    GREET("\"IMPLEMENTATIO", REGISTRY_SHORT, NULL),
    GREET("\"NOTIFY\" \"mailto\"\r\n", REGISTRY_NO, NULL),
    GREET("\"IMPLEMENTATIONS\"", REGISTRY_NO, NULL),
    GREET("200 news.example.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n",
          REGISTRY_YES, "nntp"),
    GREET("201 news.example.net server ready, no posting\r\n", REGISTRY_YES, "nntp"),
    GREET("200", REGISTRY_SHORT, NULL),
    GREET("2001 x\r\n", REGISTRY_NO, NULL),
    GREET("202 x\r\n", REGISTRY_NO, NULL),
    GREET("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", REGISTRY_NO, NULL),
    GREET("HTTP/1.1 200 OK\r\n", REGISTRY_NO, NULL),
    GREET("+ERR not now\r\n", REGISTRY_NO, NULL),
    GREET("* NO go away\r\n", REGISTRY_NO, NULL),
    GREET("*OK\r\n", REGISTRY_NO, NULL),
    GREET("221 bye\r\n", REGISTRY_NO, NULL),
    GREET("2201", REGISTRY_NO, NULL),
    GREET("220\r\n", REGISTRY_NO, NULL),
    GREET(" +OK", REGISTRY_NO, NULL),
    GREET("\x16\x03\x01\x00\x05", REGISTRY_NO, NULL),
    GREET("\x00\x00\x00\x00", REGISTRY_NO, NULL),
};

static void check_greeting(const uint8_t *p, size_t len, enum registry_match want,
                           uint32_t want_rows)
{
    uint32_t rows = 0xdeadbeefu;
    enum registry_match m = registry_greeting(p, len, &rows);
    CHECK_EQ_U(m, want);
    if (want != REGISTRY_SHORT) {
        CHECK_EQ_U(rows, want_rows); /* while short, rows matched so far are no answer */
    }
    if (test_case_failed) {
        fprintf(stderr, "  greeting \"%.*s\" (%zu bytes): %d, rows %#x\n", (int)len,
                (const char *)p, len, (int)m, rows);
    }
}

static void test_greeting_table(void)
{
    test_case_failed = 0;
    for (size_t i = 0; i < sizeof greeting_cases / sizeof greeting_cases[0]; i++) {
        const struct greeting_case *gc = &greeting_cases[i];
        check_greeting((const uint8_t *)gc->text, gc->len, gc->want,
                       gc->rows != NULL ? mask_of(gc->rows) : 0);
        CASE_DONE(gc->text);
    }
}

/* Every greeting of every row: no longer than the stream prefix classify reads (a longer one
 * would never match there), whole (its row, and the rows that share it), and each proper prefix,
 * the empty one included (too short to tell), in the case written and in lower case. */
static void test_greeting_prefixes(void)
{
    test_case_failed = 0;
    for (size_t i = 0; i < registry_count(); i++) {
        const struct registry_proto *r = registry_at(i);
        for (size_t k = 0; r->greetings != NULL && r->greetings[k] != NULL; k++) {
            const char *g = r->greetings[k];
            size_t len = strlen(g);
            CHECK(len > 0 && len <= CLASSIFY_PREFIX_LEN);
            uint8_t low[64];
            CHECK(len <= sizeof low);
            if (len > sizeof low) {
                continue;
            }
            for (size_t n = 0; n < len; n++) {
                low[n] = (uint8_t)(g[n] >= 'A' && g[n] <= 'Z' ? g[n] - 'A' + 'a' : g[n]);
            }
            /* Its row, and any other whose greeting it is too (SMTP's and FTP's "220 "). */
            uint32_t rows = rows_begun((const uint8_t *)g, len);
            CHECK((rows & (1u << i)) != 0);
            check_greeting((const uint8_t *)g, len, REGISTRY_YES, rows);
            check_greeting(low, len, REGISTRY_YES, rows);
            for (size_t n = 0; n < len; n++) {
                check_greeting((const uint8_t *)g, n, REGISTRY_SHORT, 0);
                check_greeting(low, n, REGISTRY_SHORT, 0);
            }
            CASE_DONE(g);
        }
    }
}

/* ---- the client's first word ---- */

struct confirm_case {
    const char *name;
    const char *rows; /* row names, space-separated, of the candidates */
    const char *text;
    size_t len;
    enum registry_match want;
    const char *row; /* on REGISTRY_YES */
};

#define CONFIRM(n, rows, s, w, r)                                                                  \
    {                                                                                              \
        n, rows, s, sizeof(s) - 1, w, r                                                            \
    }

static const struct confirm_case confirm_cases[] = {
    CONFIRM("EHLO", "smtp", "EHLO client.example.com\r\n", REGISTRY_YES, "smtp"),
    CONFIRM("HELO", "smtp", "HELO client\r\n", REGISTRY_YES, "smtp"),
    CONFIRM("helo lower case", "smtp", "helo client\r\n", REGISTRY_YES, "smtp"),
    CONFIRM("eHlO mixed case", "smtp", "eHlO x\r\n", REGISTRY_YES, "smtp"),
    CONFIRM("EHLO alone", "smtp", "EHLO", REGISTRY_YES, "smtp"),
    CONFIRM("EH: too short", "smtp", "EH", REGISTRY_SHORT, NULL),
    CONFIRM("H: too short", "smtp", "H", REGISTRY_SHORT, NULL),
    CONFIRM("nothing yet", "smtp", "", REGISTRY_SHORT, NULL),
    CONFIRM("USER (FTP)", "smtp", "USER anonymous\r\n", REGISTRY_NO, NULL),
    CONFIRM("EHL0", "smtp", "EHL0 x\r\n", REGISTRY_NO, NULL),
    CONFIRM("QUIT", "smtp", "QUIT\r\n", REGISTRY_NO, NULL),
    CONFIRM("no candidates", "", "EHLO x\r\n", REGISTRY_NO, NULL),
    /* SMTP and FTP both greet "220 ": the client's first word picks one. */
    CONFIRM("220: EHLO", "smtp ftp", "EHLO x\r\n", REGISTRY_YES, "smtp"),
    CONFIRM("220: USER", "smtp ftp", "USER anonymous\r\n", REGISTRY_YES, "ftp"),
    CONFIRM("220: AUTH TLS", "smtp ftp", "AUTH TLS\r\n", REGISTRY_YES, "ftp"),
    CONFIRM("220: feat", "smtp ftp", "feat\r\n", REGISTRY_YES, "ftp"),
    CONFIRM("220: SYST", "smtp ftp", "SYST\r\n", REGISTRY_YES, "ftp"),
    CONFIRM("220: OPTS UTF8 ON", "smtp ftp", "OPTS UTF8 ON\r\n", REGISTRY_YES, "ftp"),
    CONFIRM("220: HELO", "smtp ftp", "HELO x\r\n", REGISTRY_YES, "smtp"),
    CONFIRM("220: U, too short", "smtp ftp", "U", REGISTRY_SHORT, NULL),
    CONFIRM("220: H, too short for both", "smtp ftp", "H", REGISTRY_SHORT, NULL),
    CONFIRM("220: nothing yet", "smtp ftp", "", REGISTRY_SHORT, NULL),
    CONFIRM("220: QUIT", "smtp ftp", "QUIT\r\n", REGISTRY_NO, NULL),
    CONFIRM("220: HTTP", "smtp ftp", "GET / HTTP/1.1\r\n", REGISTRY_NO, NULL),
    CONFIRM("ftp alone: EHLO", "ftp", "EHLO x\r\n", REGISTRY_NO, NULL),
    /* A row that needs no confirmation is confirmed by anything, even nothing. */
    CONFIRM("pop3 needs no word", "pop3", "", REGISTRY_YES, "pop3"),
    CONFIRM("imap needs no word", "imap", "garbage", REGISTRY_YES, "imap"),
    CONFIRM("managesieve needs no word", "managesieve", "", REGISTRY_YES, "managesieve"),
};

static void test_confirm_table(void)
{
    test_case_failed = 0;
    for (size_t i = 0; i < sizeof confirm_cases / sizeof confirm_cases[0]; i++) {
        const struct confirm_case *cc = &confirm_cases[i];
        const struct registry_proto *out = row_named("imap"); /* to see it cleared */
        enum registry_match m =
            registry_confirm(mask_of(cc->rows), (const uint8_t *)cc->text, cc->len, &out);
        CHECK_EQ_U(m, cc->want);
        CHECK(str_eq(out != NULL ? out->name : NULL, cc->row));
        CASE_DONE(cc->name);
    }
}

/* ---- a wrapper's client opening ---- */

struct opens_case {
    const char *name;
    const char *bytes;
    size_t len;
    enum registry_match match;
    const char *row; /* NULL: no row */
};

#define OPENS(n, s, m, r)                                                                          \
    {                                                                                              \
        n, s, sizeof(s) - 1, m, r                                                                  \
    }

static const struct opens_case opens_cases[] = {
    OPENS("SOCKS5, no authentication", "\x05\x01\x00", REGISTRY_YES, "socks5"),
    OPENS("SOCKS5, two methods", "\x05\x02\x00\x02", REGISTRY_YES, "socks5"),
    OPENS("SOCKS5 and a pipelined request", "\x05\x01\x00\x05\x01\x00\x01\x0a\x00\x00\x01\x00\x19",
          REGISTRY_YES, "socks5"),
    OPENS("SOCKS5 cut short", "\x05\x02\x00", REGISTRY_SHORT, NULL),
    OPENS("SOCKS5 version byte alone", "\x05", REGISTRY_SHORT, NULL),
    OPENS("SOCKS4", "\x04\x01\x00\x19\x0a\x00\x00\x01\x00", REGISTRY_NO, NULL),
    OPENS("SOCKS5, no methods", "\x05\x00", REGISTRY_NO, NULL),
    OPENS("HTTP", "GET / HTTP/1.1\r\n", REGISTRY_YES, "http"),
    OPENS("HTTP cut short", "OPTI", REGISTRY_SHORT, NULL),
    OPENS("HTTP in lower case", "get / HTTP/1.1\r\n", REGISTRY_NO, NULL),
    OPENS("HTTP CONNECT", "CONNECT mx.example.test:25 HTTP/1.1\r\n", REGISTRY_YES, "http-connect"),
    OPENS("HTTP CONNECT cut short", "CONNEC", REGISTRY_SHORT, NULL),
    OPENS("HTTP CONNECT in lower case", "connect mx:25 HTTP/1.1\r\n", REGISTRY_NO, NULL),
    OPENS("XMPP declaration", "<?xml version='1.0'?><stream:stream", REGISTRY_YES, "xmpp"),
    OPENS("XMPP stream header", "<stream:stream to='example.com'", REGISTRY_YES, "xmpp"),
    OPENS("XMPP cut short", "<stream:s", REGISTRY_SHORT, NULL),
    OPENS("HTML", "<html>", REGISTRY_NO, NULL),
    OPENS("EHLO", "EHLO x\r\n", REGISTRY_NO, NULL),
    OPENS("LDAP anonymous bind", "0\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00",
          REGISTRY_YES, "ldap"),
    OPENS("LDAP bind cut short", "0\x0c\x02\x01\x01", REGISTRY_SHORT, NULL),
    OPENS("LDAP response from a client", "0\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00",
          REGISTRY_NO, NULL),
    OPENS("text starting with 0", "0 OK\r\n", REGISTRY_NO, NULL),
    OPENS("nothing yet", "", REGISTRY_SHORT, NULL),
};

static void test_opens_table(void)
{
    test_case_failed = 0;
    for (size_t i = 0; i < sizeof opens_cases / sizeof opens_cases[0]; i++) {
        const struct opens_case *oc = &opens_cases[i];
        const struct registry_proto *r = NULL;
        enum registry_match m = registry_client_opens((const uint8_t *)oc->bytes, oc->len, &r);
        CHECK_EQ_U(m, oc->match);
        CHECK(str_eq(r != NULL ? r->name : NULL, oc->row));
        /* A client-first row: a wrapper, or a protocol whose client speaks first (LDAP, XMPP,
         * HTTP), which has no greeting. */
        if (r != NULL) {
            CHECK(r->is_wrapper || r->greetings == NULL);
        }
        CASE_DONE(oc->name);
    }
}

int main(void)
{
    RUN(test_rows_complete);
    RUN(test_names_unique);
    RUN(test_ports_unique);
    RUN(test_greetings_not_shared);
    RUN(test_client_words_not_shared);
    RUN(test_client_words_confirm);
    RUN(test_every_port);
    test_port_table();
    RUN(test_wrapper_no_parser);
    test_greeting_table();
    test_greeting_prefixes();
    test_confirm_table();
    test_opens_table();
    return TEST_SUMMARY();
}
