/* classify.h - which mail protocol a TCP flow speaks, and which side is the server.
 *
 * Known mail ports decide first: SMTP 25/587/2525, POP3 110, IMAP 143, and the implicit-TLS
 * ports 465, 995, 993. */
#ifndef PLAINSIGHT_CLASSIFY_H
#define PLAINSIGHT_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "finding.h"

struct parser_ops;

struct classify_result {
    enum finding_proto protocol; /* FINDING_PROTO_UNKNOWN: not mail */
    bool is_implicit_tls;
    bool is_server_dst;           /* the destination port is the mail port */
    const struct parser_ops *ops; /* the parser to use; NULL when not mail */
};

/* Classifies by port alone: sport and dport of one packet. Returns true for a mail port. */
bool classify_port(uint16_t sport, uint16_t dport, struct classify_result *out);

#endif
