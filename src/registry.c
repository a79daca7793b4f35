/* registry.c - the table of protocols: ports, greetings, nDPI names and parsers.
 *
 * The IANA ports: SMTP 25 (RFC 5321), submission 587 (RFC 6409) and the common alternative
 * 2525, SMTP over TLS 465 (RFC 8314); POP3 110 (RFC 1939) and 995; IMAP 143 (RFC 9051) and
 * 993; ManageSieve 4190 (RFC 5804), which has no implicit-TLS port; FTP 21 (RFC 959) and 990
 * (implicit FTPS, RFC 4217 section 7). FTP's data connections (port 20, or the ports PASV and
 * EPSV name) are not sessions and have no row. Greetings: POP3 "+OK" (RFC 1939 section 4), IMAP
 * "* OK", "* PREAUTH" or "* BYE" (RFC 9051 section 7.1), SMTP "220" (RFC 5321 section 4.2),
 * which FTP shares (RFC 959 section 5.4), so the client's first word decides: EHLO or HELO for
 * SMTP, a command an FTP client opens with for FTP (none of which SMTP has); ManageSieve's
 * capability list (RFC 5804 section 1.7), whose first line is one of the quoted capability names
 * below ("IMPLEMENTATION" in Dovecot and Cyrus). nDPI 4.2 does not know ManageSieve, and names
 * FTP's control connection FTP_CONTROL (it has no name for implicit FTPS). SOCKS5 (RFC 1928) has
 * no port of its own here: its client speaks first, and the greeting says it. Nor has HTTP
 * CONNECT (RFC 9110 section 9.3.6): proxies listen on 3128, 8080 and many others, and the
 * client's "CONNECT " says it; on 80 and 8080, HTTP's ports, the http parser hands a session
 * whose first request is CONNECT to this wrapper (registry_wrapper_opening). nDPI's
 * HTTP_Connect name is not listed: a flow nDPI names mid-stream has lost its CONNECT request,
 * and the tunnel cannot be followed without it. HTTP (RFC 9112) on 80 and 8080, and on any port
 * when the client's first bytes are a request line's method (http_opens; the client speaks
 * first, so no greeting can say it); nDPI's HTTP and HTTP_Proxy (a forward proxy's GET
 * http://... carries Proxy-Authorization the same way). */
#include "registry.h"

#include "ftp.h"
#include "http.h"
#include "httpconnect.h"
#include "imap.h"
#include "ldap.h"
#include "line.h"
#include "managesieve.h"
#include "nntp.h"
#include "pop3.h"
#include "proto.h"
#include "smtp.h"
#include "socks.h"
#include "xmpp.h"

static const uint16_t smtp_ports[] = { 25, 587, 2525, 0 };
static const uint16_t smtp_tls_ports[] = { 465, 0 };
static const char *const smtp_greetings[] = { "220 ", "220-", NULL };
static const char *const smtp_client_words[] = { "EHLO", "HELO", NULL };
static const char *const smtp_ndpi[] = { "SMTP", "SMTPS", NULL };

static const uint16_t pop3_ports[] = { 110, 0 };
static const uint16_t pop3_tls_ports[] = { 995, 0 };
static const char *const pop3_greetings[] = { "+OK", NULL };
static const char *const pop3_ndpi[] = { "POP3", "POPS", NULL };

static const uint16_t imap_ports[] = { 143, 0 };
static const uint16_t imap_tls_ports[] = { 993, 0 };
static const char *const imap_greetings[] = { "* OK", "* PREAUTH", "* BYE", NULL };
static const char *const imap_ndpi[] = { "IMAP", "IMAPS", NULL };

static const uint16_t managesieve_ports[] = { 4190, 0 };
static const char *const managesieve_greetings[] = { "\"IMPLEMENTATION\"", "\"SASL\"",
                                                     "\"SIEVE\"",          "\"STARTTLS\"",
                                                     "\"VERSION\"",        NULL };

static const uint16_t ftp_ports[] = { 21, 0 };
static const uint16_t ftp_tls_ports[] = { 990, 0 };
static const char *const ftp_greetings[] = { "220 ", "220-", NULL };
/* What FTP clients send first: curl, wget, lftp, ncftp and python's ftplib USER or AUTH, FileZilla
 * and WinSCP FEAT or AUTH, browsers and others SYST, OPTS (UTF8), HOST (RFC 7151), CLNT, LANG,
 * CSID, PBSZ. SMTP has none of them, and EHLO and HELO are no FTP command. */
static const char *const ftp_client_words[] = { "USER", "AUTH", "FEAT", "SYST", "OPTS", "HOST",
                                                "PBSZ", "CLNT", "LANG", "CSID", NULL };
