/* httpconnect.h - HTTP CONNECT tunnels (RFC 9110 section 9.3.6): the mail session inside is
 * parsed.
 *
 * A client that speaks first with "CONNECT " on a port that is not a mail port is talking to an
 * HTTP proxy. This parser reads the request and its header section, and the proxy's answer;
 * when the client asks to CONNECT to a mail port and the proxy answers 2xx, it hands every byte
 * after the two header sections to that protocol's parser, as if the session ran on the mail
 * port itself. A tunnel to anything else, a refused, malformed or overlong request is not mail
 * (PARSE_ERROR, no session). A Proxy-Authorization login (Basic, Digest, Bearer, NTLM; httpauth.h)
 * seen on the way to a mail server is recorded as a credential of that session (mechanism
 * "HTTP-PROXY-BASIC"...): a success when the proxy opens the tunnel, a failure when it answers
 * 407, after which the client may try again on the same connection. One on the way anywhere
 * else makes the proxy connection an HTTP session of its own with that login. */
#ifndef PLAINSIGHT_HTTPCONNECT_H
#define PLAINSIGHT_HTTPCONNECT_H

#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "proto.h"

/* The HTTP CONNECT wrapper's operations (static; never freed). */
extern const struct parser_ops httpconnect_parser_ops;

/* Whether p (the first len bytes a client sent) begin with "CONNECT " (the method is
 * case-sensitive, RFC 9110 section 9.1): LINE_PREFIX_YES, LINE_PREFIX_SHORT while they are a
 * proper prefix of it, LINE_PREFIX_NO. */
enum line_prefix httpconnect_opens(const uint8_t *p, size_t len);

#endif
