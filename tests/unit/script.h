/* script.h - the parser tests' harness: dialogue scripts fed whole and in pieces, and described.
 *
 * A script is one string literal of chunks, each led by a marker byte that no script text uses:
 * C (the client sent what follows), S (the server did), or G C / G S (a gap of SCRIPT_GAP_LEN
 * bytes in that direction, with no text). script_run_table feeds each case of a table whole,
 * then with every chunk cut into pieces of 1 to SCRIPT_MAX_PIECE bytes, and checks that every way
 * gives the wanted description of the session:
 *
 *   tls=T starttls=S inj=N[ v=VVVV][ | MECH user secret-or-"-" result[ ch=C][ resp=R]...]...
 *
 * or "PARSE_ERROR" when the parser gave up. A test adds what its protocol shows of a credential
 * through a script_cred_fn. The fixture (script_fx_*) feeds a parser by hand, for the limits and
 * counters. Static and test-only: include it after the parser's header, in test_<parser>.c. */
#ifndef PLAINSIGHT_SCRIPT_H
#define PLAINSIGHT_SCRIPT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "finding.h"
#include "proto.h"
#include "registry.h"
#include "test.h"

#define C           "\xfe" /* a client chunk follows */
#define S           "\xfd" /* a server chunk follows */
#define G           "\xfc" /* a gap in the direction named next: G C or G S */
#define SCRIPT(lit) lit, sizeof(lit) - 1

#define SCRIPT_MARK_C   0xfeu
#define SCRIPT_MARK_S   0xfdu
#define SCRIPT_MARK_GAP 0xfcu

/* The length of every gap a script reports: the SMTP BDAT and IMAP literal cases count on it. */
#define SCRIPT_GAP_LEN 10
/* Chunks in one script: more is a failed check. */
#define SCRIPT_MAX_CHUNKS 128
/* The largest piece a chunk is cut into; each size from 1 up is tried. */
#define SCRIPT_MAX_PIECE 64
/* Bytes of a description, NUL included; a longer one is cut and then fails its comparison. */
#define SCRIPT_DESC_LEN 4096

/* One row of a parser's table. */
struct script_case {
    const char *name;
    const char *script; /* C/S/G markers before each chunk; may hold NUL bytes */
    size_t script_len;
    unsigned flags; /* PARSE_F_* the parser is created with */
    const char *want;
};

/* Appends to out (cap bytes, NUL-terminated) what a protocol shows of credential c beyond the
 * common fields, with script_appendf. */
typedef void script_cred_fn(const struct credential *c, char *out, size_t cap);

/* One chunk of a script: bytes of direction dir (borrowed from the script), or a gap there. */
struct script_chunk {
    enum parse_dir dir;
    bool is_gap;
    const uint8_t *p;
    size_t len;
};

/* Appends printf-style text to out (cap > 0 bytes, NUL-terminated); what does not fit is cut. */
__attribute__((format(printf, 3, 4))) static inline void script_appendf(char *out, size_t cap,
                                                                        const char *fmt, ...)
{
    size_t len = strlen(out);
    if (len + 1 >= cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + len, cap - len, fmt, ap);
    va_end(ap);
}

/* Cuts a script into at most cap chunks; a script of more, or one that does not start with a
 * marker, fails a check. Returns the number of chunks. */
static inline size_t script_split(const char *script, size_t script_len, struct script_chunk *out,
                                  size_t cap)
{
    size_t n = 0, i = 0;
    while (i < script_len && n < cap) {
        uint8_t m = (uint8_t)script[i++];
        CHECK(m == SCRIPT_MARK_C || m == SCRIPT_MARK_S || m == SCRIPT_MARK_GAP);
        if (m == SCRIPT_MARK_GAP) {
            CHECK(i < script_len); /* G names its direction */
            out[n].is_gap = true;
            out[n].dir = i < script_len && (uint8_t)script[i] == SCRIPT_MARK_C ? PARSE_DIR_CLIENT
                                                                               : PARSE_DIR_SERVER;
            i++;
            out[n].p = NULL;
            out[n].len = 0;
            n++;
            continue;
        }
        size_t start = i;
        while (i < script_len && (uint8_t)script[i] != SCRIPT_MARK_C &&
               (uint8_t)script[i] != SCRIPT_MARK_S && (uint8_t)script[i] != SCRIPT_MARK_GAP) {
            i++;
        }
        out[n].is_gap = false;
        out[n].dir = m == SCRIPT_MARK_C ? PARSE_DIR_CLIENT : PARSE_DIR_SERVER;
        out[n].p = (const uint8_t *)script + start;
        out[n].len = i - start;
        n++;
    }
    CHECK(i >= script_len); /* SCRIPT_MAX_CHUNKS is enough for every script */
    return n;
}

