/* classify.c - which mail protocol a TCP flow speaks, by port.
 *
 * The IANA ports: SMTP 25 (RFC 5321), submission 587 (RFC 6409) and the common alternative
 * 2525; POP3 110 (RFC 1939); IMAP 143 (RFC 9051); implicit TLS on 465 (RFC 8314), 995 and 993.
 * When both ports are mail ports the lower one is taken as the server's. */
#include "classify.h"

#include "pop3.h"

struct port_entry {
    uint16_t port;
    enum finding_proto protocol;
    bool is_implicit_tls;
    const struct parser_ops *ops;
};

/* SMTP and IMAP parsers come with their own issue; until then their ports are not claimed. */
static const struct port_entry ports[] = {
    { 110, FINDING_PROTO_POP3, false, &pop3_parser_ops },
    { 995, FINDING_PROTO_POP3, true, &pop3_parser_ops },
};

static const struct port_entry *find(uint16_t port)
{
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        if (ports[i].port == port) {
            return &ports[i];
        }
    }
    return NULL;
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
    out->ops = e->ops;
    return true;
}
