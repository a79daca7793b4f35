/* sink_syslog.c - each session as an RFC 5424 syslog message carrying its JSON object.
 *
 * The message is the header (RFC 5424 section 6: PRI, version 1, an RFC 3339 time in UTC with
 * microseconds, HOSTNAME the sensor, APP-NAME plainsight, PROCID the pid, MSGID the
 * event_type, "-" for no structured data) and then, without a BOM, the JSON object the JSON
 * sink writes, formatted by its own function so both outputs carry the same bytes. rsyslog's
 * imuxsock, imudp and imtcp take it as it is; over TCP each message is framed by octet counting
 * (RFC 6587 section 3.4.1), which unlike LF framing cannot be split by a byte in the message.
 *
 * Sending never waits: sockets are non-blocking, messages wait in a queue bounded in count and
 * bytes (tunables.h) while the kernel's buffer is full or the collector is away, a lost or
 * refused connection is retried after a delay that doubles up to a bound, and a message that
 * finds the queue full is dropped and counted. The end of the run waits a bounded time for the
 * queue to empty. A message over SINK_SYSLOG_MSG_MAX is cut there (its JSON then unparseable)
 * and counted. Failures never stop the run: the other outputs hold the record. */
#include "sink_syslog.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sink_json.h"
#include "tunables.h"

struct syslog_msg {
    char *buf; /* owned; framed already for TCP */
    size_t len;
};

struct sink_syslog {
    struct sink_syslog_target t;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int fd; /* -1 while down */
    bool has_failed;
    bool has_warned;
    bool has_drained;       /* the end of the run's wait is spent: close waits no more */
    uint64_t next_try_usec; /* monotonic: when to connect again */
    uint64_t backoff_usec;
    size_t head_off;      /* bytes of the first message already sent (TCP) */
    struct syslog_msg *q; /* ring of SINK_SYSLOG_QUEUE_MSGS */
    size_t q_head, q_n, q_bytes;
    unsigned facility;
    bool is_reveal;
    long pid;
    char name[300]; /* the target, for messages */
    struct sink_syslog_stats st;
    char msg[SINK_SYSLOG_MSG_MAX + 1];
};

static uint64_t mono_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* HOST:PORT after the scheme into t; an IPv6 address in brackets. */
static bool parse_host_port(const char *s, struct sink_syslog_target *t)
{
    const char *colon;
    const char *host = s;
    size_t host_len;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            return false;
        }
        host = s + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return false;
        }
        host_len = (size_t)(colon - s);
    }
    const char *port = colon + 1;
    size_t port_len = strlen(port);
    if (host_len == 0 || host_len >= sizeof t->host || port_len == 0 ||
        port_len >= sizeof t->port || port[strspn(port, "0123456789")] != '\0') {
        return false;
    }
    long v = strtol(port, NULL, 10);
    if (v < 1 || v > 65535) {
        return false;
    }
    memcpy(t->host, host, host_len);
    t->host[host_len] = '\0';
    memcpy(t->port, port, port_len + 1);
    return true;
}

enum ps_err sink_syslog_parse_target(const char *spec, struct sink_syslog_target *t, char *err,
                                     size_t errcap)
{
    memset(t, 0, sizeof *t);
    if (spec == NULL || spec[0] == '\0') {
        t->transport = SINK_SYSLOG_UNIX;
        snprintf(t->path, sizeof t->path, "%s", SINK_SYSLOG_DEV_LOG);
        return PS_OK;
    }
    if (strncmp(spec, "unix://", 7) == 0) {
        const char *path = spec + 7;
        if (path[0] != '/' || strlen(path) >= sizeof t->path) {
            snprintf(err, errcap, "'%s': unix:// takes an absolute path of at most %zu bytes", spec,
                     sizeof t->path - 1);
            return PS_ERR_ARG;
        }
        t->transport = SINK_SYSLOG_UNIX;
        snprintf(t->path, sizeof t->path, "%s", path);
        return PS_OK;
    }
    bool is_udp = strncmp(spec, "udp://", 6) == 0;
    bool is_tcp = strncmp(spec, "tcp://", 6) == 0;
    if ((!is_udp && !is_tcp) || !parse_host_port(spec + 6, t)) {
        snprintf(err, errcap,
                 "'%s' is not a syslog target: unix:///PATH, udp://HOST:PORT or tcp://HOST:PORT",
                 spec);
        return PS_ERR_ARG;
    }
    t->transport = is_udp ? SINK_SYSLOG_UDP : SINK_SYSLOG_TCP;
    return PS_OK;
}

