/* xmpp.h - the XMPP client-to-server parser (RFC 6120 streams, STARTTLS and SASL; XEP-0078
 * jabber:iq:auth), read with a bounded tag lexer, never a general XML parser. */
#ifndef PLAINSIGHT_XMPP_H
#define PLAINSIGHT_XMPP_H

#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "proto.h"

/* The XMPP parser's operations (static; never freed). */
extern const struct parser_ops xmpp_parser_ops;

/* Does a client's first bytes p[0..len) open an XMPP stream: "<?xml " (an XML declaration) or
 * "<stream:stream" (RFC 6120 section 4.2)? SHORT while they are a prefix of either. For the
 * registry's classification of flows on other ports. */
enum line_prefix xmpp_opens(const uint8_t *p, size_t len);

#endif
