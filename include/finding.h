/* finding.h - the session record: what one mail session exposed, and the only home of secrets.
 *
 * flow opens the record (endpoints, times, the protocol's name from the registry); parsers add
 * credentials and set the TLS state through these functions, and count what they see
 * (injected_commands; tls_version and is_parse_done through tlssniff); flow emits the record
 * when the session ends, and sinks read it. Secrets are copied into buffers owned by the record
 * and wiped with explicit_bzero when it is freed. The keyed fingerprint (HMAC-SHA-256 under the
 * run's struct finding_key, the database's key when the run writes one) lets an auditor see
 * password reuse without the password. Whether a secret leaves the process is the sinks'
 * decision, made from the reveal flag they were opened with. */
#ifndef PLAINSIGHT_FINDING_H
#define PLAINSIGHT_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ps.h"
#include "tunables.h"

enum finding_tls {
    FINDING_TLS_NONE = 0, /* the session stayed in the clear */
    FINDING_TLS_STARTTLS, /* upgraded with STARTTLS/STLS */
    FINDING_TLS_IMPLICIT, /* TLS from the first byte (465, 993, 995) */
};

enum finding_starttls {
    FINDING_STARTTLS_UNKNOWN = 0, /* the capture cannot tell (no CAPA/EHLO seen): null */
    FINDING_STARTTLS_USED,
    FINDING_STARTTLS_OFFERED_NOT_USED,
    FINDING_STARTTLS_NOT_OFFERED,
    FINDING_STARTTLS_REFUSED, /* the client asked, the server said no */
    FINDING_STARTTLS_NA,      /* implicit TLS */
};

enum finding_result {
    FINDING_RESULT_UNKNOWN = 0, /* no answer seen (capture ended, gap) */
    FINDING_RESULT_SUCCESS,
    FINDING_RESULT_FAILURE,
};

/* How the session ended, for the record. */
enum finding_end {
    FINDING_END_CAPTURE = 0, /* still open when the capture ended or at shutdown */
    FINDING_END_FIN,
    FINDING_END_RST,
    FINDING_END_IDLE,
    FINDING_END_EVICTED,
    FINDING_END_OPEN, /* not ended yet: a live run's record written at a credential event */
};

/* The context of a session, each a text field of the record and a column and JSON field of
 * the same name (finding_context_name). */
enum finding_context {
    FINDING_CONTEXT_BANNER = 0,   /* the server's first greeting line ("220 mx.example ESMTP") */
    FINDING_CONTEXT_CLIENT_NAME,  /* the SMTP EHLO/HELO argument */
    FINDING_CONTEXT_SNI,          /* server_name from the client's TLS ClientHello */
    FINDING_CONTEXT_CERT_SUBJECT, /* the server certificate's subject (RFC 4514), TLS <= 1.2 */
    FINDING_CONTEXT_CERT_ISSUER,  /* its issuer (RFC 4514) */
    FINDING_CONTEXT_PROXY_TARGET, /* host:port a SOCKS5 or HTTP CONNECT client asked for */
    FINDING_CONTEXT_N,
};

/* A session's uid: "C" and 17 base62 digits, as Zeek writes its connection uids. */
#define FINDING_UID_LEN 18

/* A Community ID v1 string: "1:" and the base64 of a 20-byte SHA-1 digest (28 characters). */
#define FINDING_COMMUNITY_ID_LEN 30

/* The fingerprint key: 32 random bytes, kept in a key file outside the database (keyfile.h).
 * The wiring owns it for the run. */
#define FINDING_KEY_LEN 32
/* A key's id: the first 16 bytes of SHA-256 over a fixed label and the key, as 32 lower-case
 * hex digits. The database records it, so a run can tell which key wrote it; it cannot be
 * turned back into the key. */
#define FINDING_KEY_ID_HEX 32
/* Fingerprint: first 16 bytes of HMAC-SHA-256(key, secret), as 32 lower-case hex digits. */
#define FINDING_FP_HEX 32