/* Writes the description of s into out (cap > 0 bytes); describe_cred (NULL: none) adds the
 * protocol's part of each credential. */
static inline void script_describe(const struct session *s, script_cred_fn *describe_cred,
                                   char *out, size_t cap)
{
    const char *st = finding_starttls_name(s->starttls);
    out[0] = '\0';
    script_appendf(out, cap, "tls=%s starttls=%s inj=%u", finding_tls_name(s->tls),
                   st != NULL ? st : "null", s->injected_commands);
    if (s->tls_version != 0) {
        script_appendf(out, cap, " v=%04x", s->tls_version);
    }
    for (size_t i = 0; i < s->n_creds; i++) {
        const struct credential *c = s->creds[i];
        script_appendf(out, cap, " | %s %.*s %.*s %s", c->mechanism, (int)c->username_len,
                       (const char *)c->username, c->secret != NULL ? (int)c->secret_len : 1,
                       c->secret != NULL ? (const char *)c->secret : "-",
                       finding_result_name(c->result));
        if (c->challenge != NULL) {
            script_appendf(out, cap, " ch=%.*s", (int)c->challenge_len, (const char *)c->challenge);
        }
        if (c->response != NULL) {
            script_appendf(out, cap, " resp=%.*s", (int)c->response_len, (const char *)c->response);
        }
        if (describe_cred != NULL) {
            describe_cred(c, out, cap);
        }
    }
}

/* Feeds a script to a new parser of ops created with flags, every chunk cut into pieces of at
 * most piece bytes (0: whole), then ends and frees the parser. Counts into *st (zeroed first).
 * Each feed must consume all it was given. Returns the session (owned: free with finding_free);
 * *is_dead tells whether the parser returned PARSE_ERROR, after which nothing more is fed. */
static inline struct session *script_feed(const struct parser_ops *ops, const char *script,
                                          size_t script_len, unsigned flags, size_t piece,
                                          struct parse_stats *st, bool *is_dead)
{
    struct script_chunk ch[SCRIPT_MAX_CHUNKS];
    size_t n = script_split(script, script_len, ch, SCRIPT_MAX_CHUNKS);
    struct session *s = finding_new();
    memset(st, 0, sizeof *st);
    struct parse_ctx ctx = { s, st, flags, registry_parser_for_port, registry_wrapper_opening };
    void *p = parse_open(ops, &ctx);
    *is_dead = false;
    for (size_t i = 0; i < n && !*is_dead; i++) {
        if (ch[i].is_gap) {
            ops->gap(p, ch[i].dir, SCRIPT_GAP_LEN);
            continue;
        }
        size_t off = 0;
        while (off < ch[i].len) {
            size_t k = piece == 0 ? ch[i].len - off : piece;
            if (k > ch[i].len - off) {
                k = ch[i].len - off;
            }
            size_t consumed = 0;
            if (ops->feed(p, ch[i].dir, ch[i].p + off, k, &consumed) == PARSE_ERROR) {
                *is_dead = true;
                break;
            }
            CHECK_EQ_U(consumed, k);
            off += k;
        }
    }
    ops->end(p);
    ops->free_parser(p);
    return s;
}

/* Feeds one case (see script_feed) and writes its description, or "PARSE_ERROR", into out. */
static inline void script_run_case(const struct parser_ops *ops, const struct script_case *tc,
                                   size_t piece, script_cred_fn *describe_cred, char *out,
                                   size_t cap)
{
    struct parse_stats st;
    bool is_dead;
    struct session *s =
        script_feed(ops, tc->script, tc->script_len, tc->flags, piece, &st, &is_dead);
    script_describe(s, describe_cred, out, cap);
    if (is_dead) {
        snprintf(out, cap, "PARSE_ERROR");
    }
    finding_free(s);
}