static const char *const ftp_ndpi[] = { "FTP_CONTROL", NULL };

/* LDAP (RFC 4511): 389, and 636 for LDAPS (implicit TLS). Its client speaks first, with a BER
 * LDAPMessage that ldap_opens tells on any port. */
static const uint16_t ldap_ports[] = { 389, 0 };
static const uint16_t ldap_tls_ports[] = { 636, 0 };
static const char *const ldap_ndpi[] = { "LDAP", NULL };

/* NNTP 119 and NNTPS 563 (RFC 3977 section 3.1, RFC 4642 section 1); the greeting 200 or 201
 * (RFC 3977 section 5.1.1), which no other row's greeting begins with (SMTP and FTP greet 220).
 * nDPI 4.2 does not know NNTP. */
static const uint16_t nntp_ports[] = { 119, 0 };
static const uint16_t nntp_tls_ports[] = { 563, 0 };
static const char *const nntp_greetings[] = { "200 ", "201 ", NULL };

/* XMPP client-to-server 5222 (RFC 6120 section 14.7) and the legacy implicit-TLS port 5223. The
 * client speaks first, with its stream header (xmpp_opens); nDPI 4.2 names it Jabber. */
static const uint16_t xmpp_ports[] = { 5222, 0 };
static const uint16_t xmpp_tls_ports[] = { 5223, 0 };
static const char *const xmpp_ndpi[] = { "Jabber", NULL };

static const uint16_t http_ports[] = { 80, 8080, 0 };
static const char *const http_ndpi[] = { "HTTP", "HTTP_Proxy", NULL };

static const uint16_t no_ports[] = { 0 };
static const char *const no_names[] = { NULL };

/* Table order is the order in which greetings are tried and the lower port wins, not a
 * priority: no two rows share a port or a greeting that needs no confirmation. */
static const struct registry_proto protos[] = {
    { .name = "smtp",
      .ports = smtp_ports,
      .tls_ports = smtp_tls_ports,
      .greetings = smtp_greetings,
      .client_words = smtp_client_words,
      .ndpi_names = smtp_ndpi,
      .ops = &smtp_parser_ops },
    { .name = "pop3",
      .ports = pop3_ports,
      .tls_ports = pop3_tls_ports,
      .greetings = pop3_greetings,
      .ndpi_names = pop3_ndpi,
      .ops = &pop3_parser_ops },
    { .name = "imap",
      .ports = imap_ports,
      .tls_ports = imap_tls_ports,
      .greetings = imap_greetings,
      .ndpi_names = imap_ndpi,
      .ops = &imap_parser_ops },
    { .name = "managesieve",
      .ports = managesieve_ports,
      .tls_ports = no_ports,
      .greetings = managesieve_greetings,
      .ndpi_names = no_names,
      .ops = &managesieve_parser_ops },
    { .name = "ftp",
      .ports = ftp_ports,
      .tls_ports = ftp_tls_ports,
      .greetings = ftp_greetings,
      .client_words = ftp_client_words,
      .ndpi_names = ftp_ndpi,
      .ops = &ftp_parser_ops },
    { .name = "ldap",
      .ports = ldap_ports,
      .tls_ports = ldap_tls_ports,
      .client_opens = ldap_opens,
      .ndpi_names = ldap_ndpi,
      .ops = &ldap_parser_ops },
    { .name = "nntp",
      .ports = nntp_ports,
      .tls_ports = nntp_tls_ports,
      .greetings = nntp_greetings,
      .ndpi_names = no_names,
      .ops = &nntp_parser_ops },
    { .name = "xmpp",
      .ports = xmpp_ports,
      .tls_ports = xmpp_tls_ports,
      .client_opens = xmpp_opens,
      .ndpi_names = xmpp_ndpi,
      .ops = &xmpp_parser_ops },
    { .name = "socks5",
      .ports = no_ports,
      .tls_ports = no_ports,
      .client_opens = socks_greeting,
      .ndpi_names = no_names,
      .ops = &socks_parser_ops,
      .is_wrapper = true },
    { .name = "http-connect",
      .ports = no_ports,
      .tls_ports = no_ports,
      .client_opens = httpconnect_opens,
      .ndpi_names = no_names,
      .ops = &httpconnect_parser_ops,
      .is_wrapper = true },
    /* After http-connect: a client's "CONNECT " opens the wrapper, its other methods this. */
    { .name = "http",
      .ports = http_ports,
      .tls_ports = no_ports,
      .client_opens = http_opens,
      .ndpi_names = http_ndpi,
      .ops = &http_parser_ops },
};

