/* proto.c - what every parser shares: how it is made and how its session is ended.
 *
 * parse_open marks an implicit-TLS session in the record before the parser sees a byte, so no
 * parser repeats it. parse_end applies the one rule for sessions begun before the capture: a
 * parser that came in on the client's message text (a DATA body or an APPEND literal whose
 * start it did not see) may have read a login-like line there as a command. A real login gets
 * an answer (a challenge or a verdict), so one the server never took part in is not reported.
 * Protocols whose clients send commands only (POP3) keep every login; a wrapper is judged by
 * the protocol it carries. */
#include "proto.h"

#include "finding.h"

size_t parse_ring_push(struct parse_ring *r, struct parse_stats *st)
{
    if (r->len == PARSE_MAX_PENDING) {
        st->pending_overflow++;
        return PARSE_MAX_PENDING;
    }
    r->len++;
    return (r->head + r->len - 1) % PARSE_MAX_PENDING;
}

size_t parse_ring_peek(const struct parse_ring *r)
{
    return r->len > 0 ? r->head : PARSE_MAX_PENDING;
}

size_t parse_ring_pop(struct parse_ring *r)
{
    if (r->len == 0) {
        return PARSE_MAX_PENDING;
    }
    size_t slot = r->head;
    r->head = (r->head + 1) % PARSE_MAX_PENDING;
    r->len--;
    return slot;
}

void parse_ring_clear(struct parse_ring *r)
{
    r->len = 0;
}

void *parse_open(const struct parser_ops *ops, const struct parse_ctx *ctx)
{
    if ((ctx->flags & PARSE_F_IMPLICIT_TLS) != 0) {
        finding_set_implicit_tls(ctx->s);
    }
    return ops->new_parser(ctx);
}

bool parse_tunnel_open(struct parse_tunnel *t, parse_lookup_fn *lookup, uint16_t port,
                       struct session *s, struct parse_stats *st)
{
    const char *name = NULL;
    bool is_tls = false;
    const struct parser_ops *ops = lookup != NULL ? lookup(port, &name, &is_tls) : NULL;
    if (ops == NULL) {
        return false;
    }
    s->protocol = name;
    /* The tunnel's parser was charged for with the wrapper's (state_size). */
    struct parse_ctx ctx = { s, st, is_tls ? PARSE_F_IMPLICIT_TLS : 0u, NULL, NULL };
    t->ops = ops;
    t->p = parse_open(ops, &ctx);
    return true;
}

enum parse_status parse_tunnel_feed(struct parse_tunnel *t, enum parse_dir dir, const uint8_t *data,
                                    size_t len)
{
    size_t consumed = 0;
    return t->ops->feed(t->p, dir, data, len, &consumed);
}

void parse_tunnel_gap(struct parse_tunnel *t, enum parse_dir dir, uint64_t len)
{
    if (t->p != NULL) {
        t->ops->gap(t->p, dir, len);
    }
}

void parse_tunnel_end(struct parse_tunnel *t)
{
    if (t->p != NULL) {
        t->ops->end(t->p);
    }
}

const struct parser_ops *parse_tunnel_inner(const struct parse_tunnel *t, void **inner)
{
    *inner = t->p;
    return t->p != NULL ? t->ops : NULL;
}

void parse_tunnel_free(struct parse_tunnel *t)
{
    if (t->p != NULL) {
        t->ops->free_parser(t->p);
        t->p = NULL;
    }
}

/* The parser that reads the session's own protocol: through wrappers to the innermost. */
static const struct parser_ops *innermost(const struct parser_ops *ops, void *p)
{
    /* Bounded: a wrapper's inner parser is never a wrapper (registry_parser_for_port), and a
     * parser that hands over to a wrapper (HTTP's CONNECT) is its outer end. */
    for (size_t depth = 0; ops->inner != NULL && depth < 4; depth++) {
        void *inner = NULL;
        const struct parser_ops *in = ops->inner(p, &inner);
        if (in == NULL) {
            break;
        }
        ops = in;
        p = inner;
    }
    return ops;
}

/* The rule's reach: a session begun before the capture whose client sends message text. */
static bool is_ruled(const struct parser_ops *ops, void *p, unsigned flags)
{
    return (flags & PARSE_F_MIDSTREAM) != 0 && (p == NULL || innermost(ops, p)->has_client_text);
}

static bool is_unanswered(const struct credential *c)
{
    return c->result == FINDING_RESULT_UNKNOWN && !c->is_answered;
}

bool parse_is_provisional(const struct parser_ops *ops, void *p, unsigned flags,
                          const struct credential *c)
{
    return is_ruled(ops, p, flags) && is_unanswered(c);
}

bool parse_is_recorded(const struct parser_ops *ops, void *p, const struct session *s)
{
    if (s->n_creds > 0) {
        return true;
    }
    return !(p != NULL ? innermost(ops, p) : ops)->is_login_only;
}

void parse_end(const struct parser_ops *ops, void *p, struct session *s, unsigned flags,
               struct parse_stats *st)
{
    if (p != NULL) {
        ops->end(p);
    }
    if (!is_ruled(ops, p, flags)) {
        return;
    }
    for (size_t i = s->n_creds; i > 0; i--) {
        struct credential *c = s->creds[i - 1];
        if (is_unanswered(c)) {
            finding_drop_credential(s, c);
            st->midstream_unanswered++;
        }
    }
}