/* Runs n_cases rows on parsers of ops: each must give its wanted description fed whole, and the
 * same fed in pieces of every size up to SCRIPT_MAX_PIECE. One test case (CASE_DONE) per row;
 * a failure prints what differed. */
static inline void script_run_table(const struct parser_ops *ops, const struct script_case *cases,
                                    size_t n_cases, script_cred_fn *describe_cred)
{
    for (size_t i = 0; i < n_cases; i++) {
        const struct script_case *tc = &cases[i];
        char whole[SCRIPT_DESC_LEN], piece[SCRIPT_DESC_LEN];
        script_run_case(ops, tc, 0, describe_cred, whole, sizeof whole);
        if (strcmp(whole, tc->want) != 0) {
            fprintf(stderr, "  got:  %s\n  want: %s\n", whole, tc->want);
            CHECK(strcmp(whole, tc->want) == 0);
        }
        for (size_t k = 1; k <= SCRIPT_MAX_PIECE; k++) {
            script_run_case(ops, tc, k, describe_cred, piece, sizeof piece);
            if (strcmp(whole, piece) != 0) {
                fprintf(stderr, "  split %zu: %s\n  whole:   %s\n", k, piece, whole);
                CHECK(strcmp(whole, piece) == 0);
                break;
            }
        }
        CASE_DONE(tc->name);
    }
}

/* Feeds a script whole and in pieces of every size up to SCRIPT_MAX_PIECE (see script_feed) and
 * checks that each way leaves the session's context field which as want (NULL: unset). */
static inline void script_check_context(const struct parser_ops *ops, const char *script,
                                        size_t script_len, unsigned flags,
                                        enum finding_context which, const char *want)
{
    for (size_t piece = 0; piece <= SCRIPT_MAX_PIECE; piece++) {
        struct parse_stats st;
        bool is_dead = false;
        struct session *s = script_feed(ops, script, script_len, flags, piece, &st, &is_dead);
        const char *got = s->context[which];
        bool ok = want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
        if (!ok) {
            fprintf(stderr, "  %s in pieces of %zu: \"%s\"\n", finding_context_name(which), piece,
                    got != NULL ? got : "(null)");
            test_case_failed = 1;
        }
        finding_free(s);
        if (!ok) {
            return;
        }
    }
}

/* A parser fed by hand: the session and counters it writes into. */
struct script_fx {
    const struct parser_ops *ops;
    struct session *s;
    struct parse_stats st;
    void *p;
};

/* Creates a session and a parser of ops with flags, counters zeroed. Close with script_fx_close
 * or script_fx_free. */
static inline void script_fx_open(struct script_fx *f, const struct parser_ops *ops, unsigned flags)
{
    f->ops = ops;
    f->s = finding_new();
    memset(&f->st, 0, sizeof f->st);
    struct parse_ctx ctx = { f->s, &f->st, flags, registry_parser_for_port,
                             registry_wrapper_opening };
    f->p = parse_open(ops, &ctx);
}

/* Feeds len bytes of direction dir (borrowed); unless the parser returns PARSE_ERROR, checks
 * that it consumed them all. Returns its status. */
static inline enum parse_status script_fx_feed(struct script_fx *f, enum parse_dir dir,
                                               const void *data, size_t len)
{
    size_t consumed = 0;
    enum parse_status r = f->ops->feed(f->p, dir, data, len, &consumed);
    if (r != PARSE_ERROR) {
        CHECK_EQ_U(consumed, len);
    }
    return r;
}

/* script_fx_feed of a NUL-terminated text. */
static inline enum parse_status script_fx_str(struct script_fx *f, enum parse_dir dir,
                                              const char *text)
{
    return script_fx_feed(f, dir, text, strlen(text));
}

/* Ends the session: the parser settles its verdicts into f->s. */
static inline void script_fx_end(struct script_fx *f)
{
    f->ops->end(f->p);
}

/* Frees the parser and the session without ending it first. */
static inline void script_fx_free(struct script_fx *f)
{
    f->ops->free_parser(f->p);
    finding_free(f->s);
}

/* Ends the session, then frees the parser and the session. */
static inline void script_fx_close(struct script_fx *f)
{
    script_fx_end(f);
    script_fx_free(f);
}

#endif
