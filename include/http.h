/* http.h - the HTTP/1.x parser: logins in Authorization and Proxy-Authorization (RFC 9110
 * section 11, RFC 9112), their outcomes from the answers' status codes. */
#ifndef PLAINSIGHT_HTTP_H
#define PLAINSIGHT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "line.h"
#include "proto.h"

/* The HTTP parser's operations (static; never freed). */
extern const struct parser_ops http_parser_ops;

/* Whether p (the first len bytes a client sent) begin with a request line's method and its
 * space: GET, POST, PUT, HEAD, DELETE, OPTIONS, PATCH, TRACE or one of WebDAV's (methods are
 * case-sensitive, RFC 9110 section 9.1; CONNECT is the http-connect wrapper's).
 * LINE_PREFIX_SHORT while they are a proper prefix of one, LINE_PREFIX_YES, LINE_PREFIX_NO. */
enum line_prefix http_opens(const uint8_t *p, size_t len);

#endif
