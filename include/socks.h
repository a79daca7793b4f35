/* socks.h - SOCKS5 tunnels (RFC 1928, RFC 1929): the mail session inside is parsed.
 *
 * A client that speaks first with a SOCKS5 greeting on a port that is not a mail port is a
 * proxy connection. This parser reads the handshake of both directions; when the client asks
 * to CONNECT to a mail port and the proxy says yes, it hands every byte after the handshake to
 * that protocol's parser, as if the session ran on the mail port itself. A tunnel to anything
 * else, a refused or malformed handshake, is not mail (PARSE_ERROR, no session). A SOCKS
 * username and password (RFC 1929) seen on the way to a mail server are recorded as a
 * credential of that session (mechanism "SOCKS5"). */
#ifndef PLAINSIGHT_SOCKS_H
#define PLAINSIGHT_SOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "proto.h"

/* The SOCKS5 wrapper's operations (static; never freed). */
extern const struct parser_ops socks_parser_ops;

/* Whether p (the first len bytes a client sent) begin with a whole SOCKS5 greeting (version 5,
 * a method count of 1 to 14, no method 0xff; a pipelined request may follow): LINE_PREFIX_YES,
 * LINE_PREFIX_SHORT while they are the start of one, LINE_PREFIX_NO. */
enum line_prefix socks_greeting(const uint8_t *p, size_t len);

#endif