struct credential {
    char mechanism[FINDING_MAX_MECH]; /* "USER/PASS", "APOP", "IMAP LOGIN", SASL name */
    uint8_t username[FINDING_MAX_USER];
    size_t username_len;
    bool has_username;
    uint8_t *secret; /* owned, NULL when the mechanism shows none (challenge-response) */
    size_t secret_len;
    uint8_t *challenge; /* owned; challenge-response mechanisms only */
    size_t challenge_len;
    uint8_t *response; /* owned; challenge-response mechanisms only */
    size_t response_len;
    bool is_truncated; /* a field was longer than its limit and was cut */
    bool is_answered;  /* the server took part in its exchange (a SASL challenge, or bytes a gap
                          lost), so it was a real login even while its result is unknown */
    bool is_anonymous; /* an anonymous login (finding_set_anonymous): its secret is nobody's */
    enum finding_result result;
    char fingerprint[FINDING_FP_HEX + 1]; /* filled by finding_finalize when secret != NULL */
    /* Credential events (live runs): the result last published, once one was. */
    bool is_published;
    enum finding_result published_result;
};

struct session {
    uint64_t ts_start_usec, ts_end_usec;
    uint8_t ip_version; /* 4 or 6 */
    uint8_t client_ip[16], server_ip[16];
    uint16_t client_port, server_port;
    uint16_t vlan;
    const char *protocol; /* the registry's name ("smtp"; static), NULL while unknown */
    enum finding_tls tls;
    uint16_t tls_version; /* wire value from the ServerHello (0x0303 = TLS 1.2), 0 if unseen */
    enum finding_starttls starttls;
    enum finding_end end_reason;
    struct credential *creds[FINDING_MAX_CREDS]; /* owned */
    size_t n_creds;
    uint32_t creds_dropped;     /* credentials past FINDING_MAX_CREDS */
    uint32_t injected_commands; /* cleartext commands pipelined after STARTTLS/STLS */
    uint64_t packets;
    uint64_t bytes_client, bytes_server; /* payload bytes delivered in order */
    uint64_t gaps, gap_bytes;            /* reassembly gaps in either direction */
    bool is_parse_done; /* set by a parser: nothing more to learn (TLS version known) */
    bool is_published;  /* a credential event of it was written: its record replaces one */
    char uid[FINDING_UID_LEN + 1];                   /* finding_set_uid */
    char community_id[FINDING_COMMUNITY_ID_LEN + 1]; /* finding_set_community_id; "" unset */
    const char *sensor;     /* the sensor that saw it (borrowed for the run; finding_set_uid), NULL
                               in a record made by hand */
    uint32_t iface_mask;    /* live: bit i set when a packet came from source i (flow sets it) */
    const char *interfaces; /* live: the names of those sources, comma-separated (borrowed for
                               the emit call; set by run), NULL reading files */
    char *tunnel; /* how its first packet arrived: the layers outside its IP header, outermost
                     first ("vlan id=10, gre 192.0.2.1>198.51.100.9, erspan2 session=123");
                     owned (finding_set_tunnel), NULL for a plain frame */
    /* What the session said about itself (finding_set_context): escaped text, owned, NULL
     * while unknown, indexed by enum finding_context; ctx_mem is what they cost the heap. */
    char *context[FINDING_CONTEXT_N];
    size_t ctx_mem;
};

/* One run of plainsight: what it read and what it dropped. Strings and counters borrowed. */
struct run_record {
    const char *source; /* the capture files, space-separated, or the interface */
    const char *mode;   /* "offline" or "live" */
    const char *sensor; /* --sensor (the host name by default); NULL if none */
    const char *status; /* "running", "ok", "damaged" (an input was cut short), "interrupted" */
    uint64_t started_usec, ended_usec;      /* wall clock */
    uint64_t first_pkt_usec, last_pkt_usec; /* packet time, 0 if no packet */
    uint64_t packets, bytes;                /* captured packets and their captured bytes */
    uint64_t sessions, exposed;             /* sessions written, of which exposed */
    const struct ps_counter *counters;      /* every module's counters, by name */
    size_t n_counters;
};