int sink_syslog_facility(const char *name)
{
    static const char *const names[] = {
        "kern", "user", "mail", "daemon", "auth",     "syslog",
        "lpr",  "news", "uucp", "cron",   "authpriv", "ftp",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            return (int)i;
        }
    }
    if (strncmp(name, "local", 5) == 0 && name[5] >= '0' && name[5] <= '7' && name[6] == '\0') {
        return 16 + (name[5] - '0');
    }
    return -1;
}

unsigned sink_syslog_severity(const struct session *s, bool is_credential_event, size_t i)
{
    if (is_credential_event) {
        return i < s->n_creds && s->creds[i]->secret != NULL && !s->creds[i]->is_anonymous ? 4 : 5;
    }
    const char *e = finding_exposure(s);
    if (strcmp(e, "credentials") == 0) {
        return 4;
    }
    return strcmp(e, "none") == 0 ? 6 : 5;
}

size_t sink_syslog_header(char *buf, size_t cap, unsigned facility, unsigned severity,
                          uint64_t now_usec, const char *hostname, long procid, const char *msgid)
{
    time_t sec = (time_t)(now_usec / 1000000u);
    struct tm tm;
    char when[40];
    if (gmtime_r(&sec, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(when, sizeof when, "-");
    } else {
        size_t n = strlen(when);
        snprintf(when + n, sizeof when - n, ".%06uZ", (unsigned)(now_usec % 1000000u));
    }
    if (hostname == NULL || hostname[0] == '\0') {
        hostname = "-";
    }
    int n = snprintf(buf, cap, "<%u>1 %s %s plainsight %ld %s - ", facility * 8 + severity, when,
                     hostname, procid, msgid);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t sink_syslog_frame(char *buf, size_t cap, const char *msg, size_t len)
{
    char prefix[24];
    int n = snprintf(prefix, sizeof prefix, "%zu ", len);
    if (n <= 0 || (size_t)n > cap || len > cap - (size_t)n) {
        return 0;
    }
    memcpy(buf, prefix, (size_t)n);
    memmove(buf + n, msg, len);
    return (size_t)n + len;
}

/* ---- the connection ---- */

static void go_down(struct sink_syslog *y, int errnum)
{
    if (y->fd >= 0) {
        close(y->fd);
        y->fd = -1;
    }
    y->st.failures++;
    y->has_failed = true;
    y->head_off = 0; /* a frame cut by the loss is sent whole on the next connection */
    y->next_try_usec = mono_usec() + y->backoff_usec;
    y->backoff_usec = y->backoff_usec * 2 > SINK_SYSLOG_BACKOFF_MAX_USEC
                          ? SINK_SYSLOG_BACKOFF_MAX_USEC
                          : y->backoff_usec * 2;
    if (!y->has_warned) {
        y->has_warned = true; /* once until a message goes through again */
        log_warn("syslog %s: %s; messages are queued (at most %d) and the connection retried",
                 y->name, strerror(errnum), SINK_SYSLOG_QUEUE_MSGS);
    }
}

/* Starts a connection (non-blocking; TCP may still be in progress). False when it failed. */
static bool connect_now(struct sink_syslog *y)
{
    int type = y->t.transport == SINK_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(y->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        go_down(y, errno);
        return false;
    }
    if (connect(fd, (const struct sockaddr *)&y->addr, y->addr_len) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        go_down(y, e);
        return false;
    }
    y->fd = fd;
    if (y->has_failed) {
        y->st.reconnects++;
    }
    return true;
}

static bool is_retry_later(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == EINTR;
}

static void pop(struct sink_syslog *y)
{
    struct syslog_msg *m = &y->q[y->q_head];
    y->q_bytes -= m->len;
    free(m->buf);
    m->buf = NULL;
    y->q_head = (y->q_head + 1) % SINK_SYSLOG_QUEUE_MSGS;
    y->q_n--;
    y->head_off = 0;
}

/* Sends from the queue until it is empty or the socket would block. */
static void pump(struct sink_syslog *y)
{
    while (y->q_n > 0) {
        if (y->fd < 0 && (mono_usec() < y->next_try_usec || !connect_now(y))) {
            return;
        }
        struct syslog_msg *m = &y->q[y->q_head];
        ssize_t n =
            send(y->fd, m->buf + y->head_off, m->len - y->head_off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (is_retry_later(errno)) {
                return;
            }
            if (errno == EMSGSIZE) { /* a datagram over the socket's limit: never goes */
                y->st.dropped++;
                pop(y);
                continue;
            }
            go_down(y, errno);
            return;
        }
        y->head_off += (size_t)n;
        if (y->head_off == m->len) {
            y->st.sent++;
            pop(y);
            y->backoff_usec = SINK_SYSLOG_BACKOFF_MIN_USEC;
            y->has_warned = false;
        }
    }
}

bool sink_syslog_drain(struct sink_syslog *y, int wait_msec)
{
    uint64_t deadline = mono_usec() + (uint64_t)(wait_msec > 0 ? wait_msec : 0) * 1000u;
    for (;;) {
        pump(y);
        uint64_t now = mono_usec();
        if (y->q_n == 0 || now >= deadline) {
            return y->q_n == 0;
        }
        int left_msec = (int)((deadline - now + 999) / 1000);
        int step = left_msec < 50 ? left_msec : 50; /* wakes for the reconnection's time */
        if (y->fd >= 0) {
            struct pollfd p = { .fd = y->fd, .events = POLLOUT };
            poll(&p, 1, step);
        } else {
            poll(NULL, 0, step);
        }
    }
}

/* Copies msg[0..len) into the queue (framed for TCP), or counts it dropped. */
static void enqueue(struct sink_syslog *y, const char *msg, size_t len)
{
    y->st.queued++;
    size_t cap = len + 24;
    if (y->q_n == SINK_SYSLOG_QUEUE_MSGS || y->q_bytes + cap > SINK_SYSLOG_QUEUE_BYTES) {
        y->st.dropped++;
        return;
    }
    char *buf = xmalloc(cap);
    size_t n = len;
    if (y->t.transport == SINK_SYSLOG_TCP) {
        n = sink_syslog_frame(buf, cap, msg, len);
    } else {
        memcpy(buf, msg, len);
    }
    struct syslog_msg *m = &y->q[(y->q_head + y->q_n) % SINK_SYSLOG_QUEUE_MSGS];
    m->buf = buf;
    m->len = n;
    y->q_n++;
    y->q_bytes += n;
}

/* Formats the message of s (or of its credential cred when is_cred) into y->msg and queues it. */
static void emit(struct sink_syslog *y, const struct session *s, bool is_cred, size_t cred)
{
    const size_t max = SINK_SYSLOG_MSG_MAX;
    size_t h =
        sink_syslog_header(y->msg, max, y->facility, sink_syslog_severity(s, is_cred, cred),
                           wall_usec(), s->sensor, y->pid, is_cred ? "credential" : "session");
    if (h == 0) {
        y->st.dropped++;
        return;
    }
    /* One byte past the bound: a JSON that fills it is cut, and so told from one that fits. */
    FILE *f = fmemopen(y->msg + h, max - h + 1, "w");
    if (f == NULL) {
        y->st.dropped++;
        return;
    }
    if (is_cred) {
        sink_json_format_credential(f, s, cred, y->is_reveal);
    } else {
        sink_json_format_session(f, s, y->is_reveal);
    }
    fflush(f);
    long pos = ftell(f);
    fclose(f);
    size_t len = h + (pos > 0 ? (size_t)pos : 0);
    if (len > max) {
        len = max;
        y->st.truncated++;
    }
    enqueue(y, y->msg, len);
    pump(y);
}

void sink_syslog_session(struct sink_syslog *y, const struct session *s)
{
    emit(y, s, false, 0);
}

void sink_syslog_credential(struct sink_syslog *y, const struct session *s, size_t i)
{
    emit(y, s, true, i);
}

/* The target's address into y->addr. */
static enum ps_err resolve(struct sink_syslog *y, char *err, size_t errcap)
{
    if (y->t.transport == SINK_SYSLOG_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&y->addr;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, y->t.path, strlen(y->t.path) + 1); /* fits: parse_target */
        y->addr_len = (socklen_t)sizeof *un;
        return PS_OK;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = y->t.transport == SINK_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(y->t.host, y->t.port, &hints, &ai);
    if (rc != 0 || ai == NULL || ai->ai_addrlen > sizeof y->addr) {
        snprintf(err, errcap, "syslog %s: cannot resolve %s: %s", y->name, y->t.host,
                 rc != 0 ? gai_strerror(rc) : "no address");
        if (ai != NULL) {
            freeaddrinfo(ai);
        }
        return PS_ERR_IO;
    }
    memcpy(&y->addr, ai->ai_addr, ai->ai_addrlen);
    y->addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return PS_OK;
}

enum ps_err sink_syslog_open(const struct sink_syslog_target *t, unsigned facility, bool is_reveal,
                             struct sink_syslog **out, char *err, size_t errcap)
{
    *out = NULL;
    struct sink_syslog *y = xcalloc(1, sizeof *y);
    y->t = *t;
    y->fd = -1;
    y->facility = facility;
    y->is_reveal = is_reveal;
    y->pid = (long)getpid();
    y->backoff_usec = SINK_SYSLOG_BACKOFF_MIN_USEC;
    if (t->transport == SINK_SYSLOG_UNIX) {
        snprintf(y->name, sizeof y->name, "unix://%s", t->path);
    } else {
        snprintf(y->name, sizeof y->name, "%s://%s:%s",
                 t->transport == SINK_SYSLOG_TCP ? "tcp" : "udp", t->host, t->port);
    }
    enum ps_err e = resolve(y, err, errcap);
    if (e != PS_OK) {
        free(y);
        return e;
    }
    y->q = xcalloc(SINK_SYSLOG_QUEUE_MSGS, sizeof y->q[0]);
    connect_now(y);
    *out = y;
    return PS_OK;
}

const struct sink_syslog_stats *sink_syslog_get_stats(const struct sink_syslog *y)
{
    return &y->st;
}

void sink_syslog_close(struct sink_syslog *y)
{
    if (y == NULL) {
        return;
    }
    sink_syslog_drain(y, y->has_drained ? 0 : SINK_SYSLOG_DRAIN_MSEC);
    y->st.dropped += y->q_n;
    while (y->q_n > 0) {
        pop(y);
    }
    if (y->st.dropped > 0 || y->st.truncated > 0) {
        log_warn("syslog %s: %llu of %llu messages dropped (collector away or slow), %llu cut at "
                 "%d bytes",
                 y->name, (unsigned long long)y->st.dropped, (unsigned long long)y->st.queued,
                 (unsigned long long)y->st.truncated, SINK_SYSLOG_MSG_MAX);
    }
    if (y->fd >= 0) {
        close(y->fd);
    }
    free(y->q);
    free(y);
}

/* ---- the sink interface (sink.h) ---- */

static enum ps_err ops_open(const struct sink_config *cfg, const struct finding_key *key,
                            void **out, char *err, size_t errcap)
{
    (void)key;
    *out = NULL;
    if (!cfg->has_syslog) {
        return PS_OK;
    }
    struct sink_syslog_target t;
    enum ps_err e = sink_syslog_parse_target(cfg->syslog_target, &t, err, errcap);
    if (e != PS_OK) {
        return e;
    }
    struct sink_syslog *y = NULL;
    e = sink_syslog_open(&t, cfg->syslog_facility, cfg->is_reveal, &y, err, errcap);
    *out = y;
    return e;
}

static enum ps_err ops_session(void *st, const struct session *s, char *err, size_t errcap)
{
    (void)err;
    (void)errcap;
    sink_syslog_session(st, s);
    return PS_OK;
}

static enum ps_err ops_credential(void *st, const struct session *s, size_t i, char *err,
                                  size_t errcap)
{
    (void)err;
    (void)errcap;
    sink_syslog_credential(st, s, i);
    return PS_OK;
}

/* Sends what waits; the forced tick at the end of the run waits for it a bounded time. */
static enum ps_err ops_tick(void *st, uint64_t now_usec, bool is_force, char *err, size_t errcap)
{
    (void)now_usec;
    (void)err;
    (void)errcap;
    struct sink_syslog *y = st;
    sink_syslog_drain(y, is_force ? SINK_SYSLOG_DRAIN_MSEC : 0);
    y->has_drained = y->has_drained || is_force;
    return PS_OK;
}

static void ops_close(void *st)
{
    sink_syslog_close(st);
}

const struct sink_ops sink_syslog_ops = {
    .name = "syslog",
    .flags = 0,
    .open = ops_open,
    .run_begin = NULL,
    .session = ops_session,
    .credential = ops_credential,
    .tick = ops_tick,
    .run_update = NULL,
    .reopen = NULL,
    .files = NULL,
    .close = ops_close,
};
