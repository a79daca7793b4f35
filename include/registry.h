/* registry.h - the protocols plainsight reads: one row each, and the only list of them.
 *
 * A row says everything the rest of the program needs to know about a protocol: its name (the
 * "protocol" column and JSON field), the ports it is served on in the clear and with implicit
 * TLS, how its server greets (and, when another protocol greets alike, what the client's first
 * word must be), how a wrapper's client opens (SOCKS5, HTTP CONNECT), the names nDPI gives it,
 * and its parser.
 * classify and flow ask the registry; no other module names a parser. Adding a protocol is a
 * row here and the parser's own files (HACKING.md, "Add a protocol"). */
#ifndef PLAINSIGHT_REGISTRY_H
#define PLAINSIGHT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "line.h"

struct parser_ops;

/* Rows a registry may hold: the greeting candidates travel as a bit mask of row indexes. */
#define REGISTRY_MAX_PROTOS 32

/* Is a wrapper's (or a client-first protocol's) client opening there? p: the client's first len
 * bytes. LINE_PREFIX_SHORT while they are a proper prefix of one (line.h). */
typedef enum line_prefix registry_opens_fn(const uint8_t *p, size_t len);

struct registry_proto {
    const char *name; /* "smtp", "pop3", "imap", "ftp"...; "socks5", "http-connect" for wrappers */
    const uint16_t *ports;     /* cleartext ports, 0-terminated (may be empty) */
    const uint16_t *tls_ports; /* implicit-TLS ports, 0-terminated (may be empty) */
    /* How the server's greeting begins: ASCII prefixes, compared in any case, NULL-terminated;
     * NULL when the server does not speak first. */
    const char *const *greetings;
    /* When another protocol greets alike (SMTP's and FTP's "220"): the words one of which the
     * client's first line must begin with (any case), NULL-terminated; NULL when the greeting
     * decides alone. */
    const char *const *client_words;
    /* A wrapper, or a protocol, whose client speaks first (SOCKS5, HTTP CONNECT, LDAP, XMPP,
     * HTTP): true when the client's first bytes open it. */
    registry_opens_fn *client_opens;
    /* nDPI's names for the protocol (its cleartext and TLS ids), NULL-terminated. */
    const char *const *ndpi_names;
    const struct parser_ops *ops;
    bool is_wrapper; /* carries another protocol (SOCKS5): the session's protocol is the
                        inner one, unknown until the wrapper finds it */
};

/* Rows, in table order; registry_at(i) for i < registry_count(). */
size_t registry_count(void);
const struct registry_proto *registry_at(size_t i);

/* The index of row r in the table. */
size_t registry_index(const struct registry_proto *r);

/* The row served on port (cleartext or implicit TLS; *is_tls says which), or NULL. A table
 * scan: callers on the fast path keep their own index (classify does). */
const struct registry_proto *registry_by_port(uint16_t port, bool *is_tls);

/* The parser for port, for wrappers that learn their inner protocol's port (a parse_lookup_fn,
 * proto.h): sets *name and *is_tls. NULL when no protocol is served there or it is a
 * wrapper. */
const struct parser_ops *registry_parser_for_port(uint16_t port, const char **name, bool *is_tls);

enum registry_match {
    REGISTRY_NO = 0, /* no row matches */
    REGISTRY_SHORT,  /* too few bytes to tell: wait for more */
    REGISTRY_YES,    /* *rows holds the matching rows (bit i: row i) */
};

/* Which rows' server greetings p (the first len bytes a server sent) begins with. */
enum registry_match registry_greeting(const uint8_t *p, size_t len, uint32_t *rows);

/* Of the candidate rows (bits), the one whose client_words p (the client's first len bytes)
 * begins with, or whose greeting needs no confirmation. REGISTRY_SHORT while len cannot tell. */
enum registry_match registry_confirm(uint32_t rows, const uint8_t *p, size_t len,
                                     const struct registry_proto **out);

/* Whether p (the client's first len bytes) opens a wrapper or a client-first protocol: REGISTRY_YES
 * with *out set, REGISTRY_SHORT while more bytes may make it one, REGISTRY_NO. */
enum registry_match registry_client_opens(const uint8_t *p, size_t len,
                                          const struct registry_proto **out);

/* The parser of the wrapper whose client opening p[0..len) is (a whole first line), for a
 * parser that hands its session over (a parse_opener_fn, proto.h), or NULL. */
const struct parser_ops *registry_wrapper_opening(const uint8_t *p, size_t len);

#endif
