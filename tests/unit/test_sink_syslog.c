/* test_sink_syslog.c - unit tests for sink_syslog: targets, facilities, the RFC 5424 header,
 * octet-counting frames, severities, and the sink on real sockets.
 *
 * The sockets are real: a datagram socket bound in a fresh directory under TMPDIR (or /tmp)
 * stands for /dev/log, and TCP and UDP listeners on 127.0.0.1 for collectors. Each message must
 * be the header followed by the very bytes sink_json_format_session writes; secrets only with
 * is_reveal; a TCP collector that goes away and comes back gets what was queued meanwhile,
 * octet-counted; a full queue and an overlong message are counted. */
#include "sink_syslog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "finding.h"
#include "sink_json.h"
#include "test.h"
#include "tunables.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

static const uint8_t test_key[FINDING_KEY_LEN] = { 7 };

/* An exposed POP3 session with one USER/PASS, as the sensor "s1". */
static struct session *pop3_session(void)
{
    static const uint8_t cip[16] = { 192, 0, 2, 10 };
    static const uint8_t sip[16] = { 198, 51, 100, 1 };
    struct session *s = finding_new();
    s->ts_start_usec = 1700000000123456u;
    s->ts_end_usec = 1700000001000000u;
    s->ip_version = 4;
    memcpy(s->client_ip, cip, 16);
    memcpy(s->server_ip, sip, 16);
    s->client_port = 40000;
    s->server_port = 110;
    s->protocol = "pop3";
    s->tls = FINDING_TLS_NONE;
    s->end_reason = FINDING_END_FIN;
    finding_set_uid(s, "s1");
    struct credential *c = finding_add_credential(s, "USER/PASS");
    finding_set_username(c, LIT("alice"));
    finding_set_secret(c, LIT("hunter2-secret"));
    c->result = FINDING_RESULT_SUCCESS;
    finding_finalize(s, test_key);
    return s;
}

/* The JSON sink's object for s, NUL-terminated (free it). */
static char *json_of(const struct session *s, bool is_reveal)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sink_json_format_session(f, s, is_reveal);
    fclose(f);
    return buf;
}

static char tmp_dir[256];

static void test_parse_target(void)
{
    struct sink_syslog_target t;
    char err[256];
    CHECK(sink_syslog_parse_target(NULL, &t, err, sizeof err) == PS_OK);
    CHECK(t.transport == SINK_SYSLOG_UNIX && strcmp(t.path, "/dev/log") == 0);
    CHECK(sink_syslog_parse_target("", &t, err, sizeof err) == PS_OK);
    CHECK(t.transport == SINK_SYSLOG_UNIX && strcmp(t.path, "/dev/log") == 0);
    CHECK(sink_syslog_parse_target("unix:///run/x.sock", &t, err, sizeof err) == PS_OK);
    CHECK(t.transport == SINK_SYSLOG_UNIX && strcmp(t.path, "/run/x.sock") == 0);
    CHECK(sink_syslog_parse_target("udp://127.0.0.1:514", &t, err, sizeof err) == PS_OK);
    CHECK(t.transport == SINK_SYSLOG_UDP && strcmp(t.host, "127.0.0.1") == 0);
    CHECK(strcmp(t.port, "514") == 0);
    CHECK(sink_syslog_parse_target("tcp://[::1]:6514", &t, err, sizeof err) == PS_OK);
    CHECK(t.transport == SINK_SYSLOG_TCP && strcmp(t.host, "::1") == 0);
    CHECK(strcmp(t.port, "6514") == 0);
    CHECK(sink_syslog_parse_target("tcp://logs.example:65535", &t, err, sizeof err) == PS_OK);
    static const char *const bad[] = {
        "unix://relative", "unix://",       "udp://host",      "udp://host:",    "udp://:514",
        "tcp://h:0",       "tcp://h:65536", "tcp://h:12x",     "tcp://[::1]514", "tcp://[::1",
        "http://h:80",     "/dev/log",      "tcp://h:1234567",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(sink_syslog_parse_target(bad[i], &t, err, sizeof err) == PS_ERR_ARG);
        CHECK(err[0] != '\0');
    }
    char longp[200];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "unix:///", 8);
    longp[sizeof longp - 1] = '\0';
    CHECK(sink_syslog_parse_target(longp, &t, err, sizeof err) == PS_ERR_ARG);
}

static void test_facility(void)
{
    CHECK(sink_syslog_facility("kern") == 0);
    CHECK(sink_syslog_facility("mail") == 2);
    CHECK(sink_syslog_facility("authpriv") == 10);
    CHECK(sink_syslog_facility("local0") == 16);
    CHECK(sink_syslog_facility("local7") == 23);
    CHECK(sink_syslog_facility("local8") == -1);
    CHECK(sink_syslog_facility("local") == -1);
    CHECK(sink_syslog_facility("local00") == -1);
    CHECK(sink_syslog_facility("LOCAL0") == -1);
    CHECK(sink_syslog_facility("") == -1);
}

