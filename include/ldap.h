/* ldap.h - the LDAP parser (RFC 4511 binds and StartTLS, RFC 4513 simple and SASL
 * authentication), and the test that tells an LDAP client's first bytes on any port. */
#ifndef PLAINSIGHT_LDAP_H
#define PLAINSIGHT_LDAP_H

#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "proto.h"

/* The LDAP parser's operations (static; never freed). */
extern const struct parser_ops ldap_parser_ops;

/* Does p (the client's first len bytes) begin an LDAP request: a BER SEQUENCE of definite
 * length holding a messageID from 1 and a request's application tag whose length fits the
 * SEQUENCE, with the first byte of a bind, search or extended request where it shows
 * (RFC 4511 section 4.1.1)? LINE_PREFIX_SHORT while len is too short to tell and below
 * CLASSIFY_PREFIX_LEN. A registry_opens_fn (registry.h). */
enum line_prefix ldap_opens(const uint8_t *p, size_t len);

#endif
