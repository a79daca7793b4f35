/* httpauth.h - HTTP authentication headers seen in the clear, shared by the http parser and the
 * HTTP CONNECT wrapper.
 *
 * The parser frames the messages (which header field is whole, which answer pairs with which
 * request); httpauth reads the fields: Authorization and Proxy-Authorization with Basic
 * (RFC 7617: base64 of "user:password"), Digest (RFC 7616: the username parameter, the nonce and
 * the response), Bearer (RFC 6750: the token) and NTLM (MS-NLMP: the AUTHENTICATE message's user,
 * domain and NT response, answering the CHALLENGE message a WWW-Authenticate or
 * Proxy-Authenticate carried; also inside Negotiate, as Windows sends it without Kerberos). A
 * credential is added to the session only when a field showed a user or a secret; a value that
 * cannot be read is counted (parse.http_bad_auth) and never reported. */
#ifndef PLAINSIGHT_HTTPAUTH_H
#define PLAINSIGHT_HTTPAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct credential;
struct parse_stats;
struct session;

/* The protocol name of an HTTP session (the registry's http row): the HTTP CONNECT wrapper
 * records a proxy login there when its tunnel leads to no other protocol. */
#define HTTPAUTH_PROTOCOL "http"

/* The header fields that carry authentication (RFC 9110 section 11). */
enum httpauth_field {
    HTTPAUTH_F_NONE = 0,
    HTTPAUTH_F_AUTHORIZATION,       /* request: credentials for the origin server */
    HTTPAUTH_F_PROXY_AUTHORIZATION, /* request: credentials for the proxy */
    HTTPAUTH_F_WWW_AUTHENTICATE,    /* response: the origin server's challenge */
    HTTPAUTH_F_PROXY_AUTHENTICATE,  /* response: the proxy's challenge */
};

/* Which of those fields the header line h[0..len) is (its name in any case, then a colon), or
 * HTTPAUTH_F_NONE; sets *value_off to where its value starts (past the colon and any spaces). */
enum httpauth_field httpauth_field(const uint8_t *h, size_t len, size_t *value_off);

/* NTLM's connection-bound challenge (MS-NLMP 2.2.1.2), one for the origin server and one for
 * the proxy: the AUTHENTICATE message that follows answers it. Zeroed to start. */
struct httpauth_ntlm {
    uint8_t challenge[8];
    bool has_challenge;
    bool is_unicode; /* the challenge negotiated Unicode strings */
};

/* A challenge field's value v[0..len) (WWW-Authenticate or Proxy-Authenticate): keeps an NTLM
 * CHALLENGE message's server challenge in *ntlm; other schemes are not read. */
void httpauth_challenge(struct httpauth_ntlm *ntlm, const uint8_t *v, size_t len);

/* A credentials field's value v[0..len) (Authorization or Proxy-Authorization): adds to s the
 * credential it shows, named prefix and the scheme's name ("" and "BASIC", or "HTTP-PROXY-" and
 * "BASIC"), and returns it (borrowed from s); NULL when the value shows none (NTLM's NEGOTIATE
 * message, a scheme that is not read, a value that cannot be read: counted in
 * st->http_bad_auth). A credential equal to one s already holds (mechanism, user and secret; a
 * browser sends Basic again with every request) is not added twice: that one is returned.
 * ntlm: the challenge of the same field's kind, for an NTLM AUTHENTICATE message. */
struct credential *httpauth_credential(struct session *s, struct parse_stats *st,
                                       const char *prefix, const struct httpauth_ntlm *ntlm,
                                       const uint8_t *v, size_t len);

/* What an answer's status code says of a credential sent in a field of kind f: 2xx and 3xx
 * success; 401 a failure of Authorization, 407 of Proxy-Authorization; anything else leaves it
 * unknown. A success is never taken back by a later answer to the same credential. */
void httpauth_settle(struct credential *c, enum httpauth_field f, unsigned status);

#endif