static void test_header(void)
{
    char buf[256];
    size_t n =
        sink_syslog_header(buf, sizeof buf, 16, 4, 1700000000123456u, "sensor-1", 42, "session");
    CHECK_MEM(buf, n, "<132>1 2023-11-14T22:13:20.123456Z sensor-1 plainsight 42 session - ");
    n = sink_syslog_header(buf, sizeof buf, 0, 0, 0, NULL, 1, "credential");
    CHECK_MEM(buf, n, "<0>1 1970-01-01T00:00:00.000000Z - plainsight 1 credential - ");
    n = sink_syslog_header(buf, sizeof buf, 23, 7, 5, "", 1, "x");
    CHECK_MEM(buf, n, "<191>1 1970-01-01T00:00:00.000005Z - plainsight 1 x - ");
    /* Exactly at the bound (the string and its NUL) and one short. */
    const char *want = "<0>1 1970-01-01T00:00:00.000000Z - plainsight 1 credential - ";
    CHECK_EQ_U(sink_syslog_header(buf, strlen(want) + 1, 0, 0, 0, NULL, 1, "credential"),
               strlen(want));
    CHECK_EQ_U(sink_syslog_header(buf, strlen(want), 0, 0, 0, NULL, 1, "credential"), 0);
}

static void test_frame(void)
{
    char buf[32];
    size_t n = sink_syslog_frame(buf, sizeof buf, "hello", 5);
    CHECK_MEM(buf, n, "5 hello");
    n = sink_syslog_frame(buf, sizeof buf, "", 0);
    CHECK_MEM(buf, n, "0 ");
    CHECK_EQ_U(sink_syslog_frame(buf, 7, "hello", 5), 7);
    CHECK_EQ_U(sink_syslog_frame(buf, 6, "hello", 5), 0);
    n = sink_syslog_frame(buf, 2, "", 0); /* exactly the prefix: no room for a NUL needed */
    CHECK_MEM(buf, n, "0 ");
    char big[200];
    memset(big, 'x', 120);
    n = sink_syslog_frame(big, sizeof big, big + 0, 0);
    CHECK_MEM(big, n, "0 ");
}

static void test_severity(void)
{
    struct session *s = pop3_session();
    CHECK_EQ_U(sink_syslog_severity(s, false, 0), 4);
    CHECK_EQ_U(sink_syslog_severity(s, true, 0), 4);
    CHECK_EQ_U(sink_syslog_severity(s, true, 5), 5); /* no such credential */
    finding_free(s);
    s = finding_new();
    s->tls = FINDING_TLS_NONE; /* cleartext content, no credential */
    CHECK_EQ_U(sink_syslog_severity(s, false, 0), 5);
    struct credential *c = finding_add_credential(s, "CRAM-MD5");
    finding_set_challenge(c, LIT("<1.2@h>"));
    finding_set_response(c, LIT("u 0123"));
    CHECK_EQ_U(sink_syslog_severity(s, false, 0), 5);
    CHECK_EQ_U(sink_syslog_severity(s, true, 0), 5);
    finding_free(s);
    s = finding_new();
    s->tls = FINDING_TLS_IMPLICIT;
    CHECK_EQ_U(sink_syslog_severity(s, false, 0), 6);
    finding_free(s);
}

/* A datagram socket bound at path, standing for /dev/log. */
static int unix_listener(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof un) != 0) {
        return -1;
    }
    return fd;
}

static ssize_t recv_wait(int fd, char *buf, size_t cap)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 3000) != 1) {
        return -1;
    }
    return recv(fd, buf, cap, 0);
}

/* The message must be a header naming the sensor and the event, then the JSON sink's bytes. */
static void check_message(const char *msg, size_t len, const struct session *s, bool is_reveal)
{
    char *json = json_of(s, is_reveal);
    const char *sp = memchr(msg, '-', len);
    CHECK(len > 4 && memcmp(msg, "<132>1 ", 7) == 0);
    char hdr_tail[64];
    snprintf(hdr_tail, sizeof hdr_tail, " s1 plainsight %ld session - ", (long)getpid());
    const char *at = strstr(msg, hdr_tail);
    CHECK(at != NULL && sp != NULL);
    if (at != NULL) {
        const char *body = at + strlen(hdr_tail);
        CHECK_EQ_U(len - (size_t)(body - msg), strlen(json));
        CHECK(memcmp(body, json, strlen(json)) == 0);
    }
    free(json);
}