#define REGISTRY_N (sizeof protos / sizeof protos[0])
_Static_assert(REGISTRY_N <= REGISTRY_MAX_PROTOS, "candidate masks hold every row");

size_t registry_count(void)
{
    return REGISTRY_N;
}

const struct registry_proto *registry_at(size_t i)
{
    return i < REGISTRY_N ? &protos[i] : NULL;
}

size_t registry_index(const struct registry_proto *r)
{
    return (size_t)(r - protos);
}

static bool has_port(const uint16_t *ports, uint16_t port)
{
    for (size_t i = 0; ports[i] != 0; i++) {
        if (ports[i] == port) {
            return true;
        }
    }
    return false;
}

const struct registry_proto *registry_by_port(uint16_t port, bool *is_tls)
{
    if (port == 0) {
        return NULL;
    }
    for (size_t i = 0; i < REGISTRY_N; i++) {
        if (has_port(protos[i].ports, port)) {
            *is_tls = false;
            return &protos[i];
        }
        if (has_port(protos[i].tls_ports, port)) {
            *is_tls = true;
            return &protos[i];
        }
    }
    return NULL;
}

const struct parser_ops *registry_parser_for_port(uint16_t port, const char **name, bool *is_tls)
{
    const struct registry_proto *r = registry_by_port(port, is_tls);
    if (r == NULL || r->is_wrapper) {
        return NULL;
    }
    *name = r->name;
    return r->ops;
}

/* How p compares with the words of list (NULL-terminated): the best of YES, SHORT, NO. */
static enum registry_match match_any(const char *const *list, const uint8_t *p, size_t len)
{
    enum registry_match m = REGISTRY_NO;
    for (size_t i = 0; list[i] != NULL; i++) {
        switch (line_prefix(p, len, list[i])) {
        case LINE_PREFIX_YES:
            return REGISTRY_YES;
        case LINE_PREFIX_SHORT:
            m = REGISTRY_SHORT;
            break;
        case LINE_PREFIX_NO:
            break;
        }
    }
    return m;
}

enum registry_match registry_greeting(const uint8_t *p, size_t len, uint32_t *rows)
{
    bool is_short = false;
    *rows = 0;
    for (size_t i = 0; i < REGISTRY_N; i++) {
        if (protos[i].greetings == NULL) {
            continue;
        }
        enum registry_match m = match_any(protos[i].greetings, p, len);
        if (m == REGISTRY_YES) {
            *rows |= 1u << i;
        }
        is_short = is_short || m == REGISTRY_SHORT;
    }
    /* A greeting that one row's prefix still might match waits, so that a shorter prefix of
     * another row cannot decide for it. */
    if (is_short) {
        return REGISTRY_SHORT;
    }
    return *rows != 0 ? REGISTRY_YES : REGISTRY_NO;
}

enum registry_match registry_confirm(uint32_t rows, const uint8_t *p, size_t len,
                                     const struct registry_proto **out)
{
    bool is_short = false;
    *out = NULL;
    for (size_t i = 0; i < REGISTRY_N; i++) {
        if ((rows & (1u << i)) == 0) {
            continue;
        }
        if (protos[i].client_words == NULL) {
            *out = &protos[i];
            return REGISTRY_YES;
        }
        enum registry_match m = match_any(protos[i].client_words, p, len);
        if (m == REGISTRY_YES) {
            *out = &protos[i];
            return REGISTRY_YES;
        }
        is_short = is_short || m == REGISTRY_SHORT;
    }
    return is_short ? REGISTRY_SHORT : REGISTRY_NO;
}

enum registry_match registry_client_opens(const uint8_t *p, size_t len,
                                          const struct registry_proto **out)
{
    bool is_short = false;
    *out = NULL;
    for (size_t i = 0; i < REGISTRY_N; i++) {
        if (protos[i].client_opens == NULL) {
            continue;
        }
        switch (protos[i].client_opens(p, len)) {
        case LINE_PREFIX_YES:
            *out = &protos[i];
            return REGISTRY_YES;
        case LINE_PREFIX_SHORT:
            is_short = true;
            break;
        case LINE_PREFIX_NO:
            break;
        }
    }
    return is_short ? REGISTRY_SHORT : REGISTRY_NO;
}

const struct parser_ops *registry_wrapper_opening(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < REGISTRY_N; i++) {
        if (protos[i].is_wrapper && protos[i].client_opens != NULL &&
            protos[i].client_opens(p, len) == LINE_PREFIX_YES) {
            return protos[i].ops;
        }
    }
    return NULL;
}