/* Returns a new zeroed record (free with finding_free). */
struct session *finding_new(void);

/* Wipes every secret buffer and frees the record and its credentials. NULL does nothing. */
void finding_free(struct session *s);

/* Appends a credential with the given mechanism name (cut to FINDING_MAX_MECH - 1) and
 * result unknown. Returns it (owned by s), or NULL when FINDING_MAX_CREDS are there already
 * (then creds_dropped is bumped). */
struct credential *finding_add_credential(struct session *s, const char *mechanism);

/* Removes c (one of s's credentials) from s, wipes and frees it: for a credential the parser
 * learns was never one (read from a stream it was out of step with). */
void finding_drop_credential(struct session *s, struct credential *c);

/* Copy len bytes of wire data into the credential, cutting at the field's limit and setting
 * is_truncated if cut. Each replaces an earlier value. Borrows the bytes. */
void finding_set_username(struct credential *c, const uint8_t *p, size_t len);
void finding_set_secret(struct credential *c, const uint8_t *p, size_t len);
void finding_set_challenge(struct credential *c, const uint8_t *p, size_t len);
void finding_set_response(struct credential *c, const uint8_t *p, size_t len);

/* Flags c as an anonymous login, such as FTP's USER anonymous (RFC 1635), whose password is
 * by custom an e-mail address: recorded like any login, but its secret exposes no account, so
 * it makes its session "cleartext" at most (finding_exposure). Any protocol may flag one. */
void finding_set_anonymous(struct credential *c);

/* Sets s->tunnel to a copy of text (NULL or "" for none), replacing an earlier one. Returns the
 * bytes it holds (for a memory charge). */
size_t finding_set_tunnel(struct session *s, const char *text);

/* True when c is a login cut before it showed what proves it: neither a secret nor a
 * challenge-response's response (an AUTH LOGIN whose password never came, a session evicted or
 * ended mid-login). Reported as incomplete, never as an exposed secret or a challenge-response:
 * what crossed in the clear is its user name at most. Anonymous logins are never incomplete. */
bool finding_credential_is_incomplete(const struct credential *c);

/* Sets s->context[which] from len wire bytes (borrowed), replacing an earlier value: cut to
 * FINDING_MAX_CONTEXT bytes, then escaped as text (bytes 0x20..0x7e other than backslash as
 * themselves, backslash as \\, every other byte as \xHH), so that a control byte never reaches
 * an output. Allocates only when set; keeps s->ctx_mem (the heap bytes the fields hold) true,
 * for flow's memory charge. len 0 clears the field. */
void finding_set_context(struct session *s, enum finding_context which, const uint8_t *p,
                         size_t len);

/* Like finding_set_context for text that is already escaped (an RFC 4514 name, whose
 * backslashes are its own escapes): bytes outside 0x20..0x7e become '?'. Borrows text. */
void finding_set_context_text(struct session *s, enum finding_context which, const char *text);

/* The field's name in SQLite and JSON ("banner", "client_name", "sni", "cert_subject",
 * "cert_issuer", "proxy_target"). */
const char *finding_context_name(enum finding_context which);

/* Sets s->sensor to sensor (borrowed: it must outlive the record; NULL for none) and s->uid from
 * the sensor, its first packet's time and its endpoints (set those first): the same session
 * read twice by one sensor gets the same uid, and two sessions differ in one of them. Two
 * sensors that see one session give it two uids: each is a sighting of its own. */
void finding_set_uid(struct session *s, const char *sensor);

/* True when name can be a sensor's name: 1 to FINDING_MAX_SENSOR bytes, each printable ASCII
 * other than space (33 to 126, what a syslog HOSTNAME allows), so that it is one word in every
 * output. */
bool finding_sensor_is_valid(const char *name);