static void test_unix(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/log", tmp_dir);
    int lfd = unix_listener(path);
    CHECK(lfd >= 0);
    char spec[320];
    snprintf(spec, sizeof spec, "unix://%s", path);
    struct sink_syslog_target t;
    char err[256];
    CHECK(sink_syslog_parse_target(spec, &t, err, sizeof err) == PS_OK);
    struct session *s = pop3_session();
    for (int reveal = 0; reveal < 2; reveal++) {
        struct sink_syslog *y = NULL;
        CHECK(sink_syslog_open(&t, 16, reveal != 0, &y, err, sizeof err) == PS_OK);
        sink_syslog_session(y, s);
        CHECK(sink_syslog_drain(y, 1000));
        CHECK_EQ_U(sink_syslog_get_stats(y)->sent, 1);
        static char buf[SINK_SYSLOG_MSG_MAX + 1];
        ssize_t n = recv_wait(lfd, buf, sizeof buf - 1);
        CHECK(n > 0);
        if (n > 0) {
            buf[n] = '\0';
            check_message(buf, (size_t)n, s, reveal != 0);
            CHECK((strstr(buf, "hunter2-secret") != NULL) == (reveal != 0));
        }
        sink_syslog_close(y);
    }
    finding_free(s);
    close(lfd);
}

/* A credential event: MSGID credential, the credential's severity, the JSON sink's object. */
static void test_credential_event(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/logc", tmp_dir);
    int lfd = unix_listener(path);
    char spec[320];
    snprintf(spec, sizeof spec, "unix://%s", path);
    struct sink_syslog_target t;
    char err[256];
    CHECK(sink_syslog_parse_target(spec, &t, err, sizeof err) == PS_OK);
    struct sink_syslog *y = NULL;
    CHECK(sink_syslog_open(&t, 2, false, &y, err, sizeof err) == PS_OK);
    struct session *s = pop3_session();
    sink_syslog_credential(y, s, 0);
    CHECK(sink_syslog_drain(y, 1000));
    static char buf[SINK_SYSLOG_MSG_MAX + 1];
    ssize_t n = recv_wait(lfd, buf, sizeof buf - 1);
    CHECK(n > 0);
    if (n > 0) {
        buf[n] = '\0';
        char want[64];
        snprintf(want, sizeof want, " s1 plainsight %ld credential - ", (long)getpid());
        CHECK(strncmp(buf, "<20>1 ", 6) == 0); /* mail (2) * 8 + warning (4) */
        const char *at = strstr(buf, want);
        CHECK(at != NULL);
        char *json = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&json, &len);
        sink_json_format_credential(f, s, 0, false);
        fclose(f);
        CHECK(at != NULL && strcmp(at + strlen(want), json) == 0);
        CHECK(strstr(buf, "hunter2") == NULL);
        free(json);
    }
    sink_syslog_close(y);
    finding_free(s);
    close(lfd);
}

static int tcp_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(*port);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Reads from fd until n octet-counted frames are whole (or 3 s pass); returns how many. */
static size_t read_frames(int fd, const struct session *s, size_t n)
{
    static char buf[4 * SINK_SYSLOG_MSG_MAX];
    size_t len = 0;
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv_wait(fd, buf + len, sizeof buf - len);
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
        for (;;) {
            char *sp = memchr(buf, ' ', len);
            if (sp == NULL) {
                break;
            }
            size_t mlen = strtoul(buf, NULL, 10);
            size_t hl = (size_t)(sp - buf) + 1;
            if (len < hl + mlen) {
                break;
            }
            check_message(sp + 1, mlen, s, false);
            got++;
            memmove(buf, buf + hl + mlen, len - hl - mlen);
            len -= hl + mlen;
        }
    }
    return got;
}

static void test_tcp_reconnect(void)
{
    uint16_t port = 0;
    int lfd = tcp_listener(&port);
    CHECK(lfd >= 0);
    char spec[64];
    snprintf(spec, sizeof spec, "tcp://127.0.0.1:%u", port);
    struct sink_syslog_target t;
    char err[256];
    CHECK(sink_syslog_parse_target(spec, &t, err, sizeof err) == PS_OK);
    struct sink_syslog *y = NULL;
    CHECK(sink_syslog_open(&t, 16, false, &y, err, sizeof err) == PS_OK);
    struct session *s = pop3_session();
    for (int i = 0; i < 3; i++) {
        sink_syslog_session(y, s);
    }
    CHECK(sink_syslog_drain(y, 2000));
    int cfd = accept(lfd, NULL, NULL);
    CHECK_EQ_U(read_frames(cfd, s, 3), 3);
    /* The collector goes away: its connection and its listener. */
    close(cfd);
    close(lfd);
    usleep(50000);
    for (int i = 0; i < 5 && sink_syslog_get_stats(y)->failures == 0; i++) {
        sink_syslog_session(y, s); /* the first may still go into the dead socket */
        sink_syslog_drain(y, 200);
    }
    CHECK(sink_syslog_get_stats(y)->failures > 0);
    /* It comes back on the same port; what waits is sent on the new connection. */
    lfd = tcp_listener(&port);
    CHECK(lfd >= 0);
    sink_syslog_session(y, s);
    size_t before = sink_syslog_get_stats(y)->sent;
    CHECK(sink_syslog_drain(y, 3000));
    size_t after = sink_syslog_get_stats(y)->sent;
    CHECK(after > before);
    CHECK(sink_syslog_get_stats(y)->reconnects > 0);
    cfd = accept(lfd, NULL, NULL);
    CHECK(cfd >= 0);
    CHECK_EQ_U(read_frames(cfd, s, after - before), after - before);
    sink_syslog_close(y);
    finding_free(s);
    close(cfd);
    close(lfd);
}

