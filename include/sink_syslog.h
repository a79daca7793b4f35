/* sink_syslog.h - each session as a syslog message (RFC 5424) carrying the JSON object, to the
 * local socket or to a collector over UDP or TCP.
 *
 * The message: <PRI>1 TIMESTAMP HOSTNAME plainsight PROCID MSGID - JSON, where HOSTNAME is the
 * session's sensor, MSGID its event_type ("session" or "credential") and JSON the very object
 * the JSON sink writes (sink_json_format_*). Over TCP each message is framed by octet counting
 * (RFC 6587 section 3.4.1); over UDP (RFC 5426) and the local datagram socket it is one
 * datagram. Sending never blocks: messages wait in a bounded queue while the collector is slow
 * or away, the connection is retried with a growing delay, and what does not fit is dropped
 * and counted. */
#ifndef PLAINSIGHT_SINK_SYSLOG_H
#define PLAINSIGHT_SINK_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"
#include "ps.h"
#include "sink_ops.h"

/* The sink behind sink.h: opened when --syslog is given; its failures never stop the run. */
extern const struct sink_ops sink_syslog_ops;

/* The default target of a bare --syslog: the local syslog daemon's socket. */
#define SINK_SYSLOG_DEV_LOG "/dev/log"

enum sink_syslog_transport {
    SINK_SYSLOG_UNIX = 0, /* a local datagram socket (/dev/log) */
    SINK_SYSLOG_UDP,
    SINK_SYSLOG_TCP,
};

/* Where messages go: a parsed --syslog target. */
struct sink_syslog_target {
    enum sink_syslog_transport transport;
    char path[108]; /* SINK_SYSLOG_UNIX: the socket (sun_path's size) */
    char host[256]; /* UDP, TCP: a name or an address (without IPv6's brackets) */
    char port[6];   /* UDP, TCP: 1 to 65535, digits */
};

/* Parses spec: NULL or "" (the local socket /dev/log), "unix:///PATH", "udp://HOST:PORT" or
 * "tcp://HOST:PORT" (an IPv6 address in brackets). PS_ERR_ARG with the reason in err when it is
 * none of these. */
enum ps_err sink_syslog_parse_target(const char *spec, struct sink_syslog_target *t, char *err,
                                     size_t errcap);

/* The facility's code for its name (kern, user, mail, daemon, auth, syslog, lpr, news, uucp,
 * cron, authpriv, ftp, local0 to local7), or -1. */
int sink_syslog_facility(const char *name);

/* The severity of a session's message, from its exposure: credentials 4 (warning), a
 * challenge-response or cleartext content 5 (notice), none 6 (informational); a credential
 * event 4 when its secret was seen, else 5. */
unsigned sink_syslog_severity(const struct session *s, bool is_credential_event, size_t i);

/* Writes into buf[0..cap) (cap > 0) the RFC 5424 header of a message: PRI (facility * 8 +
 * severity), version 1, the time now_usec (wall clock, UTC, microseconds), hostname (NULL or
 * empty: "-"), APP-NAME plainsight, procid, msgid, no structured data, and the space before
 * the message. Returns its length, or 0 when it does not fit. */
size_t sink_syslog_header(char *buf, size_t cap, unsigned facility, unsigned severity,
                          uint64_t now_usec, const char *hostname, long procid, const char *msgid);

/* Writes into buf[0..cap) the octet-counting frame of msg[0..len) (RFC 6587: the length in
 * decimal, a space, the message). Returns the frame's length, or 0 when it does not fit. */
size_t sink_syslog_frame(char *buf, size_t cap, const char *msg, size_t len);

/* What the sink did, for its closing words and for tests. */
struct sink_syslog_stats {
    uint64_t queued;     /* messages made */
    uint64_t sent;       /* handed whole to the kernel */
    uint64_t dropped;    /* lost: the queue full, the collector away at the end, refused */
    uint64_t truncated;  /* cut at SINK_SYSLOG_MSG_MAX bytes */
    uint64_t failures;   /* connections lost or refused */
    uint64_t reconnects; /* connections made again after a failure */
};

struct sink_syslog;

/* Opens the sink for t (copied): resolves the host (PS_ERR_IO when it cannot be) and starts
 * connecting (a collector not there yet is no error: messages wait for it). When is_reveal,
 * secrets are in the messages. *out is owned (sink_syslog_close). */
enum ps_err sink_syslog_open(const struct sink_syslog_target *t, unsigned facility, bool is_reveal,
                             struct sink_syslog **out, char *err, size_t errcap);

/* Queues the message of one session (borrowed), or of its credential i, and sends what it
 * can without waiting. */
void sink_syslog_session(struct sink_syslog *y, const struct session *s);
void sink_syslog_credential(struct sink_syslog *y, const struct session *s, size_t i);

/* Sends what is queued for at most wait_msec (0: what goes without waiting); returns true when
 * the queue is empty. */
bool sink_syslog_drain(struct sink_syslog *y, int wait_msec);

const struct sink_syslog_stats *sink_syslog_get_stats(const struct sink_syslog *y);

/* Sends what is queued for at most SINK_SYSLOG_DRAIN_MSEC (not at all when the end of the
 * run's forced tick already waited), counts the rest as dropped, warns about what was lost, and
 * frees. NULL does nothing. */
void sink_syslog_close(struct sink_syslog *y);

#endif