/* Sets s->community_id: Community ID v1 (github.com/corelight/community-id-spec) of the
 * session's TCP 5-tuple under seed (0 unless the operator chose a domain), the string Zeek and
 * Suricata write for the same flow. Set the endpoints first. The endpoints are ordered (smaller
 * address, then smaller port, first), so both directions give the same id. */
void finding_set_community_id(struct session *s, uint16_t seed);

/* True when c holds what its login sent (a secret or a challenge-response's response) or its
 * result is known: a credential event can say something. */
bool finding_credential_is_ready(const struct credential *c);

/* Marks s as TLS from its first byte (tls implicit, STARTTLS not applicable). */
void finding_set_implicit_tls(struct session *s);

/* Marks s as upgraded to TLS by STARTTLS/STLS. */
void finding_set_upgraded(struct session *s);

/* Settles s->starttls when a session ends, from what its parser saw: n/a on implicit TLS,
 * used after an upgrade, refused when the server said no, and otherwise offered-not-used or
 * not-offered when the server's capabilities were seen (has_list), or unknown when they were
 * not. The rule is the same for SMTP, POP3 and IMAP; only what counts as the list differs. */
void finding_settle_starttls(struct session *s, bool is_refused, bool has_list, bool is_offered);

/* The run's fingerprint key: is_set once bytes hold a key, loaded or made. */
struct finding_key {
    uint8_t bytes[FINDING_KEY_LEN];
    bool is_set;
};

/* Fills k with FINDING_KEY_LEN random bytes (getrandom) and sets is_set. Returns PS_ERR_IO,
 * with errno set, when the system gives none (then k is unchanged). */
enum ps_err finding_key_random(struct finding_key *k);

/* Copies FINDING_KEY_LEN bytes (borrowed) into k and sets is_set. */
void finding_key_set(struct finding_key *k, const uint8_t bytes[FINDING_KEY_LEN]);

/* Wipes the key (explicit_bzero); is_set becomes false. */
void finding_key_wipe(struct finding_key *k);

/* Writes k's id (FINDING_KEY_ID_HEX digits and a NUL) into out. */
void finding_key_id(const struct finding_key *k, char out[FINDING_KEY_ID_HEX + 1]);

/* Computes each credential's fingerprint under key (k->bytes of the run's struct finding_key).
 * Called once, before the sinks. */
void finding_finalize(struct session *s, const uint8_t key[FINDING_KEY_LEN]);

/* True when the session exposed something: a credential or challenge-response seen in the
 * clear, an anonymous login, or traffic that never went to TLS. */
bool finding_is_exposed(const struct session *s);

/* Names used in SQLite and JSON alike. Each returns a static string; finding_starttls_name
 * returns NULL for FINDING_STARTTLS_UNKNOWN and finding_tls_version_name for 0. Unknown TLS
 * versions give "0xHHHH" in buf (cap >= 8) and return buf. */
const char *finding_proto_name(const char *protocol); /* "unknown" for NULL */
const char *finding_tls_name(enum finding_tls t);
const char *finding_starttls_name(enum finding_starttls v);
const char *finding_result_name(enum finding_result r);
const char *finding_end_name(enum finding_end e);
const char *finding_tls_version_name(uint16_t v, char *buf, size_t cap);
/* True for SSLv3, TLS 1.0 and TLS 1.1. */
bool finding_tls_version_is_weak(uint16_t v);
/* Writes the session's "exposure": "credentials", "challenge-response", "cleartext" or
 * "none" (the most severe that applies). An anonymous credential counts as "cleartext": the
 * login was seen in the clear, but no account's secret was. */
const char *finding_exposure(const struct session *s);

/* ISO 8601 UTC with microseconds ("2024-05-01T12:00:00.123456Z") into buf (cap >= 32). */
char *finding_format_time(uint64_t ts_usec, char *buf, size_t cap);
/* Dotted IPv4 or RFC 5952 IPv6 text into buf (cap >= 46). */
char *finding_format_ip(uint8_t ip_version, const uint8_t ip[16], char *buf, size_t cap);

#endif