static void test_udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    char spec[64];
    snprintf(spec, sizeof spec, "udp://127.0.0.1:%u", ntohs(a.sin_port));
    struct sink_syslog_target t;
    char err[256];
    CHECK(sink_syslog_parse_target(spec, &t, err, sizeof err) == PS_OK);
    struct sink_syslog *y = NULL;
    CHECK(sink_syslog_open(&t, 16, false, &y, err, sizeof err) == PS_OK);
    struct session *s = pop3_session();
    sink_syslog_session(y, s);
    CHECK(sink_syslog_drain(y, 1000));
    static char buf[SINK_SYSLOG_MSG_MAX + 1];
    ssize_t n = recv_wait(fd, buf, sizeof buf - 1);
    CHECK(n > 0);
    if (n > 0) {
        buf[n] = '\0';
        check_message(buf, (size_t)n, s, false);
    }
    sink_syslog_close(y);
    finding_free(s);
    close(fd);
}

/* Nothing listens: messages wait up to the queue's bound, the rest are dropped and counted; an
 * overlong message is cut at the bound and counted. */
static void test_queue_and_truncation(void)
{
    char spec[320];
    snprintf(spec, sizeof spec, "unix://%s/nobody", tmp_dir);
    struct sink_syslog_target t;
    char err[256];
    CHECK(sink_syslog_parse_target(spec, &t, err, sizeof err) == PS_OK);
    struct sink_syslog *y = NULL;
    CHECK(sink_syslog_open(&t, 16, true, &y, err, sizeof err) == PS_OK);
    struct session *s = pop3_session();
    for (int i = 0; i < SINK_SYSLOG_QUEUE_MSGS + 5; i++) {
        sink_syslog_session(y, s);
    }
    CHECK_EQ_U(sink_syslog_get_stats(y)->dropped, 5);
    CHECK_EQ_U(sink_syslog_get_stats(y)->sent, 0);
    CHECK(sink_syslog_get_stats(y)->failures > 0);
    finding_free(s);
    sink_syslog_close(y);

    /* Sixteen revealed secrets of 4 KiB: far past the bound. */
    char path[300];
    snprintf(path, sizeof path, "%s/log2", tmp_dir);
    int lfd = unix_listener(path);
    snprintf(spec, sizeof spec, "unix://%s", path);
    CHECK(sink_syslog_parse_target(spec, &t, err, sizeof err) == PS_OK);
    CHECK(sink_syslog_open(&t, 16, true, &y, err, sizeof err) == PS_OK);
    s = pop3_session();
    static uint8_t big[FINDING_MAX_SECRET];
    memset(big, 'x', sizeof big);
    for (int i = 1; i < FINDING_MAX_CREDS; i++) {
        struct credential *c = finding_add_credential(s, "PLAIN");
        finding_set_secret(c, big, sizeof big);
    }
    sink_syslog_session(y, s);
    CHECK(sink_syslog_drain(y, 1000));
    CHECK_EQ_U(sink_syslog_get_stats(y)->truncated, 1);
    static char buf[SINK_SYSLOG_MSG_MAX + 16];
    ssize_t n = recv_wait(lfd, buf, sizeof buf);
    CHECK_EQ_U(n, SINK_SYSLOG_MSG_MAX);
    finding_free(s);
    sink_syslog_close(y);
    close(lfd);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/test_sink_syslog.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_parse_target);
    RUN(test_facility);
    RUN(test_header);
    RUN(test_frame);
    RUN(test_severity);
    RUN(test_unix);
    RUN(test_credential_event);
    RUN(test_udp);
    RUN(test_tcp_reconnect);
    RUN(test_queue_and_truncation);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", tmp_dir);
    }
    return TEST_SUMMARY();
}
